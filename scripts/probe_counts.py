#!/usr/bin/env python3
"""Count, per translation file, how many reference statements each filter can build a probe
for (no Lean needed: probes are text). The statement is probed as its own candidate; for
``reference`` it is compared with itself, which is the shape the reference filter must be able
to build for every row it should be able to judge:

    python scripts/probe_counts.py [DATA_DIR]      # default: ../shared/data/translation

Prints one line per file and filter (probes built / rows), then the reasons for the rows
without a probe, most frequent first. The counts in docs/filters.md come from this script.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

from formalize.filters import REGISTRY, FilterItem, FilterSettings
from formalize.filters.reference import reference_of
from formalize.records import Problem


def answered(statement: str) -> str:
    """The statement with PutnamBench's answers filled in, as a translator would write it
    (``with_answers`` where this version of the project has it)."""
    try:
        from formalize.filters.comparing import with_answers
    except ImportError:
        return statement
    return with_answers(statement)


FILES = ("minif2f", "proofnet", "putnambench", "mobench")
VARIABLE = re.compile(r"(?m)^variable\b")
MODULAR = ("[MOD", "[ZMOD", "[PMOD", "[SMOD")


def rows(directory: Path, name: str) -> list[dict[str, object]]:
    """The rows of one translation file."""
    path = directory / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def count(directory: Path, only_modular: bool = False) -> dict[str, dict[str, Counter[str]]]:
    """file -> filter -> Counter of "probe" and of each skip reason."""
    settings = FilterSettings()
    out: dict[str, dict[str, Counter[str]]] = {}
    for name in FILES:
        per: dict[str, Counter[str]] = {f: Counter() for f in REGISTRY}
        for row in rows(directory, name):
            found = reference_of(Problem(id=str(row.get("name")), informal="-", metadata=row))
            if found is None:
                continue
            header, statement = found
            if only_modular and not any(m in statement for m in MODULAR):
                continue
            candidate = answered(statement)
            item = FilterItem.of(
                Problem(id="p", informal="-", metadata=row), candidate, header or "import Mathlib"
            )
            for fname, cls in REGISTRY.items():
                flt = cls(None, settings)  # type: ignore[arg-type]  # probes need no checker
                built = flt.probes(item)
                per[fname]["probe" if built else flt.skip_reason(item)] += 1
                if fname == "reference" and built:
                    body = built[0].body
                    per[fname]["  with answers substituted"] += candidate != statement
                    per[fname]["  with universes pinned"] += "universe formalize_u" in body
                    per[fname]["  closed over variables"] += bool(VARIABLE.search(statement))
        out[name] = per
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "translation"
    parser.add_argument("data", nargs="?", type=Path, default=default)
    parser.add_argument("--modular", action="store_true", help="only [MOD n]-style statements")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"no data at {args.data}", file=sys.stderr)
        return 2
    result = count(args.data, args.modular)
    reasons: Counter[str] = Counter()
    for name, per in result.items():
        for fname, counter in per.items():
            total = sum(v for k, v in counter.items() if not k.startswith(" "))
            print(f"{name:12} {fname:10} {counter['probe']:4} / {total}")
            for key in sorted(k for k in counter if k.startswith(" ")):
                print(f"{'':12} {'':10} {counter[key]:4} {key.strip()}")
            reasons.update(
                {f"{fname}: {k}": v for k, v in counter.items() if k != "probe" and k[0] != " "}
            )
    for reason, n in reasons.most_common(12):
        print(f"{n:5}  {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
