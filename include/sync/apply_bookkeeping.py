"""The bookkeeping of one batch's writes: mappings, sync state, action status and log rows.

Kept apart from the writes (``apply``) so each step's record is made the same way whichever thread's
write it follows: every database write of a batch happens on the thread that runs the batch.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from include.sync import journal
from include.sync.apply_steps import Step, direction, link_message, update_message, verb
from include.sync.concurrent import synced_state
from include.sync.db import SyncDatabase, Tx, utcnow
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
        if step.kind == "update" and not step.to_crm and not step.to_ajera:
            # Both sides already hold the values: only the sync state moves. On a retry, an earlier try of
            # this task wrote them and died before recording it: record it now, once, as that try would have.
            self._mark_synced(tx, step)
            if self.retry and (step.planned[0] or step.planned[1]):
                step.to_crm, step.to_ajera = step.planned
                self._done(tx, step, "updated", direction(step), update_message(step) + " (by an earlier try)")
            else:
                self._set_status(tx, step, "done")
        elif step.kind == "link":
            self._link(tx, step, step.detail.get("method", "name_exact"))
            self._done(tx, step, "mapped", "both", link_message(step))
        else:
            self._mark_synced(tx, step)
            self._done(tx, step, "updated", direction(step), update_message(step))

    def _decisions_done(self, tx: Tx, step: Step) -> None:
        """Conflicts a person decided that this write carried out: marked applied, so no run redoes them."""
        for name, winner in sorted((step.detail.get("decisions") or {}).items()):
            tx.execute("mark_decision_applied", {"record_type": self.rt.name, "ajera_key": step.ajera_key,
                                                 "crm_key": step.crm_key, "field_name": name, "run_id": self.run_id,
                                                 "now": utcnow()})
            journal.log(tx, self.run_id, self.rt.name, "resolved",
                        f"conflict on {name} resolved as reviewed: took {'Ajera' if winner == 'ajera' else 'the CRM'}"
                        f"'s value", direction="ajera_to_crm" if winner == "ajera" else "crm_to_ajera",
                        ajera_key=step.ajera_key, crm_key=step.crm_key, name=step.name)

    def _link(self, tx: Tx, step: Step, method: str) -> None:
        assert step.ajera is not None and step.crm is not None
        tx.execute("insert_mapping", {
            "record_type": self.rt.name, "ajera_key": step.ajera.key, "crm_key": step.crm.key,
            "match_method": method, "run_id": self.run_id, "now": utcnow(), "synced_at": utcnow(),
            **self._state(step, None),
        })
        if method == "suggestion":
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
                            (step.ajera, step.seen_ajera, planned_ajera if step.kind != "create_in_ajera" else None),
                            (step.crm, step.seen_crm, planned_crm if step.kind != "create_in_crm" else None),
                            self.options.clock_skew_seconds)

    def _done(self, tx: Tx, step: Step, action: str, direction: str, message: str) -> None:
        self._set_status(tx, step, "done")
        journal.log(tx, self.run_id, self.rt.name, action, message, direction=direction,
                    ajera_key=step.ajera_key, crm_key=step.crm_key, name=step.name)
        for system, key in (("ajera", step.ajera_key), ("crm", step.crm_key)):
            if key:
                journal.clear_failure(tx, self.rt.name, system, key)
        self.counts[action] += 1

    def _finish_failed(self, steps: list[Step]) -> None:
        for step in steps:
            if step.error is None or step.status == "failed":
                continue
            with self.db.begin() as tx:
                self._set_status(tx, step, "failed", step.error)
                journal.log(tx, self.run_id, self.rt.name, "error", f"{verb(step)} failed: {step.error}",
                            direction=direction(step), ajera_key=step.ajera_key, crm_key=step.crm_key,
                            name=step.name)
                # Both sides are read again next run (whatever the watermark), so no change is lost.
                for system, key in (("ajera", step.ajera_key), ("crm", step.crm_key)):
                    if key:
                        journal.record_failure(tx, self.rt.name, system, key, step.error, self.options.poison_after)
            self.counts["error"] += 1

    def _set_status(self, tx: Tx, step: Step, status: str, message: str | None = None) -> None:
        step.status = status
        tx.execute("set_action_status", {"run_id": self.run_id, "record_type": self.rt.name, "seq": step.seq,
                                         "status": status, "message": scrub(message) if message else None,
                                         "ajera_key": step.ajera_key,
                                         "crm_key": step.crm_key})
