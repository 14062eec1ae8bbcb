"""Which projects the children read again (``since_read.changed_since_read``): those staged whole as changed,
mapped, and modified after the start of the run that last read them (less the clock skew), and the mapped ones
an earlier run's children did not get to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from include.sync.db import SyncDatabase, format_ts
from include.sync.model import Record
from include.sync.project_children.context import ChildContext
from include.sync.project_children.since_read import ACCOUNTING, RESOURCES, changed_since_read
from include.sync.record_types import PROJECT
from include.sync.runs import RunOptions
from include.sync.staging import stage

EARLIER_START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _project(key: str, modified: datetime, whole: bool = True, unchanged: bool = False) -> Record:
    raw = {"ProjectKey": int(key), "Description": f"Project {key}"} if whole else None
    return Record("ajera", key, f"Project {key}", modified, True, {}, raw=raw, unchanged=unchanged)


def test_only_projects_changed_since_their_last_read_are_read_again(sync_db: SyncDatabase) -> None:
    skew = RunOptions().clock_skew_seconds
    before, after = EARLIER_START - timedelta(minutes=5), EARLIER_START + timedelta(seconds=skew + 60)
    with sync_db.begin() as tx:
        stage(tx, "now", PROJECT, "ajera", [
            _project("1", after),  # changed after its last read: read again
            _project("2", before),  # the overlap's re-list, read before: not again
            _project("3", before),  # never read: read
            _project("4", after, unchanged=True),  # staged from its copy, changed after its last read: read
            _project("5", after),  # not mapped
            _project("6", before, whole=False),  # a bare list row
            _project("7", before),  # read by this very run (an earlier child): read again
            _project("8", after),  # quarantined by validate: left out
        ])
        tx.execute("quarantine_staged", {"run_id": "now", "system": "ajera", "record_type": "project",
                                         "record_key": "8"})
        for run_id, started in (("earlier", EARLIER_START), ("now", EARLIER_START + timedelta(hours=1))):
            tx.execute("start_run", {"run_id": run_id, "started_at": format_ts(started), "mode": "two_way",
                                     "dry_run": 0, "record_types": "project", "window_start": None,
                                     "window_end": None, "options": "{}"})
        for key, run_id in (("1", "earlier"), ("2", "earlier"), ("4", "earlier"), ("5", "earlier"),
                            ("6", "earlier"), ("7", "now")):
            tx.execute("mark_resources_read", {"ajera_key": key, "run_id": run_id})
        for key in ("1", "3", "8"):  # the totals were read by the earlier run: 2 and 7 never
            tx.execute("upsert_project_accounting", {"ajera_key": key, "crm_key": f"P{key}", "totals_hash": "h",
                                                     "now": format_ts(EARLIER_START), "written_at": None,
                                                     "run_id": "earlier"})
    ctx = ChildContext(sync_db, None, None, "now", RunOptions())
    mapped = {"1", "2", "3", "4", "6", "7", "8"}
    assert changed_since_read(ctx, mapped, RESOURCES) == ["1", "3", "4", "7"]
    assert changed_since_read(ctx, mapped, ACCOUNTING) == ["1", "2", "4", "7"]


def test_a_mapped_project_an_earlier_runs_children_did_not_reach_is_read_though_not_staged(
        sync_db: SyncDatabase) -> None:
    """An earlier run staged projects 11 and 12 as changed, and its children step failed before reading 11.
    This run stages neither (their modified dates are behind its window): the picture still says 11 changed
    after its last read, so it is read now; 12 was read after its change, and 13 is not mapped."""
    changed_at = EARLIER_START + timedelta(hours=1)
    with sync_db.begin() as tx:
        runs = (("long-ago", EARLIER_START - timedelta(days=30)), ("failed", changed_at + timedelta(minutes=5)),
                ("now", changed_at + timedelta(hours=2)))
        for run_id, started in runs:
            tx.execute("start_run", {"run_id": run_id, "started_at": format_ts(started), "mode": "two_way",
                                     "dry_run": 0, "record_types": "project", "window_start": None,
                                     "window_end": None, "options": "{}"})
        stage(tx, "failed", PROJECT, "ajera", [_project(k, changed_at) for k in ("11", "12", "13")])
        stage(tx, "now", PROJECT, "ajera", [], swept=False)
        for key in ("11", "12"):
            tx.execute("insert_mapping", {
                "record_type": "project", "ajera_key": key, "crm_key": f"P{key}", "match_method": "created_in_crm",
                "ajera_modified": None, "crm_modified": None, "ajera_hash": None, "crm_hash": None,
                "ajera_fields": "{}", "crm_fields": "{}", "run_id": "long-ago", "now": format_ts(EARLIER_START),
                "synced_at": None})
        for key, run_id in (("11", "long-ago"), ("12", "failed"), ("13", "long-ago")):
            tx.execute("mark_resources_read", {"ajera_key": key, "run_id": run_id})
            tx.execute("upsert_project_accounting", {"ajera_key": key, "crm_key": f"P{key}", "totals_hash": "h",
                                                     "now": format_ts(EARLIER_START), "written_at": None,
                                                     "run_id": run_id})
    ctx = ChildContext(sync_db, None, None, "now", RunOptions())
    mapped = {"11", "12"}
    assert changed_since_read(ctx, mapped, RESOURCES) == ["11"]
    assert changed_since_read(ctx, mapped, ACCOUNTING) == ["11"]
