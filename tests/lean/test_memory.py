"""Lean workers measured by private memory: the cap trips on what a worker allocates, not on
the .olean-like file every worker maps; the pool sizes itself from the memory available; the
doctor shows shared vs private. With a stand-in REPL (``mapped_repl.py``) that maps one file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lean_fakes import PYTHON, fake_config

from formalize.lean import memory
from formalize.lean.memory import MemorySample, parse_rollup, suggest_workers, worker_budget_mb
from formalize.lean.pool import Job, ReplPool
from formalize.lean.repl import ReplProcess
from formalize.lean.setup import doctor
from formalize.records import CheckStatus

MAPPED_REPL = Path(__file__).resolve().with_name("mapped_repl.py")
FILE_MB = 160  # the shared mapping: above the cap, so that an RSS cap would trip
CAP_MB = 100
HEADER = "import Mathlib"
BLOW_UP = Job(HEADER, f"theorem big : alloc_{CAP_MB + 50} = 1 := by sorry")

ROLLUP = """\
00400000-7ffd6f3f1000 ---p 00000000 00:00 0                              [rollup]
Rss:              212000 kB
Pss:              108000 kB
Shared_Clean:     204800 kB
Shared_Dirty:          0 kB
Private_Clean:       200 kB
Private_Dirty:      7000 kB
Anonymous:          6900 kB
Swap:                100 kB
"""


@pytest.fixture(scope="module")
def olean(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A file of FILE_MB MB (real data, not a sparse one) standing in for Mathlib's .olean."""
    path = tmp_path_factory.mktemp("olean") / "Mathlib.olean"
    block = bytes(range(256)) * 4096  # 1 MB
    with path.open("wb") as f:
        for _ in range(FILE_MB):
            f.write(block)
    path.parent.chmod(0o755)  # the sandboxed REPL runs as nobody
    path.chmod(0o644)
    yield path
    path.unlink()


def mapped_cmd(olean: Path, *flags: str) -> list[str]:
    return [PYTHON, str(MAPPED_REPL), "--map", str(olean), *flags]


def mapped_config(tmp_path: Path, olean: Path, **overrides: Any) -> Any:
    values: dict[str, Any] = {"memory_mb": CAP_MB, "probe": ""}
    values.update(overrides)
    config = fake_config(tmp_path, **values)
    return config.with_overrides(
        repl_cmd=tuple(mapped_cmd(olean)),
        sandbox_paths=(*config.sandbox_paths, olean.parent, MAPPED_REPL.parent),
    )


def ok_jobs(n: int) -> list[Job]:
    return [Job(HEADER, f"theorem t{i} : {i} = {i} := by sorry") for i in range(n)]


# ---------------------------------------------------------------- figures and rules


def test_smaps_rollup_figures() -> None:
    sample = parse_rollup(ROLLUP)
    assert sample.rss_mb == pytest.approx(212000 / 1024)
    assert sample.pss_mb == pytest.approx(108000 / 1024)
    assert sample.uss_mb == pytest.approx(7200 / 1024)
    assert sample.private_mb == pytest.approx(7000 / 1024)  # anonymous + swap
    assert sample.shared_mb == pytest.approx((212000 - 7200) / 1024)
    assert "shared 200 MB" in sample.describe() and "private 7 MB" in sample.describe()
    assert (sample + sample).private_mb == pytest.approx(2 * 7000 / 1024)


def test_suggested_workers_follow_the_memory_available_up_to_the_cores() -> None:
    first = MemorySample(rss_mb=5000, pss_mb=5000, uss_mb=5000, private_mb=1000)
    assert worker_budget_mb(first, memory_mb=8192) == 2000  # twice its private memory
    assert worker_budget_mb(first, memory_mb=1500) == 1500  # never more than the cap
    # 20 GB available, 2 GB a worker: 9 more beside the first, but 8 cores allow 7
    assert suggest_workers(available_mb=20000, budget_mb=2000, running=1, cores=7) == 7
    assert suggest_workers(available_mb=20000, budget_mb=2000, running=1, cores=31) == 10
    assert suggest_workers(available_mb=1000, budget_mb=2000, running=1, cores=31) == 1
    assert suggest_workers(available_mb=0, budget_mb=2000, running=0, cores=31) == 1


# ---------------------------------------------------------------- the cap


def test_one_worker_alone_holds_the_mapping_in_its_uss_but_not_in_its_private_memory(
    olean: Path,
) -> None:
    """Why the cap is on anonymous memory, not USS: alone, a worker's USS has the whole file."""
    repl = ReplProcess(mapped_cmd(olean), memory_mb=CAP_MB, memory_poll_s=0.05)
    repl.start()
    try:
        repl.request({"cmd": HEADER}, 30)
        sample = repl.memory()
    finally:
        repl.close()
    assert sample.exact, "smaps_rollup unreadable: the test would prove nothing"
    assert sample.rss_mb > FILE_MB and sample.uss_mb > FILE_MB  # the file, counted as its own
    assert sample.private_mb < CAP_MB


def test_the_cap_trips_on_private_growth_not_on_the_shared_mapping(
    tmp_path: Path, olean: Path
) -> None:
    pool = ReplPool(mapped_config(tmp_path, olean, workers=2), mapped_cmd(olean))
    try:
        results = pool.run(ok_jobs(20))
        assert [r.status for r in results] == [CheckStatus.OK] * 20
        samples = pool.worker_memory()
        assert len(samples) == 2  # both workers up, both mapping the file
        for sample in samples:
            assert sample.rss_mb > CAP_MB  # an RSS cap would have killed them
            assert sample.shared_mb > FILE_MB * 0.9  # the pages are the other worker's too
            assert sample.private_mb < CAP_MB
        results = pool.run([BLOW_UP, *ok_jobs(4)])
    finally:
        pool.close()
    assert results[0].status is CheckStatus.OUT_OF_MEMORY
    assert f"of private memory, over the {CAP_MB} MB cap" in (results[0].reason or "")
    assert [r.status for r in results[1:]] == [CheckStatus.OK] * 4


def test_a_worker_over_the_cap_is_replaced(tmp_path: Path, olean: Path) -> None:
    pool = ReplPool(mapped_config(tmp_path, olean, workers=1), mapped_cmd(olean))
    try:
        results = pool.run([*ok_jobs(2), BLOW_UP, *ok_jobs(2)])
    finally:
        pool.close()
    statuses = [r.status for r in results]
    assert statuses == [CheckStatus.OK] * 2 + [CheckStatus.OUT_OF_MEMORY] + [CheckStatus.OK] * 2
    assert pool.stats.processes == 2


# ---------------------------------------------------------------- sizing


def test_an_unset_workers_sizes_the_pool_from_the_first_worker_and_the_memory_available(
    tmp_path: Path, olean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    budgets: list[MemorySample] = []

    def budget(sample: MemorySample, memory_mb: float) -> float:
        budgets.append(sample)
        return 50.0

    monkeypatch.setattr(memory, "worker_budget_mb", budget)
    monkeypatch.setattr(memory, "available_mb", lambda: 170.0)  # 0.9 * 170 / 50: 3 more
    monkeypatch.setattr(memory, "default_workers", lambda: 8)
    pool = ReplPool(mapped_config(tmp_path, olean, workers=None), mapped_cmd(olean))
    try:
        results = pool.run(ok_jobs(8))
        assert all(r.status is CheckStatus.OK for r in results)
        assert pool.size == 4 and (pool.sizing or "").startswith("4 worker(s)")
        (first,) = budgets  # measured once, on the first worker with its header imported
        assert first.rss_mb > FILE_MB and first.private_mb < CAP_MB
        monkeypatch.setattr(memory, "default_workers", lambda: 2)
        pool.run(ok_jobs(4))
        assert pool.size == 4  # sized once
    finally:
        pool.close()


def test_an_explicit_workers_setting_wins(
    tmp_path: Path, olean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never() -> float:
        raise AssertionError("a pool with workers set must not size itself")

    monkeypatch.setattr(memory, "available_mb", never)
    pool = ReplPool(mapped_config(tmp_path, olean, workers=1), mapped_cmd(olean))
    try:
        assert all(r.ok for r in pool.run(ok_jobs(3)))
        assert pool.size == 1 and pool.sizing is None
    finally:
        pool.close()


# ---------------------------------------------------------------- doctor


def test_doctor_reports_shared_and_private_memory_and_the_suggested_workers(
    tmp_path: Path, olean: Path
) -> None:
    report = doctor(mapped_config(tmp_path, olean, workers=None))
    assert report.ok, report.render()
    rows = dict(report.rows)
    worker = rows["worker 1 memory"]
    assert "private" in worker and "shared" in worker and "USS" in worker and "PSS" in worker
    assert rows["memory cap"].startswith(f"{CAP_MB} MB of private (anonymous) memory")
    assert "MB of" in rows["memory available"]
    suggested = rows["suggested workers"]
    assert suggested.split(":")[0].isdigit() and "workers unset" in suggested


# ---------------------------------------------------------------- polling cheaply


def test_polling_reads_smaps_only_when_the_cap_could_be_crossed(
    olean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mmap
    import os

    with olean.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        sum(mapped[i] for i in range(0, len(mapped), mmap.PAGESIZE))  # every page resident
        tree = memory.TreeMemory(os.getpid(), exact_every_s=3600)
        assert tree.rss_mb() > FILE_MB
        reads: list[MemorySample] = []
        real = memory.TreeMemory.sample

        def counted(self: memory.TreeMemory) -> MemorySample:
            reads.append(real(self))
            return reads[-1]

        monkeypatch.setattr(memory.TreeMemory, "sample", counted)
        _, sample = tree.poll(cap_mb=tree.rss_mb() + FILE_MB)
        assert sample is None and reads == []  # the RSS is under the cap: nothing to read
        cap = tree.rss_mb() - FILE_MB / 2  # under the RSS, far over the private memory
        _, sample = tree.poll(cap_mb=cap)
        assert sample is not None and len(reads) == 1 and sample.private_mb < cap
        _, again = tree.poll(cap_mb=cap)
        assert again is None and len(reads) == 1  # private + RSS growth: still under the cap
        tree = memory.TreeMemory(os.getpid(), exact_every_s=0)
        tree.poll(cap_mb=cap)
        tree.poll(cap_mb=cap)
        assert len(reads) == 3  # with no time between exact readings, each poll reads
