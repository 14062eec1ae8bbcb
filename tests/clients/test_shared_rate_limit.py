"""The host-wide Ajera spacing: requests from several processes together keep 1/rate apart."""

from __future__ import annotations

import itertools
import multiprocessing
from pathlib import Path

from include.clients.ratelimit import SharedRateLimiter

RATE = 40.0


def _worker(path: str, count: int, out: multiprocessing.Queue[list[float]]) -> None:
    limiter = SharedRateLimiter(RATE, path)
    stamps = []
    for _ in range(count):
        stamps.append(limiter.acquire())
    out.put(stamps)


def test_two_processes_share_one_spacing(tmp_path: Path) -> None:
    path = str(tmp_path / "ajera.lock")
    queue: multiprocessing.Queue[list[float]] = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_worker, args=(path, 8, queue)) for _ in range(2)]
    for worker in workers:
        worker.start()
    stamps = sorted(queue.get(timeout=30) + queue.get(timeout=30))
    for worker in workers:
        worker.join(timeout=30)
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    # The slots granted across both processes: no two closer than one interval. (When a caller wakes up
    # is up to the OS scheduler; the slots are what the shared file guarantees.)
    assert len(stamps) == 16 and min(gaps) >= (1 / RATE) - 1e-6, gaps


def test_a_lone_caller_is_not_delayed_when_the_slot_is_free(tmp_path: Path) -> None:
    slept: list[float] = []
    limiter = SharedRateLimiter(RATE, tmp_path / "x.lock", clock=lambda: 1000.0, sleep=slept.append)
    limiter.acquire()
    limiter.acquire()
    assert len(slept) == 1 and abs(slept[0] - 1 / RATE) < 1e-9  # the first goes at once, the second waits
