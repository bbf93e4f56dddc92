"""The audit sample: accepted entries drawn uniformly at random (within each stratum), stored in
the corpus so that the labelled share of the sample estimates the corpus's precision.

``draw_sample`` allocates the sample to the strata in proportion to their sizes (largest
remainder; every stratum gets at least one item when the sample is at least as large as the
number of strata), draws each stratum's items uniformly without replacement with a generator
seeded by ``(seed, stratum)``, and stores the items in one shuffled order: the queue presents
them in that order, so a sample labelled only in part is still a uniform sub-sample. Each
stratum's size at the time of the draw is stored with it (the report's weights). The same
corpus and seed give the same sample.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

from formalize.corpus import Store
from formalize.errors import InputError
from formalize.labels import lean_sha

#: What ``--stratify`` accepts: the column a stratum is read from.
STRATIFY = {
    "source": "json_extract(e.record, '$.source')",
    "run": "e.run_id",
}


@dataclass(frozen=True)
class AuditItem:
    """One drawn entry: the accepted attempt's key and the hash of the statement drawn."""

    position: int
    stratum: str
    problem_id: str
    round: int
    sample: int
    lean_sha: str


@dataclass(frozen=True)
class StratumSize:
    """A stratum's accepted entries at the draw, and how many were drawn from it."""

    population: int
    drawn: int


@dataclass(frozen=True)
class AuditSample:
    """A stored draw."""

    id: int
    created_at: float
    seed: int
    requested: int
    stratify: str | None
    population: int
    strata: Mapping[str, StratumSize]

    @property
    def drawn(self) -> int:
        """Items drawn in all."""
        return sum(s.drawn for s in self.strata.values())


def allocate(sizes: Mapping[str, int], n: int) -> dict[str, int]:
    """How many of ``n`` items each stratum gets: proportional to ``sizes`` by largest
    remainder, at least one per non-empty stratum when ``n`` allows, never more than a
    stratum holds; everything when ``n`` is not smaller than the population."""
    if n < 1:
        raise InputError("the sample needs at least one item (--n)")
    total = sum(sizes.values())
    if n >= total:
        return dict(sizes)
    names = sorted(h for h in sizes if sizes[h] > 0)
    quota = {h: n * sizes[h] / total for h in names}
    floor = 1 if n >= len(names) else 0
    alloc = {h: min(sizes[h], max(floor, int(quota[h]))) for h in names}
    while sum(alloc.values()) < n:  # largest remainder first; ties by name
        h = max((h for h in names if alloc[h] < sizes[h]), key=lambda h: quota[h] - alloc[h])
        alloc[h] += 1
    while sum(alloc.values()) > n:  # only when the one-per-stratum floor overshot
        h = min((h for h in names if alloc[h] > 1), key=lambda h: quota[h] - alloc[h])
        alloc[h] -= 1
    return {h: alloc.get(h, 0) for h in sizes}


def draw_sample(store: Store, n: int, *, stratify: str | None = None, seed: int = 0) -> AuditSample:
    """Draw and store an audit sample of ``n`` accepted entries (see the module docstring)."""
    if stratify is not None and stratify not in STRATIFY:
        raise InputError(f"cannot stratify by {stratify!r} (use {', '.join(STRATIFY)})")
    column = STRATIFY[stratify] if stratify else "''"
    rows = store._query(
        f"SELECT e.id, a.problem_id, a.round, a.sample, a.lean, COALESCE({column}, '') "
        "FROM entries e JOIN attempts a ON a.problem_id = e.problem_id AND a.status = 'accepted' "
        "ORDER BY e.id, a.round, a.sample"
    )
    population: dict[str, list[tuple[str, int, int, str]]] = {}
    seen: set[int] = set()
    for entry_id, problem_id, round_, sample, lean, stratum in rows:
        if entry_id in seen:  # one accepted attempt per entry; never count one twice
            continue
        seen.add(entry_id)
        population.setdefault(str(stratum), []).append((problem_id, round_, sample, lean))
    if not population:
        raise InputError(f"{store.path} has no accepted entries to audit")
    sizes = {h: len(items) for h, items in population.items()}
    alloc = allocate(sizes, n)
    chosen: list[tuple[str, tuple[str, int, int, str]]] = []
    for stratum in sorted(population):
        rng = random.Random(f"{seed}/{stratum}")
        chosen.extend((stratum, item) for item in rng.sample(population[stratum], alloc[stratum]))
    random.Random(f"{seed}/order").shuffle(chosen)
    strata = {h: StratumSize(sizes[h], alloc[h]) for h in sorted(sizes)}
    created = time.time()
    with store._write() as con:
        cursor = con.execute(
            "INSERT INTO audit_samples(created_at, seed, requested, stratify, population, strata)"
            " VALUES (?,?,?,?,?,?)",
            (
                created,
                seed,
                n,
                stratify,
                sum(sizes.values()),
                json.dumps({h: [s.population, s.drawn] for h, s in strata.items()}),
            ),
        )
        sample_id = int(cursor.lastrowid or 0)
        con.executemany(
            "INSERT INTO audit_items(sample_id, position, stratum, problem_id, round, sample,"
            " lean_sha) VALUES (?,?,?,?,?,?,?)",
            [
                (sample_id, position, stratum, pid, round_, sample, lean_sha(lean))
                for position, (stratum, (pid, round_, sample, lean)) in enumerate(chosen, 1)
            ],
        )
    return AuditSample(sample_id, created, seed, n, stratify, sum(sizes.values()), strata)


def audit_sample(store: Store, sample_id: int | None = None) -> AuditSample | None:
    """A stored sample by id, or the newest one (None when there is none)."""
    sql = "SELECT id, created_at, seed, requested, stratify, population, strata FROM audit_samples"
    row = store._query_one(
        sql + (" WHERE id = ?" if sample_id is not None else " ORDER BY id DESC LIMIT 1"),
        () if sample_id is None else (sample_id,),
    )
    if row is None:
        if sample_id is not None:
            raise InputError(f"no audit sample {sample_id} in {store.path}")
        return None
    strata = {h: StratumSize(int(p), int(d)) for h, (p, d) in json.loads(row[6]).items()}
    return AuditSample(int(row[0]), row[1], int(row[2]), int(row[3]), row[4], int(row[5]), strata)


def audit_items(store: Store, sample_id: int) -> list[AuditItem]:
    """The items of a sample, in queue order."""
    rows = store._query(
        "SELECT position, stratum, problem_id, round, sample, lean_sha FROM audit_items"
        " WHERE sample_id = ? ORDER BY position",
        (sample_id,),
    )
    return [AuditItem(int(r[0]), r[1], r[2], int(r[3]), int(r[4]), r[5]) for r in rows]
