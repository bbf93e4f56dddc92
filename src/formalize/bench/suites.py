"""Benchmark suites: labelled (problem, Lean statement) pairs, declared in small TOML files.

A suite file (``critic/benchmarks/<name>.toml``) says where the data is and how to read it::

    name = "proofnet-dev"
    version = "1"
    loader = "jsonl"            # jsonl | json | parquet | formalalign
    path = "../shared/data/critic/proofnet_faithfulness_dev.jsonl"
    [fields]                    # item field = column name, or a "{col}/{col}" pattern
    id = "{source}/{name}"
    informal = "informal_stmt"
    lean = "formal_stmt"
    label = "label_faithful"
    [labels]                    # optional: which label values mean faithful / unfaithful
    positive = ["compile_right_is_right"]
    [where]                     # optional: keep rows whose column has one of these values
    [exclude]                   # optional: drop rows whose column has one of these values

A relative ``path`` is resolved from the repository root for the suites in the repository's
``critic/benchmarks/``, and from the suite file's folder for any other suite file; a glob
(``data/valid-*.parquet``) names the one file it matches. ``lean_version`` (optional) is the
Lean the suite's statements were written for; a run warns when the project's Lean differs.
``[options] repeated_ids = "number"`` numbers repeats of an id (``#2``, ``#3`` in file order)
instead of refusing them.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import os
import random
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formalize.critic import lean_with_header
from formalize.errors import InputError
from formalize.records import Problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ENV_SUITES = "FORMALIZE_SUITES"
ITEM_FIELDS = ("id", "informal", "lean", "label", "header", "answer", "error_type")
DEFAULT_FIELDS = {name: name for name in ITEM_FIELDS}
TRUE_LABELS = frozenset({"true", "1", "yes", "faithful", "correct", "aligned", "positive"})
FALSE_LABELS = frozenset({"false", "0", "no", "unfaithful", "incorrect", "misaligned", "negative"})
DATA_SUFFIXES = (".jsonl", ".json", ".parquet")
# FormalAlign wraps every statement in a fixed instruction.
FORMALALIGN_PREFIX = "Statement in natural language:\n"
FORMALALIGN_SUFFIX = "\nTranslate the statement in natural language to Lean:"


@dataclass(frozen=True)
class BenchItem:
    """One labelled pair: is ``lean`` a faithful formalization of ``informal``?"""

    id: str
    informal: str
    lean: str
    label: bool
    header: str = ""
    answer: str | None = None
    error_type: str | None = None  # for unfaithful pairs, when the suite names the error

    def problem(self) -> Problem:
        """The pair's problem, as the critic receives it."""
        return Problem(id=self.id, informal=self.informal, answer=self.answer)

    def critic_lean(self) -> str:
        """The Lean code the critic sees (header lines beyond imports, then the statement)."""
        return lean_with_header(self.lean, self.header)


@dataclass(frozen=True)
class Suite:
    """A benchmark suite definition; ``load()`` reads its items."""

    name: str
    version: str
    loader: str
    path: Path
    description: str = ""
    fields: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_FIELDS))
    positive: tuple[Any, ...] | None = None
    negative: tuple[Any, ...] | None = None
    where: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    exclude: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    download: str = ""
    source: Path | None = None  # the suite file, None for a data file given directly
    lean_version: str | None = None  # the Lean the statements were written for, when known

    def __post_init__(self) -> None:
        if self.loader not in LOADERS:
            raise InputError(
                f"suite {self.name!r}: unknown loader {self.loader!r} (use {', '.join(LOADERS)})"
            )
        unknown = set(self.fields) - set(ITEM_FIELDS)
        if unknown:
            raise InputError(
                f"suite {self.name!r}: unknown field(s) {sorted(unknown)} in [fields] "
                f"(known: {', '.join(ITEM_FIELDS)})"
            )

    def with_data(self, path: str | Path) -> Suite:
        """The same suite reading another copy of its data file."""
        return dataclasses.replace(self, path=Path(path).expanduser().resolve())

    def load(self) -> list[BenchItem]:
        """Every item, in file order; a missing file or a bad row is an ``InputError``."""
        if not self.path.is_file():
            hint = f"\n{self.download.strip()}" if self.download else ""
            raise InputError(
                f"suite {self.name!r}: data file {self.path} not found.{hint}\n"
                f"Point the suite at a copy with --data PATH."
            )
        items: list[BenchItem] = []
        seen: dict[str, int] = {}
        repeats: dict[str, int] = {}
        number_repeats = self.options.get("repeated_ids") == "number"
        for number, row in LOADERS[self.loader](self):
            if not self._keep(row):
                continue
            item = self._item(row, number)
            if number_repeats:
                repeats[item.id] = repeats.get(item.id, 0) + 1
                if repeats[item.id] > 1:
                    item = dataclasses.replace(item, id=f"{item.id}#{repeats[item.id]}")
            if item.id in seen:
                raise InputError(
                    f"{self.path}: row {number} repeats id {item.id!r} of row {seen[item.id]}; "
                    "map a unique id in the suite's [fields]"
                )
            seen[item.id] = number
            items.append(item)
        if not items:
            raise InputError(f"suite {self.name!r}: no items in {self.path}")
        return items

    def data_digest(self) -> str:
        """sha256 of the data file (recorded with every run)."""
        digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    def describe(self) -> dict[str, Any]:
        """The suite's identity for results files."""
        return {
            "name": self.name,
            "version": self.version,
            "loader": self.loader,
            "path": str(self.path),
            "definition": str(self.source) if self.source else None,
            "lean_version": self.lean_version,
        }

    def _keep(self, row: Mapping[str, Any]) -> bool:
        for column, allowed in self.where.items():
            if row.get(column) not in allowed:
                return False
        return all(row.get(column) not in banned for column, banned in self.exclude.items())

    def _item(self, row: Mapping[str, Any], number: int) -> BenchItem:
        where = f"{self.path}: row {number}"
        values = {name: _lookup(row, spec, where) for name, spec in self.fields.items()}
        for required in ("informal", "lean", "label"):
            if values.get(required) in (None, ""):
                column = self.fields.get(required, required)
                raise InputError(f"{where}: no {required} (column {column!r} is empty or absent)")
        label = self._label(values["label"], where)
        error_type = values.get("error_type")
        item_id = values.get("id")
        return BenchItem(
            id=str(item_id) if item_id not in (None, "") else str(number),
            informal=str(values["informal"]),
            lean=str(values["lean"]),
            label=label,
            header=str(values.get("header") or ""),
            answer=str(values["answer"]) if values.get("answer") not in (None, "") else None,
            error_type=None if label or error_type in (None, "", "none") else str(error_type),
        )

    def _label(self, value: Any, where: str) -> bool:
        if self.positive is not None and value in self.positive:
            return True
        if self.negative is not None and value in self.negative:
            return False
        if self.positive is not None and self.negative is None:
            return False
        if self.positive is None and self.negative is not None:
            return True
        text = str(value).strip().lower()
        if text in TRUE_LABELS:
            return True
        if text in FALSE_LABELS:
            return False
        raise InputError(
            f"{where}: label {value!r} is neither faithful nor unfaithful; "
            "list the values in the suite's [labels] positive / negative"
        )


def _lookup(row: Mapping[str, Any], spec: str, where: str) -> Any:
    if "{" not in spec:
        return row.get(spec)
    try:
        return spec.format_map(row)
    except (KeyError, IndexError, ValueError) as exc:
        raise InputError(f"{where}: field pattern {spec!r} needs column {exc}") from exc


# --------------------------------------------------------------------------- loaders

Rows = Iterator[tuple[int, Mapping[str, Any]]]


def _jsonl_rows(suite: Suite) -> Rows:
    with suite.path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{suite.path}:{number}: not JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise InputError(f"{suite.path}:{number}: expected a JSON object")
            yield number, row


def _json_rows(suite: Suite) -> Rows:
    data = _read_json(suite.path)
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InputError(f"{suite.path}: expected a JSON list of objects")
    yield from enumerate(data, start=1)


def _parquet_rows(suite: Suite) -> Rows:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(suite.path)
    except Exception as exc:  # pyarrow raises several unrelated types for bad files
        raise InputError(f"{suite.path}: cannot read as parquet ({exc})") from exc
    yield from enumerate(table.to_pylist(), start=1)


def _formalalign_rows(suite: Suite) -> Rows:
    """FormalAlign: ``[{input, outputs: [{response, label, misalign_type}]}]``, one row per
    candidate. Option ``negatives_per_problem`` keeps a seeded sample of the misaligned ones."""
    data = _read_json(suite.path)
    if not isinstance(data, list):
        raise InputError(f"{suite.path}: expected the FormalAlign list of problems")
    prefix = suite.options.get("strip_prefix", FORMALALIGN_PREFIX)
    suffix = suite.options.get("strip_suffix", FORMALALIGN_SUFFIX)
    keep = suite.options.get("negatives_per_problem")
    rng = random.Random(int(suite.options.get("seed", 0)))
    number = 0
    for p, problem in enumerate(data):
        if not isinstance(problem, dict) or not isinstance(problem.get("outputs"), list):
            raise InputError(f"{suite.path}: problem {p} has no `outputs` list")
        informal = str(problem.get("input", ""))
        informal = informal.removeprefix(prefix).removesuffix(suffix).strip()
        outputs = list(enumerate(problem["outputs"]))
        if keep is not None:
            negatives = [(c, o) for c, o in outputs if not o.get("label")]
            chosen = {c for c, _ in rng.sample(negatives, min(int(keep), len(negatives)))}
            outputs = [(c, o) for c, o in outputs if o.get("label") or c in chosen]
        for c, output in outputs:
            number += 1
            yield (
                number,
                {
                    "id": f"{p}/{c}",
                    "informal": informal,
                    "lean": output.get("response"),
                    "label": bool(output.get("label")),
                    "error_type": output.get("misalign_type"),
                },
            )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON ({exc})") from exc


LOADERS: dict[str, Callable[[Suite], Rows]] = {
    "jsonl": _jsonl_rows,
    "json": _json_rows,
    "parquet": _parquet_rows,
    "formalalign": _formalalign_rows,
}


# --------------------------------------------------------------------------- registry


def repo_root() -> Path | None:
    """The checkout this package runs from, when it runs from one."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "critic" / "benchmarks").is_dir() and (parent / "pyproject.toml").exists():
            return parent
    return None


def suite_dirs() -> list[Path]:
    """Folders searched for suite files: ``$FORMALIZE_SUITES``, ``./critic/benchmarks``, and
    the checkout's ``critic/benchmarks``."""
    dirs = [Path(p).expanduser() for p in os.environ.get(ENV_SUITES, "").split(os.pathsep) if p]
    dirs.append(Path.cwd() / "critic" / "benchmarks")
    root = repo_root()
    if root is not None:
        dirs.append(root / "critic" / "benchmarks")
    unique: list[Path] = []
    for d in dirs:
        if d.is_dir() and d.resolve() not in unique:
            unique.append(d.resolve())
    return unique


def available_suites() -> dict[str, Path]:
    """Suite name -> definition file, first folder in ``suite_dirs()`` winning."""
    found: dict[str, Path] = {}
    for folder in suite_dirs():
        for path in sorted(folder.glob("*.toml")):
            found.setdefault(path.stem, path)
    return found


def load_suite(name_or_path: str | Path) -> Suite:
    """A suite by name (``proofnet-dev``), by definition file (``my_suite.toml``), or a data
    file read with the generic fields (``pairs.jsonl``: informal, lean, label, optional
    header, error_type, id)."""
    text = str(name_or_path)
    path = Path(text).expanduser()
    if path.suffix in DATA_SUFFIXES:
        if not path.is_file():
            raise InputError(f"suite data file {path} not found")
        return generic_suite(path)
    if path.suffix == ".toml" or os.sep in text or "/" in text:
        if not path.is_file():
            raise InputError(f"suite file {path} not found")
        return parse_suite(path)
    suites = available_suites()
    if text not in suites:
        close = difflib.get_close_matches(text, list(suites), n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise InputError(
            f"unknown suite {text!r}.{hint} Available: {', '.join(sorted(suites)) or 'none'} "
            f"(searched {', '.join(str(d) for d in suite_dirs()) or 'no folder'}); "
            "or give a suite .toml or a .jsonl/.json/.parquet file."
        )
    return parse_suite(suites[text])


def generic_suite(path: Path) -> Suite:
    """A suite over a data file with the generic field names."""
    path = path.resolve()
    loader = {".jsonl": "jsonl", ".json": "json", ".parquet": "parquet"}[path.suffix]
    suite = Suite(name=path.stem, version="file", loader=loader, path=path)
    return dataclasses.replace(suite, version=f"sha256:{suite.data_digest()[:12]}")


def parse_suite(path: Path) -> Suite:
    """Read a suite definition file."""
    path = path.resolve()
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from exc
    missing = [k for k in ("name", "version", "loader", "path") if k not in spec]
    if missing:
        raise InputError(f"{path}: missing key(s) {', '.join(missing)}")
    known = {"name", "version", "loader", "path", "description", "fields", "labels", "where"}
    known |= {"exclude", "options", "download", "lean_version"}
    unknown = set(spec) - known
    if unknown:
        raise InputError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}")
    data = Path(os.path.expandvars(str(spec["path"]))).expanduser()
    if not data.is_absolute():
        data = _base_dir(path) / data
    data = _one_match(Path(os.path.normpath(data)))
    labels = spec.get("labels", {})
    fields = dict(DEFAULT_FIELDS)  # unmapped item fields read the column of the same name
    fields.update(spec.get("fields", {}))
    return Suite(
        name=str(spec["name"]),
        version=str(spec["version"]),
        loader=str(spec["loader"]),
        path=data,
        description=str(spec.get("description", "")),
        fields=fields,
        positive=_values(labels.get("positive")),
        negative=_values(labels.get("negative")),
        where={k: tuple(_as_list(v)) for k, v in spec.get("where", {}).items()},
        exclude={k: tuple(_as_list(v)) for k, v in spec.get("exclude", {}).items()},
        options=dict(spec.get("options", {})),
        download=str(spec.get("download", "")),
        source=path,
        lean_version=str(spec["lean_version"]) if spec.get("lean_version") else None,
    )


def _one_match(path: Path) -> Path:
    """The file a glob path names (itself when it is no glob or matches nothing)."""
    if not any(ch in path.name for ch in "*?["):
        return path
    matches = sorted(path.parent.glob(path.name)) if path.parent.is_dir() else []
    if len(matches) > 1:
        names = ", ".join(m.name for m in matches)
        raise InputError(f"{path} matches several files ({names}); name one with --data PATH")
    return matches[0] if matches else path


def _base_dir(suite_file: Path) -> Path:
    folder = suite_file.parent
    if folder.name == "benchmarks" and folder.parent.name == "critic":
        return folder.parent.parent
    return folder


def _values(value: Any) -> tuple[Any, ...] | None:
    return None if value is None else tuple(_as_list(value))


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def select_items(items: list[BenchItem], limit: int | None, seed: int) -> list[BenchItem]:
    """At most ``limit`` items: a seeded sample that keeps the faithful/unfaithful ratio, in
    the suite's order. All items when ``limit`` is None or not smaller than the suite."""
    if limit is None or limit >= len(items):
        return list(items)
    if limit < 1:
        raise InputError("--limit must be at least 1")
    rng = random.Random(seed)
    positives = [i for i, item in enumerate(items) if item.label]
    negatives = [i for i, item in enumerate(items) if not item.label]
    take_pos = round(limit * len(positives) / len(items))
    take_pos = min(len(positives), max(take_pos, 1 if positives and limit > 1 else 0))
    take_neg = min(len(negatives), limit - take_pos)
    chosen = set(rng.sample(positives, take_pos)) | set(rng.sample(negatives, take_neg))
    return [items[i] for i in sorted(chosen)]
