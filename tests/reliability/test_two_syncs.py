"""Two syncs at once against one sync database (two deployments, or a manual run beside a scheduled one on
another Airflow): the sync lock lets one write at a time, so nothing is created twice on either side.

Each round starts two child processes at the same moment on a fresh world and a fresh sync database
(SQLite file, or a PostgreSQL schema with SYNC_TEST_POSTGRES_URL). The one without the lock waits for it
and then finds the work done; with no wait allowed, it stops with a message naming the run that holds it.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from include.sync import lock
from include.sync.db import SyncDatabase
from simulators import datagen
from tests.support.engine import start_engine, stop_engine
from tests.support.reliability import TINY, child_for, child_result, extra_copies, names, run_until_quiet

pytestmark = pytest.mark.integration
ROUNDS = 3


def _reference() -> dict:
    """Name counts after a single sync of the same world: what two syncs at once must also end with."""
    engine, parts = start_engine("sqlite://", datagen.generate(seed=11, sizes=TINY))
    try:
        run_until_quiet(engine)
        return names(engine)
    finally:
        stop_engine(parts)


def test_two_syncs_at_once_make_no_duplicates(new_db_url: Any) -> None:
    reference = _reference()
    duplicates = 0
    for round_no in range(ROUNDS):
        url = new_db_url()
        engine, parts = start_engine(url, datagen.generate(seed=11, sizes=TINY))
        try:
            child = child_for(engine, url)
            procs = [child.start(f"deployment-{d}-round-{round_no}") for d in "ab"]
            outs = [p.communicate(timeout=180) for p in procs]
            for proc, (out, err) in zip(procs, outs):
                assert proc.returncode == 0, err[-3000:]
                assert child_result(out).get("completed"), out
            run_until_quiet(engine)
            duplicates += extra_copies(reference, names(engine))
            assert names(engine) == reference
            db = SyncDatabase(url)
            runs = {r.run_id: r.status for r in db.rows("recent_runs", {"limit": 10})}
            db.dispose()
            assert sum(1 for r in runs if r.startswith("deployment-")) == 2
        finally:
            stop_engine(parts)
    print(f"\ntwo syncs at once: {ROUNDS} collisions, {duplicates} duplicates")
    assert duplicates == 0


def test_a_second_sync_stops_with_a_clear_message_or_waits_its_turn(new_db_url: Any) -> None:
    url = new_db_url()
    engine, parts = start_engine(url, datagen.generate(seed=11, sizes=TINY))
    db = SyncDatabase(url)
    try:
        lock.hold(db, "scheduled-run", wait=0)  # a sync running elsewhere holds the lock
        child = child_for(engine, url)
        stopped = child.run("manual-run", env=child.env(AJERA_CRM_LOCK_WAIT_SECONDS="0"))
        assert stopped.returncode != 0
        assert "SyncLocked" in stopped.stderr and "'scheduled-run'" in stopped.stderr, stopped.stderr[-2000:]
        assert "stops rather than write beside it" in stopped.stderr
        assert not engine.mappings("firm"), "the stopped run wrote"
        waiting = child.start("manual-run-2", env=child.env(AJERA_CRM_LOCK_WAIT_SECONDS="120"))
        time.sleep(1.0)
        assert waiting.poll() is None, "the second run did not wait for the lock"
        lock.release(db, "scheduled-run")  # the other sync ends
        out, err = waiting.communicate(timeout=180)
        assert waiting.returncode == 0, err[-3000:]
        assert child_result(out).get("completed")
        assert lock.current(db) is None
    finally:
        db.dispose()
        stop_engine(parts)
