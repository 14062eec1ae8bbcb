"""Run one sync in-process, step by step in the DAG's order, without a scheduler.

Airflow runs the DAG in production and in the DAG tests. This runner calls the very same step functions
in the same order, for the property tests that need hundreds of runs and for the benchmark, where
Airflow's per-task overhead would hide what the sync itself costs.
"""

from __future__ import annotations

from collections.abc import Callable

from include.sync import apply, extract, finish, plan_step, record_types, runs, validate
from include.sync.db import SyncDatabase
from include.sync.project_children import step as children
from include.sync.staging import load_refs
from include.sync.systems import AjeraApi, AjeraSide, CrmApi, CrmSide


def run_sync(
    db: SyncDatabase,
    ajera: AjeraApi,
    crm: CrmApi,
    run_id: str,
    options: runs.RunOptions,
    on_step: Callable[[str], None] | None = None,
) -> finish.RunSummary:
    db.create_schema()
    runs.start_run(db, run_id, options)
    failed: set[str] = set()
    try:
        for name in options.record_types:
            if failed & set(record_types.DEPENDS_ON[name]):
                failed.add(name)  # as in the DAG: a type waits for the types it refers to
                continue
            _sync_type(db, ajera, crm, run_id, options, record_types.get(name), on_step, failed)
        if "project" in options.record_types and "project" not in failed:
            if on_step:
                on_step("project_children")
            children.sync_children(db, ajera, crm, run_id, options)
            children.consultant_backfill(db, ajera, crm, run_id, options)
    except Exception:
        # As the DAG's last task does (it runs whatever failed): the summary is written and the lock released.
        finish.finish_run(db, run_id, options)
        raise
    return finish.finish_run(db, run_id, options)


def _sync_type(db: SyncDatabase, ajera: AjeraApi, crm: CrmApi, run_id: str, options: runs.RunOptions,
               rt: record_types.RecordType, on_step: Callable[[str], None] | None, failed: set[str]) -> None:
    refs = load_refs(db, rt)
    ajera_side, crm_side = AjeraSide(ajera, refs), CrmSide(crm, refs)
    extract.extract(db, ajera_side, rt, run_id, options)
    extract.extract(db, crm_side, rt, run_id, options)
    for system in ("ajera", "crm"):
        validate.validate(db, rt, system, run_id)
    plan_step.match(db, rt, run_id, options)
    for batch_no in plan_step.diff(db, rt, run_id, options).batches:
        if on_step:
            on_step(f"{rt.name}.apply[{batch_no}]")
        apply.apply_batch(db, rt, run_id, batch_no, options, ajera_side, crm_side)
    try:
        finish.advance_watermarks(db, rt, run_id, options)
    except finish.RecordTypeFailed:
        failed.add(rt.name)  # logged; the summary reports the type as not completed
