"""Benchmark outputs: ``results.json``, ``report.md``, the threshold plot, and run comparison."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from formalize.bench.metrics import metric_value
from formalize.errors import InputError

RESULTS = "results.json"
REPORT = "report.md"
PLOT = "threshold.png"

_ROWS = (
    ("acc", "ACC = (TPR + TNR) / 2 (the paper's)"),
    ("tpr", "TPR: faithful pairs accepted"),
    ("tnr", "TNR: unfaithful pairs rejected"),
    ("accuracy", "plain accuracy (TP + TN) / N"),
    ("precision", "precision: faithful among accepted"),
    ("f1", "F1"),
    ("unparsed_rate", "unparsed answers (counted as rejections)"),
)


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temp file + rename), so a kill never leaves half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def pct(value: float | None) -> str:
    """A share as a percentage with one decimal, the paper's style; ``—`` when undefined."""
    return "—" if value is None else f"{100 * value:.1f}"


# Unparsed answers count as rejections: past WARN_UNPARSED of them a run says so on screen and
# in its report; from MOSTLY_UNPARSED on, its metrics are marked as measuring the answer parser.
WARN_UNPARSED = 0.1
MOSTLY_UNPARSED = 0.5
MOSTLY_MARK = "†"


def unparsed_share(results: dict[str, Any]) -> float:
    """The share of pairs none of whose critic answers could be parsed."""
    counts = results["counts"]
    return counts["unparsed"] / counts["items"] if counts.get("items") else 0.0


def unparsed_warning(results: dict[str, Any]) -> str | None:
    """A warning when many answers could not be parsed (they count as rejections, so TNR looks
    good and TPR bad for reasons that have nothing to do with the critic's judgement)."""
    share = unparsed_share(results)
    if share < WARN_UNPARSED:
        return None
    counts = results["counts"]
    mark = f" (marked {MOSTLY_MARK})" if share >= MOSTLY_UNPARSED else ""
    return (
        f"warning: {pct(share)}% of the pairs ({counts['unparsed']} of {counts['items']}) got no "
        "parseable critic answer; they count as rejections, so these metrics"
        f"{mark} measure the answer format more than the critic. Check the raw answers in "
        "results.jsonl, the prompt template (--template) and the engine's chat template."
    )


def mostly_unparsed(results: dict[str, Any]) -> bool:
    """True when the metrics rest mostly on unparsed answers."""
    return unparsed_share(results) >= MOSTLY_UNPARSED


def _ci(entry: Any) -> str:
    ci = entry.get("ci") if isinstance(entry, dict) else None
    return f"[{pct(ci[0])}, {pct(ci[1])}]" if ci else ""


def _lean_line(lean: dict[str, Any] | None) -> list[str]:
    if not lean or not lean.get("suite"):
        return []
    line = f"- Lean: the suite's statements were written for {lean['suite']}; "
    line += f"this project's is {lean['project']}"
    if lean.get("differs"):
        line += (
            " (they differ: no Lean runs in a critic benchmark, so the numbers do not depend on "
            f"the project's Lean; they include how well the critic reads {lean['suite']}-era "
            "Mathlib)"
        )
    return [line]


def render_report(results: dict[str, Any], plot: str | None) -> str:
    """The Markdown report of one run."""
    suite, critic, counts = results["suite"], results["critic"], results["counts"]
    metrics = results["metrics"]
    lines = [
        f"# Critic benchmark: {suite['name']} (version {suite['version']})",
        "",
        f"- critic: `{critic['spec']}`, {critic['samples']} sample(s) per pair, "
        f"vote `{critic['rule']}`, prompt `{critic['prompt_version']}`",
        f"- items: {counts['items']} ({counts['faithful']} faithful, "
        f"{counts['unfaithful']} unfaithful)"
        + (
            f", a seeded sample (seed {results['seed']}) of the suite's {results['suite_items']}"
            if results.get("suite_items", counts["items"]) != counts["items"]
            else ""
        ),
        f"- code: {results['code_version']}; finished {results['finished_at']}",
        *_lean_line(results.get("lean")),
        "",
        "## Metrics",
        "",
        "Percentages; positives are the faithful pairs. "
        "95% intervals: stratified percentile bootstrap "
        f"({results['bootstrap']['replicates']} replicates, seed {results['bootstrap']['seed']}).",
        "",
        "| metric | value | 95% CI |",
        "| --- | ---: | --- |",
    ]
    marked = mostly_unparsed(results)
    for key, label in _ROWS:
        entry = metrics.get(key)
        value = pct(metric_value(entry))
        if marked and key != "unparsed_rate":
            value += f" {MOSTLY_MARK}"
        if key == "unparsed_rate":
            n = counts["unparsed"]
            value += f" ({n} pair{'' if n == 1 else 's'})"
        lines.append(f"| {label} | {value} | {_ci(entry)} |")
    warning = unparsed_warning(results)
    if warning:
        lines += ["", f"**{warning}**"]
    c = results["confusion"]
    lines += [
        "",
        "## Confusion matrix",
        "",
        "| label \\ critic | accepted | rejected (incl. unparsed) |",
        "| --- | ---: | ---: |",
        f"| faithful | {c['tp']} (TP) | {c['fn']} (FN; {counts['unparsed_faithful']} unparsed) |",
        f"| unfaithful | {c['fp']} (FP) | {c['tn']} (TN; {counts['unparsed_unfaithful']} "
        "unparsed) |",
    ]
    if results["error_types"]:
        lines += [
            "",
            "## Unfaithful pairs rejected, by error type",
            "",
            "| error type | pairs | rejected | detection rate |",
            "| --- | ---: | ---: | ---: |",
        ]
        for row in results["error_types"]:
            lines.append(
                f"| {row['error_type']} | {row['n']} | {row['rejected']} | "
                f"{pct(row['detection_rate'])} |"
            )
    curve = results["threshold_curve"]
    lines += ["", "## Vote threshold", ""]
    if curve:
        lines += [
            f"A pair is accepted when at least k of its {critic['samples']} samples say "
            "faithful. Pick the row with the TNR you need and run with its rule (`--vote`).",
            "",
            "| rule | share | TPR | TNR | ACC | accepted |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for p in curve:
            lines.append(
                f"| `{p['rule']}` | {p['threshold']:.2f} | {pct(p['tpr'])} | {pct(p['tnr'])} "
                f"| {pct(p['acc'])} | {p['accepted']} |"
            )
        if plot:
            lines += ["", f"![TPR and TNR over the vote threshold]({plot})"]
        elif results.get("files", {}).get("plot_skipped"):
            lines += ["", f"(No plot: {results['files']['plot_skipped']}.)"]
    else:
        lines.append("One sample per pair: no threshold curve (run with `--critic-samples M`).")
    lines += [
        "",
        "## Conventions",
        "",
        "Unparsed answers count as rejections. A metric with an empty denominator "
        "(no faithful or no unfaithful pairs, nothing accepted) is shown as —. "
        "The CriticLean paper's table columns headed FPR and FNR hold 1 − TPR and 1 − TNR.",
        "",
    ]
    return "\n".join(lines)


def threshold_figure(results: dict[str, Any]) -> Any:
    """The matplotlib figure of TPR and TNR (percent) over the vote threshold, or None without
    a curve. The legend sits below the axes, so that it never covers a point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from formalize.models.spec import short_spec

    curve = results["threshold_curve"]
    if not curve:
        return None
    xs = [100 * p["threshold"] for p in curve]
    fig, ax = plt.subplots(figsize=(6, 4.4))
    for key, label in (("tpr", "TPR (faithful accepted)"), ("tnr", "TNR (unfaithful rejected)")):
        ys = [p[key] for p in curve]
        if all(y is not None for y in ys):
            ax.plot(xs, [100 * y for y in ys], marker="o", label=label)
    ax.set_xlabel("share of samples that must say faithful (%)")
    ax.set_ylabel("rate (%)")
    ax.set_xlim(0, 105)
    ax.set_ylim(-2, 102)
    critic = results["critic"]
    ax.set_title(
        f"{results['suite']['name']}: {short_spec(str(critic['spec']), 48)}, "
        f"{critic.get('samples', '?')} samples",
        fontsize=9,
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def write_plot(results: dict[str, Any], path: Path) -> str | None:
    """Write the threshold-curve PNG; returns why it was not written (None when it was)."""
    if not results["threshold_curve"]:
        return "one sample per pair: no threshold curve"
    try:
        fig = threshold_figure(results)
    except ImportError as exc:
        return f"matplotlib cannot be imported ({exc}); reinstall formalize-lean to get it"
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None


def write_outputs(results: dict[str, Any], output: Path) -> None:
    """``results.json``, ``report.md`` and (with m > 1 samples) the threshold plot; a plot that
    could not be drawn is said on stderr and in the report, with the reason."""
    skipped = write_plot(results, output / PLOT)
    plotted = skipped is None
    if skipped and results["threshold_curve"]:
        print(f"warning: no threshold plot: {skipped}", file=sys.stderr)
    results["files"] = {
        "predictions": "predictions.jsonl",
        "report": REPORT,
        "plot": PLOT if plotted else None,
    }
    if skipped and results["threshold_curve"]:
        results["files"]["plot_skipped"] = skipped
    write_json(output / RESULTS, results)
    (output / REPORT).write_text(render_report(results, PLOT if plotted else None), "utf-8")


def load_results(folder: str | Path) -> dict[str, Any]:
    """The ``results.json`` of a finished run folder (or the file itself)."""
    path = Path(folder)
    if path.is_dir():
        path = path / RESULTS
    if not path.is_file():
        raise InputError(f"{path} not found: is {folder} a finished `formalize bench critic` run?")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(data, dict) or "metrics" not in data:
        raise InputError(f"{path}: not a benchmark results file (no `metrics`)")
    return data


COMPARE_HEADERS = (
    "run",
    "suite",
    "critic",
    "m",
    "vote",
    "n",
    "ACC",
    "95% CI",
    "TPR",
    "TNR",
    "accuracy",
    "precision",
    "F1",
    "unparsed",
)


def compare_rows(runs: Sequence[tuple[str, dict[str, Any]]]) -> list[list[str]]:
    """One table row per run (percentages), in the order given; critic specs shortened (no
    server address, a local path by its last folder) to keep rows readable."""
    from formalize.models.spec import short_spec

    rows = []
    for name, r in runs:
        m = r["metrics"]
        suite = r.get("suite", {})
        critic = r.get("critic", {})
        rows.append(
            [
                name,
                f"{suite.get('name', '?')}@{suite.get('version', '?')}",
                short_spec(str(critic.get("spec", "?"))),
                str(critic.get("samples", "?")),
                str(critic.get("rule", "?")),
                str(r.get("counts", {}).get("items", "?")),
                pct(metric_value(m.get("acc"))),
                _ci(m.get("acc")),
                pct(metric_value(m.get("tpr"))),
                pct(metric_value(m.get("tnr"))),
                pct(metric_value(m.get("accuracy"))),
                pct(metric_value(m.get("precision"))),
                pct(metric_value(m.get("f1"))),
                pct(metric_value(m.get("unparsed_rate"))),
            ]
        )
    return rows


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table."""
    out = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)
