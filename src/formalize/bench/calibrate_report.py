"""Outputs of ``formalize bench calibrate``: ``policy.toml``, ``results.json``, ``report.md``
and the Pareto-front plot ``pareto.png``."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from formalize.bench.calibrate import (
    Calibration,
    Objective,
    Scored,
    describe,
    nothing_to_choose_from,
    vote_text,
    weighted_text,
)
from formalize.bench.judges import Joined
from formalize.bench.report import markdown_table, pct, write_json
from formalize.version import code_version

POLICY = "policy.toml"
RESULTS = "results.json"
REPORT = "report.md"
PLOT = "pareto.png"
SCHEMA_VERSION = 1
FRONT_ROWS = 40  # Pareto rows shown in report.md (all are in results.json)


def policy_dict(s: Scored, joined: Joined) -> dict[str, Any]:
    """The policy as ``formalize run`` reads it: ``combine`` and the list of ``judges``."""
    p = s.policy
    combine = f"weighted:{weighted_text(p)}" if p.combine == "weighted" else p.combine
    judges = []
    for position, j in enumerate(p.judges):
        run = joined.judges[j]
        judge: dict[str, Any] = {
            "name": run.name,
            "kind": run.kind,
            "spec": run.spec,
            "samples": run.samples,
            # weighted:T decides on the mean of the shares; a judge's own vote is not used
            "vote": "majority" if p.combine == "weighted" else vote_text(p.thresholds[position]),
            "weight": 1.0,
        }
        if run.kind == "back_translation" and run.comparer:
            judge["comparer"] = run.comparer
        judges.append(judge)
    return {"combine": combine, "judges": judges}


def scored_row(s: Scored, joined: Joined) -> dict[str, Any]:
    """A scored policy for results.json."""
    row: dict[str, Any] = {
        "description": describe(s.policy, joined),
        "policy": policy_dict(s, joined),
        "tp": s.tp,
        "fn": s.fn,
        "fp": s.fp,
        "tn": s.tn,
        "tpr": s.tpr,
        "tnr": s.tnr,
        "far": s.far,
        "far_upper": s.far_upper,
    }
    if s.precision_lower is not None:
        row["tpr_lower"] = s.tpr_lower
        row["far_upper_joint"] = s.far_upper_joint
        row["precision_lower"] = s.precision_lower
    return row


def objective_dict(cal: Calibration) -> dict[str, Any]:
    """What was asked, and the bound used, for results.json."""
    o = cal.objective
    if o.precision_form:
        return {
            "form": "precision",
            "min_precision": o.min_precision,
            "base_rate": o.base_rate,
            "confidence": o.confidence,
            "bound": "R*TPR_lo / (R*TPR_lo + (1-R)*FAR_hi), TPR_lo and FAR_hi one-sided "
            f"Clopper-Pearson bounds at level {o.joint_level:g} each (Bonferroni: joint level "
            f"{o.confidence:g})",
        }
    return {
        "form": "false_accept",
        "max_false_accept": o.max_false_accept,
        "confidence": o.confidence,
        "bound": f"one-sided Clopper-Pearson upper bound at level {o.confidence:g} on FP/(FP+TN)",
    }


def results_dict(cal: Calibration, command: str) -> dict[str, Any]:
    """The content of results.json (``policy`` and the chosen counts at the top level)."""
    joined, chosen = cal.joined, cal.chosen
    top: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "mode": "check" if cal.checked else "search",
        "feasible": chosen is not None,
    }
    shown = cal.checked or chosen  # a checked policy's figures, whether it passes or not
    if shown is not None:
        top.update(scored_row(shown, joined))
    else:
        top.update(dict.fromkeys(("policy", "description", "tpr", "tnr", "far", "far_upper")))
        top.update(dict.fromkeys(("tp", "fn", "fp", "tn")))
    top.update(
        {
            "objective": objective_dict(cal),
            "suite": joined.suite,
            "items": len(joined.ids),
            "faithful": joined.positives,
            "unfaithful": joined.negatives,
            "items_in_any_run": joined.union,
            "missing": joined.missing,
            "judges": [
                {
                    "name": run.name,
                    "folder": str(run.folder),
                    "kind": run.kind,
                    "spec": run.spec,
                    "comparer": run.comparer,
                    "samples": run.samples,
                    "prompt_version": run.prompt_version,
                    "best_alone": scored_row(alone, joined) if alone else None,
                }
                for run, alone in zip(joined.judges, cal.alone, strict=True)
            ],
            "policies_searched": cal.searched,
            "pareto_front": [scored_row(s, joined) for s in cal.front],
            "closest": [scored_row(s, joined) for s in cal.closest],
            "command": command,
            "code_version": code_version(),
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
    )
    return top


def _toml_string(text: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes for quotes, backslashes and
    # control characters).
    return json.dumps(text, ensure_ascii=False)


def policy_toml(cal: Calibration, results: dict[str, Any]) -> str:
    """policy.toml: only ``combine`` and ``judges`` (plus comments), so that it composes with
    other settings in ``formalize run --config``."""
    chosen, joined, o = cal.chosen, cal.joined, cal.objective
    assert chosen is not None
    suite = joined.suite
    date = results["finished_at"][:10]
    lines = [
        f"# written by `{results['command']}` on {date}: suite {suite['name']} "
        f"({suite['data_sha256']}), {len(joined.ids)} items",
        f"# chosen: {describe(chosen.policy, joined)}",
        f"# TPR {chosen.tp}/{chosen.tp + chosen.fn} faithful accepted; false-accept rate "
        f"{chosen.fp}/{chosen.fp + chosen.tn} unfaithful accepted, one-sided "
        f"{o.confidence:g} Clopper-Pearson upper bound {chosen.far_upper:.4f}",
    ]
    if o.precision_form:
        lines.append(
            f"# precision at base rate {o.base_rate:g}: lower bound {chosen.precision_lower:.4f} "
            f">= {o.min_precision:g} (TPR_lo {chosen.tpr_lower:.4f}, FAR_hi "
            f"{chosen.far_upper_joint:.4f}, each at level {o.joint_level:g})"
        )
    else:
        lines.append(f"# budget: false-accept bound <= {o.max_false_accept:g}")
    policy = results["policy"]
    lines += [
        f"combine = {_toml_string(policy['combine'])}",
        "",
    ]
    for judge in policy["judges"]:
        lines.append("[[judges]]")
        for key in ("name", "kind", "spec"):
            lines.append(f"{key} = {_toml_string(judge[key])}")
        lines.append(f"samples = {judge['samples']}")
        vote = f"vote = {_toml_string(judge['vote'])}"
        if policy["combine"].startswith("weighted:"):
            vote += "  # not used by weighted:T, which compares the mean of the shares with T"
        lines.append(vote)
        lines.append(f"weight = {judge['weight']:.1f}")
        if "comparer" in judge:
            lines.append(f"comparer = {_toml_string(judge['comparer'])}")
        lines.append("")
    return "\n".join(lines)


def _row(s: Scored, joined: Joined, precision: bool) -> list[str]:
    cells = [
        f"`{describe(s.policy, joined)}`",
        f"{pct(s.tpr)} ({s.tp}/{s.tp + s.fn})",
        f"{pct(s.tnr)} ({s.tn}/{s.tn + s.fp})",
        f"{pct(s.far)} ({s.fp}/{s.fp + s.tn})",
        pct(s.far_upper),
    ]
    if precision:
        cells.append(pct(s.precision_lower))
    return cells


def _goal(o: Objective) -> str:
    if o.precision_form:
        return (
            f"precision at base rate R = {o.base_rate:g} of at least P = {o.min_precision:g}, "
            f"as the lower bound R·TPR_lo / (R·TPR_lo + (1 − R)·FAR_hi), where TPR_lo and FAR_hi "
            f"are one-sided Clopper–Pearson bounds at level {o.joint_level:g} each (together they "
            f"hold with probability at least {o.confidence:g}, by Bonferroni)"
        )
    return (
        f"a false-accept rate FP / (FP + TN) whose one-sided Clopper–Pearson upper bound at "
        f"level {o.confidence:g} is at most {o.max_false_accept:g}"
    )


def _figures(s: Scored, o: Objective) -> list[str]:
    """The table of a policy's figures, each with the counts it comes from."""
    lines = [
        "| figure | value | from |",
        "| --- | ---: | --- |",
        f"| TPR: faithful accepted | {pct(s.tpr)} | {s.tp} of {s.tp + s.fn} |",
        f"| TNR: unfaithful rejected | {pct(s.tnr)} | {s.tn} of {s.tn + s.fp} |",
        f"| false-accept rate | {pct(s.far)} | {s.fp} of {s.fp + s.tn} |",
        f"| its upper bound ({o.confidence:g}, one-sided) | {pct(s.far_upper)} | "
        f"Clopper–Pearson on {s.fp} of {s.fp + s.tn} |",
    ]
    if o.precision_form:
        lines += [
            f"| TPR lower bound ({o.joint_level:g}) | {pct(s.tpr_lower)} | "
            f"Clopper–Pearson on {s.tp} of {s.tp + s.fn} |",
            f"| false-accept upper bound ({o.joint_level:g}) | {pct(s.far_upper_joint)} "
            f"| Clopper–Pearson on {s.fp} of {s.fp + s.tn} |",
            f"| precision lower bound at R = {o.base_rate:g} | {pct(s.precision_lower)} "
            "| the two bounds above |",
        ]
    return [*lines, "", "Percentages."]


def _judges(cal: Calibration) -> list[str]:
    joined = cal.joined
    rows = []
    for run, alone in zip(joined.judges, cal.alone, strict=True):
        best = f"`{describe(alone.policy, joined)}`, TPR {pct(alone.tpr)}" if alone else "none"
        spec = f"`{run.spec}`" + (f" (comparer `{run.comparer}`)" if run.comparer else "")
        cells = [run.name, run.kind, spec, str(run.samples)]
        rows.append(cells if cal.checked else [*cells, best])
    headers = ["judge", "kind", "spec", "samples"]
    if not cal.checked:
        headers.append("best feasible alone")
    return ["## Judges", "", markdown_table(headers, rows), ""]


def render_report(cal: Calibration, results: dict[str, Any], plot: str | None) -> str:
    """The Markdown report."""
    joined, o, chosen = cal.joined, cal.objective, cal.chosen
    suite = joined.suite
    headers = ["policy", "TPR", "TNR", "false-accept rate", f"bound ({o.confidence:g})"]
    if o.precision_form:
        headers.append("precision bound")
    title = "Policy check" if cal.checked else "Calibrated acceptance policy"
    lines = [
        f"# {title}: {suite['name']} (version {suite['version']})",
        "",
        f"- items: {len(joined.ids)} judged by every run ({joined.positives} faithful, "
        f"{joined.negatives} unfaithful); data sha256 `{suite['data_sha256']}`",
    ]
    if joined.union > len(joined.ids):
        missing = ", ".join(f"{name} lacks {n}" for name, n in joined.missing.items() if n)
        lines.append(
            f"- {joined.union - len(joined.ids)} of the {joined.union} items some run judged are "
            f"left out ({missing})"
        )
    if cal.checked:
        lines.append(f"- goal: {_goal(o)}")
    else:
        lines += [
            f"- goal: the highest TPR with {_goal(o)}",
            f"- searched: {cal.searched} policies (judge subsets × all/any/majority/weighted × "
            "thresholds)",
        ]
    lines += [f"- command: `{results['command']}`", "", *_judges(cal)]
    if cal.checked:
        verdict = "meets the goal" if chosen else "does **not** meet the goal"
        lines += [
            "## The policy on these runs",
            "",
            f"`{describe(cal.checked.policy, joined)}` {verdict} on these items.",
            "",
            *_figures(cal.checked, o),
            "",
        ]
        return "\n".join(lines)
    if chosen is not None:
        lines += [
            "## Chosen policy",
            "",
            f"`{describe(chosen.policy, joined)}` (written to `policy.toml`)",
            "",
            *_figures(chosen, o),
            "",
            "Run with it: `formalize run problems.jsonl --config policy.toml` (the file holds "
            "only `combine` and `judges`, so it composes with other settings).",
            "",
            f"The bound is exact for a policy fixed before these items were seen; this one was "
            f"picked among {cal.searched} on them, which makes its bound somewhat optimistic. "
            "Check it on held-out items: run the same judges on another suite or split and "
            "`formalize bench calibrate THOSE_RUNS... --policy policy.toml` with the same goal.",
            "",
        ]
    elif why := nothing_to_choose_from(cal.searched, joined):
        lines += ["## No feasible policy", "", why[0].upper() + why[1:], ""]
    else:
        lines += [
            "## No feasible policy",
            "",
            f"No policy of these runs meets the goal on {len(joined.ids)} items, so no "
            "`policy.toml` was written. The closest:",
            "",
            markdown_table(headers, [_row(s, joined, o.precision_form) for s in cal.closest]),
            "",
            "More items tighten the bound (with no false accept among n unfaithful items the "
            f"bound is 1 − {1 - o.confidence:g}^(1/n)); a stricter judge or more judges with "
            "different errors lower the false accepts.",
            "",
        ]
    lines += [
        "## Pareto front: TPR against the false-accept bound",
        "",
        "Every policy that no other beats on both (the best of equals by the same tie-breaks).",
        "",
    ]
    rows = [_row(s, joined, o.precision_form) for s in cal.front[:FRONT_ROWS]]
    lines.append(markdown_table(headers, rows))
    if len(cal.front) > FRONT_ROWS:
        lines.append(f"\n({len(cal.front) - FRONT_ROWS} more rows in results.json.)")
    if plot:
        lines += ["", f"![TPR against the false-accept bound]({plot})"]
    lines.append("")
    return "\n".join(lines)


def front_figure(cal: Calibration) -> Any:
    """The matplotlib figure: every policy (grey), the front (line), the choice (star)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.4))
    if cal.cloud:
        xs, ys = zip(*cal.cloud, strict=True)
        ax.scatter([100 * x for x in xs], [100 * y for y in ys], s=10, c="0.7", label="policies")
    ax.step(
        [100 * s.far_upper for s in cal.front],
        [100 * (s.tpr or 0.0) for s in cal.front],
        where="post",
        marker="o",
        label="Pareto front",
    )
    if cal.chosen is not None:
        ax.scatter(
            [100 * cal.chosen.far_upper],
            [100 * (cal.chosen.tpr or 0.0)],
            marker="*",
            s=180,
            c="tab:red",
            zorder=3,
            label="chosen",
        )
    budget = cal.objective.max_false_accept
    if budget is not None:
        ax.axvline(100 * budget, ls="--", c="tab:red", lw=1, label="budget")
    ax.set_xlabel(f"false-accept rate, upper bound at {cal.objective.confidence:g} (%)")
    ax.set_ylabel("TPR: faithful accepted (%)")
    ax.set_xlim(-2, 102)
    ax.set_ylim(-2, 102)
    ax.set_title(f"{cal.joined.suite['name']}: {len(cal.joined.ids)} items", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=4, frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def write_outputs(cal: Calibration, output: Path, command: str) -> dict[str, Any]:
    """Write every output file into ``output``; returns results.json's content. A check
    writes no policy.toml and no plot."""
    output.mkdir(parents=True, exist_ok=True)
    results = results_dict(cal, command)
    plot: str | None = None
    if not cal.checked:
        plot = _write_plot(cal, output / PLOT)
        stale = output / POLICY
        if cal.chosen is not None:
            stale.write_text(policy_toml(cal, results), encoding="utf-8")
        elif stale.exists():
            stale.unlink()  # an earlier, feasible calibration's policy must not pass for this one
    written = cal.chosen is not None and not cal.checked
    results["files"] = {"policy": POLICY if written else None, "report": REPORT, "plot": plot}
    write_json(output / RESULTS, results)
    (output / REPORT).write_text(render_report(cal, results, plot), encoding="utf-8")
    return results


def _write_plot(cal: Calibration, path: Path) -> str | None:
    try:
        import matplotlib.pyplot as plt

        fig = front_figure(cal)
    except ImportError as exc:
        print(f"warning: no Pareto plot: matplotlib cannot be imported ({exc})", file=sys.stderr)
        return None
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path.name
