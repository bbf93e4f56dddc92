"""A deterministic corpus writer, run as a subprocess by the kill-and-resume tests.

usage: python corpus_writer.py DB N_PROBLEMS [--sleep S]

Every problem takes two rounds: round 1 fails to compile, round 2 compiles and is judged
faithful. Problem k (k % 10 == 7) gets the statement of problem k-4 with its variables renamed,
so the corpus's normalised dedup must turn it into a duplicate. The writer resumes from what the
store says, like `formalize run` does.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

from formalize.corpus import ProblemState, Store
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
    Verdict,
)


def statement(k: int, var: str = "x") -> str:
    return f"theorem p{k} ({var} : ℕ) (h : {var} > {k}) : {var} + {k} > {2 * k} := by sorry"


def attempts_for(k: int, round_: int) -> list[Attempt]:
    pid = f"p{k}"
    if round_ == 1:
        lean = f"theorem p{k} : undefined_thing {k} := by sorry"
        cand = Candidate(pid, CandidateStatus.EXTRACTED, lean, "raw", round=1, sample=0)
        err = Message(Severity.ERROR, 1, 12, "unknown identifier 'undefined_thing'")
        check = CheckResult(CheckStatus.LEAN_ERROR, (err,), 0.1, "v4.15.0")
        return [Attempt(pid, 1, 0, AttemptStatus.LEAN_ERROR, cand, check)]
    lean = statement(k - 4, "y") if k % 10 == 7 else statement(k)
    out = []
    for sample in range(2):
        cand = Candidate(
            pid, CandidateStatus.EXTRACTED, lean + " " * sample, "raw", round=2, sample=sample
        )
        check = CheckResult(CheckStatus.OK, (), 0.1, "v4.15.0")
        s = CriticSample(Judgement.FAITHFUL, '{"is_assistant_correct": "Correct"}')
        v = Verdict(Judgement.FAITHFUL, 1.0, (s,))
        out.append(Attempt(pid, 2, sample, AttemptStatus.FAITHFUL, cand, check, v, "fix it"))
    return out


def snapshot(db: str | Path) -> tuple[list[tuple[str, str, int]], list[tuple[str, int, int, str]]]:
    """What a corpus holds, order-free: entries, and every attempt's outcome."""
    with Store(db) as store:
        entries = sorted((e.problem_id, e.lean, e.round) for e in store.entries())
        attempts = sorted(
            (a.problem_id, a.round, a.sample, a.status.value) for a in store.attempts()
        )
    return entries, attempts


def count_entries(db: str | Path) -> int:
    """Accepted entries so far, read without taking any lock (0 if not readable yet)."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(con.execute("SELECT COUNT(*) FROM entries").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def main() -> int:
    db, n = sys.argv[1], int(sys.argv[2])
    sleep = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    with Store(db) as store:
        run = store.start_run({"writer": True, "n": n}, "test")
        store.add_problems([Problem(f"p{k}", f"Problem number {k}.") for k in range(n)])
        progress = store.progress()
        for k in range(n):
            state = progress[f"p{k}"]
            if state.state in (ProblemState.DONE, ProblemState.EXHAUSTED):
                continue
            for round_ in range(state.rounds_done + 1, 3):
                store.record_round(
                    run,
                    f"p{k}",
                    round_,
                    attempts_for(k, round_),
                    ranked_faithful=(0, 1) if round_ == 2 else (),
                    feedback="compile error" if round_ == 1 else None,
                    last_round=round_ == 2,
                )
                if sleep:
                    time.sleep(sleep)
        store.finish_run(run, "completed", {"problems": n})
    return 0


if __name__ == "__main__":
    sys.exit(main())
