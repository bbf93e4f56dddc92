"""Signals and human labels in the store: written with their attempts, read back, migrated."""

from __future__ import annotations

from pathlib import Path

import pytest

from formalize.corpus import Store
from formalize.errors import InputError
from formalize.labels import add_label, iter_labels, lean_sha
from formalize.records import (
    Attempt,
    AttemptStatus,
    Candidate,
    CandidateStatus,
    CheckResult,
    CheckStatus,
    ErrorType,
    Label,
    LabelValue,
    Problem,
    Signal,
    SignalOutcome,
)

LEAN = "theorem t (x : ℕ) (h₀ : 0 < x) (h₁ : x < 0) : x = 7 := by sorry"


def vacuous_attempt() -> Attempt:
    cand = Candidate("p", CandidateStatus.EXTRACTED, LEAN, "raw")
    check = CheckResult(CheckStatus.OK, (), 0.1, "v4.15.0")
    signal = Signal(
        "vacuous",
        "1",
        SignalOutcome.FAILED,
        "the hypotheses contradict each other",
        "theorem probe ... : False := by omega",
        0.2,
    )
    trivial = Signal("trivial", "1", SignalOutcome.INCONCLUSIVE, "no tactic closed it")
    return Attempt("p", 1, 0, AttemptStatus.VACUOUS, cand, check, signals=(signal, trivial))


def test_a_filtered_attempt_needs_its_filters_finding() -> None:
    attempt = vacuous_attempt()
    assert attempt.signal("vacuous") is not None and attempt.signal("refuted") is None
    with pytest.raises(ValueError, match="needs the vacuous filter's finding"):
        Attempt("p", 1, 0, AttemptStatus.VACUOUS, attempt.candidate, attempt.check, signals=())
    with pytest.raises(ValueError, match="score"):
        Signal("critic", "1", SignalOutcome.PASSED, score=1.5)


def test_signals_are_stored_with_their_attempt(tmp_path: Path) -> None:
    with Store(tmp_path / "c.db") as store:
        store.add_problems([Problem("p", "Show that x = 7.")])
        run = store.start_run({}, "test")
        store.record_round(run, "p", 1, [vacuous_attempt()])
        (back,) = store.attempts("p")
        assert back == vacuous_attempt()
        assert back.signals[0].evidence.startswith("theorem probe")
        rows = store._query("SELECT name, version, outcome FROM signals ORDER BY name")
        assert rows == [("trivial", "1", "inconclusive"), ("vacuous", "1", "failed")]
        store.record_round(run, "p", 1, [vacuous_attempt()])  # re-recorded: no duplicate rows
        assert len(store._query("SELECT * FROM signals")) == 2


def test_labels_name_their_attempt_and_statement(tmp_path: Path) -> None:
    with Store(tmp_path / "c.db") as store:
        store.add_problems([Problem("p", "Show that x = 7.")])
        run = store.start_run({}, "test")
        store.record_round(run, "p", 1, [vacuous_attempt()])
        first = add_label(
            store,
            Label("p", 1, 0, lean_sha(LEAN), LabelValue.UNFAITHFUL, "ann", ErrorType.TRIVIALISED),
        )
        assert first.created_at > 0
        add_label(store, Label("p", 1, 0, lean_sha(LEAN), LabelValue.FAITHFUL, "bob"))
        # the same annotator labelling again replaces the label
        add_label(store, Label("p", 1, 0, lean_sha(LEAN), LabelValue.FAITHFUL, "ann", note="ok"))
        labels = list(iter_labels(store))
        assert [(x.annotator, x.label, x.note) for x in labels] == [
            ("ann", LabelValue.FAITHFUL, "ok"),
            ("bob", LabelValue.FAITHFUL, ""),
        ]
        with pytest.raises(InputError, match="not the one labelled"):
            add_label(store, Label("p", 1, 0, lean_sha("other"), LabelValue.FAITHFUL, "ann"))
        with pytest.raises(InputError, match="no attempt"):
            add_label(store, Label("p", 9, 0, lean_sha(LEAN), LabelValue.FAITHFUL, "ann"))
    with pytest.raises(ValueError, match="only an unfaithful"):
        Label("p", 1, 0, lean_sha(LEAN), LabelValue.FAITHFUL, "ann", ErrorType.OTHER)


# A corpus written by the first release (commit 757477a, schema 1), made with
#   git worktree add /tmp/release 757477a
#   cd /tmp/release/tests && PYTHONPATH=/tmp/release/src python corpus_writer.py \
#       <repo>/tests/data/store-757477a.db 12
RELEASE_STORE = Path(__file__).resolve().parent / "data" / "store-757477a.db"


def test_a_store_written_by_the_release_migrates_and_takes_signals(tmp_path: Path) -> None:
    import shutil

    from formalize.export import iter_rows
    from formalize.migrations import MIGRATIONS

    db = tmp_path / "release.db"
    shutil.copyfile(RELEASE_STORE, db)
    with Store(db) as store:
        assert store.schema_version() == max(m.version for m in MIGRATIONS)
        attempts = store.attempts()
        assert len(attempts) == 36 and all(a.signals == () for a in attempts)
        assert len(store.entries()) == 11
        funnel = store.funnel()
        assert (funnel.filter_rejected, funnel.signal_counts) == ({}, {})
        rows = list(iter_rows(store, include_rejected=True))
        assert len(rows) == 11 + 36 - 11 and all(r["filter_vacuous"] is None for r in rows)
        # the migrated store takes new attempts with signals, and labels
        store.add_problems([Problem("p", "Show that x = 7.")])
        run = store.start_run({}, "test")
        store.record_round(run, "p", 1, [vacuous_attempt()])
        assert store.funnel().filter_rejected == {"vacuous": 1}
        add_label(store, Label("p", 1, 0, lean_sha(LEAN), LabelValue.UNFAITHFUL, "ann"))
        assert len(list(iter_labels(store))) == 1
