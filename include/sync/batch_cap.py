"""Deltek's batch cap, as an option (``max_project_batches``; 0, the default, runs every batch in one run).

With a cap of N, a run applies the first N batches of Ajera -> CRM project work and logs how many re-runs
remain, in Deltek's words. While such a backlog remains, project changes going CRM -> Ajera wait (logged,
as Deltek's sync does), and the project watermarks stay where they were, so nothing read in a capped run is
lost: the next run reads it again, and what this run synced is in step by then. The run that empties the
backlog ends with ``Sync Completed``.
"""

from __future__ import annotations

import math

from include.sync import journal
from include.sync.actions import CreateInAjera, Update, from_row
from include.sync.db import SyncDatabase, Tx
from include.sync.enums import ActionStatus, Direction, LogAction
from include.sync.record_types import RecordType
from include.sync.runs import RunOptions

CAPPED_TYPE = "project"


def backlog_message(batch_size: int, reruns: int) -> str:
    return (f"The sync contained more than {batch_size} projects. Please re-run the manual or auto sync "
            f"{reruns} more times to sync all remaining projects.")


def _held(row: object) -> bool:
    """Whether a stored action waits while a backlog remains: a create in Ajera, or an update with changes for
    Ajera (a link is not held, whichever way its fields go)."""
    action = from_row(row)
    return isinstance(action, CreateInAjera) or (isinstance(action, Update) and bool(action.to_ajera))


def cap(tx: Tx, rt: RecordType, run_id: str, options: RunOptions) -> bool:
    """Cut the stored plan to the cap when it has more batches than that; True when a backlog remains.
    Call after the plan is stored and before its batches are assigned."""
    limit = options.max_project_batches
    if rt.name != CAPPED_TYPE or not limit or options.dry_run:
        return False
    rows = tx.rows("plan_rows", {"run_id": run_id, "record_type": rt.name})
    if math.ceil(len(rows) / options.batch_size) <= limit:
        return False
    waits = [_held(r) for r in rows]  # each stored action parsed once
    held = [r for r, w in zip(rows, waits, strict=True) if w]
    flowing = [r for r, w in zip(rows, waits, strict=True) if not w]
    updates = []
    for rank, row in enumerate(flowing):
        batch_no = rank // options.batch_size
        status = ActionStatus.PENDING if batch_no < limit else ActionStatus.DEFERRED
        updates.append({"seq": row.seq, "batch_no": batch_no, "status": status.value})
    updates += [{"seq": r.seq, "batch_no": -1, "status": ActionStatus.HELD.value} for r in held]
    tx.execute("set_action_batch", [{"run_id": run_id, "record_type": rt.name, **u} for u in updates])
    remaining = math.ceil(len(flowing) / options.batch_size) - limit
    if remaining <= 0:  # the held CRM -> Ajera work made it look longer: no backlog of Ajera -> CRM work
        tx.execute("set_action_batch", [{"run_id": run_id, "record_type": rt.name, "seq": r.seq, "batch_no": limit,
                                         "status": ActionStatus.PENDING.value} for r in held])
        return False
    for row in held:
        journal.log(tx, run_id, rt.name, LogAction.SKIPPED, "waits: CRM -> Ajera project changes are synced once the "
                    "Ajera -> CRM backlog is empty (batch cap)", direction=Direction.CRM_TO_AJERA,
                    ajera_key=row.ajera_key, crm_key=row.crm_key, name=row.record_name)
    journal.log(tx, run_id, rt.name, LogAction.BACKLOG,
                backlog_message(options.batch_size, math.ceil(remaining / limit)))
    return True


def announcements(db: SyncDatabase, run_id: str) -> dict[str, str]:
    """Record type -> the re-run announcement of this run, if it left a backlog."""
    return {r.record_type: r.message for r in db.rows("backlog_in_run", {"run_id": run_id})}
