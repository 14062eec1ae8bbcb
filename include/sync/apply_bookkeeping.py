"""The bookkeeping of one batch's writes: mappings, sync state, action status and log rows.

Kept apart from the writes (``apply``) so each step's record is made the same way whichever thread's
write it follows: every database write of a batch happens on the thread that runs the batch.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from include.sync import journal
from include.sync.actions import CreateInAjera, CreateInCrm, Link, Update
from include.sync.apply_steps import Step, direction, link_message, update_message, verb
from include.sync.concurrent import synced_state
from include.sync.db import SyncDatabase, Tx, utcnow
from include.sync.enums import ActionStatus, Direction, LinkMethod, LogAction
from include.sync.planner import MappingState
from include.sync.record_types import RecordType
from include.sync.runs import RunOptions
from include.sync.secrets import scrub


class Bookkeeping:
    """Mixed into ``BatchApplier``: the records it keeps of each step."""

    db: SyncDatabase
    rt: RecordType
    run_id: str
    options: RunOptions
    retry: bool
    mappings: dict[str, MappingState]
    mapped_crm: set[str]
    counts: Counter[str]

    def _record(self, tx: Tx, step: Step) -> None:
        """Bookkeeping of a link or an update once its writes are done."""
        self._decisions_done(tx, step)
        if isinstance(step.action, Update) and not step.to_crm and not step.to_ajera:
            # Both sides already hold the values: only the sync state moves. On a retry, an earlier try of
            # this task wrote them and died before recording it: record it now, once, as that try would have.
            self._mark_synced(tx, step)
            if self.retry and (step.planned[0] or step.planned[1]):
                step.to_crm, step.to_ajera = step.planned
                self._done(tx, step, LogAction.UPDATED, direction(step),
                           update_message(step) + " (by an earlier try)")
            else:
                self._set_status(tx, step, ActionStatus.DONE)
        elif isinstance(step.action, Link):
            self._link(tx, step, step.action.method)
            self._done(tx, step, LogAction.MAPPED, Direction.BOTH, link_message(step))
        else:
            self._mark_synced(tx, step)
            self._done(tx, step, LogAction.UPDATED, direction(step), update_message(step))

    def _decisions_done(self, tx: Tx, step: Step) -> None:
        """Conflicts a person decided that this write carried out: marked applied, so no run redoes them."""
        decisions = step.action.decisions if isinstance(step.action, Update) else None
        for name, winner in sorted((decisions or {}).items()):
            tx.execute("mark_decision_applied", {"record_type": self.rt.name, "ajera_key": step.ajera_key,
                                                 "crm_key": step.crm_key, "field_name": name, "run_id": self.run_id,
                                                 "now": utcnow()})
            journal.log(tx, self.run_id, self.rt.name, LogAction.RESOLVED,
                        f"conflict on {name} resolved as reviewed: took {'Ajera' if winner == 'ajera' else 'the CRM'}"
                        f"'s value", direction=Direction.AJERA_TO_CRM if winner == "ajera" else Direction.CRM_TO_AJERA,
                        ajera_key=step.ajera_key, crm_key=step.crm_key, name=step.name)

    def _link(self, tx: Tx, step: Step, method: LinkMethod) -> None:
        assert step.ajera is not None and step.crm is not None
        tx.execute("insert_mapping", {
            "record_type": self.rt.name, "ajera_key": step.ajera.key, "crm_key": step.crm.key,
            "match_method": method.value, "run_id": self.run_id, "now": utcnow(), "synced_at": utcnow(),
            **self._state(step, None),
        })
        if method == LinkMethod.SUGGESTION:
            tx.execute("mark_suggestion_linked", {"record_type": self.rt.name, "ajera_key": step.ajera.key,
                                                  "crm_key": step.crm.key, "now": utcnow()})
        self.mappings[step.ajera.key] = MappingState(step.ajera.key, step.crm.key, None, None, None, None, None, None)
        self.mapped_crm.add(step.crm.key)

    def _mark_synced(self, tx: Tx, step: Step) -> None:
        previous = self.mappings.get(step.ajera_key or "")
        tx.execute("mark_synced", {"record_type": self.rt.name, "ajera_key": step.ajera_key, "now": utcnow(),
                                   **self._state(step, previous)})

    def _state(self, step: Step, previous: MappingState | None) -> dict[str, Any]:
        planned_crm, planned_ajera = step.planned
        return synced_state(self.rt, previous,
                            (step.ajera, step.seen_ajera,
                             None if isinstance(step.action, CreateInAjera) else planned_ajera),
                            (step.crm, step.seen_crm, None if isinstance(step.action, CreateInCrm) else planned_crm),
                            self.options.clock_skew_seconds)

    def _done(self, tx: Tx, step: Step, action: LogAction, direction: Direction, message: str) -> None:
        self._set_status(tx, step, ActionStatus.DONE)
        journal.log(tx, self.run_id, self.rt.name, action, message, direction=direction,
                    ajera_key=step.ajera_key, crm_key=step.crm_key, name=step.name)
        for system, key in (("ajera", step.ajera_key), ("crm", step.crm_key)):
            if key:
                journal.clear_failure(tx, self.rt.name, system, key)
        self.counts[action.value] += 1

    def _finish_failed(self, steps: list[Step]) -> None:
        for step in steps:
            if step.error is None or step.status == ActionStatus.FAILED:
                continue
            with self.db.begin() as tx:
                self._set_status(tx, step, ActionStatus.FAILED, step.error)
                journal.log(tx, self.run_id, self.rt.name, LogAction.ERROR, f"{verb(step)} failed: {step.error}",
                            direction=direction(step), ajera_key=step.ajera_key, crm_key=step.crm_key,
                            name=step.name)
                # Both sides are read again next run (whatever the watermark), so no change is lost.
                for system, key in (("ajera", step.ajera_key), ("crm", step.crm_key)):
                    if key:
                        journal.record_failure(tx, self.rt.name, system, key, step.error, self.options.poison_after)
            self.counts["error"] += 1

    def _set_status(self, tx: Tx, step: Step, status: ActionStatus, message: str | None = None) -> None:
        step.status = status
        tx.execute("set_action_status", {"run_id": self.run_id, "record_type": self.rt.name, "seq": step.seq,
                                         "status": status.value, "message": scrub(message) if message else None,
                                         "ajera_key": step.ajera_key,
                                         "crm_key": step.crm_key})
