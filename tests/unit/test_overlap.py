"""The pieces that overlap rate-limited Ajera calls with the rest: reads ahead, and record types at once."""

from __future__ import annotations

import threading
import time

import pytest

from include.sync.read_ahead import ReadAhead
from include.sync.runner import Job, _run_jobs


def test_read_ahead_answers_in_order_while_the_caller_works() -> None:
    started: list[int] = []

    def read(n: int) -> int:
        started.append(n)
        time.sleep(0.01 * (5 - n % 5))  # later items answer first: the order must still be the caller's
        return n * n

    taken = []
    with ReadAhead(read, range(12), in_flight=3) as ahead:
        for n, answer in ahead:
            if n == 0:
                time.sleep(0.2)  # the caller busy with its first item: the reads go on meanwhile
                assert len(started) > 3, started
            taken.append((n, answer.result()))
    assert taken == [(n, n * n) for n in range(12)]


def test_read_ahead_raises_a_read_error_where_it_is_taken_and_stops_reading() -> None:
    started: list[int] = []

    def read(n: int) -> int:
        started.append(n)
        if n == 2:
            raise ValueError("refused")
        time.sleep(0.02)
        return n

    got = []
    with pytest.raises(ValueError, match="refused"), ReadAhead(read, range(200), window=5, in_flight=1) as ahead:
        for _, answer in ahead:
            got.append(answer.result())
    assert got == [0, 1]
    assert len(started) < 20, "reads not yet started were not cancelled"


def test_jobs_start_once_what_they_wait_for_is_done_and_independent_ones_overlap() -> None:
    order: list[str] = []
    both = threading.Barrier(2, timeout=5)  # breaks (an error) unless firm and vendor run at the same time

    def job(name: str, meet: bool = False) -> Job:
        def run() -> None:
            order.append(f"{name}+")
            if meet:
                both.wait()
            order.append(f"{name}-")
        return Job((), (), run)

    jobs = {"firm": job("firm", meet=True), "vendor": job("vendor", meet=True)}
    jobs["contact"] = Job(("firm",), ("firm",), job("contact").run)
    failed: set[str] = set()
    _run_jobs(jobs, failed, workers=3)
    assert order.index("contact+") > order.index("firm-")
    assert not failed


def test_a_job_needing_a_failed_one_is_skipped_and_one_only_waiting_goes_on() -> None:
    ran: list[str] = []
    failed: set[str] = set()

    def fails() -> None:
        ran.append("project")
        failed.add("project")  # as a record type whose watermarks could not move

    jobs = {
        "project": Job((), (), fails),
        "vendor": Job((), (), lambda: ran.append("vendor")),
        "children": Job(("project", "vendor"), ("project",), lambda: ran.append("children")),
        "after_vendor": Job(("vendor",), ("vendor",), lambda: ran.append("after_vendor")),
    }
    _run_jobs(jobs, failed, workers=4)
    assert "children" not in ran and "children" in failed
    assert "after_vendor" in ran


def test_the_first_error_stops_new_jobs_and_is_raised() -> None:
    ran: list[str] = []

    def boom() -> None:
        raise RuntimeError("the worker died")

    jobs = {"firm": Job((), (), boom), "contact": Job(("firm",), ("firm",), lambda: ran.append("contact"))}
    with pytest.raises(RuntimeError, match="the worker died"):
        _run_jobs(jobs, set(), workers=2)
    assert not ran
