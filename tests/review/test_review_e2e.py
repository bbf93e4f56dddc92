"""The issue's "done when", end to end: a batch runs (scripted translator and critic servers,
the fake REPL through the real driver), `formalize review sample` draws the audit queue, 20
pairs are labelled through the running app's JSON API (and more through the browser where
Chromium is installed), `formalize review export` writes the suite, `formalize bench critic`
runs it against the same critic server, and `formalize review report` gives the precision.

The translator makes four kinds of problem: right at once; a compile error fixed in round 2;
a critic objection fixed in round 2; and (every k % 6 == 3) a subtly wrong bound (``≥`` for
``>``) that the critic lets through: the errors only people catch, which the precision counts.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from critic_fakes import lean_of
from support.openai_server import ScriptedOpenAIServer
from test_pipeline import config_for, lean_block

from formalize.bench import load_results
from formalize.cli.main import main
from formalize.corpus import Store
from formalize.review.app import ReviewSettings
from formalize.review.audit import audit_items
from formalize.review.stats import wilson
from formalize.runner import run_job

from .live_server import LiveServer
from .review_support import browser_reason

PROBLEMS = 24


def statement(k: int, bound: str = ">") -> str:
    return f"theorem q{k} (n : ℕ) (h : n {bound} {k}) : n + {k} > {2 * k} := by\n  omega"


def translator(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    prompt = messages[-1]["content"]
    k = int(re.search(r"Q(\d+):", prompt).group(1))  # type: ignore[union-attr]
    repaired = "did not compile" in prompt or "does not state the problem faithfully" in prompt
    if k % 4 == 1 and not repaired:
        return lean_block(statement(k).replace(f"n > {k}", f"undefined_ident n {k}"))
    if k % 4 == 2 and not repaired:
        return lean_block(statement(k, "<"))
    if k % 6 == 3:
        return lean_block(statement(k, "≥"))  # wrong, and the critic will not notice
    return lean_block(statement(k))


def critic(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    lean = lean_of(messages[-1]["content"])
    wrong = re.search(r"\(h : n < \d+\)", lean) is not None
    reasons = "The hypothesis bounds n from the wrong side." if wrong else "All parts match."
    verdict = "Incorrect" if wrong else "Correct"
    return json.dumps({"reasons": reasons, "is_assistant_correct": verdict})


def truly_faithful(lean: str) -> bool:
    return "≥" not in lean and "(h : n <" not in lean


def api(url: str, body: dict[str, Any] | None = None, csrf: str = "") -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    if body is not None:
        request.add_header("Content-Type", "application/json")
        request.add_header("X-Formalize-CSRF", csrf)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_run_label_export_bench_report(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    problems = tmp_path / "q.jsonl"
    problems.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"q{k}",
                    "problem": f"Q{k}: Show that for every natural $n$ with $n > {k}$,"
                    f" $n + {k} > {2 * k}$.",
                    "source": "even" if k % 2 == 0 else "odd",
                }
            )
            + "\n"
            for k in range(PROBLEMS)
        ),
        encoding="utf-8",
    )
    with (
        ScriptedOpenAIServer(translator, model="kimina") as t,
        ScriptedOpenAIServer(critic, model="criticlean") as c,
    ):
        # 1. a batch, the way `formalize run` does it
        config = config_for(tmp_path, (t, c), input=str(problems), samples=1, rounds=2)
        outcome = run_job(config)
        db = str(outcome.db)
        assert outcome.counters.accepted == PROBLEMS

        # 2. the audit queue
        assert main(["review", "sample", "--db", db, "--n", "20", "--seed", "5"]) == 0
        capsys.readouterr()

        with Store(db) as store:
            queue = audit_items(store, 1)
            assert len(queue) == 20
            with LiveServer(store, ReviewSettings(annotator="alice")) as server:
                session = api(f"{server.url}/api/session")
                csrf = session["csrf_token"]
                # 3. label the 20 sampled pairs through the API, as a script would
                truth: dict[int, bool] = {}
                for item in queue:
                    found = api(
                        f"{server.url}/api/attempts?problem={item.problem_id}&status=accepted"
                    )["items"]
                    (row,) = found
                    detail = api(f"{server.url}/api/problems/{item.problem_id}")
                    attempt = next(
                        a for a in detail["attempts"] if a["attempt_id"] == row["attempt_id"]
                    )
                    lean = attempt["attempt"]["candidate"]["lean"]
                    good = truly_faithful(lean)
                    truth[row["attempt_id"]] = good
                    answer = api(
                        f"{server.url}/api/labels",
                        {
                            "attempt_id": row["attempt_id"],
                            "label": "faithful" if good else "unfaithful",
                            "error_type": None if good else "wrong_type",
                            "note": "" if good else "≥ where the problem says >",
                            "annotator": "alice",
                            "lean_sha": attempt["lean_sha"],
                        },
                        csrf,
                    )
                    assert answer["label"]["annotator"] == "alice"
                # the critic's rejections are worth labelling too: they measure its TNR
                rejected = api(f"{server.url}/api/attempts?status=unfaithful&limit=3")["items"]
                assert len(rejected) == 3
                for row in rejected:
                    api(
                        f"{server.url}/api/labels",
                        {
                            "attempt_id": row["attempt_id"],
                            "label": "unfaithful",
                            "error_type": "wrong_type",
                            "annotator": "alice",
                        },
                        csrf,
                    )
                # a second annotator on five of the sample: agrees on four, not on one
                ids = list(truth)
                for n, attempt_id in enumerate(ids[:5]):
                    value = truth[attempt_id] if n < 4 else not truth[attempt_id]
                    api(
                        f"{server.url}/api/labels",
                        {
                            "attempt_id": attempt_id,
                            "annotator": "bob",
                            "label": "faithful" if value else "unfaithful",
                        },
                        csrf,
                    )
                # a third through the browser, from the keyboard, where Chromium is here
                carol = ids[5:8] if browser_reason() is None else []
                if carol:  # the browser tier's Chromium (one Playwright per process)
                    browser = request.getfixturevalue("chromium")
                    label_in_browser(browser, server.url, store, carol, truth)

        # 4. the labels as a suite
        suite = tmp_path / "suite.jsonl"
        assert main(["review", "export", "--db", db, "--output", str(suite)]) == 0
        rows = [json.loads(line) for line in suite.read_text(encoding="utf-8").splitlines()]
        assert len(rows) == 20 - 1 + 3  # the disputed one left out, the rejected three in

        # 5. the critic benchmarked on it, against the same critic server
        out = tmp_path / "bench"
        argv = [
            "bench",
            "critic",
            "--suite",
            str(suite),
            "--critic",
            f"openai:criticlean@{c.base_url}",
            "--output",
            str(out),
            "--no-progress",
            "--bootstrap",
            "50",
            "--db",
            db,
        ]
        assert main(argv) == 0
        capsys.readouterr()

    results = load_results(out)
    decided = [i for i in ids if i != ids[4]]
    faithful = sum(truth[i] for i in decided)
    wrong = len(decided) - faithful
    assert wrong >= 2, "the sample should hold some of the critic's mistakes"
    # every faithful pair accepted; the planted mistakes accepted again; the rejected three
    # rejected again: the suite measures the critic's blind spot
    assert results["confusion"] == {"tp": faithful, "fn": 0, "tn": 3, "fp": wrong}

    # 6. the precision, and the critic and annotators agreeing
    assert main(["review", "report", "--db", db, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    overall = report["precision"]["overall"]
    expected = wilson(faithful, len(decided))
    assert expected is not None
    assert overall["estimate"] == pytest.approx(expected.estimate)
    assert (overall["low"], overall["high"]) == pytest.approx((expected.low, expected.high))
    critic_table = report["critic"]
    assert (critic_table["tp"], critic_table["fp"], critic_table["tn"], critic_table["fn"]) == (
        faithful,
        wrong,
        3,
        0,
    )
    pairs = {tuple(p["annotators"]): p for p in report["annotator_agreement"]}
    assert pairs[("alice", "bob")]["items"] == 5
    assert pairs[("alice", "bob")]["agreement"] == pytest.approx(0.8)
    if carol:
        assert pairs[("alice", "carol")]["items"] == 3
        assert pairs[("alice", "carol")]["agreement"] == 1.0
    assert main(["review", "report", "--db", db]) == 0
    text = capsys.readouterr().out
    assert (
        f"{100 * expected.estimate:.1f}%  [{100 * expected.low:.1f}, {100 * expected.high:.1f}]"
        in text
    )


def label_in_browser(
    browser: Any, url: str, store: Store, attempt_ids: list[int], truth: dict[int, bool]
) -> None:
    context = browser.new_context()
    page = context.new_page()
    for attempt_id in attempt_ids:
        row = store._query_one("SELECT problem_id FROM attempts WHERE id = ?", (attempt_id,))
        assert row is not None
        page.goto(f"{url}/problems/{row[0]}?attempt={attempt_id}")
        page.fill("#annotator", "carol")
        page.keyboard.press("Enter")
        page.keyboard.press("f" if truth[attempt_id] else "1")
        page.wait_for_selector("#status.ok:has-text('by carol')", timeout=10_000)
    context.close()
