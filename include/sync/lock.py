"""The sync lock: one sync at a time against one sync database.

Two syncs writing at once (two deployments, or a manual run beside a scheduled one on another Airflow)
each plan creates from the same snapshot and both carry them out: duplicates on both sides. So every step
of a run holds a lease row in the sync database before it touches anything.

A lease row, not a PostgreSQL advisory lock, on both databases: a DAG run is many task processes, one
after the other, often on different workers, and a session advisory lock dies with the connection of the
process that took it. The lease names the run holding it; each step of that run renews it (``ttl``),
the run's last step releases it, and a lease not renewed within its ``ttl`` (a sync process killed and
never retried) can be taken over. Taking and renewing is one conditional upsert, atomic on SQLite and
PostgreSQL alike.

A run's first task waits for the lease in Airflow (``take_turn``, from the DAG's sensor); a later step of
another run finding the lease held waits up to ``wait`` seconds, then stops with ``SyncLocked`` naming the
run that holds it (Airflow's retries then wait longer).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from include.sync import declared
from include.sync.db import SyncDatabase, format_ts
from include.sync.settings import Settings

POLL_SECONDS = 0.5
_TTL_ENV = declared.specs(Settings)["lock_ttl_seconds"].env


class SyncLocked(RuntimeError):
    """Another sync run holds the lock on this sync database."""


@dataclass(frozen=True)
class Lease:
    holder: str
    acquired_at: datetime
    expires_at: datetime


def _ttl() -> float:
    return Settings.from_env().lock_ttl_seconds


def current(db: SyncDatabase) -> Lease | None:
    rows = db.rows("get_sync_lock", {})
    if not rows:
        return None
    row = rows[0]
    # Both columns are NOT NULL and always written by format_ts, so they parse to a datetime.
    return Lease(row.holder, datetime.fromisoformat(row.acquired_at), datetime.fromisoformat(row.expires_at))


def try_hold(db: SyncDatabase, run_id: str, ttl: float | None = None) -> bool:
    """Take or renew the lease for ``run_id``; False if another run holds a live lease."""
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=_ttl() if ttl is None else ttl)
    with db.begin() as tx:
        tx.execute("take_sync_lock", {"holder": run_id, "now": format_ts(now), "expires": format_ts(expires)})
        holder: str | None = tx.scalar("sync_lock_holder", {})
        return holder == run_id


def hold(db: SyncDatabase, run_id: str, wait: float | None = None, ttl: float | None = None) -> None:
    """Hold the lease for ``run_id`` (taking it, renewing it, or waiting for it), or raise ``SyncLocked``."""
    deadline = time.monotonic() + (Settings.from_env().lock_wait_seconds if wait is None else wait)
    while not try_hold(db, run_id, ttl):
        if time.monotonic() >= deadline:
            lease = current(db)
            holder = (f"run {lease.holder!r} (holding it since {lease.acquired_at.isoformat()}, "
                      f"until {lease.expires_at.isoformat()} unless renewed)") if lease else "another run"
            raise SyncLocked(
                f"another sync is running against this sync database: {holder}. Run {run_id!r} stops rather "
                "than write beside it (that would create duplicates). It can go on once that run ends; a run "
                f"whose process died releases the lock when its lease expires ({_TTL_ENV})."
            )
        time.sleep(POLL_SECONDS)


def take_turn(db: SyncDatabase, run_id: str, is_active: Callable[[str], bool]) -> str | None:
    """Take the lease for a run about to start; None when taken, else the run that holds it.

    The DAG's first task calls this instead of ``hold`` so a run waits in Airflow (a sensor) rather than
    failing. A holder that ``is_active`` says no longer runs (failed, killed or marked by hand before its
    last task released the lease) is taken over at once instead of after its ``ttl``."""
    if try_hold(db, run_id):
        return None
    lease = current(db)
    if lease is None:  # released between the two reads
        return None if try_hold(db, run_id) else _holder(db)
    if is_active(lease.holder):
        return lease.holder
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=_ttl())
    with db.begin() as tx:
        taken = tx.execute("take_over_sync_lock", {"holder": run_id, "stale_holder": lease.holder,
                                                   "now": format_ts(now), "expires": format_ts(expires)})
    return None if taken else _holder(db)  # another waiter took it first


def _holder(db: SyncDatabase) -> str | None:
    lease = current(db)
    return lease.holder if lease else None


def release(db: SyncDatabase, run_id: str) -> None:
    db.execute("release_sync_lock", {"holder": run_id})
