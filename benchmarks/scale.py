"""The store and its exports at 1K, 10K and 50K problems.

    python benchmarks/scale.py [--sizes 1000,10000,50000] [--samples 4] [--json]

For each size N, in a fresh folder: ``formalize run`` over N problems (scripted translator and
critic engines registered in this process, the stand-in REPL for Lean), then ``corpus stats``,
``corpus export`` as JSONL, parquet and a Hugging Face folder (each with and without
``--include-rejected``), a rerun of the finished corpus (no model call, nothing to do), and a
resume: a second run on a fresh store is killed with SIGKILL once half the problems are done,
then run again to the end. Every step is its own process: its wall time and its peak resident
memory (``wait4``'s ``ru_maxrss``) are recorded, and the store's bytes per problem.

Each problem gets ``--samples`` candidates in one round: the first does not compile (an unknown
identifier), the others compile, the critic finds them faithful (with a short thinking
section), and the first of those becomes the entry. Lean's work is the stand-in's (no latency),
so the times are formalize's own.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FAKE = REPO / "tests" / "lean" / "fake_repl.py"
# the stand-in REPL runs in the Lean sandbox, which shows the interpreter's installation, not
# a venv (see benchmarks/pipeline.py); everything else runs with this interpreter
REPL_PYTHON = os.path.realpath(sys.executable)
PYTHON = sys.executable
SRC = REPO / "src"  # the formalize measured (--src: another checkout's, e.g. main's for "before")
SIZES = (1000, 10_000, 50_000)
VERDICT = (
    '{"reasons": "Types, hypotheses and conclusion match.", "is_assistant_correct": "Correct"}'
)


# --------------------------------------------------------------------------- the child: a run


def scripted_engine() -> type:
    """An engine that answers at once: Lean statements to translator prompts, faithful verdicts
    to critic prompts (the ``scale:`` engine spec)."""
    from formalize.models.base import Engine, FinishReason, RawCompletion

    class ScaleEngine(Engine):
        name = "scale"

        def _generate(self, conversations: Any, params: Any) -> list[Any]:
            out = []
            for conv in conversations:
                prompt = conv[-1]["content"]
                if "is_assistant_correct" in prompt:
                    text = f"<think>Compare each hypothesis.</think>\n```json\n{VERDICT}\n```"
                    out.append([RawCompletion(text, FinishReason.STOP)] * params.n)
                    continue
                found = re.search(r"Problem (\d+):", prompt)
                k = found.group(1) if found else "0"
                answers = [
                    RawCompletion(_statement(k, s), FinishReason.STOP) for s in range(params.n)
                ]
                out.append(answers)
            return out

    return ScaleEngine


def _statement(k: str, sample: int) -> str:
    body = "undefined_ident x" if sample == 0 else f"x + {sample} = {k} + {sample}"
    return f"```lean4\ntheorem p{k}_{sample} (x : ℕ) (h : x = {k}) : {body} := by sorry\n```"


def child_run(argv: list[str]) -> int:
    """``formalize run`` with the scripted engine registered."""
    from formalize.cli.main import main
    from formalize.models import register_engine

    register_engine("scale", scripted_engine())
    return main(["run", *argv])


# --------------------------------------------------------------------------- the parent


def write_inputs(folder: Path, n: int, samples: int) -> tuple[Path, Path]:
    """The problems file and the run's config (stand-in REPL, scripted engines)."""
    problems = folder / "problems.jsonl"
    with problems.open("w", encoding="utf-8") as fh:
        for k in range(n):
            text = f"Problem {k}: show that x + 1 = {k} + 1 when x = {k}."
            fh.write(json.dumps({"id": f"p{k}", "problem": text}) + "\n")
    config = folder / "run.toml"
    config.write_text(
        f'translator = "scale:translator"\ncritic = "scale:critic"\nsamples = {samples}\n'
        "rounds = 1\nbatch_size = 64\nprogress = false\n"
        "[lean]\n"
        f"repl_cmd = {json.dumps([REPL_PYTHON, str(FAKE)])}\n"
        f"sandbox_paths = {json.dumps([sys.base_prefix])}\n"
        'toolchain = "fake-repl v4.15.0"\nworkers = 1\n',
        encoding="utf-8",
    )
    return problems, config


def timed(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``cmd`` (it must succeed); its wall time, CPU time and peak RSS."""
    begin = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - begin
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime  # the step's own CPU: on a shared machine, the
    # wall time also counts the other processes' turns
    return {
        "s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "peak_mb": round(usage.ru_maxrss / 1024, 1),
    }


def done_count(db: Path) -> int:
    """Problems done or exhausted in ``db`` (0 while it does not exist yet)."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
            row = con.execute(
                "SELECT COUNT(*) FROM problems WHERE state IN ('done', 'exhausted')"
            ).fetchone()
    except sqlite3.OperationalError:
        return 0
    return int(row[0])


def killed_halfway(cmd: list[str], env: dict[str, str], db: Path, n: int) -> None:
    """Start a run and SIGKILL it once half the problems are finished."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None and done_count(db) < n // 2:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


STEPS = ("run", "stats", "export", "rerun", "resume")


def replicate(db: Path, times: int) -> None:
    """Copy every problem of ``db`` with its attempts, signals and entry ``times - 1`` times
    under new ids (``ID~j``; the JSON records name the new id, and the entries' hashes get
    the suffix, so that the copies are not duplicates of each other). The cache is not
    copied: exports and stats do not read it."""
    with sqlite3.connect(db) as con:
        for j in range(1, times):
            tag = f"~{j}"
            con.execute(
                "INSERT INTO problems(id, record, informal, state, rounds_done, feedback, "
                "updated_at, duplicate_of) SELECT id || ?1, json_set(record, '$.id', id || ?1), "
                "informal, state, rounds_done, feedback, updated_at, duplicate_of "
                "FROM problems WHERE id NOT LIKE '%~%'",
                (tag,),
            )
            con.execute(
                "INSERT INTO attempts(run_id, problem_id, round, sample, status, lean, "
                "check_status, judgement, record, created_at, duplicate_of, provenance_id) "
                "SELECT run_id, problem_id || ?1, round, sample, status, lean, check_status, "
                "judgement, json_set(record, '$.problem_id', problem_id || ?1, "
                "'$.candidate.problem_id', problem_id || ?1), created_at, duplicate_of, "
                "provenance_id FROM attempts WHERE problem_id NOT LIKE '%~%'",
                (tag,),
            )
            con.execute(
                "INSERT INTO signals SELECT problem_id || ?1, round, sample, name, version, "
                "outcome FROM signals WHERE problem_id NOT LIKE '%~%'",
                (tag,),
            )
            con.execute(
                "INSERT INTO entries(problem_id, run_id, exact_hash, norm_hash, record, "
                "created_at, provenance_id) SELECT problem_id || ?1, run_id, exact_hash || ?1, "
                "norm_hash || ?1, json_set(record, '$.problem_id', problem_id || ?1), "
                "created_at, provenance_id FROM entries WHERE problem_id NOT LIKE '%~%'",
                (tag,),
            )


def measure(
    n: int, samples: int, folder: Path, steps: tuple[str, ...] = STEPS, base: int | None = None
) -> dict[str, Any]:
    """Every step (of ``steps``) at one size; the run always (of ``base`` problems, copied up
    to ``n`` when given: then no rerun or resume)."""
    env = {**os.environ, "PYTHONPATH": str(SRC), "HF_HUB_OFFLINE": "1"}
    formalize = [PYTHON, "-m", "formalize.cli.main"]
    problems, config = write_inputs(folder, base or n, samples)
    db = folder / "corpus.db"
    run = [PYTHON, __file__, "--child-run", str(problems), "--config", str(config), "--db"]
    result: dict[str, Any] = {"problems": n}
    result["run"] = timed([*run, str(db)], env)
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    result["store_bytes_per_problem"] = round(db.stat().st_size / (base or n))  # of the run
    if base is not None:
        result["run"]["problems"] = base
        replicate(db, n // base)
        steps = tuple(step for step in steps if step not in ("rerun", "resume"))
    if "stats" in steps:
        result["stats"] = timed([*formalize, "corpus", "stats", "--db", str(db)], env)
    exports = (("jsonl", "x.jsonl"), ("parquet", "x.parquet"), ("hf", "hf"))
    for fmt, target in exports if "export" in steps else ():
        extra = ["--format", "hf"] if fmt == "hf" else []
        for rejected in (False, True):
            out = folder / target
            cmd = [*formalize, "corpus", "export", "--db", str(db), "-o", str(out), *extra]
            if rejected:
                cmd.append("--include-rejected")
            result[f"export_{fmt}{'_all' if rejected else ''}"] = timed(cmd, env)
            if out.is_dir():
                import shutil

                shutil.rmtree(out)
            else:
                out.unlink()
    if "rerun" in steps:
        result["rerun"] = timed([*run, str(db)], env)
    if "resume" not in steps:
        return result
    resumed = folder / "resumed.db"
    killed_halfway([*run, str(resumed)], env, resumed, n)
    result["resume_from_half"] = {"done_before": done_count(resumed)}
    result["resume_from_half"].update(timed([*run, str(resumed)], env))
    result["resume_from_half"]["done_after"] = done_count(resumed)
    return result


def main() -> int:
    global SRC
    if len(sys.argv) > 1 and sys.argv[1] == "--child-run":
        return child_run(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default=",".join(map(str, SIZES)), help="problem counts, comma-separated"
    )
    parser.add_argument("--samples", type=int, default=4, help="candidates per problem")
    parser.add_argument(
        "--src", type=Path, default=REPO / "src", help="the formalize sources to measure"
    )
    parser.add_argument(
        "--steps", default=",".join(STEPS), help=f"what to measure after the run ({STEPS})"
    )
    parser.add_argument(
        "--copies-of",
        type=int,
        metavar="BASE",
        help="run BASE problems, then copy their rows up to each size (for sizes whose run "
        "would take too long here); measures stats and exports only",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args()
    SRC = args.src.resolve()
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            steps = tuple(args.steps.split(","))
            result = measure(n, args.samples, Path(tmp), steps, args.copies_of)
        results.append(result)
        print(json.dumps(result), flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
