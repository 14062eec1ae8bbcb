"""Reads ahead: rate-limited Ajera calls overlapping the rest (the runner's steps at once: test_engine.py)."""

from __future__ import annotations

import time

import pytest

from include.sync.read_ahead import ReadAhead


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
