"""`formalize review report` and `review export`: precision from the audit sample, the critic's
and the annotators' agreement, labels as a suite; every number checked by hand."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from formalize.bench import load_suite
from formalize.cli.main import main
from formalize.corpus import Store
from formalize.errors import InputError
from formalize.labels import add_label, lean_sha
from formalize.records import ErrorType, Label, LabelValue
from formalize.review.audit import audit_items, draw_sample
from formalize.review.browse import AttemptFilter, page_attempts
from formalize.review.browse import problem_view as browse_problem
from formalize.review.report import build_report
from formalize.review.stats import wilson, wilson_bounds
from formalize.review.suite import export_suite

F, U = LabelValue.FAITHFUL, LabelValue.UNFAITHFUL


def label(
    store: Store,
    key: tuple[str, int, int],
    value: LabelValue,
    who: str = "alice",
    error: ErrorType | None = None,
    note: str = "",
) -> None:
    pid, round_, sample = key
    (lean,) = store._query_one(
        "SELECT lean FROM attempts WHERE problem_id = ? AND round = ? AND sample = ?",
        (pid, round_, sample),
    ) or (None,)
    add_label(store, Label(pid, round_, sample, lean_sha(lean), value, who, error, note))


def labelled_store(store: Store) -> dict[str, Any]:
    """The scenario the tests check, returning what it labelled."""
    sample = draw_sample(store, 10, stratify="source", seed=1)
    items = audit_items(store, sample.id)
    mini = [(i.problem_id, i.round, i.sample) for i in items if i.stratum == "minif2f"]
    proof = [(i.problem_id, i.round, i.sample) for i in items if i.stratum == "proofnet"]
    assert len(mini) == len(proof) == 5
    # minif2f: all 5 labelled by alice, 4 faithful, 1 unfaithful (missing hypothesis)
    for key in mini[:4]:
        label(store, key, F)
    label(store, mini[4], U, error=ErrorType.MISSING_HYPOTHESIS, note="needs 0 < n")
    # proofnet: 3 faithful, one disputed (alice faithful, bob unfaithful), one unlabelled
    for key in proof[:3]:
        label(store, key, F)
    label(store, proof[3], F)
    label(store, proof[3], U, who="bob", error=ErrorType.WRONG_CONCLUSION)
    # bob agrees with alice on three faithful and the unfaithful one
    for key in mini[:3]:
        label(store, key, F, who="bob")
    label(store, mini[4], U, who="bob", error=ErrorType.MISSING_HYPOTHESIS)
    # beyond the sample: attempts the critic rejected, and one that never compiled
    label(store, ("p2", 1, 0), U, error=ErrorType.WRONG_CONCLUSION)  # critic right
    label(store, ("p5", 1, 0), F)  # the critic was wrong to reject it
    label(store, ("p1", 1, 0), U, error=ErrorType.WRONG_TYPE)  # lean_error: no verdict
    return {"sample": sample, "mini": mini, "proof": proof}


def test_precision_per_stratum_and_overall(store: Store) -> None:
    labelled_store(store)
    report = build_report(store)
    p = report.precision
    assert p is not None
    strata = {s.stratum: s for s in p.strata}
    m, q = strata["minif2f"], strata["proofnet"]
    assert (m.population, m.drawn, m.labelled, m.faithful, m.disputed) == (15, 5, 5, 4, 0)
    assert (q.population, q.drawn, q.labelled, q.faithful, q.disputed) == (15, 5, 3, 3, 1)
    assert q.unlabelled == 1
    assert m.interval == wilson(4, 5) and q.interval == wilson(3, 3)
    # stratified: 0.5 * 4/5 + 0.5 * 3/3 = 0.9; variance 0.25 * 0.8 * 0.2 / 5 = 0.008,
    # n_eff = 0.09 / 0.008 = 11.25, capped at the 8 decided items
    assert p.overall is not None
    assert p.overall.estimate == pytest.approx(0.9)
    assert p.overall.n == pytest.approx(8)
    assert (p.overall.low, p.overall.high) == pytest.approx(wilson_bounds(0.9, 8))
    assert p.covered == 1.0 and p.labelled == 8


def test_critic_agreement_and_kappa(store: Store) -> None:
    labelled_store(store)
    report = build_report(store)
    c = report.critic
    # accepted (critic said faithful): 7 judged faithful, 1 unfaithful; the disputed one is out;
    # of the critic's rejections p2 is unfaithful (TN) and p5 faithful (FN); p1 has no verdict
    assert (c.confusion.tp, c.confusion.fp, c.confusion.tn, c.confusion.fn) == (7, 1, 1, 1)
    assert c.tpr == wilson(7, 8) and c.tnr == wilson(1, 2)
    assert c.no_verdict == 1
    (pair,) = report.pairs
    assert (pair.first, pair.second, pair.items) == ("alice", "bob", 5)
    # (f,f) x3, (u,u), (f,u): observed 0.8; alice 4 f / 1 u, bob 3 f / 2 u:
    # chance (4 * 3 + 1 * 2) / 25 = 0.56; kappa (0.8 - 0.56) / 0.44
    assert pair.agreement == pytest.approx(0.8)
    assert pair.kappa == pytest.approx(0.24 / 0.44)
    assert report.disputed == 1 and report.annotators == ("alice", "bob")
    assert report.error_types == {"wrong_conclusion": 1, "missing_hypothesis": 1, "wrong_type": 1}
    json.dumps(report.to_dict())  # JSON-ready


def test_one_annotators_report(store: Store) -> None:
    labelled_store(store)
    bob = build_report(store, annotator="bob")
    assert bob.annotators == ("bob",)
    p = bob.precision
    assert p is not None
    strata = {s.stratum: s for s in p.strata}
    assert (strata["minif2f"].labelled, strata["minif2f"].faithful) == (4, 3)
    assert (strata["proofnet"].labelled, strata["proofnet"].faithful) == (1, 0)
    assert len(bob.pairs) == 1  # kappa always compares everyone


def test_labels_on_a_replaced_statement_are_stale(store: Store) -> None:
    label(store, ("vac", 1, 0), U, error=ErrorType.TRIVIALISED)
    assert build_report(store).labelled_attempts == 1
    (attempt,) = store.attempts("vac")
    replaced = dataclasses.replace(
        attempt,
        candidate=dataclasses.replace(attempt.candidate, lean=attempt.candidate.lean + " -- v2"),
    )
    run = store.runs()[0]["id"]
    store.record_round(run, "vac", 1, [replaced], last_round=True)  # a resumed run re-records
    report = build_report(store)
    assert (report.labelled_attempts, report.stale) == (0, 1)
    (row,) = page_attempts(store, AttemptFilter(problem="vac")).rows
    assert row.labels == ()  # the list shows no label on the new statement
    (view,) = browse_problem(store, "vac").attempts  # type: ignore[union-attr]
    assert (view.labels, view.stale) == ((), 1)


def test_no_sample_yet(store: Store) -> None:
    label(store, ("p0", 1, 0), F)
    report = build_report(store)
    assert report.precision is None and report.labelled_attempts == 1


# --------------------------------------------------------------------------- export


def test_export_writes_a_suite_bench_reads_as_it_is(store: Store, tmp_path: Path) -> None:
    labelled_store(store)
    done = export_suite(store, tmp_path / "suite.jsonl")
    # 5 + 3 decided sample items, p2, p5, p1; the disputed one left out
    assert (done.rows, done.faithful, done.disputed) == (11, 8, 1)
    rows = [json.loads(line) for line in done.path.read_text(encoding="utf-8").splitlines()]
    assert {tuple(sorted(r)) for r in rows} == {
        tuple(
            sorted(
                [
                    "id",
                    "informal",
                    "lean",
                    "header",
                    "label",
                    "error_type",
                    "annotator",
                    "answer",
                    "source",
                    "note",
                ]
            )
        )
    }
    by_id = {r["id"]: r for r in rows}
    assert by_id["p2/r1s0"]["label"] == "unfaithful"
    assert by_id["p2/r1s0"]["error_type"] == "wrong_conclusion"
    assert by_id["p5/r1s0"]["label"] == "faithful" and by_id["p5/r1s0"]["error_type"] is None
    items = {i.id: i for i in load_suite(done.path).load()}
    assert set(items) == set(by_id)
    assert items["p2/r1s0"].label is False and items["p2/r1s0"].error_type == "wrong_conclusion"
    assert items["p5/r1s0"].label is True
    assert items["p1/r1s0"].lean.startswith("theorem p1")
    assert items["p1/r1s0"].header == "import Mathlib"
    two = [r for r in rows if r["annotator"] == "alice,bob"]
    assert len(two) == 4  # the items both labelled alike
    noted = [r for r in rows if r["note"]]
    assert [r["note"] for r in noted] == ["alice: needs 0 < n"]


def test_export_of_one_annotator_and_of_nothing(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no decided labels"):
        export_suite(store, tmp_path / "none.jsonl")
    assert not (tmp_path / "none.jsonl").exists()
    labelled_store(store)
    bob = export_suite(store, tmp_path / "bob.jsonl", annotator="bob")
    assert (bob.rows, bob.faithful) == (5, 3)  # bob's own unfaithful one is his decision


# --------------------------------------------------------------------------- CLI


def test_the_commands(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(corpus)
    assert main(["review", "sample", "--db", db, "--n", "10", "--stratify", "source"]) == 0
    out, err = capsys.readouterr()
    assert "minif2f" in out and "audit sample 1: 10 of 30 accepted entries" in err
    with Store(corpus) as store:
        items = audit_items(store, 1)
        for item in items[:6]:
            label(store, (item.problem_id, item.round, item.sample), F)
        label(store, (items[6].problem_id, items[6].round, items[6].sample), U)
    assert main(["review", "--db", db, "report"]) == 0  # --db before the action works too
    out, _ = capsys.readouterr()
    assert "corpus precision (audit sample 1: 10 of 30 accepted entries" in out
    assert "overall" in out and "Wilson" in out
    assert main(["review", "report", "--db", db, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["precision"]["overall"]["estimate"] == pytest.approx(
        sum(
            s["population"] / 30 * s["faithful"] / s["labelled"]
            for s in data["precision"]["strata"]
            if s["labelled"]
        )
    )
    suite = tmp_path / "out" / "suite.jsonl"
    assert main(["review", "export", "--db", db, "--output", str(suite)]) == 0
    assert "wrote 7 labelled pairs (6 faithful, 1 unfaithful)" in capsys.readouterr().err
    assert len(load_suite(suite).load()) == 7
    assert main(["review", "report", "--db", str(tmp_path / "missing.db")]) == 2
    assert "no corpus at" in capsys.readouterr().err
