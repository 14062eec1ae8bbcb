"""The sync lock: one run at a time per sync database, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest

from include.sync import lock
from include.sync.db import SyncDatabase


def test_a_second_run_stops_with_a_message_naming_the_holder(sync_db: SyncDatabase) -> None:
    lock.hold(sync_db, "run-a", wait=0)
    with pytest.raises(lock.SyncLocked, match=r"run 'run-a'.*Run 'run-b' stops"):
        lock.hold(sync_db, "run-b", wait=0)
    lock.hold(sync_db, "run-a", wait=0)  # its holder renews it
    lock.release(sync_db, "run-a")
    lock.hold(sync_db, "run-b", wait=0)
    assert lock.current(sync_db).holder == "run-b"  # type: ignore[union-attr]


def test_a_waiting_run_goes_on_once_the_holder_releases(sync_db: SyncDatabase) -> None:
    lock.hold(sync_db, "run-a", wait=0)
    releaser = threading.Timer(0.6, lock.release, (sync_db, "run-a"))
    releaser.start()
    started = time.monotonic()
    lock.hold(sync_db, "run-b", wait=10)
    assert time.monotonic() - started >= 0.5
    assert lock.current(sync_db).holder == "run-b"  # type: ignore[union-attr]


def test_an_expired_lease_is_taken_over_and_release_by_another_run_does_nothing(sync_db: SyncDatabase) -> None:
    lock.hold(sync_db, "dead-run", wait=0, ttl=0.2)
    time.sleep(0.3)
    lock.hold(sync_db, "next-run", wait=0)
    lock.release(sync_db, "dead-run")  # the dead run's last task, late: must not free the next run's lock
    assert lock.current(sync_db).holder == "next-run"  # type: ignore[union-attr]
    with pytest.raises(lock.SyncLocked):
        lock.hold(sync_db, "dead-run", wait=0)


def test_only_one_of_many_racing_runs_gets_it(sync_db: SyncDatabase) -> None:
    winners: list[str] = []
    barrier = threading.Barrier(6)

    def race(run_id: str) -> None:
        db = SyncDatabase(sync_db.url)
        barrier.wait()
        if lock.try_hold(db, run_id):
            winners.append(run_id)
        db.dispose()

    threads = [threading.Thread(target=race, args=(f"run-{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
