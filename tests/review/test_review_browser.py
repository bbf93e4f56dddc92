"""The review app in a real browser: Debian's Chromium driven by Playwright against the app
served by uvicorn. Labelling from the keyboard survives a reload, filters and pages work, and
the hostile problem shows its text and runs none of it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from formalize.corpus import Store
from formalize.labels import iter_labels
from formalize.review.app import ReviewSettings
from formalize.review.audit import draw_sample

from .live_server import LiveServer
from .review_corpus import HOSTILE_ID

pytestmark = pytest.mark.browser


@pytest.fixture
def server(store: Store) -> Iterator[LiveServer]:
    pytest.importorskip("uvicorn", reason="the review extra is not installed")
    with LiveServer(store, ReviewSettings(annotator="alice")) as live:
        yield live


def saved(page: Any, text: str) -> None:
    """Wait until the status line reports the save."""
    page.wait_for_selector(f"#status.ok:has-text('{text}')", timeout=10_000)


def test_label_a_problem_with_the_keyboard_and_reload(
    page: Any, server: LiveServer, store: Store
) -> None:
    page.goto(f"{server.url}/problems/p2")
    cards = page.locator("article.attempt")
    assert cards.count() == 3
    accepted = page.locator("article.attempt.st-accepted")
    assert "selected" in (accepted.get_attribute("class") or "")  # the accepted one first
    page.keyboard.press("n")
    page.keyboard.type("the bound is n > 2")
    page.keyboard.press("Enter")  # no label yet: the note waits for one
    page.keyboard.press("3")  # unfaithful: extra hypothesis, with the note
    saved(page, "saved: unfaithful (extra_hypothesis) by alice")
    page.keyboard.press("j")  # the next attempt (round 2, sample 1)
    page.keyboard.press("f")
    saved(page, "saved: faithful by alice")
    page.keyboard.press("k")
    page.keyboard.press("k")  # round 1's attempt
    page.keyboard.press("u")
    saved(page, "saved: unfaithful by alice")

    page.reload()
    labels = [c.locator(".label-list").inner_text().strip() for c in cards.all()]
    assert labels == [
        "alice: unfaithful",
        "alice: unfaithful (extra_hypothesis) · the bound is n > 2",
        "alice: faithful",
    ]
    assert page.locator("article.attempt.st-accepted input.note").input_value() == (
        "the bound is n > 2"
    )
    stored = {(lab.round, lab.sample): lab for lab in iter_labels(store, "p2")}
    assert stored[(2, 0)].error_type is not None
    assert stored[(2, 0)].error_type.value == "extra_hypothesis"
    assert stored[(2, 1)].label.value == "faithful" and stored[(1, 0)].label.value == "unfaithful"
    assert page.page_errors == []


def test_a_second_annotator_names_themselves_on_the_page(
    page: Any, server: LiveServer, store: Store
) -> None:
    page.goto(f"{server.url}/problems/p3")
    page.fill("#annotator", "carol")
    page.keyboard.press("Enter")  # leaves the field; its change sets the cookie
    page.keyboard.press("f")
    saved(page, "by carol")
    page.reload()
    assert page.input_value("#annotator") == "carol"  # the server read the cookie
    assert "carol: faithful" in page.locator("article.attempt.selected .label-list").inner_text()
    assert {lab.annotator for lab in iter_labels(store, "p3")} == {"carol"}


def test_filter_and_page_through_the_attempts(page: Any, server: LiveServer) -> None:
    page.goto(f"{server.url}/attempts")
    page.select_option("select[name=status]", ["accepted"])
    page.select_option("select[name=limit]", "10")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/attempts?*status=accepted*")
    assert page.inner_text("#total") == "30"
    seen: list[list[int]] = []
    for _ in range(3):
        rows = page.locator("tbody tr")
        statuses = {rows.nth(i).locator(".badge").first.inner_text() for i in range(rows.count())}
        assert statuses == {"accepted"}
        seen.append(
            [
                int(x)
                for x in page.locator("tbody tr").evaluate_all(
                    "rows => rows.map(r => r.dataset.attemptId)"
                )
            ]
        )
        if page.locator("a#next").count():
            page.click("a#next")
            page.wait_for_load_state()
    assert [len(s) for s in seen] == [10, 10, 10]
    flat = [i for s in seen for i in s]
    assert flat == sorted(flat) and len(set(flat)) == 30
    assert page.locator("a#next").count() == 0  # the last page
    page.click("a#prev")
    page.wait_for_load_state()
    back = page.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => Number(r.dataset.attemptId))"
    )
    assert back == seen[1]
    page.select_option("select[name=source]", "proofnet")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**source=proofnet*")
    sources = page.locator("tbody tr td:nth-child(3)").all_inner_texts()
    assert set(sources) == {"proofnet"} and page.inner_text("#total") == "15"


def test_the_hostile_page_shows_its_text_and_runs_nothing(page: Any, server: LiveServer) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{server.url}/problems/{quote(HOSTILE_ID, safe='')}")
    page.wait_for_load_state("networkidle")
    text = page.inner_text("main")
    assert "Show <script>window.__pwned=1</script> that" in text
    assert '<img src=x onerror="window.__pwned=2"> holds' in text
    assert "$\\text{<script>window.__pwned=3</script>}$" in text  # unrenderable LaTeX as text
    assert "-- <script>window.__pwned=5</script>" in text  # the Lean code
    assert "<script>window.__pwned=7</script> is wrong" in text  # Lean's message
    assert 'onerror="window.__pwned=8"' in text  # the critic's reasons
    assert page.inner_text("h1") == f"Problem {HOSTILE_ID}"
    # a label whose note is markup, rendered back by the page's own script
    page.keyboard.press("n")
    page.keyboard.type('<img src=x onerror="window.__pwned=11">')
    page.keyboard.press("Escape")
    page.keyboard.press("u")
    saved(page, "saved: unfaithful")
    assert '<img src=x onerror="window.__pwned=11">' in page.inner_text(".label-list")
    page.mouse.move(200, 200)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.images.length") == 0
    assert page.evaluate("document.scripts.length") == 1  # the app's own script only
    assert dialogs == [] and page.page_errors == []


def test_math_is_rendered_as_mathml(page: Any, server: LiveServer) -> None:
    page.goto(f"{server.url}/problems/p4")
    math = page.locator(".informal math").first
    assert math.count() == 1
    box = math.bounding_box()
    assert box is not None and box.get("width", 0) > 0 and box.get("height", 0) > 0
    assert page.locator(".informal .math-source").count() == 0


def test_the_audit_queue_from_the_keyboard(page: Any, store: Store, server: LiveServer) -> None:
    sample = draw_sample(store, 6, stratify="source", seed=2)
    page.goto(f"{server.url}/audit")
    labelled = []
    for _ in range(3):
        page.keyboard.press("a")
        page.wait_for_url("**from=audit*")
        labelled.append(page.locator("main").get_attribute("data-problem-id"))
        page.keyboard.press("f")
        saved(page, "saved: faithful by alice")
    assert len(set(labelled)) == 3
    page.goto(f"{server.url}/audit")
    assert page.locator("tbody tr.mine").count() == 3
    from formalize.review.audit import audit_items

    queue = [i.problem_id for i in audit_items(store, sample.id)]
    assert labelled == queue[:3]  # in the queue's (random) order
