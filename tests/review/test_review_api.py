"""The review app without a browser: pages, the JSON API, labels, and the walls (CSRF, Host,
token, headers, hostile text)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest

from formalize.corpus import Store
from formalize.labels import iter_labels
from formalize.review.app import ReviewSettings, create_app

from .review_corpus import HOSTILE_ID
from .review_support import BASE_URL, CSRF

pytest.importorskip("starlette", reason="the review extra is not installed")


def first_id(client: Any, **filters: str) -> int:
    items = client.get("/api/attempts", params={**filters, "limit": "1"}).json()["items"]
    return int(items[0]["attempt_id"])


def post_label(client: Any, body: dict[str, Any], **headers: str) -> Any:
    return client.post("/api/labels", json=body, headers={**CSRF, **headers})


# --------------------------------------------------------------------------- pages


@pytest.mark.parametrize(
    "path", ["/", "/attempts", "/attempts?status=accepted&source=minif2f", "/audit"]
)
def test_pages_render(client: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<meta name="formalize-csrf" content="csrf-for-tests">' in response.text


def test_the_problem_page_shows_every_attempt_by_round(client: Any, store: Store) -> None:
    html = client.get("/problems/p1").text
    assert "Round 1" in html and "Round 2" in html
    assert html.count('class="attempt ') == 3  # a compile error, then two that compiled
    assert "unknown identifier &#39;undefined_ident&#39;" in html  # Lean's message
    assert '<span class="lk-ident mark-error">undefined_ident</span>' in html  # at its place
    assert "Lean said: unknown identifier" in html  # the feedback round 2 was built from
    assert "<math" in html and "<mi>n</mi>" in html  # the statement's LaTeX as MathML
    accepted = next(a for a in store.attempts("p1") if a.status.value == "accepted")
    assert accepted.candidate.lean.split(":=")[0].strip().split(" ")[-1] in html
    vacuous = client.get("/problems/vac").text
    assert "the hypotheses contradict each other" in vacuous and "omega" in vacuous  # signal
    critic = client.get("/problems/p2").text
    assert "The bound is wrong." in critic  # the critic's reasons


def test_unknown_problem_and_bad_filters(client: Any) -> None:
    assert client.get("/problems/nope").status_code == 404
    assert client.get("/api/problems/nope").status_code == 404
    bad = client.get("/attempts?status=bogus")
    assert bad.status_code == 400 and "unknown status" in bad.text
    assert client.get("/api/attempts?round=two").status_code == 400
    assert client.get("/api/attempts?limit=100000").status_code == 400


def test_problem_ids_with_slashes_and_markup_round_trip(client: Any) -> None:
    response = client.get("/api/problems/" + quote(HOSTILE_ID, safe=""))
    assert response.status_code == 200
    assert response.json()["problem"]["id"] == HOSTILE_ID


def test_hostile_text_is_escaped_everywhere(client: Any) -> None:
    html = client.get("/problems/" + quote(HOSTILE_ID, safe="")).text
    # no tag, attribute or handler from the data survives as markup
    assert "<script>window" not in html and "<img" not in html
    assert not re.search(r"<[^>]*\sonerror=", html)
    assert not re.search(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", html, re.I)
    for n in (1, 3, 5, 7, 9, 10):
        assert f"&lt;script&gt;window.__pwned={n}&lt;/script&gt;" in html, n
    assert "&lt;img src=x onerror=&#34;window.__pwned=2&#34;&gt;" in html
    assert "onerror=&#34;window.__pwned=8&#34;" in html  # the critic's reasons
    assert "&lt;b&gt;hostile&lt;/b&gt;" in html  # the source
    listing = client.get("/attempts", params={"problem": HOSTILE_ID}).text
    assert "<script>window" not in listing and "&lt;script&gt;window.__pwned=9" in listing


def test_attempt_list_filters_and_pages(client: Any, store: Store) -> None:
    everything = client.get("/api/attempts", params={"limit": "500"}).json()
    ids = [r["attempt_id"] for r in everything["items"]]
    assert ids == sorted(ids) and everything["total"] == len(ids) == 83
    seen: list[int] = []
    after = None
    while True:  # page through by keyset, 7 at a time
        params = {"limit": "7", **({"after": str(after)} if after else {})}
        page = client.get("/api/attempts", params=params).json()
        seen += [r["attempt_id"] for r in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == ids
    back = client.get("/api/attempts", params={"limit": "7", "before": str(ids[20])}).json()
    assert [r["attempt_id"] for r in back["items"]] == ids[13:20]
    assert back["prev_before"] == ids[13] and back["next_after"] == ids[19]

    def matching(**params: str) -> list[dict[str, Any]]:
        return client.get("/api/attempts", params={**params, "limit": "500"}).json()["items"]

    assert {r["status"] for r in matching(status="accepted")} == {"accepted"}
    assert len(matching(status="accepted")) == 30
    both = matching(status=["lean_error", "vacuous"])  # type: ignore[arg-type]
    assert {r["status"] for r in both} == {"lean_error", "vacuous"}
    assert {r["source"] for r in matching(source="proofnet")} == {"proofnet"}
    assert {r["round"] for r in matching(round="2")} == {2}
    shares = [r["critic_share"] for r in matching(min_share="0.5", max_share="0.7")]
    assert shares and all(0.5 <= s <= 0.7 for s in shares)
    run = store.runs()[1]["id"]
    assert {r["run_id"] for r in matching(run=run)} == {run}
    assert {r["problem_id"] for r in matching(problem="p4")} == {"p4"}
    html = client.get("/attempts", params={"status": "accepted", "limit": "10"}).text
    assert 'id="next"' in html and "status=accepted" in html and "after=" in html


# --------------------------------------------------------------------------- labels


def test_a_label_is_stored_by_attempt_key_and_shown(client: Any, store: Store) -> None:
    aid = first_id(client, problem="p2", status="accepted")
    response = post_label(
        client,
        {
            "attempt_id": aid,
            "label": "unfaithful",
            "error_type": "missing_hypothesis",
            "note": "no <b>bound</b>",
            "annotator": "bob",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["attempt_id"] == aid
    (stored,) = iter_labels(store, "p2")
    assert (stored.round, stored.sample, stored.annotator) == (2, 0, "bob")
    assert stored.error_type is not None and stored.error_type.value == "missing_hypothesis"
    page = client.get("/problems/p2").text
    assert "<strong>bob</strong>: unfaithful (missing_hypothesis)" in page
    assert "no &lt;b&gt;bound&lt;/b&gt;" in page
    listed = client.get("/api/attempts", params={"labelled": "yes"}).json()["items"]
    assert [r["attempt_id"] for r in listed] == [aid]
    assert listed[0]["labels"] == [{"annotator": "bob", "label": "unfaithful"}]
    assert (
        client.get("/api/attempts", params={"labelled": "yes", "annotator": "al"}).json()["items"]
        == []
    )
    unlabelled = client.get("/api/attempts", params={"labelled": "no", "limit": "500"}).json()
    assert aid not in [r["attempt_id"] for r in unlabelled["items"]]
    # labelling again replaces the annotator's label; the default annotator is the server's
    again = post_label(client, {"attempt_id": aid, "label": "faithful"})
    assert again.status_code == 201 and again.json()["label"]["annotator"] == "alice"
    assert {lab["annotator"] for lab in again.json()["labels"]} == {"alice", "bob"}
    api = client.get("/api/problems/p2").json()
    labelled = next(a for a in api["attempts"] if a["attempt_id"] == aid)
    assert len(labelled["labels"]) == 2 and labelled["lean_sha"]


def test_labels_by_problem_round_and_sample(client: Any) -> None:
    response = post_label(
        client, {"problem_id": "p3", "round": 1, "sample": 1, "label": "faithful", "annotator": "c"}
    )
    assert response.status_code == 201
    assert response.json()["label"]["sample"] == 1


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"attempt_id": 999999, "label": "faithful"}, 404, "no such attempt"),
        ({"attempt_id": "1", "label": "faithful"}, 400, "integer"),
        ({"label": "faithful"}, 400, "give attempt_id"),
        ({"attempt_id": 1, "label": "maybe"}, 400, "'faithful' or 'unfaithful'"),
        ({"attempt_id": 1, "label": "unfaithful", "error_type": "typo"}, 400, "unknown error"),
        ({"attempt_id": 1, "label": "faithful", "error_type": "other"}, 400, "only an unfaithful"),
        ({"attempt_id": 1, "label": "faithful", "annotator": " "}, 400, "annotator"),
        ({"attempt_id": 1, "label": "faithful", "lean_sha": "0" * 64}, 409, "changed"),
        ({"attempt_id": 1, "label": "faithful", "extra": 1}, 400, "unknown field"),
        ([1, 2], 400, "JSON object"),
    ],
)
def test_bad_labels_are_refused(
    client: Any, store: Store, body: Any, status: int, message: str
) -> None:
    response = post_label(client, body)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert list(iter_labels(store)) == []


def test_a_label_must_be_json(client: Any) -> None:
    response = client.post(
        "/api/labels",
        content=b"attempt_id=1&label=faithful",
        headers={**CSRF, "content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415


# --------------------------------------------------------------------------- the walls


def test_cross_site_posts_are_refused(client: Any, store: Store) -> None:
    body = {"attempt_id": 1, "label": "faithful"}
    evil = post_label(client, body, Origin="http://evil.example")
    assert evil.status_code == 403 and "cross-site" in evil.text
    assert post_label(client, body, Origin="null").status_code == 403
    referer = post_label(client, body, Referer="http://evil.example/page")
    assert referer.status_code == 403
    no_token = client.post("/api/labels", json=body)
    assert no_token.status_code == 403 and "x-formalize-csrf" in no_token.text
    wrong = client.post("/api/labels", json=body, headers={"X-Formalize-CSRF": "guess"})
    assert wrong.status_code == 403
    assert list(iter_labels(store)) == []
    same = post_label(client, body, Origin=BASE_URL, Referer=BASE_URL + "/problems/p0")
    assert same.status_code == 201
    session = client.get("/api/session").json()
    assert session["csrf_token"] == "csrf-for-tests" and session["annotator"] == "alice"


def test_only_loopback_host_names_are_served(client: Any) -> None:
    assert client.get("/", headers={"host": "localhost:8765"}).status_code == 200
    rebound = client.get("/", headers={"host": "attacker.example:8765"})
    assert rebound.status_code == 421


def test_every_response_carries_the_security_headers(client: Any) -> None:
    for path in ("/", "/api/session", "/static/review.js", "/nope"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"


def test_pages_have_no_inline_script(client: Any) -> None:
    for path in ("/", "/attempts", "/problems/p1", "/audit"):
        html = client.get(path).text
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert scripts == ['<script src="/static/review.js" defer>'], path
        assert not re.search(r"\son[a-z]+=", html), path  # no inline handlers either


def test_a_token_guards_every_request_when_bound_beyond_loopback(store: Store) -> None:
    from starlette.testclient import TestClient

    settings = ReviewSettings(host="0.0.0.0", port=9000, token="s3cret", csrf_token="c")
    app = create_app(store, settings)
    with TestClient(app, base_url="http://192.0.2.10:9000") as client:
        for path in ("/", "/api/attempts", "/static/review.css", "/problems/p1"):
            assert client.get(path).status_code == 401, path
        assert client.get("/", params={"token": "wrong"}).status_code == 401
        opened = client.get(
            "/attempts", params={"token": "s3cret", "status": "accepted"}, follow_redirects=False
        )
        assert opened.status_code == 303
        assert opened.headers["location"] == "/attempts?status=accepted"
        cookie = opened.headers["set-cookie"]
        assert "formalize_review_token_9000=s3cret" in cookie
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        client.cookies.set("formalize_review_token_9000", "s3cret")
        assert client.get("/attempts").status_code == 200  # the cookie carries it
        client.cookies.clear()
        bearer = {"Authorization": "Bearer s3cret"}
        assert client.get("/api/session", headers=bearer).status_code == 200
        labelled = client.post(
            "/api/labels",
            json={"attempt_id": 1, "label": "faithful", "annotator": "x"},
            headers={**bearer, "X-Formalize-CSRF": "c"},
        )
        assert labelled.status_code == 201
        no_csrf = client.post(
            "/api/labels", json={"attempt_id": 1, "label": "faithful"}, headers=bearer
        )
        assert no_csrf.status_code == 403  # the token does not replace the CSRF check
