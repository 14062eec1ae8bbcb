"""A backfill through Airflow's own ``airflow backfill create``, run by a real scheduler, syncs exactly its
window, one run at a time, and leaves the live watermarks alone.

The DAG's schedule is set to 10-second data intervals for this test (``AJERA_CRM_SYNC_CRON`` with a seconds
field) so that real edits, stamped by the simulators' clocks, fall before, inside and after a backfill's
window within a minute. The scheduler creates no scheduled runs (``use_job_schedule`` off): every run it
executes comes from the backfill."""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from include.sync import record_types, runs
from include.sync.db import SyncDatabase, parse_ts
from simulators import datagen
from tests.support.airflow_cluster import AirflowCluster
from tests.support.backends import LAST
from tests.support.engine import SMALL, Engine, airflow_connections, start_engine, stop_engine

pytestmark = pytest.mark.integration  # one Airflow cluster at a time: tests/support/scheduling.py

DAG_ID = "ajera_crm_sync"
STEP = 10  # seconds per data interval
FIRMS = ("firm",)


@pytest.fixture
def world(sync_db_url: str) -> Iterator[Engine]:
    engine, parts = start_engine(sync_db_url, datagen.generate(seed=7, sizes=SMALL))
    yield engine
    stop_engine(parts)


@pytest.fixture
def cluster(world: Engine, tmp_path: Path) -> Iterator[AirflowCluster]:
    home = tmp_path / "airflow-home"
    home.mkdir()
    cluster = AirflowCluster(home, {
        "SYNC_DATABASE_URL": world.db.url,
        "AJERA_CRM_SYNC_CRON": f"* * * * * */{STEP}",
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AJERA_CRM_RUN_LOCK_POKE_SECONDS": "2",
        "AJERA_CRM_RETRY_DELAY_SECONDS": "1",
        **airflow_connections(world, timeout=5),
    })
    try:
        cluster.cli("db", "migrate")
        cluster.cli("pools", "set", "ajera_crm_api", "4", "API concurrency of the sync")
        cluster.cli("dags", "reserialize")
        assert cluster.dag_parsed(DAG_ID)
        cluster.cli("dags", "unpause", DAG_ID)
        yield cluster
    finally:
        cluster.stop()


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat()


def _watermarks(db: SyncDatabase) -> dict[str, tuple[Any, Any]]:
    return {system: (db.scalar("get_watermark", {"system": system, "record_type": "firm"}),
                     db.scalar("watermark_updated_at", {"system": system, "record_type": "firm"}))
            for system in ("ajera", "crm")}


# The firm's phone in each system, named by the record type.
A_PHONE, C_PHONE = record_types.get("firm").field("phone").ajera, record_types.get("firm").field("phone").crm


def _edit_ajera(world: Engine, ajera_key: str, **changes: Any) -> None:
    baseline = world.ajera.get("Clients", [int(ajera_key)])[0]
    assert not world.ajera.update("Clients", [{**baseline, **changes}], [baseline]).errors


@pytest.mark.timeout(900)  # the runs' own wait below is 420 s
# A whole Airflow cluster for minutes: on the last backend only (tests/support/backends.py).
@pytest.mark.parametrize("sync_db_url", LAST, indirect=True)
def test_a_backfill_syncs_exactly_its_window_one_run_at_a_time(world: Engine, cluster: AirflowCluster) -> None:
    # The live state before the backfill: a first sync (in-process, while Airflow starts), its watermarks.
    assert world.sync(record_types=FIRMS).completed
    pairs = world.mappings("firm")
    w, x, y, z = pairs[0], pairs[1], pairs[2], pairs[3]
    watermarks_before = _watermarks(world.db)
    assert all(v[0] for v in watermarks_before.values()), watermarks_before

    # Before the window: W edited in Ajera. Then the window [start, start + 3 steps): X in Ajera and Y in
    # the CRM inside its first interval. After it: Z in the CRM.
    _edit_ajera(world, w.ajera_key, **{A_PHONE: "555-0001"})
    start = math.ceil(time.time() / STEP) * STEP
    _sleep_until(start + 0.2)
    _edit_ajera(world, x.ajera_key, Email="backfilled-x@example.com")
    world.crm.update("firm", y.crm_key, {C_PHONE: "555-0003"})
    assert time.time() < start + STEP - 0.5, "the machine was too slow to edit inside one interval"
    end = start + 3 * STEP
    _sleep_until(end + 0.2)
    world.crm.update("firm", z.crm_key, {C_PHONE: "555-0004"})

    cluster.cli("backfill", "create", "--dag-id", DAG_ID, "--from-date", _utc(start),
                "--to-date", _utc(start + 2 * STEP), "--dag-run-conf", json.dumps({"record_types": list(FIRMS)}))
    cluster.start(("api-server", "scheduler"))  # the DAG is serialized already: no DAG processor needed

    def backfill_runs() -> list[Any]:
        return cluster.metadata("SELECT run_id, state, data_interval_start, data_interval_end FROM dag_run "
                                "WHERE dag_id = :d AND run_type = 'backfill' ORDER BY logical_date", {"d": DAG_ID})

    def all_finished() -> list[Any] | None:
        found = backfill_runs()
        return found if len(found) == 3 and all(r.state in ("success", "failed") for r in found) else None

    # Three full DAG runs, one at a time, on a busy 2-core machine.
    done = cluster.wait("the three backfill runs to finish", all_finished, 420, interval=2)
    assert [r.state for r in done] == ["success"] * 3, _why(cluster, world, done)
    assert not cluster.metadata("SELECT run_id FROM dag_run WHERE run_type <> 'backfill'"), "only backfill runs ran"

    # Each run read its own data interval as the modified-date window (the run type seen as a backfill).
    sync_runs = {row.run_id: row for row in (world.db.rows("get_run", {"run_id": r.run_id})[0] for r in done)}
    for r in done:
        run = sync_runs[r.run_id]
        assert parse_ts(run.window_start) == _aware(r.data_interval_start), (run.window_start, r.data_interval_start)
        assert parse_ts(run.window_end) == _aware(r.data_interval_end)
        assert run.status == "succeeded"

    # The scheduler's listener set each run's note to its one-line summary.
    for r in done:
        notes = cluster.metadata("SELECT n.content FROM dag_run_note n JOIN dag_run d ON d.id = n.dag_run_id "
                                 "WHERE d.run_id = :r", {"r": r.run_id})
        assert [n.content for n in notes] == [runs.one_line(world.db, r.run_id)], (r.run_id, notes)
        assert notes[0].content.endswith("Sync Completed") and "window " in notes[0].content

    # One at a time: no two sync runs overlapped, although Airflow started all three (max_active_runs 10).
    spans = sorted((parse_ts(run.started_at), parse_ts(run.finished_at)) for run in sync_runs.values())
    for (_, earlier_end), (later_start, _) in itertools.pairwise(spans):
        assert earlier_end <= later_start, spans

    # Exactly the window: X and Y were carried across (in the first interval's run), W and Z were not.
    first_run, *later_runs = [r.run_id for r in done]
    changed = {(row.direction, row.ajera_key) for row in world.log(first_run)
               if row.action in ("updated", "created", "conflict")}
    assert changed == {("ajera_to_crm", x.ajera_key), ("crm_to_ajera", y.ajera_key)}, changed
    # (Flagged records waiting for a match suggestion's review are logged 'skipped' by every run.)
    assert not [row for run_id in later_runs for row in world.log(run_id)
                if row.action in ("updated", "created", "mapped", "unlinked", "conflict", "error")]
    assert world.crm.get("firm", x.crm_key)[record_types.get("firm").field("email").crm] == "backfilled-x@example.com"
    assert world.ajera.get("Clients", [int(y.ajera_key)])[0][A_PHONE] == "555-0003"
    assert world.crm.get("firm", w.crm_key)[C_PHONE] != "555-0001"
    assert world.ajera.get("Clients", [int(z.ajera_key)])[0][A_PHONE] != "555-0004"

    # The live watermarks did not move, so the next live run (no overlap) still finds W and Z, and does not
    # carry X and Y again.
    assert _watermarks(world.db) == watermarks_before
    live = world.sync(record_types=FIRMS, overlap_minutes=0)
    live_changes = {(row.direction, row.ajera_key) for row in world.log(live.run_id) if row.action == "updated"}
    assert live_changes == {("ajera_to_crm", w.ajera_key), ("crm_to_ajera", z.ajera_key)}, live_changes
    assert world.crm.get("firm", w.crm_key)[C_PHONE] == "555-0001"


def _why(cluster: AirflowCluster, world: Engine, dag_runs: list[Any]) -> str:
    out = []
    for r in dag_runs:
        tis = cluster.metadata("SELECT task_id, map_index, state, try_number FROM task_instance WHERE run_id = :r "
                               "AND state NOT IN ('success', 'skipped')", {"r": r.run_id})
        errors = [row.message for row in world.log(r.run_id) if row.action == "error"]
        out.append(f"{r.run_id} {r.state}: tasks {tis}; errors {errors}")
    return "\n".join(out) + "\n" + cluster.tail("scheduler", 60)


def _aware(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
