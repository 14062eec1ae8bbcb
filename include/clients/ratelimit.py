"""A request spacing shared by every process on a host: parallel Airflow tasks of one deployment.

Each client's own ``RateLimiter`` spaces only its own requests; with several apply tasks running at once
(up to the pool's slots) their sum would exceed the tenant's limit. This one keeps the next free slot in a
small file under an exclusive lock, so all processes using the same file share one spacing.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import Callable


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
