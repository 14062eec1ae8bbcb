"""Read ahead from a rate-limited API on worker threads while the caller writes what it already read.

Ajera allows about 9 calls a second; the CRM writes and the bookkeeping that follow each read cost time
of their own. Done one after the other, the run takes the sum of both; with the reads going on meanwhile
it takes about the reads' time. Only the reads run on the workers (no database, no other client);
results come back in the caller's order, each read's error raised where its result is taken.

A few reads are in flight at once: an answer takes longer than the limit's spacing (1/9 s), so one read
at a time would leave the limit unused; the client's rate limiter still spaces their starts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Reads done but not yet taken, at most: bounds the memory a slow taker can pin (a few answers each).
WINDOW = 2000
IN_FLIGHT = 3  # reads at once: covers an answer time of up to three times the limit's spacing


class ReadAhead(Generic[T, R]):
    """``with ReadAhead(read, items) as ahead: for item, answer in ahead: answer.result() ...``; leaving the
    block cancels the reads not started (an error stops the reading too)."""

    def __init__(self, read: Callable[[T], R], items: Iterable[T], window: int = WINDOW,
                 in_flight: int = IN_FLIGHT) -> None:
        self._read = read
        self._items = iter(items)
        self._window = window
        self._pending: deque[tuple[T, Future[R]]] = deque()
        self._pool = ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="read-ahead")

    def __enter__(self) -> ReadAhead[T, R]:
        self._fill()
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pending.clear()

    def _fill(self) -> None:
        while len(self._pending) < self._window:
            item = next(self._items, _END)
            if item is _END:
                return
            self._pending.append((item, self._pool.submit(self._read, item)))  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[tuple[T, Future[R]]]:
        while self._pending:
            item, answer = self._pending.popleft()
            self._fill()
            yield item, answer


_END = object()
