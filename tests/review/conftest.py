"""Fixtures of the review tests: a corpus built as runs build one, the app under a test client,
and (tier ``browser``) a real Chromium driven by Playwright."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from formalize.corpus import Store

from .review_corpus import build_corpus
from .review_support import BASE_URL, browser_reason, chromium_path


@pytest.fixture(scope="session")
def corpus_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_corpus(tmp_path_factory.mktemp("template") / "corpus.db")


@pytest.fixture
def corpus(corpus_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the review corpus (``review_corpus.build_corpus``)."""
    path = tmp_path / "corpus.db"
    shutil.copyfile(corpus_template, path)
    return path


@pytest.fixture
def store(corpus: Path) -> Iterator[Store]:
    with Store(corpus) as opened:
        yield opened


@pytest.fixture
def client(store: Store) -> Any:
    """The app on 127.0.0.1 under Starlette's test client, annotator ``alice``."""
    from starlette.testclient import TestClient

    from formalize.review.app import ReviewSettings, create_app

    app = create_app(store, ReviewSettings(annotator="alice", csrf_token="csrf-for-tests"))
    with TestClient(app, base_url=BASE_URL) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """A headless Chromium (Playwright's own browser download is not needed)."""
    reason = browser_reason()
    if reason is not None:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path())
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh browser context and page, failing the test on any page error."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.page_errors = errors
    yield tab
    context.close()
