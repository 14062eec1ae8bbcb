"""The match and diff steps: run the planner on the run's picture and store the plan.

``match`` (first-time name matching) stores the links it finds when a record type has no mappings yet;
``diff`` stores the rest (updates, unlinks, links and creates for flagged records), then cuts the whole
plan into batches for the mapped apply tasks. Both compute the same deterministic matching from the same
snapshot (the diff needs what it took and suggested), only the diff the changes, and each stores only its own
part, in one transaction, so a retried task starts clean.
A dry run logs every action as ``planned`` and hands no batch to apply; nothing else is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from include.sync import batch_cap, dropped_refs, journal, lock, review
from include.sync.actions import Action, Update, changed_fields, writes_ajera
from include.sync.db import SyncDatabase, Tx, format_ts, utcnow
from include.sync.enums import ActionKind, Direction, LogAction, PlannedBy
from include.sync.model import Record
from include.sync.plan_model import Note, Plan
from include.sync.record_types import RecordType
from include.sync.runs import RunOptions
from include.sync.staging import is_first_sync

if TYPE_CHECKING:
    from include.sync.plan_frames import DbLoader

# A dry run's log row of each kind of action: its direction and what it would do.
_DESCRIBE = {
    ActionKind.LINK: (Direction.BOTH, "link the same-named records"),
    ActionKind.UPDATE: (Direction.BOTH, "update the changed fields"),
    ActionKind.CREATE_IN_CRM: (Direction.AJERA_TO_CRM, "create in the CRM"),
    ActionKind.CREATE_IN_AJERA: (Direction.CRM_TO_AJERA, "create in Ajera"),
}


@dataclass(frozen=True)
class PlanResult:
    record_type: str
    actions: int
    batches: list[int]
    unlinks: int = 0
    conflicts: int = 0


def _compute(db: SyncDatabase, rt: RecordType, run_id: str, options: RunOptions,
             with_changes: bool = True) -> tuple[Plan, Plan]:
    """Both plans (the change plan only ``with_changes``: match stores only its own), from columns streamed
    from the run's picture; only the records the plan names are read whole. A quarantined record is still
    there: its bare key keeps its mapping from being removed."""
    # pandas is imported here, when a plan is made, not when the DAG file that reaches this module is parsed.
    from include.sync.plan_columns import plan_from_database
    from include.sync.plan_frames import DbLoader
    from include.sync.suggestion_memo import Memo

    load = DbLoader(db, run_id, rt)
    reviewed = {(r.ajera_key, r.crm_key): r.status for r in db.rows("reviewed_suggestions", {"record_type": rt.name})}
    matching, changes = plan_from_database(db, rt, run_id, load, options.planner_options, reviewed,
                                           decisions=review.pending_decisions(db, rt.name),
                                           first_sync=is_first_sync(db, rt), with_changes=with_changes,
                                           suggester=Memo(db, rt, run_id, store=not options.dry_run))
    if rt.references:
        named = [_named_records(load, plan) for plan in (matching, changes)]
        known = dropped_refs.Known(db, run_id, dropped_refs.referenced_keys(
            record for ajera, crm in named for record in (*ajera.values(), *crm.values())))
        for plan, (ajera, crm) in zip((matching, changes), named):
            plan.notes.extend(dropped_refs.notes(rt, plan.actions, ajera, crm, known, options.mode)
                              + dropped_refs.not_created(rt, plan.notes, ajera, crm, known, options.mode))
    return matching, changes


def _named_records(load: DbLoader, plan: Plan) -> tuple[dict[str, Record], dict[str, Record]]:
    """The records a plan's actions and single-record notes name, per side (what ``dropped_refs`` reads)."""
    named: list[Action | Note] = [*plan.actions, *(n for n in plan.notes if bool(n.ajera_key) != bool(n.crm_key))]
    return (load.records("ajera", [x.ajera_key for x in named if x.ajera_key]),
            load.records("crm", [x.crm_key for x in named if x.crm_key]))


def _applying(db: SyncDatabase, rt: RecordType, run_id: str) -> list[int] | None:
    """The run's batches of this type once apply has started on them, else None. From then on the plan
    is fixed: planning again from the old snapshot, with the mappings apply has since written, would see
    the records it created as missing and unlink them."""
    rows = db.rows("batch_statuses", {"run_id": run_id, "record_type": rt.name})
    if any(status != "pending" for _, status in rows):
        return [batch_no for batch_no, _ in rows]
    return None


def match(db: SyncDatabase, rt: RecordType, run_id: str, options: RunOptions) -> PlanResult:
    lock.hold(db, run_id)
    if _applying(db, rt, run_id) is not None:
        return PlanResult(rt.name, 0, [])
    matching, _ = _compute(db, rt, run_id, options, with_changes=False)
    proposed = {(r.ajera_key, r.crm_key) for r in db.rows("reviewed_suggestions", {"record_type": rt.name})}
    with db.begin() as tx:
        _store(tx, rt, run_id, options, matching, PlannedBy.MATCH, start=0)
        # Suggested again while nobody decides: stored and logged the first time only.
        for s in (s for s in matching.suggestions if (s.ajera_key, s.crm_key) not in proposed):
            if not options.dry_run:
                tx.execute("upsert_suggestion", {
                    "record_type": rt.name, "ajera_key": s.ajera_key, "crm_key": s.crm_key, "ajera_name": s.ajera_name,
                    "crm_name": s.crm_name, "score": s.score, "method": s.method, "run_id": run_id, "now": utcnow()})
            journal.log(tx, run_id, rt.name, LogAction.PLANNED if options.dry_run else LogAction.SUGGESTED,
                        f"{'dry run: ' if options.dry_run else ''}possible match ({s.method}, score {s.score:.0f}): "
                        f"Ajera {s.ajera_name!r} / CRM {s.crm_name!r}; accept it to link them",
                        direction=Direction.NONE, ajera_key=s.ajera_key, crm_key=s.crm_key, name=s.ajera_name)
    return PlanResult(rt.name, len(matching.actions), [])


def diff(db: SyncDatabase, rt: RecordType, run_id: str, options: RunOptions) -> PlanResult:
    lock.hold(db, run_id)
    started = _applying(db, rt, run_id)
    if started is not None:
        return PlanResult(rt.name, 0, started)  # a retried or cleared diff hands out the same batches
    _, changes = _compute(db, rt, run_id, options)
    with db.begin() as tx:
        start = tx.scalar("count_planned", {"run_id": run_id, "record_type": rt.name,
                                            "planned_by": PlannedBy.MATCH.value})
        actions = _store(tx, rt, run_id, options, changes, PlannedBy.DIFF, start=start)
        tx.execute("clear_batches", {"run_id": run_id, "record_type": rt.name})
        capped = batch_cap.cap(tx, rt, run_id, options)
        if not capped:
            tx.execute("assign_batches", {"run_id": run_id, "record_type": rt.name, "batch_size": options.batch_size})
        sizes = [(b, n) for b, n in tx.rows("batch_sizes", {"run_id": run_id, "record_type": rt.name})
                 if not capped or 0 <= b < options.max_project_batches]
        if not options.dry_run:
            tx.execute("insert_batch", [{"run_id": run_id, "record_type": rt.name, "batch_no": b, "action_count": n}
                                        for b, n in sizes])
            for mapping in changes.unlinks:
                tx.execute("delete_mapping", {"record_type": rt.name, "ajera_key": mapping.ajera_key,
                                              "crm_key": mapping.crm_key})
            latest = datetime.now(UTC) + timedelta(seconds=options.clock_skew_seconds)
            tx.execute("refresh_crm_dates", {"run_id": run_id, "record_type": rt.name, "latest": format_ts(latest)})
    batches = [] if options.dry_run else [b for b, _ in sizes]
    return PlanResult(rt.name, actions, batches, len(changes.unlinks), len(changes.conflicts))


def _store(tx: Tx, rt: RecordType, run_id: str, options: RunOptions, plan: Plan, planned_by: PlannedBy,
           start: int) -> int:
    tx.execute("clear_plan", {"run_id": run_id, "record_type": rt.name, "planned_by": planned_by.value})
    # Actions that write Ajera first, in plan order otherwise: they fill as few batches as they can, and each
    # batch writes its Ajera records in one Update call (per the client's records per Update), so the Update
    # calls follow the records, not the number of batches.
    actions = sorted((a for a in plan.actions if not _is_noop(a)), key=lambda a: not writes_ajera(a))
    tx.execute("insert_action", [
        {"run_id": run_id, "record_type": rt.name, "seq": start + i, "planned_by": planned_by.value, **a.to_row()}
        for i, a in enumerate(actions)
    ])
    dry = "dry run: " if options.dry_run else ""
    if options.dry_run:
        for a in actions:
            direction, verb = _DESCRIBE[a.kind]
            journal.log(tx, run_id, rt.name, LogAction.PLANNED, f"{dry}would {verb}{_fields_note(a)}",
                        direction=direction, ajera_key=a.ajera_key, crm_key=a.crm_key, name=a.name)
    journal.notes(tx, run_id, rt.name, plan.notes, options.dry_run, settle=planned_by == PlannedBy.DIFF)
    for c in plan.conflicts:
        journal.conflict(tx, run_id, rt.name, c, options.dry_run)
    return len(actions)


def _is_noop(action: Action) -> bool:
    # An update carrying a person's conflict decision is kept even with nothing to write (both sides already
    # agree): apply records the decision as carried out and both sides as synced.
    return isinstance(action, Update) and not action.to_crm and not action.to_ajera and not action.decisions


def _fields_note(action: Action) -> str:
    changed = changed_fields(action)
    return f" ({', '.join(changed)})" if changed else ""

