"""Versioned prompt templates, shipped as package data (``prompts/<name>.txt``).

A template file starts with a small header of ``key: value`` lines (``version`` is required,
``description`` is optional), then a line ``---``, then the body. The body is one user message,
or several chat messages introduced by marker lines ``=== system ===`` / ``=== user ===`` /
``=== assistant ===``. Fields are ``string.Template`` placeholders (``${problem}``; ``$$`` is a
literal dollar), so JSON braces and LaTeX in a prompt need no escaping.

``Template.id`` (``name@version``) is what goes into provenance; bump ``version`` whenever the
text changes meaningfully. ``Template.digest`` (a hash of the text) catches edits that forgot to.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import re
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from formalize.errors import InputError

SUFFIX = ".txt"
ROLES = ("system", "user", "assistant")
_SECTION = re.compile(r"^=== *(system|user|assistant) *=== *$", re.MULTILINE)


@dataclass(frozen=True)
class Template:
    """A named, versioned prompt template."""

    name: str
    version: str
    text: str
    description: str = ""

    def __post_init__(self) -> None:
        if not self.version.strip():
            raise ValueError(f"template {self.name!r} has no version")
        _sections(self.text, self.name)  # reject malformed bodies at construction

    @property
    def id(self) -> str:
        """``name@version``: the prompt version recorded in provenance."""
        return f"{self.name}@{self.version}"

    @property
    def digest(self) -> str:
        """First 12 hex digits of the sha256 of the body."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:12]

    @property
    def fields(self) -> frozenset[str]:
        """The placeholder names the body uses."""
        names: set[str] = set()
        for match in string.Template.pattern.finditer(self.text):
            name = match.group("named") or match.group("braced")
            if name:
                names.add(name)
        return frozenset(names)

    def messages(self, **values: str) -> list[dict[str, str]]:
        """The chat messages with every field filled; a missing field is an ``InputError``."""
        missing = sorted(self.fields - values.keys())
        if missing:
            raise InputError(f"prompt template {self.id} needs value(s) for {', '.join(missing)}")
        out = []
        for role, body in _sections(self.text, self.name):
            content = string.Template(body).substitute(values).strip("\n")
            out.append({"role": role, "content": content})
        return out

    def render(self, **values: str) -> str:
        """The filled body as one text (message contents joined by blank lines)."""
        return "\n\n".join(m["content"] for m in self.messages(**values))


def parse_template(source: str, name: str) -> Template:
    """A ``Template`` from the text of a template file (header, ``---``, body)."""
    head, sep, body = source.partition("\n---\n")
    if not sep:
        raise InputError(
            f"prompt template {name!r}: expected a header (`version: N`), a line `---`, then "
            "the body"
        )
    meta: dict[str, str] = {}
    for number, line in enumerate(head.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, colon, value = line.partition(":")
        if not colon:
            raise InputError(f"prompt template {name!r}, header line {number}: expected key: value")
        meta[key.strip().lower()] = value.strip()
    if "version" not in meta:
        raise InputError(f"prompt template {name!r}: the header needs a `version: ...` line")
    try:
        return Template(
            name=name,
            version=meta["version"],
            text=body,
            description=meta.get("description", ""),
        )
    except ValueError as exc:
        raise InputError(str(exc)) from exc


def available_templates() -> list[str]:
    """Names of the templates shipped with formalize, sorted."""
    folder = resources.files(__name__)
    return sorted(
        entry.name[: -len(SUFFIX)]
        for entry in folder.iterdir()
        if entry.name.endswith(SUFFIX) and entry.is_file()
    )


def load_template(name: str) -> Template:
    """The shipped template ``name``, or a template file given by path (``./my_critic.txt``).

    An unknown name raises ``InputError`` listing close matches and every available name.
    """
    path = Path(name).expanduser()
    if name.endswith(SUFFIX) or "/" in name or "\\" in name:
        if not path.is_file():
            raise InputError(f"prompt template file {name} does not exist")
        return parse_template(path.read_text(encoding="utf-8"), path.stem)
    return _load_shipped(name)


@functools.lru_cache(maxsize=64)
def _load_shipped(name: str) -> Template:
    names = available_templates()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise InputError(
            f"unknown prompt template {name!r}.{hint} Available: {', '.join(names) or 'none'}."
        )
    source = resources.files(__name__).joinpath(name + SUFFIX).read_text(encoding="utf-8")
    return parse_template(source, name)


def _sections(body: str, name: str) -> list[tuple[str, str]]:
    """``(role, text)`` pairs of a body; a body without markers is one user message."""
    markers = list(_SECTION.finditer(body))
    if not markers:
        return [("user", body)]
    if body[: markers[0].start()].strip():
        raise ValueError(f"template {name!r}: text before the first `=== role ===` marker")
    out = []
    for i, marker in enumerate(markers):
        end = markers[i + 1].start() if i + 1 < len(markers) else len(body)
        out.append((marker.group(1), body[marker.end() : end].strip("\n")))
    return out
