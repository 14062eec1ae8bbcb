"""Request spacing: a client's own (``RateLimiter``, across its threads) and one shared by every process on
a host (``SharedRateLimiter``: parallel Airflow tasks of one deployment).

Each client's own ``RateLimiter`` spaces only its own requests; with several apply tasks running at once
(up to the pool's slots) their sum would exceed the tenant's limit. The shared one keeps the next free slot
in a small file under an exclusive lock, so all processes using the same file share one spacing.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path


class RateLimiter:
    """Spaces requests at least ``1/rate`` seconds apart, across threads.

    Even spacing rather than a burst bucket: Ajera's throttle (~9 req/s) counts per short window, so a
    burst at start-up would be refused even though the average is fine.
    """

    def __init__(
        self,
        rate: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1.0 / rate if rate else 0.0
        self._next = 0.0
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def acquire(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self._interval
        if slot > now:
            self._sleep(slot - now)


class SharedRateLimiter:
    def __init__(self, rate: float, path: str | Path, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self.path = Path(path)
        self._clock = clock
        self._sleep = sleep

    def acquire(self) -> float:
        """Wait for this caller's slot; return the slot (clock time) it was granted."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            stored = os.pread(fd, 64, 0).strip()
            now = self._clock()
            slot = max(now, float(stored) if stored else 0.0)
            blob = repr(slot + self.interval).encode()
            os.ftruncate(fd, 0)
            os.pwrite(fd, blob, 0)
        finally:
            os.close(fd)  # also releases the lock
        if slot > now:
            self._sleep(slot - now)
        return slot


# Atomic in Redis: the next free slot, on Redis's own clock (hosts' clocks may disagree), microseconds.
_NEXT_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local stored = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, stored)
local interval = tonumber(ARGV[1])
redis.call('SET', KEYS[1], slot + interval, 'PX', math.ceil((slot - now + interval) / 1000) + 60000)
return {slot, now}
"""


class RedisRateLimiter:
    """The same spacing shared through Redis, so Celery workers on several hosts together hold the tenant's
    limit exactly: each request takes the next slot ``1/rate`` seconds after the previous one, whichever
    host it comes from."""

    def __init__(self, rate: float, url: str, key: str, sleep: Callable[[float], None] = time.sleep) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        import redis  # only deployments that share a limiter through Redis need the client

        self.interval_us = round(1_000_000 / rate)
        self.key = key
        self._redis = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=10)
        self._next_slot = self._redis.register_script(_NEXT_SLOT)
        self._sleep = sleep

    def acquire(self) -> float:
        """Wait for this caller's slot; return the slot (Redis clock, seconds) it was granted."""
        slot, now = (int(v) for v in self._next_slot(keys=[self.key], args=[self.interval_us]))
        if slot > now:
            self._sleep((slot - now) / 1_000_000)
        return slot / 1_000_000
