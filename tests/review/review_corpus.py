"""Corpora for the review tests, written through the store's own API as a run writes them.

``build_corpus`` makes a small corpus with every kind of attempt the pages show: accepted
entries from two sources, compile errors with Lean's messages, critic objections, a statement
the gate rejected, a vacuous one with its filter's signal, and one problem whose every text (the
statement, its LaTeX, the Lean code, Lean's messages, the critic's reasons, the feedback, even
its id) is hostile HTML. ``bulk_corpus`` writes ~100K attempts straight into the tables, for
the paging measurements.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from formalize.corpus import Store
from formalize.records import (
    Attempt,
    AttemptStatus,
    Candidate,
    CandidateStatus,
    CheckResult,
    CheckStatus,
    CriticSample,
    Judgement,
    Message,
    Problem,
    Severity,
    Signal,
    SignalOutcome,
    Verdict,
)

TOOLCHAIN = "leanprover/lean4:v4.15.0"
HOSTILE_ID = "hostile/<script>window.__pwned=9</script>"
HOSTILE_TEXT = (
    'Show <script>window.__pwned=1</script> that <img src=x onerror="window.__pwned=2"> holds,'
    " with $\\text{<script>window.__pwned=3</script>}$ and $x<y$ and"
    " $\\href{javascript:window.__pwned=4}{z}$."
)
HOSTILE_LEAN = (
    "theorem hostile (x : ℕ) : x = x := by sorry -- <script>window.__pwned=5</script>"
    ' <img src=x onerror="window.__pwned=6">'
)


def informal(k: int) -> str:
    return f"Show that for every natural number $n$ with $n > {k}$, $n + {k} > {2 * k}$."


def good_lean(k: int) -> str:
    return f"theorem p{k} (n : ℕ) (h : n > {k}) : n + {k} > {2 * k} := by sorry"


def critic_sample(faithful: bool, reasons: str) -> CriticSample:
    word = "Correct" if faithful else "Incorrect"
    raw = f'<think>check it</think>{{"reasons": "{reasons}", "is_assistant_correct": "{word}"}}'
    return CriticSample(Judgement.FAITHFUL if faithful else Judgement.UNFAITHFUL, raw, reasons)


def verdict(votes: list[bool], objection: str = "The bound is wrong.") -> Verdict:
    agree = "Types, hypotheses and conclusion match."
    samples = tuple(critic_sample(v, agree if v else objection) for v in votes)
    share = sum(votes) / len(votes)
    judgement = Judgement.FAITHFUL if share > 0.5 else Judgement.UNFAITHFUL
    return Verdict(judgement, share, samples, rule="majority")


def ok_check() -> CheckResult:
    sorry = Message(Severity.WARNING, 1, 8, "declaration uses 'sorry'", 1, 11)
    return CheckResult(CheckStatus.OK, (sorry,), 0.2, TOOLCHAIN)


def candidate(pid: str, lean: str, round_: int, sample: int) -> Candidate:
    raw = f"Here it is.\n```lean4\n{lean}\n```"
    return Candidate(pid, CandidateStatus.EXTRACTED, lean, raw, round=round_, sample=sample)


def provenance(run: str) -> dict[str, str]:
    return {"translator": "openai:kimina", "critic": "openai:criticlean", "run": run}


def round_one_error(pid: str, k: int) -> Attempt:
    lean = f"theorem p{k} (n : ℕ) (h : undefined_ident n) : n + {k} > {2 * k} := by sorry"
    column = lean.index("undefined_ident")
    err = Message(Severity.ERROR, 1, column, "unknown identifier 'undefined_ident'", 1, column + 15)
    check = CheckResult(CheckStatus.LEAN_ERROR, (err,), 0.1, TOOLCHAIN)
    cand = candidate(pid, lean, 1, 0)
    return Attempt(pid, 1, 0, AttemptStatus.LEAN_ERROR, cand, check)


def build_corpus(path: Path, problems: int = 30) -> Path:
    """A corpus of ``problems`` problems (sources ``minif2f`` and ``proofnet``, two runs) plus
    a vacuous, a rejected and a hostile problem. Problem k: accepted in round 1 when k % 3 == 0;
    a compile error then accepted in round 2 when k % 3 == 1; a critic objection then accepted
    in round 2 when k % 3 == 2 (the round-2 candidate of every fifth such problem keeps the
    wrong bound and is the critic's mistake a reviewer should catch)."""
    with Store(path) as store:
        runs = [
            store.start_run({"translator": "openai:kimina", "critic": "openai:criticlean"}, "t")
        ]
        runs.append(store.start_run({"translator": "openai:kimina", "critic": "openai:other"}, "t"))
        rows = [
            Problem(
                f"p{k}",
                informal(k),
                source="minif2f" if k % 2 == 0 else "proofnet",
                answer=None,
            )
            for k in range(problems)
        ]
        rows += [
            Problem("vac", "Show that if $x > 0$ and $x < 0$ then $x = 7$.", source="minif2f"),
            Problem("gate", "Prove that $1 = 1$.", source="proofnet"),
            Problem(HOSTILE_ID, HOSTILE_TEXT, source="<b>hostile</b>", answer="<i>7</i>"),
        ]
        store.add_problems(rows)
        for k in range(problems):
            pid = f"p{k}"
            run = runs[k % 2]
            if k % 3 == 1:
                store.record_round(run, pid, 1, [round_one_error(pid, k)], feedback="fix")
                feedback = "Lean said: unknown identifier 'undefined_ident'"
                final_round = 2
            elif k % 3 == 2:
                lean = good_lean(k).replace(f"n > {k}", f"n > {k + 1}")
                bad = Attempt(
                    pid,
                    1,
                    0,
                    AttemptStatus.UNFAITHFUL,
                    candidate(pid, lean, 1, 0),
                    ok_check(),
                    verdict([False, False, True]),
                )
                store.record_round(run, pid, 1, [bad], feedback="The bound is wrong.")
                feedback = "The critic said: The bound is wrong."
                final_round = 2
            else:
                feedback = None
                final_round = 1
            lean = good_lean(k)
            if k % 3 == 2 and k % 5 == 0:
                lean = lean.replace(f"n > {k}", f"n ≥ {k}")  # the critic lets this one through
            attempts = [
                Attempt(
                    pid,
                    final_round,
                    s,
                    AttemptStatus.FAITHFUL,
                    candidate(pid, lean + " " * s, final_round, s),
                    ok_check(),
                    verdict([True, True, s == 0]),
                    feedback=feedback,
                    provenance=provenance(run),
                )
                for s in range(2)
            ]
            store.record_round(
                run, pid, final_round, attempts, ranked_faithful=[0, 1], feedback=None
            )
        _write_special(store, runs[0])
    return path


def _write_special(store: Store, run: str) -> None:
    lean = "theorem vac (x : ℤ) (h₀ : 0 < x) (h₁ : x < 0) : x = 7 := by sorry"
    signal = Signal(
        "vacuous",
        "1",
        SignalOutcome.FAILED,
        "the hypotheses contradict each other",
        "theorem probe (x : ℤ) (h₀ : 0 < x) (h₁ : x < 0) : False := by omega",
        0.3,
    )
    vac = Attempt(
        "vac",
        1,
        0,
        AttemptStatus.VACUOUS,
        candidate("vac", lean, 1, 0),
        ok_check(),
        signals=(signal,),
    )
    store.record_round(run, "vac", 1, [vac], last_round=True)
    gate_lean = '#eval IO.println "pwned"\ntheorem t : 1 = 1 := by sorry'
    gate = Attempt(
        "gate",
        1,
        0,
        AttemptStatus.REJECTED,
        candidate("gate", gate_lean, 1, 0),
        CheckResult(CheckStatus.REJECTED, (), 0.0, None, "the statement uses '#eval'"),
    )
    store.record_round(run, "gate", 1, [gate], last_round=True)
    hostile_msg = Message(Severity.INFO, 1, 8, "<script>window.__pwned=7</script> is wrong")
    hostile_check = CheckResult(CheckStatus.OK, (hostile_msg,), 0.1, TOOLCHAIN)
    hostile = Attempt(
        HOSTILE_ID,
        1,
        0,
        AttemptStatus.UNFAITHFUL,
        candidate(HOSTILE_ID, HOSTILE_LEAN, 1, 0),
        hostile_check,
        verdict([False], objection='<img src=x onerror="window.__pwned=8">'),
        feedback="<script>window.__pwned=10</script>",
    )
    store.record_round(run, HOSTILE_ID, 1, [hostile], last_round=True)


# --------------------------------------------------------------------------- bulk


STATUSES = (
    ["lean_error"] * 40
    + ["unfaithful"] * 25
    + ["faithful"] * 15
    + ["accepted"] * 10
    + ["no_code"] * 5
    + ["vacuous"] * 4
    + ["rejected"] * 1
)


def bulk_corpus(path: Path, attempts: int = 100_000, runs: int = 5, seed: int = 0) -> Path:
    """~``attempts`` attempts over ``attempts / 4`` problems in ``runs`` runs and 10 sources,
    written directly into the tables (records are minimal but valid JSON of the real shape)."""
    rng = random.Random(seed)
    problems = attempts // 4
    with Store(path) as store:
        run_ids = [store.start_run({"translator": "x", "critic": "y"}, "bulk") for _ in range(runs)]
        now = time.time()
        with store._write() as con:
            con.executemany(
                "INSERT INTO problems(id, record, informal, state, rounds_done, updated_at)"
                " VALUES (?,?,?,?,?,?)",
                [
                    (
                        f"b{k}",
                        json.dumps({"id": f"b{k}", "informal": "x", "source": f"src{k % 10}"}),
                        "x",
                        "done",
                        2,
                        now,
                    )
                    for k in range(problems)
                ],
            )
            rows = []
            for i in range(attempts):
                k = i // 4
                round_, sample = 1 + (i % 4) // 2, i % 2
                status = rng.choice(STATUSES)
                share = rng.choice((0.0, 1 / 3, 2 / 3, 1.0)) if status != "lean_error" else None
                record = {
                    "problem_id": f"b{k}",
                    "round": round_,
                    "sample": sample,
                    "status": status,
                    "verdict": None if share is None else {"share": share},
                }
                rows.append(
                    (
                        run_ids[k % runs],
                        f"b{k}",
                        round_,
                        sample,
                        status,
                        f"theorem b{k} : True := by sorry",
                        json.dumps(record),
                        now,
                    )
                )
            con.executemany(
                "INSERT INTO attempts(run_id, problem_id, round, sample, status, lean, record,"
                " created_at) VALUES (?,?,?,?,?,?,?,?)",
                rows,
            )
    return path
