"""``embedding``: a sentence-embedding model (through transformers) scoring declarations by
cosine similarity to the problem.

Four modes: ``rerank`` re-scores bm25's top ``pool`` candidates by cosine alone; ``fusion``
fuses bm25's order with the embedding's (reciprocal-rank fusion); ``hybrid`` (the default)
adds to the cosine ``lexical`` times bm25's own score (popularity prior included), min-max
scaled to [0, 1] within the pool, so what bm25 knows is kept (of the three, the one not behind
bm25 on any benchmark file); these three precompute nothing. ``dense`` searches vectors of
every definition, computed once per index and model and kept beside the index file
(``<index>.<key>.npy``), by brute-force cosine in numpy. Needs the ``hf`` extra (transformers,
torch)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from formalize.errors import InputError
from formalize.index.records import Declaration
from formalize.index.store import DEFINITION_KINDS, DeclarationIndex, name_words
from formalize.retrieval.base import query_words
from formalize.retrieval.bm25 import DEFAULT_POPULARITY

if TYPE_CHECKING:
    import numpy as np

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
MODES = ("rerank", "fusion", "hybrid", "dense")
#: ``hybrid``'s weight of bm25's scaled score against the cosine; chosen on miniF2F's valid
#: split (benchmarks/README.md)
DEFAULT_LEXICAL = 0.5
#: reciprocal-rank fusion's constant (Cormack et al. 2009): score = sum of 1 / (K + rank)
RRF_K = 60


class SentenceEncoder:
    """Texts to unit-length vectors: a transformers encoder, mean-pooled over tokens (the
    sentence-transformers recipe of the MiniLM/BGE/E5 families)."""

    def __init__(
        self,
        model: str | Path = DEFAULT_MODEL,
        *,
        device: str = "cpu",
        max_length: int = 256,
        batch_size: int = 64,
    ) -> None:
        try:
            import torch
            from transformers import AutoModel, AutoTokenizer
        except ImportError as exc:
            raise InputError(
                f"the embedding retriever needs transformers and torch ({exc}): "
                "pip install 'formalize-lean[hf]'"
            ) from None
        self._torch = torch
        self.model_id = str(model)
        self.tokenizer = AutoTokenizer.from_pretrained(str(model))
        self.model = AutoModel.from_pretrained(str(model)).to(device).eval()
        self.device = device
        self.max_length = max_length
        self.batch_size = batch_size

    @property
    def dimension(self) -> int:
        return int(self.model.config.hidden_size)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One float32 row of unit length per text, in order."""
        import numpy as np

        torch = self._torch
        # batches of similar length pad less; the rows are put back in input order below
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        ordered = [texts[i] for i in order]
        rows = []
        with torch.inference_mode():
            for start in range(0, len(ordered), self.batch_size):
                batch = self.tokenizer(
                    ordered[start : start + self.batch_size],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                ).to(self.device)
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, dim=-1)
                rows.append(pooled.float().cpu().numpy())
        if not rows:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        out[order] = np.concatenate(rows)
        return out


def declaration_text(decl: Declaration) -> str:
    """What is embedded for a declaration: its name's words, signature and docstring."""
    text = f"{name_words(decl.name)}: {decl.signature}. {decl.docstring}"
    return text[:600]


def _problem_text(query: str) -> str:
    return re.sub(r"\s+", " ", query.replace("$", " ")).strip()[:1200]


class EmbeddingRetriever:
    """Scores declarations by cosine similarity of their embedding to the problem's."""

    name = "embedding"

    def __init__(
        self,
        index: DeclarationIndex,
        *,
        model: str | Path = DEFAULT_MODEL,
        mode: str = "hybrid",
        pool: int = 64,
        definitions_only: bool = True,
        popularity: float = DEFAULT_POPULARITY,
        lexical: float = DEFAULT_LEXICAL,
        device: str = "cpu",
        encoder: SentenceEncoder | None = None,
    ) -> None:
        if mode not in MODES:
            raise InputError(f"embedding retriever: mode must be one of {MODES}, got {mode!r}")
        self.index = index
        self.mode = mode
        self.pool = pool
        self.definitions_only = definitions_only
        self.popularity = popularity
        self.lexical = lexical
        self.encoder = encoder or SentenceEncoder(model, device=device)
        self._vectors: dict[str, Any] = {}  # declaration name -> its vector (pool modes)
        self._matrix: tuple[list[str], np.ndarray] | None = None  # dense mode

    def retrieve(self, queries: Sequence[str], k: int) -> list[list[Declaration]]:
        """The top ``k`` per query, in input order."""
        if not queries or k <= 0:
            return [[] for _ in queries]
        query_vectors = self.encoder.encode([_problem_text(q) for q in queries])
        if self.mode == "dense":
            return self._dense(query_vectors, k)
        return self._rerank(queries, query_vectors, k)

    def _rerank(
        self, queries: Sequence[str], query_vectors: np.ndarray, k: int
    ) -> list[list[Declaration]]:
        import numpy as np

        scored = [
            self.index.search_scored(
                query_words(q),
                max(self.pool, k),
                include_deprecated=False,
                definitions_only=self.definitions_only,
                popularity=self.popularity,
            )
            for q in queries
        ]
        pools = [[d for d, _ in pairs] for pairs in scored]
        missing = {d.name: d for pool in pools for d in pool if d.name not in self._vectors}
        if missing:
            encoded = self.encoder.encode([declaration_text(d) for d in missing.values()])
            self._vectors.update(zip(missing, encoded, strict=True))
        out: list[list[Declaration]] = []
        for pool, pairs, query in zip(pools, scored, query_vectors, strict=True):
            if not pool:
                out.append([])
                continue
            scores = np.stack([self._vectors[d.name] for d in pool]) @ query
            if self.mode == "hybrid":  # the cosine plus bm25's score, scaled to [0, 1]
                lexical = np.array([score for _, score in pairs])
                span = lexical.max() - lexical.min()
                if span > 0:
                    scores = scores + self.lexical * (lexical - lexical.min()) / span
            elif self.mode == "fusion":  # the bm25 order and the embedding order, fused
                by_embedding = np.empty(len(pool))
                by_embedding[np.argsort(-scores, kind="stable")] = np.arange(len(pool))
                scores = 1.0 / (RRF_K + np.arange(len(pool))) + 1.0 / (RRF_K + by_embedding)
            order = np.argsort(-scores, kind="stable")[:k]
            out.append([pool[i] for i in order])
        return out

    def vectors_path(self) -> Path:
        """Where the dense vectors of this index and model are kept."""
        what = f"{self.encoder.model_id}|definitions_only={self.definitions_only}"
        key = hashlib.sha256(what.encode()).hexdigest()[:12]
        return self.index.path.with_name(f"{self.index.path.name}.{key}.npy")

    def _load_matrix(self) -> tuple[list[str], np.ndarray]:
        import numpy as np

        if self._matrix is not None:
            return self._matrix
        path = self.vectors_path()
        names_path = path.with_suffix(".names.json")
        if path.is_file() and names_path.is_file():
            names = json.loads(names_path.read_text(encoding="utf-8"))
            matrix = np.load(path)
        else:
            decls = [
                d
                for d in self.index
                if d.deprecated_to is None
                and (not self.definitions_only or d.kind in DEFINITION_KINDS)
            ]
            names = [d.name for d in decls]
            matrix = self.encoder.encode([declaration_text(d) for d in decls])
            tmp = path.with_name(path.name + ".partial.npy")
            np.save(tmp, matrix)
            names_path.write_text(json.dumps(names), encoding="utf-8")
            tmp.replace(path)
        self._matrix = (names, matrix)
        return self._matrix

    def _dense(self, query_vectors: np.ndarray, k: int) -> list[list[Declaration]]:
        import numpy as np

        names, matrix = self._load_matrix()
        if not names:
            return [[] for _ in query_vectors]
        scores = query_vectors @ matrix.T
        out: list[list[Declaration]] = []
        for row in scores:
            top = np.argpartition(-row, min(k, len(row) - 1))[:k]
            top = top[np.argsort(-row[top], kind="stable")]
            found = self.index.get_many([names[i] for i in top])
            out.append([d for d in found if d is not None])
        return out
