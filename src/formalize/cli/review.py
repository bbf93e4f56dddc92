"""``formalize review [sample|export|report]``: the human review app and what its labels
become."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import secrets
import sys
from typing import TYPE_CHECKING

from formalize.cli.common import HelpFormatter, db_path, format_table
from formalize.errors import FormalizeError, SetupError

if TYPE_CHECKING:
    from formalize.corpus import Store
    from formalize.review.report import ReviewReport
    from formalize.review.stats import Interval

ENV_ANNOTATOR = "FORMALIZE_ANNOTATOR"

DESCRIPTION = """\
Serve a local web app over the corpus: runs and their funnel, attempts filtered and paged,
each problem with every attempt (Lean highlighted, Lean's messages, filter signals, the
critic's reasons) and labelling from the keyboard. Labels are stored in the corpus.

Bound to 127.0.0.1 (the default), only this machine can reach it. Bound to any other address
it prints a random token and refuses every request without it."""

EPILOG = """\
examples:
  formalize review --annotator alice                 # http://127.0.0.1:8765/
  formalize review sample --n 100 --stratify source  # draw the audit queue
  formalize review export --output suite.jsonl       # labels as a critic suite
  formalize bench critic --suite suite.jsonl --critic SPEC
  formalize review report                            # precision with its 95% interval"""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``review`` command group."""
    parser = sub.add_parser(
        "review",
        help="label attempts in a local web app; audit samples, suites and the precision report",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    _db(parser, None)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="port (default: 8765, or the next free one when it is in use; 0: any free port)",
    )
    _annotator(
        parser,
        None,
        "default annotator name on the pages (default: $FORMALIZE_ANNOTATOR or your login)",
    )
    parser.set_defaults(func=cmd_serve)
    group = parser.add_subparsers(dest="review_command", metavar="ACTION")

    sample = group.add_parser(
        "sample",
        help="draw an audit sample of accepted entries (the queue whose labels estimate precision)",
        description="Draw accepted entries uniformly at random (within each stratum, allocated "
        "in proportion to the strata's sizes) and store them as the audit queue. The share of "
        "them the annotators judge faithful estimates the corpus's precision "
        "(`formalize review report`). The same corpus and seed give the same sample.",
        formatter_class=HelpFormatter,
    )
    _db(sample, argparse.SUPPRESS)
    sample.add_argument("--n", type=int, required=True, help="entries to draw")
    sample.add_argument(
        "--stratify", choices=("source", "run"), default=None, help="draw within each source or run"
    )
    sample.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    sample.set_defaults(func=cmd_sample)

    export = group.add_parser(
        "export",
        help="write the labels as a JSONL critic suite for `formalize bench critic --suite`",
        description="One row per labelled attempt (id, informal, lean, header, label, "
        "error_type, annotator, answer, source, note); several annotators' labels are combined "
        "by majority and ties are left out. `formalize bench critic --suite FILE` runs it as "
        "it is.",
        formatter_class=HelpFormatter,
    )
    _db(export, argparse.SUPPRESS)
    export.add_argument("--output", "-o", required=True, metavar="PATH", help="the .jsonl to write")
    _annotator(export, argparse.SUPPRESS, "only this annotator's labels")
    export.set_defaults(func=cmd_export)

    report = group.add_parser(
        "report",
        help="corpus precision from the audit sample, critic and annotator agreement",
        description="The corpus precision estimated from the audit sample with its 95% Wilson "
        "interval (per stratum, and overall as the stratified estimate weighted by each "
        "stratum's share of the accepted entries), the critic's TPR and TNR against the "
        "annotators on every labelled attempt, and Cohen's kappa for each pair of annotators.",
        formatter_class=HelpFormatter,
    )
    _db(report, argparse.SUPPRESS)
    report.add_argument(
        "--sample", type=int, default=None, help="audit sample id (default: the newest)"
    )
    _annotator(
        report, argparse.SUPPRESS, "only this annotator's labels (kappa still uses everyone's)"
    )
    report.add_argument("--json", action="store_true", help="print the report as JSON")
    report.set_defaults(func=cmd_report)


def _db(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--db",
        default=default,
        metavar="PATH",
        help="corpus file (default: $FORMALIZE_HOME/corpus.db; see `formalize corpus path`)",
    )


def _annotator(parser: argparse.ArgumentParser, default: object, help: str) -> None:
    parser.add_argument("--annotator", default=default, metavar="NAME", help=help)


def _open(args: argparse.Namespace) -> Store:
    from formalize.corpus import Store

    path = db_path(args)
    if not path.exists():
        raise FormalizeError(f"no corpus at {path}; run `formalize run ...` first or pass --db")
    return Store(path)


def default_annotator() -> str:
    """``$FORMALIZE_ANNOTATOR``, else the login name."""
    name = os.environ.get(ENV_ANNOTATOR, "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers)
        return "annotator"


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the app until Ctrl-C."""
    try:
        import uvicorn

        from formalize.review.app import ReviewSettings, create_app
    except ImportError as exc:
        raise SetupError(
            f"the review app needs the `review` extra ({exc.name} is missing): "
            "pip install -e '.[review]' in a checkout (`pip install 'formalize-lean[review]'`)"
        ) from exc
    from formalize.review.port import DEFAULT_PORT, bind
    from formalize.review.security import is_loopback

    if args.port is not None and not 0 <= args.port < 65536:
        raise FormalizeError("--port must be between 0 (any free port) and 65535")
    token = None if is_loopback(args.host) else secrets.token_urlsafe(24)
    listening = bind(args.host, args.port)  # before the URL is printed: a busy port says so
    port = int(listening.getsockname()[1])
    settings = ReviewSettings(
        host=args.host,
        port=port,
        annotator=(args.annotator or default_annotator()).strip(),
        token=token,
    )
    with listening, _open(args) as store:
        app = create_app(store, settings)
        shown = f"[{args.host}]" if ":" in args.host else args.host
        url = f"http://{shown}:{port}/"
        if args.port is None and port != DEFAULT_PORT:
            print(f"port {DEFAULT_PORT} is in use: serving on {port}", file=sys.stderr)
        print(f"formalize review: {store.path}", file=sys.stderr)
        if token is None:
            print(f"open {url}  (Ctrl-C stops)", file=sys.stderr)
        else:
            print(
                f"bound to {args.host}: every request needs the token. Open\n"
                f"  {url}?token={token}\n"
                f"(scripts: header 'Authorization: Bearer {token}'; Ctrl-C stops)",
                file=sys.stderr,
            )
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        # uvicorn re-raises the Ctrl-C it shut down on: here that is a normal stop
        with contextlib.suppress(KeyboardInterrupt):
            server.run(sockets=[listening])
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    """Draw and store an audit sample."""
    from formalize.review.audit import draw_sample

    with _open(args) as store:
        sample = draw_sample(store, args.n, stratify=args.stratify, seed=args.seed)
    rows = [(name or "(none)", s.population, s.drawn) for name, s in sample.strata.items()]
    print(format_table(("stratum", "accepted", "drawn"), rows))
    print(
        f"audit sample {sample.id}: {sample.drawn} of {sample.population} accepted entries"
        f" (seed {sample.seed}); label them in `formalize review` (the Audit queue page)",
        file=sys.stderr,
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write the labels as a suite."""
    from formalize.review.suite import export_suite

    with _open(args) as store:
        done = export_suite(store, args.output, annotator=getattr(args, "annotator", None))
    print(
        f"wrote {done.rows} labelled pairs ({done.faithful} faithful, "
        f"{done.rows - done.faithful} unfaithful) to {done.path}",
        file=sys.stderr,
    )
    if done.disputed:
        print(f"left out {done.disputed} disputed attempts (annotators tied)", file=sys.stderr)
    if done.stale:
        print(f"ignored {done.stale} labels on statements since replaced", file=sys.stderr)
    print(f"run it: formalize bench critic --suite {done.path} --critic SPEC", file=sys.stderr)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Print the review report."""
    from formalize.review.report import build_report

    with _open(args) as store:
        report = build_report(
            store, sample_id=args.sample, annotator=getattr(args, "annotator", None)
        )
        path = store.path
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(format_report(report, str(path)))
    return 0


def _ci(interval: Interval | None) -> str:
    if interval is None:
        return "-"
    return f"{100 * interval.estimate:.1f}%  [{100 * interval.low:.1f}, {100 * interval.high:.1f}]"


def format_report(report: ReviewReport, path: str) -> str:
    """The report as text."""
    lines = [f"corpus: {path}"]
    who = ", ".join(report.annotators) or "nobody"
    lines.append(
        f"labels: {report.labels} on {report.labelled_attempts} attempts by {who}; "
        f"{report.disputed} disputed (tied), {report.stale} stale"
    )
    lines.append("")
    p = report.precision
    if p is None:
        lines.append("corpus precision: no audit sample yet (`formalize review sample --n 100`)")
    else:
        by = f", stratified by {p.sample.stratify}" if p.sample.stratify else ""
        lines.append(
            f"corpus precision (audit sample {p.sample.id}: {p.sample.drawn} of "
            f"{p.sample.population} accepted entries{by}, seed {p.sample.seed})"
        )
        strata = [] if list(p.sample.strata) == [""] else p.strata  # unstratified: one row
        rows = [
            (
                s.stratum or "(none)",
                s.population,
                s.drawn,
                s.labelled,
                s.faithful,
                s.disputed + s.changed,
                _ci(s.interval),
            )
            for s in strata
        ]
        rows.append(
            (
                "overall",
                p.sample.population,
                p.sample.drawn,
                p.labelled,
                sum(s.faithful for s in p.strata),
                sum(s.disputed + s.changed for s in p.strata),
                _ci(p.overall),
            )
        )
        header = (
            "stratum",
            "accepted",
            "drawn",
            "labelled",
            "faithful",
            "not counted",
            "precision [95% CI]",
        )
        lines.append(format_table(header, rows))
        lines.append(
            "Wilson score intervals; overall: the stratified estimate (weights: each stratum's"
            " share of the accepted entries), Wilson at its effective sample size"
        )
        if p.overall is not None and p.covered < 1:
            lines.append(
                "note: strata without labels are left out; the estimate covers"
                f" {100 * p.covered:.1f}% of the accepted entries"
            )
    lines.append("")
    c = report.critic
    judged = c.confusion.total
    lines.append(f"critic against the annotators ({judged} labelled attempts with a verdict)")
    if judged:
        lines.append(
            format_table(
                ("", "annotators: faithful", "annotators: unfaithful"),
                [
                    ("critic accepted", c.confusion.tp, c.confusion.fp),
                    ("critic rejected", c.confusion.fn, c.confusion.tn),
                ],
            )
        )
        lines.append(f"TPR {_ci(c.tpr)}   TNR {_ci(c.tnr)}")
    if c.no_verdict:
        lines.append(f"({c.no_verdict} labelled attempts have no critic verdict)")
    lines.append("")
    if report.pairs:
        lines.append("annotator agreement (attempts two annotators both labelled)")
        lines.append(
            format_table(
                ("annotators", "items", "agreement", "Cohen's kappa"),
                [(f"{a.first} / {a.second}", a.items, a.agreement, a.kappa) for a in report.pairs],
            )
        )
    else:
        lines.append("annotator agreement: no attempt has labels from two annotators yet")
    if report.error_types:
        lines.append("")
        lines.append(
            "error types: "
            + ", ".join(f"{name} {count}" for name, count in report.error_types.items())
        )
    return "\n".join(lines)
