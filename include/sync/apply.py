"""Apply one batch of planned actions through the APIs, so that a crash or retry never duplicates.

Per batch: (1) creates left ``in_flight`` by an earlier try are looked up by name first, since the
create may have happened; (2) full records the plan lacks are fetched in batch calls, and Ajera
baselines are always fetched fresh; (3) all Ajera writes of the batch go in one Update call, with creates
marked ``in_flight`` (committed) before it; (4) CRM writes go one record per call (the API has no batch
write), each create marked ``in_flight`` before its POST; (5) right after each write, the mapping, the
per-side sync state (modified date + hash, so our write does not echo) and the log row commit together.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from include.clients.errors import AmbiguousWriteError, ApiError, TransientApiError
from include.sync import journal, lock
from include.sync.concurrent import Seen, find_created, remerge, reread_crm, saved_anyway, synced_state
from include.sync.db import SyncDatabase, Tx, utcnow
from include.sync.model import Record, System
from include.sync.planner import MappingState, link_conflicts, reconcile
from include.sync.record_types import RecordType
from include.sync.runs import RunOptions
from include.sync.secrets import scrub
from include.sync.staging import load_mappings, load_staged
from include.sync.systems import AjeraSide, CrmSide

CREATES = ("create_in_crm", "create_in_ajera")
# CRM records are read again just before they are written, this many per read: the Vantagepoint API has
# no conditional write, so the gap between that read and the write is what a concurrent edit could slip
# into. Small chunks keep that gap to a few calls' time; each costs one light list call (keys and dates),
# plus a GET per record that in fact changed.
REREAD_CHUNK = 10


@dataclass
class Step:
    """One planned action as apply works on it."""

    seq: int
    kind: str
    name: str
    ajera_key: str | None
    crm_key: str | None
    status: str
    detail: dict[str, Any]
    ajera: Record | None = None
    crm: Record | None = None
    to_ajera: dict[str, Any] = field(default_factory=dict)
    to_crm: dict[str, Any] = field(default_factory=dict)
    planned: tuple[dict[str, Any], dict[str, Any]] = ({}, {})  # (to_crm, to_ajera) before dropping what is in place
    error: str | None = None
    # What the plan read of each side (staged fields, else the mapping's last-synced ones): the sync state
    # recorded after the write is this plus what was written, so an edit made meanwhile is seen next run.
    seen_ajera: Seen | None = None
    seen_crm: Seen | None = None


class BatchApplier:
    def __init__(self, db: SyncDatabase, rt: RecordType, run_id: str, options: RunOptions,
                 ajera: AjeraSide, crm: CrmSide) -> None:
        self.db, self.rt, self.run_id, self.options = db, rt, run_id, options
        self.ajera, self.crm = ajera, crm
        self.counts: Counter[str] = Counter()

    # -- entry point -------------------------------------------------------------------------------

    def run(self, batch_no: int) -> dict[str, int]:
        rows = self.db.rows("select_batch_actions", {"run_id": self.run_id, "record_type": self.rt.name,
                                                     "batch_no": batch_no})
        steps = [Step(r.seq, r.action, r.record_name, r.ajera_key, r.crm_key, r.status, json.loads(r.detail))
                 for r in rows if r.status in ("pending", "in_flight")]
        lock.hold(self.db, self.run_id)
        batch = {"run_id": self.run_id, "record_type": self.rt.name, "batch_no": batch_no}
        # A batch already marked running is a retry: an earlier try may have written, so re-read what
        # extract staged instead of trusting it.
        self.retry = self.db.scalar("get_batch_status", batch) == "running"
        self.db.execute("set_batch_status", {**batch, "status": "running"})
        self.mappings = {m.ajera_key: m for m in load_mappings(self.db, self.rt)}
        self.mapped_crm = {m.crm_key for m in self.mappings.values()}
        self._recover_in_flight(steps)
        self._load_records(steps)
        self.ledger = _Ledger(self.db)
        try:
            self._write_ajera(steps)
            for start in range(0, len(steps), REREAD_CHUNK):
                chunk = steps[start:start + REREAD_CHUNK]
                self._reread_crm(chunk)
                for step in chunk:
                    self._write_crm(step)
        finally:
            self.ledger.flush()  # what was written is recorded even if a later write failed
        self.db.execute("set_batch_status", {"run_id": self.run_id, "record_type": self.rt.name,
                                             "batch_no": batch_no, "status": "done"})
        return dict(self.counts)

    # -- (1) recovery ------------------------------------------------------------------------------

    def _recover_in_flight(self, steps: list[Step]) -> None:
        for step in steps:
            if step.kind not in CREATES or step.status != "in_flight":
                continue
            to_crm = step.kind == "create_in_crm"
            taken = self.mapped_crm if to_crm else set(self.mappings)
            found = [r for r in find_created(self.rt, self.crm if to_crm else self.ajera, step.name,
                                             step.detail.get("fields") or {}) if r.key not in taken]
            if len(found) > 1:
                step.error = (f"an earlier try may have created {step.name!r}, and {len(found)} unmapped records "
                              f"now have that name; not creating again, review by hand")
            elif found:
                if to_crm:
                    step.crm_key = found[0].key
                else:
                    step.ajera_key = found[0].key
                step.kind, step.detail = "link", {"method": "recovered_create"}

    # -- (2) records -------------------------------------------------------------------------------

    def _load_records(self, steps: list[Step]) -> None:
        live = [s for s in steps if s.error is None]
        ajera_keys = [s.ajera_key for s in live if s.ajera_key]
        crm_keys = [s.crm_key for s in live if s.crm_key]
        staged_a = load_staged(self.db, self.run_id, self.rt, "ajera", keys=ajera_keys)
        staged_c = load_staged(self.db, self.run_id, self.rt, "crm", keys=crm_keys)
        # Ajera updates need the record as Ajera holds it (the baseline), links need both sides in full:
        # read what extract did not stage, and everything on a retry.
        def missing(staged: dict[str, Record], key: str) -> bool:
            return self.retry or key not in staged or staged[key].raw is None

        fetch_a = {s.ajera_key for s in live
                   if s.ajera_key and s.kind in ("link", "update") and missing(staged_a, s.ajera_key)}
        fetch_c = {s.crm_key for s in live if s.crm_key and s.kind == "link" and missing(staged_c, s.crm_key)}
        fresh_a = {r.key: r for r in self.ajera.fetch(self.rt, sorted(fetch_a))}
        fresh_c = {r.key: r for r in self.crm.fetch(self.rt, sorted(fetch_c))}
        for step in live:
            try:
                mapping = self.mappings.get(step.ajera_key or "")
                if step.ajera_key:
                    step.seen_ajera = Seen.of(staged_a.get(step.ajera_key), mapping, "ajera")
                    step.ajera = fresh_a.get(step.ajera_key) or _full(staged_a.get(step.ajera_key))
                if step.crm_key:
                    step.seen_crm = Seen.of(staged_c.get(step.crm_key), mapping, "crm")
                    step.crm = fresh_c.get(step.crm_key) or _full(staged_c.get(step.crm_key))
                self._decide_fields(step)
                if step.kind in ("link", "update") and step.ajera is not None and step.to_ajera:
                    self._remerge(step, "ajera")
            except Exception as exc:  # one record's surprise is that record's error, not the batch's
                step.error = f"could not be prepared ({type(exc).__name__}: {exc})"

    def _decide_fields(self, step: Step) -> None:
        if step.kind in CREATES:
            return
        if (step.ajera_key and step.ajera is None) or (step.kind == "link" and step.crm is None):
            gone = "Ajera" if step.ajera_key and step.ajera is None else "CRM"
            step.error = f"the {gone} record disappeared before it could be written"
            return
        if step.kind == "link" and not step.detail.get("reconciled"):
            assert step.ajera is not None and step.crm is not None
            step.to_crm, step.to_ajera, conflicts = reconcile(self.rt, step.ajera, step.crm,
                                                              self.options.planner_options,
                                                              ajera_changed=True, crm_changed=True)
            with self.db.begin() as tx:
                for conflict in link_conflicts(conflicts):
                    journal.conflict(tx, self.run_id, self.rt.name, conflict, dry_run=False)
        else:
            step.to_crm = dict(step.detail.get("to_crm") or {})
            step.to_ajera = dict(step.detail.get("to_ajera") or {})
        step.planned = (dict(step.to_crm), dict(step.to_ajera))
        # Only what still differs: a retry after a partial write must not send a no-op (Ajera refuses it).
        if step.ajera is not None:
            step.to_ajera = {k: v for k, v in step.to_ajera.items() if step.ajera.fields.get(k) != v}
        if step.crm is not None and step.crm.raw is not None:
            step.to_crm = {k: v for k, v in step.to_crm.items() if step.crm.fields.get(k) != v}

    # -- (3) Ajera, one call per batch -------------------------------------------------------------

    def _write_ajera(self, steps: list[Step]) -> None:
        for step in steps:  # a record whose values Ajera cannot take is that record's error, not the batch's
            if step.error is None and (step.kind == "create_in_ajera" or (step.to_ajera and step.ajera is not None)):
                try:
                    if step.kind != "create_in_ajera" or self.rt.ajera_create is None:
                        self.rt.to_ajera(step.detail["fields"] if step.kind == "create_in_ajera" else step.to_ajera,
                                         None if step.kind == "create_in_ajera" or step.ajera is None
                                         else step.ajera.raw,
                                         self.ajera.refs)
                except Exception as exc:
                    step.error = f"the values cannot be written to Ajera ({type(exc).__name__}: {exc})"
        creates = {str(-(s.seq + 1)): s for s in steps if s.kind == "create_in_ajera" and s.error is None}
        updates = {s.ajera_key: s for s in steps if s.kind in ("link", "update") and s.error is None
                   and s.to_ajera and s.ajera is not None and s.ajera_key}
        if not creates and not updates:
            self._finish_failed(steps)
            return
        with self.db.begin() as tx:
            for step in creates.values():
                self._set_status(tx, step, "in_flight")
        outcome = self.ajera.write(
            self.rt,
            {temp: (s.detail["fields"], s.crm.raw if s.crm else None) for temp, s in creates.items()},
            {key: (s.to_ajera, _baseline(s)) for key, s in updates.items()},
        )
        with self.db.begin() as tx:  # the mappings of everything this one call created, together
            for temp, step in creates.items():
                if temp in outcome.saved:
                    step.ajera = outcome.saved[temp]
                    step.ajera_key = step.ajera.key
                    self._link(tx, step, "created_in_ajera")
                    self._done(tx, step, "created", "crm_to_ajera", f"created in Ajera from the CRM {self.rt.name}")
                else:
                    step.error = outcome.errors.get(temp, "Ajera did not save the record")
        refused = {key: step for key, step in updates.items() if key not in outcome.saved}
        # A refused update may in fact have saved (a replay of a call whose answer was lost, or the same
        # values written meanwhile): read those again, and what already holds the values is saved.
        in_place = saved_anyway(self.rt, self.ajera, {k: s.to_ajera for k, s in refused.items()})
        for key, step in updates.items():
            if key in outcome.saved or key in in_place:
                step.ajera = outcome.saved.get(key) or in_place[key]
                self.counts["ajera_written"] += 1
            else:
                step.error = outcome.errors.get(key, "Ajera did not save the record")
        self._finish_failed(steps)

    # -- (4) CRM, one call per record; (5) bookkeeping -----------------------------------------------

    def _write_crm(self, step: Step) -> None:
        if step.error is not None or step.status == "done":
            return
        try:
            if step.kind == "create_in_crm":
                with self.db.begin() as tx:
                    self._set_status(tx, step, "in_flight")
                step.crm = self.crm.create(self.rt, step.detail["fields"])
                step.crm_key = step.crm.key
                with self.db.begin() as tx:
                    self._link(tx, step, "created_in_crm")
                    self._done(tx, step, "created", "ajera_to_crm", f"created in the CRM from the Ajera {self.rt.name}")
                return
            if step.kind == "create_in_ajera":
                return  # done in the Ajera call
            if step.crm is not None and step.crm.raw is not None:
                step.to_crm = {k: v for k, v in step.to_crm.items() if step.crm.fields.get(k) != v}
            if step.to_crm:
                assert step.crm_key is not None
                step.crm = self.crm.update(self.rt, step.crm_key, step.to_crm)
        except AmbiguousWriteError:
            raise  # leave it in_flight: the task retry looks the record up before creating again
        except TransientApiError:
            raise
        except ApiError as exc:
            step.error = str(exc)
            self._finish_failed([step])
            return
        except Exception as exc:  # a value the CRM body cannot be made of: this record's error only
            step.error = f"could not be written to the CRM ({type(exc).__name__}: {exc})"
            self._finish_failed([step])
            return
        self.ledger.add(lambda tx: self._record(tx, step))

    def _reread_crm(self, steps: list[Step]) -> None:
        """Read the CRM records about to be updated again (one call for the chunk) and merge what changed
        since the plan read them: a field edited there meanwhile is a conflict, never overwritten blindly."""
        due = [s for s in steps if s.error is None and s.status != "done" and s.kind in ("link", "update")
               and s.to_crm and s.crm_key]
        if not due:
            return
        since = self.db.scalar("swept_through", {"run_id": self.run_id, "system": "crm", "record_type": self.rt.name})
        fresh = reread_crm(self.rt, self.crm, [s.crm_key for s in due if s.crm_key], since)
        for step in due:
            current = fresh.get(step.crm_key or "")
            if current is None:
                continue  # not changed since the plan read it
            try:
                step.crm = current
                self._remerge(step, "crm")
            except Exception as exc:
                step.error = f"could not be merged ({type(exc).__name__}: {exc})"
                self._finish_failed([step])

    def _remerge(self, step: Step, side: System) -> None:
        """Settle the fields about to be written to ``side`` that were edited there since the plan read it."""
        current, seen, partner, partner_seen, outgoing = (
            (step.ajera, step.seen_ajera, step.crm, step.seen_crm, step.to_ajera) if side == "ajera"
            else (step.crm, step.seen_crm, step.ajera, step.seen_ajera, step.to_crm))
        assert current is not None
        keep, conflicts = remerge(self.rt, side, outgoing, current, seen, partner, partner_seen,
                                  step.ajera_key, step.crm_key, self.options.planner_options)
        if side == "ajera":
            step.to_ajera = keep
        else:
            step.to_crm = keep
        if conflicts:
            with self.db.begin() as tx:
                for conflict in conflicts:
                    journal.conflict(tx, self.run_id, self.rt.name, conflict, dry_run=False)

    def _record(self, tx: Tx, step: Step) -> None:
        """Bookkeeping of a link or an update once its writes are done."""
        self._decisions_done(tx, step)
        if step.kind == "update" and not step.to_crm and not step.to_ajera:
            # Both sides already hold the values: only the sync state moves. On a retry, an earlier try of
            # this task wrote them and died before recording it: record it now, once, as that try would have.
            self._mark_synced(tx, step)
            if self.retry and (step.planned[0] or step.planned[1]):
                step.to_crm, step.to_ajera = step.planned
                self._done(tx, step, "updated", _direction(step), _update_message(step) + " (by an earlier try)")
            else:
                self._set_status(tx, step, "done")
        elif step.kind == "link":
            self._link(tx, step, step.detail.get("method", "name_exact"))
            self._done(tx, step, "mapped", "both", _link_message(step))
        else:
            self._mark_synced(tx, step)
            self._done(tx, step, "updated", _direction(step), _update_message(step))

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
                journal.log(tx, self.run_id, self.rt.name, "error", f"{_verb(step)} failed: {step.error}",
                            direction=_direction(step), ajera_key=step.ajera_key, crm_key=step.crm_key,
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


class _Ledger:
    """Bookkeeping of links and updates, committed in groups instead of one transaction per record.

    Safe because replaying it is harmless: after a crash before a flush, the retry finds the fields
    already written (nothing to send) and records the state then. Creates never wait here: their mapping
    commits right after the create, so a retry can never create twice.
    """

    def __init__(self, db: SyncDatabase, every: int = 100) -> None:
        self.db = db
        self.every = every
        self.pending: list[Callable[[Tx], None]] = []

    def add(self, entry: Callable[[Tx], None]) -> None:
        self.pending.append(entry)
        if len(self.pending) >= self.every:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        with self.db.begin() as tx:
            for entry in self.pending:
                entry(tx)
        self.pending.clear()


def apply_batch(db: SyncDatabase, rt: RecordType, run_id: str, batch_no: int, options: RunOptions,
                ajera: AjeraSide, crm: CrmSide) -> dict[str, int]:
    return BatchApplier(db, rt, run_id, options, ajera, crm).run(batch_no)


def _baseline(step: Step) -> dict[str, Any]:
    """The record as Ajera holds it, which an update sends back (prepare read every update's record in full)."""
    if step.ajera is None or step.ajera.raw is None:
        raise ValueError(f"{step.name}: the Ajera record to update was not read")
    return step.ajera.raw


def _full(record: Record | None) -> Record | None:
    return record if record is not None and record.raw is not None else None


def _direction(step: Step) -> str:
    if step.kind == "create_in_crm":
        return "ajera_to_crm"
    if step.kind == "create_in_ajera":
        return "crm_to_ajera"
    if step.to_crm and step.to_ajera:
        return "both"
    return "crm_to_ajera" if step.to_ajera else "ajera_to_crm"


def _verb(step: Step) -> str:
    return {"create_in_crm": "create in the CRM", "create_in_ajera": "create in Ajera",
            "link": "link", "update": "update"}[step.kind]


def _update_message(step: Step) -> str:
    parts = []
    if step.to_crm:
        parts.append(f"CRM fields {', '.join(sorted(step.to_crm))} from Ajera")
    if step.to_ajera:
        parts.append(f"Ajera fields {', '.join(sorted(step.to_ajera))} from the CRM")
    return "updated " + "; ".join(parts) if parts else "already in step"


def _link_message(step: Step) -> str:
    how = {"name_exact": "same name (case-insensitive), first-time matching",
           "name_recheck": "same name as a flagged record (checked before creating)",
           "recovered_create": "found after an interrupted create (no duplicate made)",
           "suggestion": "accepted match suggestion"}.get(step.detail.get("method", ""), "linked")
    extra = _update_message(step) if (step.to_crm or step.to_ajera) else ""
    return f"linked: {how}" + (f"; {extra}" if extra else "")
