#!/usr/bin/env python3
"""Screenshots of the review app's main pages for docs/review.md, taken by Chromium through
Playwright from the test suite's corpus (tests/review/review_corpus.py) with a few labels and an
audit sample:

    python scripts/review_screenshots.py [--out docs/review] [--chromium /usr/bin/chromium]

Needs the review and test extras (Starlette, uvicorn, Playwright) and a Chromium.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "review"))

from live_server import LiveServer  # noqa: E402
from review_corpus import build_corpus  # noqa: E402

from formalize.corpus import Store  # noqa: E402
from formalize.labels import add_label, lean_sha  # noqa: E402
from formalize.records import ErrorType, Label, LabelValue  # noqa: E402
from formalize.review.app import ReviewSettings  # noqa: E402
from formalize.review.audit import audit_items, draw_sample  # noqa: E402

PAGES = (
    ("index", "/", False),
    ("attempts", "/attempts?status=accepted&status=unfaithful&source=minif2f&limit=25", False),
    ("problem", "/problems/p10", True),
    ("audit", "/audit", False),
    ("hostile", "/problems/hostile%2F%3Cscript%3Ewindow.__pwned%3D9%3C%2Fscript%3E", False),
)


def label_some(store: Store) -> None:
    """Label part of the audit sample as two annotators would."""
    sample = draw_sample(store, 12, stratify="source", seed=0)
    for n, item in enumerate(audit_items(store, sample.id)[:9]):
        (lean,) = store._query_one(
            "SELECT lean FROM attempts WHERE problem_id = ? AND round = ? AND sample = ?",
            (item.problem_id, item.round, item.sample),
        ) or ("",)
        wrong = "≥" in lean
        value = LabelValue.UNFAITHFUL if wrong else LabelValue.FAITHFUL
        error = ErrorType.WRONG_QUANTIFIER if wrong else None
        note = "≥ where the problem says >" if wrong else ""
        key = (item.problem_id, item.round, item.sample, lean_sha(lean))
        add_label(store, Label(*key, value, "alice", error, note))
        if n < 5:  # a second annotator on some, disagreeing once
            if n == 4:
                value = (
                    LabelValue.UNFAITHFUL if value is LabelValue.FAITHFUL else LabelValue.FAITHFUL
                )
                error = ErrorType.MISSING_HYPOTHESIS if value is LabelValue.UNFAITHFUL else None
            add_label(store, Label(*key, value, "bob", error))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "review")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = build_corpus(Path(tmp) / "corpus.db")
        with Store(db) as store:
            label_some(store)
            settings = ReviewSettings(annotator="alice")
            with LiveServer(store, settings) as server, sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=args.chromium)
                page = browser.new_page(viewport={"width": 1280, "height": 860})
                for name, path, keyboard in PAGES:
                    page.goto(server.url + path)
                    page.wait_for_load_state("networkidle")
                    if keyboard:  # label the selected attempt from the keyboard first
                        page.keyboard.press("n")
                        page.keyboard.type("bound matches; the conclusion is the problem's")
                        page.keyboard.press("Escape")
                        page.keyboard.press("f")
                        page.wait_for_selector("#status.ok")
                        page.evaluate("window.scrollTo(0, 0)")  # the key bar sticks at the top
                    target = args.out / f"{name}.png"
                    page.screenshot(path=str(target), full_page=name == "problem")
                    print(target)
                browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
