#!/usr/bin/env python3
"""A stand-in for the leanprover-community REPL that speaks its protocol but knows no Lean.

Run as ``python tests/lean/fake_repl.py [flags]`` (e.g. via ``--repl-cmd``). It lets the real
driver, pool and CLI run on machines without Lean. It is standalone (standard library only).

Protocol, as the real REPL (``../shared/lean-repl/PROTOCOL.md``):
- a request is the lines read up to a blank (or whitespace-only) line; at EOF the last pending
  request is still answered; a request starting with ``#`` or ``--`` gets no reply;
- a reply is pretty-printed JSON over several lines (keys in reverse-lexicographic order, as
  Lean prints them), followed by exactly one blank line, flushed;
- ``{"cmd": ...}`` without ``env`` starts a fresh environment and is the only place imports
  are allowed; with ``env`` it builds on that environment; every answered command gets a new
  env id, counting up from 0 per process, also when it has errors;
- an unknown ``env`` gives ``{"message": "Unknown environment."}``, an unknown proof state
  ``{"message": "Unknown proof state."}``;
- a request that is not JSON (or fits no request shape) kills the process with
  ``uncaught exception: {"message": "Could not parse JSON: ..."}`` on stderr, as the real REPL.

What it "elaborates" (it cannot really; these rules are the whole of its Lean):
- imports: modules under Init, Lean, Std, Lake, Mathlib, Aesop, Batteries, Qq, ProofWidgets,
  Plausible, ImportGraph, LeanSearchClient load, unless a component of their name starts with
  ``Nonexistent``; any other module (or every module with
  ``--fail-import``) gives the bare ``{"env": N}`` that v4.15 gives for a failed import, and the
  environment is then empty: every later command on it gets an error;
- the header probe: a command containing ``getModuleIdx?`` and a list of quoted names
  (`` [`Mathlib, `Aesop] ``) gets one error per name that its environment did not import;
- ``#check X`` gets an info message ``X : <fake type>``; other ``#`` commands, nothing;
- a declaration (``theorem``/``lemma``/``example``/``def``/``abbrev``/``instance``) whose text
  contains the token ``sorry`` gets the "declaration uses sorry" warning at its name (at the
  keyword for ``example``/``instance``) and one ``sorries`` entry per ``sorry``;
- the token ``undefined_ident`` (or ``X.undefined_ident``) gets "unknown identifier" at its
  position;
- the token ``fake_error`` gets an error at its position (line and column of the token);
- text ending in ``by`` gets the unfinished-tactic-block errors (with ``endPos: null`` up to
  v4.26, as recorded);
- ``import`` after the start (or in a command with ``env``) is an error;
- comments and string literals are ignored when looking for any of these tokens.

Scripted misbehaviour, triggered by a token anywhere in a command:
``fake_hang`` (never answers), ``fake_die`` (exits without a reply), ``fake_oom`` (allocates
memory in 64 MB steps up to ``--oom-limit-mb``, then hangs), ``fake_garbage`` (a reply that is
not JSON), ``fake_error_object`` (an error object), ``fake_lean_exception`` (an error object
starting with ``Lean error:``), ``fake_flood`` (a 2 MB message), ``fake_stderr`` (1 MB on stderr
before the reply), ``fake_sleep_<ms>`` (sleeps that long first).

Probes of the Lean-verified filters (theorems named ``formalize_probe_<kind>…``, proved by
tactics) are proved by the rules the test gives with ``--prove`` (a JSON list of
``{"probe": "vacuous", "when": "REGEX"}``: proved when a rule for that kind matches the
command's text, comments and strings blanked; a rule with ``"tactic": "REGEX"`` proves only
the theorems whose ``by`` block matches it too) and fail otherwise with "unsolved goals" at
their ``by``, where Lean reports it. ``--probe-error`` (a JSON list of ``{"probe": KIND,
"when": REGEX, "error": TEXT}``) makes a matching probe theorem fail to elaborate: the error
sits on the theorem's name, outside its ``by`` block, as an error in its statement would.
A second ``def _root_.x`` of one name in a command or file is "already declared", as in Lean.

The filters' token-table command (``formalize.lean.leantokens``: text containing
``getTokenTable``) gets one info message at its ``#eval``, ``formalize-token-table: <JSON
array>``, listing the tokens given with ``--lean-tokens`` (a JSON list, or a file holding one)
plus ``--extra-tokens`` (a JSON list), or a few core tokens without them.

Wording depends on ``--lean-version``: ``declaration uses 'sorry'`` before v4.28 and
``declaration uses `sorry``` from v4.28; ``unknown identifier 'x'`` before v4.22 and
``Unknown identifier `x``` from v4.22 (the recordings show the change lies in (v4.15, v4.26]);
``proofStatus`` in tactic replies from v4.19.

With ``--lean-json FILE`` it plays ``lean --json FILE`` instead (for file mode): the whole file
is one command (imports first), each message is printed as one line of JSON with the fields
``lean --json`` uses (``severity`` ``information`` for infos), exit code 1 when any is an error.

Flags: ``--lean-version vX.Y.Z`` (default v4.15.0), ``--latency-ms N`` (every command with
``env`` is answered N ms after its request was read, the fake's own work included, so that the
latency is the same for every check), ``--import-ms N`` (added to every import),
``--fail-import``, ``--oom-limit-mb N``, ``--no-flush`` (behave like REPL <= v4.9, which did
not flush), ``--log FILE`` (append every request as a JSON line, with the process id and
``proc``, an id unique to the process: inside the sandbox's PID namespace process ids repeat).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any

#: Constants the fake's "Mathlib" declares (a handful, for the shadowing tests): declaring one
#: of these full names again is Lean's "already declared" error.
LIBRARY_CONSTANTS = frozenset({"Nat.Prime", "Real.sqrt", "Real", "Prime", "Nat.succ"})
KNOWN_ROOTS = frozenset(
    [
        "Init",
        "Lean",
        "Std",
        "Lake",
        "Mathlib",
        "Aesop",
        "Batteries",
        "Qq",
        "ProofWidgets",
        "Plausible",
        "ImportGraph",
        "LeanSearchClient",
    ]
)
# The token table of a Lean given no --lean-tokens: a few of core's tokens.
CORE_TOKENS = ("(", ")", ":", ":=", "theorem", "by", "fun", "∀", "→", "+", "=", "#eval")
DECL_KEYWORDS = frozenset({"theorem", "lemma", "example", "def", "abbrev", "instance"})
UNNAMED = frozenset({"example", "instance"})
_TOKEN = re.compile(r"#?[A-Za-z_\u00c0-\uffff][A-Za-z0-9_'!?.\u00c0-\uffff]*|:=|[^\sA-Za-z_]")


def parse_version(text: str) -> tuple[int, int, int]:
    """``v4.15.0`` / ``v4.33.0-rc2`` -> (4, 15, 0)."""
    m = re.match(r"v?(\d+)\.(\d+)\.(\d+)", text)
    if not m:
        raise SystemExit(f"fake_repl: bad --lean-version {text!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


# --------------------------------------------------------------------------- tiny lexer


def blank_comments_and_strings(text: str) -> str:
    """Replace comments and string literals by spaces, keeping every line break and column."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("--", i):
            while i < n and text[i] != "\n":
                out[i] = " "
                i += 1
        elif text.startswith("/-", i):
            depth = 0
            while i < n:
                if text.startswith("/-", i):
                    depth += 1
                    out[i] = out[i + 1] = " "
                    i += 2
                elif text.startswith("-/", i):
                    depth -= 1
                    out[i] = out[i + 1] = " "
                    i += 2
                    if depth == 0:
                        break
                else:
                    if text[i] != "\n":
                        out[i] = " "
                    i += 1
        elif c == '"':
            out[i] = " "
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    out[i] = " "
                    i += 1
                if text[i] != "\n":
                    out[i] = " "
                i += 1
            if i < n:
                out[i] = " "
                i += 1
        else:
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class Tok:
    text: str
    start: int
    end: int


def tokens(text: str) -> list[Tok]:
    return [Tok(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]


class Positions:
    """Offsets -> (1-based line, 0-based column in code points)."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]

    def __call__(self, offset: int) -> dict[str, int]:
        lo, hi = 0, len(self.starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return {"line": lo + 1, "column": offset - self.starts[lo]}


# --------------------------------------------------------------------------- the fake


@dataclass
class Options:
    version: tuple[int, int, int] = (4, 15, 0)
    latency_ms: float = 0.0
    import_ms: float = 0.0
    fail_import: bool = False
    oom_limit_mb: int = 4096
    flush: bool = True
    log: str | None = None
    prove: list[dict[str, str]] = field(default_factory=list)  # the probe rules of --prove
    probe_error: list[dict[str, str]] = field(default_factory=list)  # --probe-error rules
    lean_tokens: list[str] = field(default_factory=lambda: list(CORE_TOKENS))  # its token table


@dataclass
class Env:
    modules: frozenset[str] | None  # None: the import failed and the environment is empty


@dataclass
class FakeRepl:
    """The state of one fake REPL process: environments and proof states."""

    options: Options = field(default_factory=Options)
    envs: dict[int, Env] = field(default_factory=dict)
    proof_states: set[int] = field(default_factory=set)
    next_env: int = 0
    next_proof_state: int = 0
    hoard: list[bytes] = field(default_factory=list)
    checking: bool = False  # the last request was a command with env (``--latency-ms``)

    # -- wording that changed between versions
    def sorry_text(self) -> str:
        q = "`" if self.options.version >= (4, 28, 0) else "'"
        return f"declaration uses {q}sorry{q}"

    def unknown_ident(self, name: str) -> str:
        if self.options.version >= (4, 22, 0):
            return f"Unknown identifier `{name}`"
        return f"unknown identifier '{name}'"

    # -- requests
    def handle(self, req: Any) -> dict[str, Any] | None:
        """The reply to one decoded request (None: no reply). May sleep, exit or hoard memory."""
        if not isinstance(req, dict):
            die_unparsable(json.dumps(req))
        if "tactic" in req and "proofState" in req:
            return self.tactic(req)
        if any(k in req for k in ("pickleTo", "unpickleEnvFrom", "unpickleProofStateFrom")):
            return {"message": "fake REPL: pickling is not supported"}
        if "cmd" in req or "path" in req:
            if "cmd" in req:
                text = req["cmd"]
            else:
                try:
                    with open(req["path"], encoding="utf-8") as fh:
                        text = fh.read()
                except OSError as exc:
                    return {"message": str(exc)}
            env = req.get("env")
            if not isinstance(text, str) or (env is not None and not isinstance(env, int)):
                die_unparsable(json.dumps(req))
            if env is not None and env not in self.envs:
                return {"message": "Unknown environment."}
            return self.command(text, env)
        die_unparsable(json.dumps(req))
        return None

    def tactic(self, req: dict[str, Any]) -> dict[str, Any]:
        if req["proofState"] not in self.proof_states:
            return {"message": "Unknown proof state."}
        reply: dict[str, Any] = {"proofState": self.new_proof_state(), "goals": []}
        if self.options.version >= (4, 19, 0):
            reply["proofStatus"] = "Completed"
        return reply

    def new_proof_state(self) -> int:
        ps = self.next_proof_state
        self.next_proof_state += 1
        self.proof_states.add(ps)
        return ps

    def command(self, text: str, env_id: int | None) -> dict[str, Any]:
        clean = blank_comments_and_strings(text)
        toks = tokens(clean)
        words = {t.text for t in toks}
        self.misbehave(words)
        pos = Positions(text)
        messages: list[dict[str, Any]] = []
        sorries: list[dict[str, Any]] = []
        if env_id is None:
            modules, toks = self.imports(toks)
            env = Env(modules)
        else:
            self.checking = True
            env = self.envs[env_id]
        if env.modules is None:
            if toks:
                messages.append(
                    error(pos, toks[0], "fake REPL: unknown constant (the import failed)")
                )
        else:
            messages += self.elaborate(text, clean, toks, pos, env, sorries)
        if "fake_flood" in words:
            data = "\n".join("x" * 99 for _ in range(20_000))
            messages.append(msg("info", pos(0), pos(0), data))
        reply: dict[str, Any] = {}
        if sorries:
            reply["sorries"] = sorries
        if messages:
            reply["messages"] = messages
        reply["env"] = self.new_env(env)
        return reply

    def new_env(self, env: Env) -> int:
        n = self.next_env
        self.next_env += 1
        self.envs[n] = env
        return n

    def imports(self, toks: list[Tok]) -> tuple[frozenset[str] | None, list[Tok]]:
        """Read leading ``import M`` commands (one module each); the rest is the body."""
        modules: list[str] = []
        i = 0
        while i + 1 < len(toks) and toks[i].text == "import" and _is_name(toks[i + 1].text):
            modules.append(toks[i + 1].text)
            i += 2
        if modules:
            time.sleep(self.options.import_ms / 1000)
        known = all(
            m.split(".")[0] in KNOWN_ROOTS
            and not any(part.startswith("Nonexistent") for part in m.split("."))
            for m in modules
        )
        if (self.options.fail_import and modules) or not known:
            return None, toks[i:]
        return frozenset(["Init", *modules]), toks[i:]

    def elaborate(
        self,
        text: str,
        clean: str,
        toks: list[Tok],
        pos: Positions,
        env: Env,
        sorries: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        assert env.modules is not None
        # file mode's guard (formalize.lean.filemode.guard_command): the REPL's "already
        # declared" for names the fake's library has
        for m in re.finditer(r"formalize guard", text):
            listed = re.search(r"for n in \[([^\]]*)\]", text[: m.start()][-2000:])
            if listed is None:
                continue
            base = m.start() - len(text[: m.start()][-2000:]) + listed.start(1)
            for name in re.finditer(r"`([^\s,\]]+)", listed.group(1)):
                if name.group(1) in LIBRARY_CONSTANTS:
                    at = base + name.start()
                    where = Tok(name.group(0), at, at + len(name.group(0)))
                    message = f"formalize guard: '{name.group(1)}' has already been declared"
                    out.append(error(pos, where, message))
        if "getModuleIdx?" in clean or "getModuleIdx?" in text:
            probe = re.search(r"for m in \[([^\]]*)\]", text)  # the header probe's modules
            listed = probe.group(1) if probe else text
            for name in re.findall(r"`([A-Za-z_][A-Za-z0-9_.]*)", listed):
                if name not in env.modules:
                    out.append(error(pos, toks[0], f"fake REPL: module {name} is not imported"))
        for i, t in enumerate(toks):
            if t.text == "#check" and i + 1 < len(toks):
                out.append(msg("info", pos(t.start), pos(t.end), f"{toks[i + 1].text} : FakeType"))
            elif t.text == "import":
                out.append(
                    error(pos, t, "invalid 'import' command, it must be used in the beginning")
                )
            elif t.text.split(".")[-1] == "undefined_ident":
                out.append(error(pos, t, self.unknown_ident(t.text)))
            elif t.text == "fake_error":
                out.append(error(pos, t, "fake_error: an error the statement asked for"))
        out += self.probes(text, clean, toks, pos)
        out += self.redeclared(toks, pos)
        if "getTokenTable" in clean:
            out += self.token_table(toks, pos, clean.index("getTokenTable"))
        out += self.declarations(text, toks, pos, sorries)
        if toks and toks[-1].text == "by":
            by = toks[-1]
            if self.options.version < (4, 27, 0):
                end = pos(len(text.rstrip()))
                out.insert(0, msg("error", end, None, "unexpected end of input; expected '{'"))
            out.append(error(pos, by, "unsolved goals\n⊢ FakeGoal"))
        return out

    def redeclared(self, toks: list[Tok], pos: Positions) -> list[dict[str, Any]]:
        """Lean's error for a second ``def _root_.x`` of one name in a command (or a file):
        namespaces cannot keep such names apart; and for a declaration whose full name (the
        open namespaces' parts, then its own) is one of :data:`LIBRARY_CONSTANTS`."""
        out, seen = [], set()
        spaces: list[str] = []  # namespace parts, "" for a section
        for i, t in enumerate(toks[:-1]):
            name = toks[i + 1]
            if t.text == "namespace" and _is_name(name.text):
                spaces += name.text.split(".")
            elif t.text == "section":
                spaces.append("")
            elif t.text == "end" and spaces:
                given = name.text.split(".") if _is_name(name.text) else [""]
                del spaces[-len(given) :]
            if t.text in ("def", "abbrev", "theorem") and name.text.startswith("_root_."):
                plain = name.text[len("_root_.") :]
                if plain in seen:
                    out.append(error(pos, name, f"'{plain}' has already been declared"))
                seen.add(plain)
            elif t.text in _DECLS and _is_name(name.text):
                full = ".".join([*filter(None, spaces), name.text])
                if full in LIBRARY_CONSTANTS:
                    out.append(error(pos, name, f"'{full}' has already been declared"))
        return out

    def probes(
        self, text: str, clean: str, toks: list[Tok], pos: Positions
    ) -> list[dict[str, Any]]:
        """The filters' probes (theorems named ``formalize_probe_<kind>…`` proved by tactics):
        proved when a ``--prove`` rule for that kind matches the probe's text (the command,
        or in file mode its statement's ``FormalizeCheckN`` block; comments blanked) and, for a
        rule with ``tactic``, its ``by`` block matches too; else an "unsolved goals" error at
        its ``by``. A ``--probe-error`` rule that matches puts its error on the name instead."""
        out = []
        for i, t in enumerate(toks[:-1]):
            name = toks[i + 1]
            last = name.text.rpartition(".")[2]  # `Nat.formalize_probe_…` in a namespace
            if t.text != "theorem" or not last.startswith("formalize_probe_"):
                continue
            kind = last[len("formalize_probe_") :]
            # the probe's own text: its command (REPL), or its statement's block (file mode)
            begin = clean.rfind("namespace FormalizeCheck", 0, t.start)
            end = clean.find("end FormalizeCheck", t.start)
            own = clean[max(begin, 0) : len(clean) if end < 0 else end]
            # the theorem's `by` block: from its `by` to the next command of the probe
            by = next(
                (
                    u
                    for k, u in enumerate(toks[i + 2 :], i + 2)
                    if u.text == "by" and toks[k - 1].text == ":="
                ),
                name,
            )
            after = re.search(r"\n(?=\S)", clean[by.end :])
            block = clean[by.end : len(clean) if after is None else by.end + after.start()]
            broken = next(
                (
                    rule
                    for rule in self.options.probe_error
                    if kind.startswith(rule["probe"]) and re.search(rule["when"], own, re.DOTALL)
                ),
                None,
            )
            if broken is not None:
                out.append(error(pos, name, broken["error"]))
                continue
            proved = any(
                kind.startswith(rule["probe"])
                and re.search(rule["when"], own, re.DOTALL)
                and re.search(rule.get("tactic", ""), block, re.DOTALL)
                for rule in self.options.prove
            )
            if not proved:
                out.append(
                    error(pos, by, "unsolved goals\n⊢ FakeGoal (fake REPL: no --prove rule)")
                )
        return out

    def token_table(self, toks: list[Tok], pos: Positions, where: int) -> list[dict[str, Any]]:
        """The token-table command's answer: an info message at its ``#eval`` (the last one
        before ``where``: in file mode the header's check is an ``#eval`` too)."""
        evals = [t for t in toks if t.text == "#eval" and t.start < where]
        at = evals[-1] if evals else toks[0]
        table = json.dumps(self.options.lean_tokens, ensure_ascii=False, separators=(",", ":"))
        return [msg("info", pos(at.start), pos(at.end), f"formalize-token-table: {table}")]

    def declarations(
        self, text: str, toks: list[Tok], pos: Positions, sorries: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        out = []
        starts = [i for i, t in enumerate(toks) if t.text in DECL_KEYWORDS]
        for n, i in enumerate(starts):
            stop = starts[n + 1] if n + 1 < len(starts) else len(toks)
            body = toks[i:stop]
            uses = [t for t in body if t.text == "sorry"]
            if not uses:
                continue
            keyword = toks[i]
            name = keyword if keyword.text in UNNAMED or i + 1 >= stop else toks[i + 1]
            assign = next((t for t in body if t.text == ":="), body[-1])
            goal = " ".join(text[name.end : assign.start].split()) or "FakeGoal"
            for s in uses:
                sorries.append(
                    {
                        "proofState": self.new_proof_state(),
                        "pos": pos(s.start),
                        "goal": f"⊢ {goal}",
                        "endPos": pos(s.end),
                    }
                )
            out.append(msg("warning", pos(name.start), pos(name.end), self.sorry_text()))
        return out

    def misbehave(self, words: set[str]) -> None:
        for w in words:
            if w.startswith("fake_sleep_") and w[len("fake_sleep_") :].isdigit():
                time.sleep(int(w[len("fake_sleep_") :]) / 1000)
        if "fake_stderr" in words:
            sys.stderr.write(("e" * 1023 + "\n") * 1024)
            sys.stderr.flush()
        if "fake_hang" in words:
            while True:
                time.sleep(3600)
        if "fake_die" in words:
            sys.stderr.write("INTERNAL PANIC: fake_die\n")
            sys.stderr.flush()
            os._exit(134)
        if "fake_oom" in words:
            step = 64 * 1024 * 1024
            while len(self.hoard) * 64 < self.options.oom_limit_mb:
                self.hoard.append(b"\x01" * step)
                time.sleep(0.01)
            while True:
                time.sleep(3600)
        if "fake_garbage" in words:
            raise GarbageReply
        if "fake_error_object" in words:
            raise ErrorObject("fake REPL: uncaught exception while elaborating")
        if "fake_lean_exception" in words:
            raise ErrorObject("Lean error:\nfake_lean_exception: Lean threw")


class GarbageReply(Exception):
    pass


class ErrorObject(Exception):
    pass


def _is_name(text: str) -> bool:
    return bool(re.match(r"[A-Za-z_«\u00c0-\uffff]", text))


def msg(
    severity: str, start: dict[str, int], end: dict[str, int] | None, data: str
) -> dict[str, Any]:
    return {"severity": severity, "pos": start, "endPos": end, "data": data}


def error(pos: Positions, tok: Tok, data: str) -> dict[str, Any]:
    return msg("error", pos(tok.start), pos(tok.end), data)


def die_unparsable(text: str) -> None:
    sys.stderr.write(
        'uncaught exception: {"message": "Could not parse JSON:\\n' + text[:200] + '"}\n'
    )
    sys.stderr.flush()
    os._exit(1)


# --------------------------------------------------------------------------- output


def render(value: Any, indent: int = 0, width: int = 80) -> str:
    """Lean-like pretty printing: compact when it fits, else one key per line."""
    if isinstance(value, dict):
        value = dict(sorted(value.items(), reverse=True))
    compact = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if not isinstance(value, (dict, list)) or not value or indent + len(compact) <= width:
        return compact
    pad = "\n" + " " * (indent + 1)
    if isinstance(value, list):
        return "[" + ("," + pad).join(render(v, indent + 1, width) for v in value) + "]"
    parts = []
    for key, item in value.items():
        head = json.dumps(key, ensure_ascii=False) + ":"
        inner = render(item, indent + 1 + len(head) + 1, width)
        if "\n" not in inner and indent + 1 + len(head) + 1 + len(inner) <= width:
            parts.append(f"{head} {inner}")
        else:
            parts.append(head + pad + render(item, indent + 1, width))
    return "{" + ("," + pad).join(parts) + "}"


def serve(options: Options) -> None:
    repl = FakeRepl(options)
    # Our own block-buffered writer, so that --no-flush holds replies back even when
    # PYTHONUNBUFFERED is set (like a REPL <= v4.9 writing to a pipe).
    out = open(sys.stdout.fileno(), "wb", buffering=1 << 16, closefd=False)  # noqa: SIM115
    pending: list[str] = []
    stdin = sys.stdin.buffer
    while True:
        raw = stdin.readline()
        eof = raw == b""
        line = raw.decode("utf-8", errors="replace")
        if not eof and line.strip():
            pending.append(line)
            continue
        if pending:
            text = "".join(pending)
            pending = []
            read_at = time.perf_counter()
            repl.checking = False
            reply = answer(repl, text, options)
            if repl.checking:
                wait_until(read_at + options.latency_ms / 1000)
            if reply is not None:
                out.write(reply.encode("utf-8") + b"\n\n")
                if options.flush:
                    out.flush()
        if eof:
            out.flush()
            return


def wait_until(moment: float) -> None:
    """Sleep until ``moment`` (perf_counter), spinning for the last millisecond to be exact."""
    remaining = moment - time.perf_counter()
    if remaining > 0.002:
        time.sleep(remaining - 0.0015)
    while time.perf_counter() < moment:
        pass


PROC = f"{os.getpid()}-{os.urandom(6).hex()}"


def answer(repl: FakeRepl, text: str, options: Options) -> str | None:
    stripped = text.lstrip()
    if stripped.startswith("#") or stripped.startswith("--"):
        return None
    if options.log:
        with open(options.log, "a", encoding="utf-8") as fh:
            entry = {"pid": os.getpid(), "proc": PROC, "request": text}
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
    try:
        req = json.loads(text)
    except json.JSONDecodeError:
        die_unparsable(text)
    try:
        reply = repl.handle(req)
    except GarbageReply:
        return "this is not JSON {{{ fake_garbage"
    except ErrorObject as exc:
        reply = {"message": str(exc)}
    return None if reply is None else render(reply)


_SCOPED_STATE = {"open", "set_option", "variable", "universe"}
_GLOBAL_STATE = {"instance", "notation", "infix", "infixl", "infixr", "prefix", "postfix"}
_GLOBAL_STATE |= {"deriving", "attribute"}
_DECLS = {"theorem", "lemma", "example", "def", "abbrev", "instance", "structure", "inductive"}


def scope_messages(text: str) -> list[dict[str, Any]]:
    """Lean's scoping, as far as file mode's isolation needs it: ``namespace``/``section``
    push a scope, ``end [A.B]`` pops one per name part (also on a name mismatch, and all but
    the root when there are too few, as Lean's ``elabEnd``); ``open``, ``set_option`` (not
    ``… in``), ``variable`` and ``universe`` live in the scope they are made in; instances,
    global notations, ``deriving`` and global attributes live in the file. Each state is
    owned by the ``FormalizeCheckN`` namespace it was made in (the header's, before the first
    of them, is every statement's); a declaration that can see a
    state owned by another statement gets an error ``fake lean: state leaked ...``."""
    clean = blank_comments_and_strings(text)
    pos = Positions(text)
    toks = tokens(clean)
    scopes: list[tuple[str, int | None, list[str]]] = [("", None, [])]  # (name, owner, state)
    globals_: list[tuple[int | None, str]] = []
    out: list[dict[str, Any]] = []
    # what comes before the first statement's namespace is the header: its options are the
    # file's, meant for every statement
    started = False

    def same_line(i: int) -> bool:
        """Whether the token after ``toks[i]`` is on its line."""
        newline = text.find("\n", toks[i].end)
        return i + 1 < len(toks) and (newline < 0 or toks[i + 1].start < newline)

    def owner() -> int | None:
        for _, own, _ in reversed(scopes):
            if own is not None:
                return own
        return None

    for i, t in enumerate(toks):
        nxt = toks[i + 1].text if i + 1 < len(toks) else ""
        line_start = i == 0 or text.rfind("\n", 0, t.start) >= toks[i - 1].end
        if t.text == "namespace" and line_start:
            m = re.fullmatch(r"FormalizeCheck(\d+)", nxt)
            started = started or m is not None
            for k, part in enumerate(nxt.split(".")):
                scopes.append((part, int(m.group(1)) if m and k == 0 else None, []))
        elif t.text == "section" and (line_start or toks[i - 1].text == "noncomputable"):
            scopes.append((nxt if same_line(i) and _is_name(nxt) else "", None, []))
        elif t.text == "end" and line_start:
            name = nxt if same_line(i) and _is_name(nxt) else ""
            count = len(name.split(".")) if name else 1
            if count >= len(scopes):
                out.append(error(pos, t, "invalid 'end', insufficient scopes"))
                del scopes[1:]
            else:
                popped = [n for n, _, _ in scopes[-count:]]
                del scopes[-count:]
                if ".".join(popped) != name:
                    out.append(error(pos, t, "invalid 'end', name mismatch"))
        elif t.text in _SCOPED_STATE and line_start:
            line_end = text.find("\n", t.end)
            line = clean[t.start : len(clean) if line_end < 0 else line_end]
            scoped_to_next = t.text in ("set_option", "open") and re.search(r"\bin\s*$", line)
            if not scoped_to_next and started:
                scopes[-1][2].append(f"{line.strip()} (from statement {owner()})")
        elif t.text in _GLOBAL_STATE and line_start and not (i > 0 and toks[i - 1].text == "local"):
            local = t.text == "attribute" and nxt == "[" and i + 2 < len(toks)
            if not (local and toks[i + 2].text in ("local", "scoped")):
                globals_.append((owner(), f"{t.text} at offset {t.start}"))
        if t.text in _DECLS and line_start:
            me = owner()
            leaked = [
                state
                for _, own, states in scopes
                for state in states
                if not state.endswith(f"(from statement {me})")
            ]
            leaked += [what for own, what in globals_ if own != me]
            if leaked and me is not None:
                out.append(
                    error(
                        pos,
                        t,
                        "fake lean: state leaked from another statement: " + "; ".join(leaked),
                    )
                )
    return out


def lean_json(path: str, options: Options) -> int:
    """Play ``lean --json FILE``: messages as JSON lines, exit code 1 on errors."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    try:
        reply = FakeRepl(options).command(text, None)
    except (GarbageReply, ErrorObject):
        print("fake lean: unexpected output", flush=True)
        return 2
    reply.setdefault("messages", []).extend(scope_messages(text))
    errors = False
    for m in reply.get("messages", []):
        severity = "information" if m["severity"] == "info" else m["severity"]
        errors = errors or severity == "error"
        line = {
            "caption": "",
            "data": m["data"],
            "endPos": m["endPos"],
            "fileName": path,
            "isSilent": False,
            "keepFullRange": False,
            "kind": "[anonymous]",
            "pos": m["pos"],
            "severity": severity,
        }
        print(json.dumps(line, ensure_ascii=False), flush=True)
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake Lean REPL for tests (no Lean inside).")
    parser.add_argument("--lean-version", default="v4.15.0")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--import-ms", type=float, default=0.0)
    parser.add_argument("--fail-import", action="store_true")
    parser.add_argument("--oom-limit-mb", type=int, default=4096)
    parser.add_argument("--no-flush", action="store_true")
    parser.add_argument("--log")
    parser.add_argument("--lean-json", metavar="FILE", help="play `lean --json FILE` instead")
    parser.add_argument(
        "--prove",
        metavar="JSON",
        help='probe rules: a JSON list of {"probe": KIND, "when": REGEX} (or a file holding it)',
    )
    parser.add_argument(
        "--probe-error",
        metavar="JSON",
        help='probes that do not elaborate: a JSON list of {"probe": KIND, "when": REGEX, '
        '"error": TEXT}',
    )
    parser.add_argument(
        "--lean-tokens", metavar="JSON", help="its token table: a JSON list (or a file holding it)"
    )
    parser.add_argument("--extra-tokens", metavar="JSON", help="tokens added to that table")
    args = parser.parse_args(argv)
    lean_tokens = list(CORE_TOKENS)
    if args.lean_tokens:
        raw = args.lean_tokens
        if not raw.lstrip().startswith("["):
            with open(raw, encoding="utf-8") as fh:
                raw = fh.read()
        lean_tokens = json.loads(raw)
    if args.extra_tokens:
        lean_tokens += json.loads(args.extra_tokens)
    prove = []
    if args.prove:
        raw = args.prove
        if not raw.lstrip().startswith("["):
            with open(raw, encoding="utf-8") as fh:
                raw = fh.read()
        prove = json.loads(raw)
    options = Options(
        version=parse_version(args.lean_version),
        latency_ms=args.latency_ms,
        import_ms=args.import_ms,
        fail_import=args.fail_import,
        oom_limit_mb=args.oom_limit_mb,
        flush=not args.no_flush,
        log=args.log,
        prove=prove,
        probe_error=json.loads(args.probe_error) if args.probe_error else [],
        lean_tokens=lean_tokens,
    )
    if args.lean_json:
        sys.exit(lean_json(args.lean_json, options))
    serve(options)


if __name__ == "__main__":
    main()
