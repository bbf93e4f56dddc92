"""Headers: the ``import``/``open``/``set_option`` lines a statement is checked under.

A REPL worker imports a header once and checks many bodies against the environment it got,
so headers are normalised (equal headers share workers), checked like candidates (a header can
come from model output too), and verified after import with a probe.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

_IMPORT = re.compile(r"^import\s+([A-Za-z_«][\w.«»'!?]*(?:\s+[A-Za-z_«][\w.«»'!?]*)*)\s*$")
_MODULE = re.compile(r"^[A-Za-z_][\w']*(?:\.[A-Za-z_][\w']*)*$|^«[^»]+»(?:\.«[^»]+»)*$")
# Packages whose modules import Lean itself (the elaborator the module probe runs in).
LEAN_ROOTS = frozenset(
    {"Lean", "Mathlib", "Aesop", "Batteries", "Qq", "ProofWidgets", "Plausible", "ImportGraph"}
    | {"LeanSearchClient", "Lake", "REPL"}
)
# A declaration the gate accepts, appended to a header so the gate can judge the header's lines.
GATE_PROBE_DECL = "theorem formalize_header_gate : True := by sorry"


class GateAnswer(Protocol):
    """What the statement gate said (the fields of ``statement.SafetyReport`` used here)."""

    @property
    def ok(self) -> bool: ...

    @property
    def reason(self) -> str | None: ...


Gate = Callable[[str], GateAnswer]


@dataclass(frozen=True)
class PreparedHeader:
    """A header ready for a worker: normalised text, or why it cannot be used."""

    text: str
    dropped: tuple[str, ...] = ()
    rejection: str | None = None


def _ends_with_in(lines: list[str]) -> bool:
    from formalize.lean.lexer import COMMENT_KINDS, LexError, tokenize

    try:
        code = [t for t in tokenize("\n".join(lines)) if t.kind not in COMMENT_KINDS]
    except LexError:
        return False
    return bool(code) and code[-1].text == "in"


def normalize_header(text: str) -> str:
    """Equal headers compare equal: trailing spaces, blank lines and ``--`` lines removed."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(line for line in lines if line.strip() and not line.lstrip().startswith("--"))


def header_modules(header: str) -> list[str]:
    """The modules a header imports, in order."""
    out: list[str] = []
    for line in header.split("\n"):
        m = _IMPORT.match(line.strip())
        if m:
            out.extend(m.group(1).split())
    return out


def brings_the_elaborator(header: str) -> bool:
    """Whether the header imports a package of ``LEAN_ROOTS`` (Mathlib, Aesop, Batteries,
    ...), which bring Lean's elaborator into the environment: what a trusted ``#eval`` of a
    ``CommandElabM`` action needs (core modules alone, ``Init``/``Std``, do not)."""
    return any(m.split(".")[0] in LEAN_ROOTS for m in header_modules(header))


def probe_command(header: str) -> str | None:
    """A command that errors unless every module the header imports was really loaded.

    The REPL can answer a failed import with a bare ``{"env": N}`` (PROTOCOL.md section 6), so
    a worker runs this against the new environment and treats any error as a failed import.
    It asks Lean itself (``Environment.getModuleIdx?``, in core Lean since v4.0) whether each
    module is in the environment's import table: unlike ``#check Nat`` it fails when
    ``import Mathlib`` did not load Mathlib, and unlike a probe constant it works for any module.
    That needs Lean's elaborator in the environment, which Mathlib, Aesop, Batteries and the
    other packages in ``LEAN_ROOTS`` bring; a header importing only core modules (``Init``,
    ``Std``) gets ``#check Nat`` instead, which still fails in the empty environment a failed
    import leaves behind. None when the header imports nothing.
    """
    modules = header_modules(header)
    if not modules:
        return None
    if not brings_the_elaborator(header):
        return "#check Nat"
    names = ", ".join(f"`{m}" for m in modules)
    return (
        "#eval show Lean.Elab.Command.CommandElabM Unit from do\n"
        "  let env ← Lean.getEnv\n"
        f"  for m in [{names}] do\n"
        "    if (env.getModuleIdx? m).isNone then\n"
        '      Lean.logError ("formalize probe: module " ++ toString m ++ " is not imported")'
    )


def prepare_header(text: str, gate: Gate) -> PreparedHeader:
    """Normalise a header and check it.

    ``import`` lines must name modules under the gate's allowed roots (an imported module's
    ``initialize`` code runs on import); every other line must pass the statement gate (in front
    of a harmless declaration), like the auxiliary definitions and the ``noncomputable section``
    ProofNet puts in its headers.
    ``set_option`` lines the gate refuses are dropped rather than rejected, with a warning:
    dataset headers carry ``set_option maxHeartbeats 0`` (minif2f, ProofNet, MOBench), which
    the checker never runs, and a statement does not need it (its proof is ``sorry``; the
    wall-clock timeout bounds the check). Lines setting the options the checker sets itself
    (``autoImplicit``) are dropped without a word. Anything else the gate refuses rejects the
    header, and with it every statement checked under it.
    """
    norm = normalize_header(text)
    imports: list[str] = []
    rest: list[str] = []
    dropped: list[str] = []
    for line in norm.split("\n") if norm else []:
        stripped = line.strip()
        if stripped.startswith("import ") or stripped == "import":
            m = _IMPORT.match(stripped)
            if not m or not all(_MODULE.match(mod) for mod in m.group(1).split()):
                return PreparedHeader(norm, rejection=f"header: malformed import line {line!r}")
            if rest:
                return PreparedHeader(norm, rejection=f"header: {line!r} comes after other lines")
            answer = gate(f"{stripped}\n{GATE_PROBE_DECL}")  # importing a module runs its code
            if not answer.ok:
                return PreparedHeader(norm, rejection=f"header: {answer.reason or 'refused'}")
            imports.append(stripped)
        elif _CHECKER_OPTION.match(stripped):
            continue
        elif stripped.startswith("set_option ") and not gate(f"{line}\n{GATE_PROBE_DECL}").ok:
            dropped.append(stripped)
        else:
            rest.append(line)
    if rest:
        answer = gate("\n".join(rest) + "\n" + GATE_PROBE_DECL)
        if not answer.ok:
            return PreparedHeader(norm, rejection=f"header: {answer.reason or 'refused'}")
        if _ends_with_in(rest):
            # `open X in` / `set_option … in` would apply to whatever follows the header: the
            # checker's own options, or the first command of every statement
            return PreparedHeader(norm, rejection="header: its last line ends with `… in`")
        sent = getattr(answer, "text", None)
        if isinstance(sent, str):  # the gate's text: comments blanked, as statements get it
            rest = sent[: len(sent) - len(GATE_PROBE_DECL) - 1].split("\n")
    if dropped:
        log.warning("header: dropped %s (not allowed in checks)", "; ".join(dropped))
    return PreparedHeader("\n".join(imports + rest), tuple(dropped))


_CHECKER_OPTION = re.compile(r"^set_option\s+(autoImplicit|relaxedAutoImplicit)\s+\w+\s*$")
