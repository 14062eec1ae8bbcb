"""Apply one batch of planned actions through the APIs, so that a crash or retry never duplicates.

Per batch: (1) creates left ``in_flight`` by an earlier try are looked up by name first, since the
create may have happened; (2) full records the plan lacks are fetched in batch calls, and Ajera
baselines are always fetched fresh; (3) all Ajera writes of the batch go in one Update call, with creates
marked ``in_flight`` (committed) before it; (4) CRM writes go one record per call (the API has no batch
write), each create marked ``in_flight`` before its POST; (5) right after each write, the mapping, the
per-side sync state (modified date + hash, so our write does not echo) and the log row commit together
(creates at once, links and updates in groups: ``Ledger``).

Ajera is rate-limited and the CRM is not, so (3) runs on a worker thread while (4) goes on: the worker
only calls Ajera, and every database write stays on the batch's own thread. A record written to both
systems goes to the CRM only once its Ajera write is settled, so a refusal there still holds it back.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from include.clients.errors import AmbiguousWriteError, ApiError, TransientApiError
from include.sync import journal, lock
from include.sync.actions import CreateInAjera, CreateInCrm, Link, Update
from include.sync.apply_bookkeeping import Bookkeeping
from include.sync.apply_steps import Step, full_record
from include.sync.concurrent import Seen, find_created, remerge, reread_crm, saved_anyway
from include.sync.db import SyncDatabase
from include.sync.enums import ActionStatus, BatchStatus, Direction, LinkMethod, LogAction
from include.sync.journal import Ledger
from include.sync.model import Record, System
from include.sync.planner import link_conflicts, reconcile
from include.sync.record_types import RecordType
from include.sync.runs import RunOptions
from include.sync.staging import load_mappings, load_staged
from include.sync.systems import AjeraSide, CrmSide, WriteOutcome

# CRM records are read again just before they are written, this many per read: the Vantagepoint API has
# no conditional write, so the gap between that read and the write is what a concurrent edit could slip
# into. Small chunks keep that gap to a few calls' time; each costs one light list call (keys and dates),
# plus a GET per record that in fact changed.
REREAD_CHUNK = 10
# The Ajera call of a batch, as the worker hands it back: what was saved, and which refused updates hold
# the values anyway.
AjeraAnswer = tuple[WriteOutcome, dict[str, Record]]


class BatchApplier(Bookkeeping):
    def __init__(self, db: SyncDatabase, rt: RecordType, run_id: str, options: RunOptions,
                 ajera: AjeraSide, crm: CrmSide) -> None:
        self.db, self.rt, self.run_id, self.options = db, rt, run_id, options
        self.ajera, self.crm = ajera, crm
        self.counts: Counter[str] = Counter()
        self._ajera_call: Future[AjeraAnswer] | None = None
        self._ajera_writes: tuple[list[Step], dict[str, Step], dict[str, Step]] = ([], {}, {})

    # -- entry point -------------------------------------------------------------------------------

    def run(self, batch_no: int) -> dict[str, int]:
        rows = self.db.rows("select_batch_actions", {"run_id": self.run_id, "record_type": self.rt.name,
                                                     "batch_no": batch_no})
        steps = [Step.of(r) for r in rows if r.status in (ActionStatus.PENDING, ActionStatus.IN_FLIGHT)]
        lock.hold(self.db, self.run_id)
        batch = {"run_id": self.run_id, "record_type": self.rt.name, "batch_no": batch_no}
        # A batch already marked running is a retry: an earlier try may have written, so re-read what
        # extract staged instead of trusting it.
        self.retry = self.db.scalar("get_batch_status", batch) == BatchStatus.RUNNING
        self.db.execute("set_batch_status", {**batch, "status": BatchStatus.RUNNING.value})
        self.mappings = {m.ajera_key: m for m in load_mappings(self.db, self.rt)}
        self.mapped_crm = {m.crm_key for m in self.mappings.values()}
        self._recover_in_flight(steps)
        self._load_records(steps)
        self.ledger = Ledger(self.db)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"ajera-{self.rt.name}") as lane:
            try:
                _, updates = self._start_ajera(steps, lane)
                waiting = {id(s) for s in updates.values()}
                self._write_crm_steps([s for s in steps if id(s) not in waiting])
                self._settle_ajera()
                self._write_crm_steps([s for s in steps if id(s) in waiting])
            finally:
                self._settle_ajera(only_if_answered=True)  # what was written is recorded even if a later write failed
                self.ledger.flush()
        self.db.execute("set_batch_status", {**batch, "status": BatchStatus.DONE.value})
        return dict(self.counts)

    def _write_crm_steps(self, steps: list[Step]) -> None:
        for start in range(0, len(steps), REREAD_CHUNK):
            chunk = steps[start:start + REREAD_CHUNK]
            self._reread_crm(chunk)
            for step in chunk:
                self._write_crm(step)
                if self._ajera_call is not None and self._ajera_call.done():
                    self._settle_ajera()  # the creates of the Ajera call mapped as soon as it answered

    # -- (1) recovery ------------------------------------------------------------------------------

    def _recover_in_flight(self, steps: list[Step]) -> None:
        for step in steps:
            if not isinstance(step.action, CreateInCrm | CreateInAjera) or step.status != ActionStatus.IN_FLIGHT:
                continue
            to_crm = isinstance(step.action, CreateInCrm)
            taken = self.mapped_crm if to_crm else set(self.mappings)
            found = [r for r in find_created(self.rt, self.crm if to_crm else self.ajera, step.name,
                                             step.action.fields) if r.key not in taken]
            if len(found) > 1:
                step.error = (f"an earlier try may have created {step.name!r}, and {len(found)} unmapped records "
                              f"now have that name; not creating again, review by hand")
            elif found:
                if to_crm:
                    step.crm_key = found[0].key
                else:
                    step.ajera_key = found[0].key
                step.action = Link(step.name, step.ajera_key, step.crm_key, LinkMethod.RECOVERED_CREATE)

    # -- (2) records -------------------------------------------------------------------------------

    def _load_records(self, steps: list[Step]) -> None:
        live = [s for s in steps if s.error is None]
        ajera_keys = [s.ajera_key for s in live if s.ajera_key]
        crm_keys = [s.crm_key for s in live if s.crm_key]
        staged_a = load_staged(self.db, self.run_id, self.rt, "ajera", keys=ajera_keys)
        staged_c = load_staged(self.db, self.run_id, self.rt, "crm", keys=crm_keys)
        fetch_a, fetch_c = to_read(live, staged_a, staged_c, self.retry)
        fresh_a = {r.key: r for r in self.ajera.fetch(self.rt, fetch_a)}
        fresh_c = {r.key: r for r in self.crm.fetch(self.rt, fetch_c)}
        for step in live:
            try:
                mapping = self.mappings.get(step.ajera_key or "")
                if step.ajera_key:
                    step.seen_ajera = Seen.of(staged_a.get(step.ajera_key), mapping, "ajera")
                    step.ajera = fresh_a.get(step.ajera_key) or full_record(staged_a.get(step.ajera_key))
                if step.crm_key:
                    step.seen_crm = Seen.of(staged_c.get(step.crm_key), mapping, "crm")
                    step.crm = fresh_c.get(step.crm_key) or full_record(staged_c.get(step.crm_key))
                self._decide_fields(step)
                if not step.creates and step.ajera is not None and step.to_ajera:
                    self._remerge(step, "ajera")
            except Exception as exc:  # one record's surprise is that record's error, not the batch's
                step.error = f"could not be prepared ({type(exc).__name__}: {exc})"

    def _decide_fields(self, step: Step) -> None:
        action = step.action
        if not isinstance(action, Link | Update):
            return
        if (step.ajera_key and step.ajera is None) or (isinstance(action, Link) and step.crm is None):
            gone = "Ajera" if step.ajera_key and step.ajera is None else "CRM"
            step.error = f"the {gone} record disappeared before it could be written"
            return
        if isinstance(action, Link) and not action.reconciled:
            assert step.ajera is not None and step.crm is not None
            step.to_crm, step.to_ajera, conflicts = reconcile(self.rt, step.ajera, step.crm,
                                                              self.options.planner_options,
                                                              ajera_changed=True, crm_changed=True)
            with self.db.begin() as tx:
                for conflict in link_conflicts(conflicts):
                    journal.conflict(tx, self.run_id, self.rt.name, conflict, dry_run=False)
        else:
            step.to_crm = dict(action.to_crm)
            step.to_ajera = dict(action.to_ajera)
        step.planned = (dict(step.to_crm), dict(step.to_ajera))
        step.to_ajera = still_to_write(step.to_ajera, step.ajera)
        step.to_crm = still_to_write(step.to_crm, step.crm)

    # -- (3) Ajera, one call per batch -------------------------------------------------------------

    def _start_ajera(self, steps: list[Step], lane: ThreadPoolExecutor) -> tuple[dict[str, Step], dict[str, Step]]:
        """Mark the creates in flight, then hand the batch's Ajera call to ``lane``; returns (creates by temp
        key, updates by key)."""
        for step in steps:  # a record whose values Ajera cannot take is that record's error, not the batch's
            if step.error is None and (isinstance(step.action, CreateInAjera)
                                       or (step.to_ajera and step.ajera is not None)):
                try:
                    create = isinstance(step.action, CreateInAjera)
                    if not create or self.rt.ajera_create is None:
                        self.rt.to_ajera(step.create_fields() if create else step.to_ajera,
                                         None if create or step.ajera is None else step.ajera.raw,
                                         self.ajera.refs)
                except Exception as exc:
                    step.error = f"the values cannot be written to Ajera ({type(exc).__name__}: {exc})"
        self._finish_failed(steps)
        creates = {str(-(s.seq + 1)): s for s in steps if isinstance(s.action, CreateInAjera) and s.error is None}
        updates = {s.ajera_key: s for s in steps if not s.creates and s.error is None
                   and s.to_ajera and s.ajera is not None and s.ajera_key}
        if creates or updates:
            with self.db.begin() as tx:
                for step in creates.values():
                    self._set_status(tx, step, ActionStatus.IN_FLIGHT)
            self._ajera_writes = (steps, creates, updates)
            to_create = {t: (s.create_fields(), s.crm.raw if s.crm else None) for t, s in creates.items()}
            to_update = {k: (s.to_ajera, _baseline(s)) for k, s in updates.items()}
            self._ajera_call = lane.submit(self._call_ajera, to_create, to_update)
        return creates, updates

    def _call_ajera(self, creates: dict[str, Any], updates: dict[str, Any]) -> AjeraAnswer:
        """On the worker thread: Ajera calls only, no database."""
        outcome = self.ajera.write(self.rt, creates, updates)
        # A refused update may in fact have saved (a replay of a call whose answer was lost, or the same
        # values written meanwhile): read those again, and what already holds the values is saved.
        refused = {key: updates[key][0] for key in updates if key not in outcome.saved}
        return outcome, saved_anyway(self.rt, self.ajera, refused)

    def _settle_ajera(self, only_if_answered: bool = False) -> None:
        """Record the Ajera call's outcome (waiting for it if need be): the creates' mappings together, the
        refusals as errors. ``only_if_answered``: on the way out after another failure, a call that failed
        itself is left to the task retry."""
        call, self._ajera_call = self._ajera_call, None
        if call is None or (only_if_answered and call.exception() is not None):
            return
        outcome, in_place = call.result()
        steps, creates, updates = self._ajera_writes
        with self.db.begin() as tx:  # the mappings of everything this one call created, together
            for temp, step in creates.items():
                if temp in outcome.saved:
                    step.ajera = outcome.saved[temp]
                    step.ajera_key = step.ajera.key
                    self._link(tx, step, LinkMethod.CREATED_IN_AJERA)
                    self._done(tx, step, LogAction.CREATED, Direction.CRM_TO_AJERA,
                               f"created in Ajera from the CRM {self.rt.name}")
                else:
                    step.error = outcome.errors.get(temp, "Ajera did not save the record")
        for key, step in updates.items():
            if key in outcome.saved or key in in_place:
                step.ajera = outcome.saved.get(key) or in_place[key]
                self.counts["ajera_written"] += 1
            else:
                step.error = outcome.errors.get(key, "Ajera did not save the record")
        self._finish_failed(steps)

    # -- (4) CRM, one call per record; (5) bookkeeping -----------------------------------------------

    def _write_crm(self, step: Step) -> None:
        if step.error is not None or step.status == ActionStatus.DONE:
            return
        try:
            if isinstance(step.action, CreateInCrm):
                with self.db.begin() as tx:
                    self._set_status(tx, step, ActionStatus.IN_FLIGHT)
                step.crm = self.crm.create(self.rt, step.action.fields)
                step.crm_key = step.crm.key
                with self.db.begin() as tx:
                    self._link(tx, step, LinkMethod.CREATED_IN_CRM)
                    self._done(tx, step, LogAction.CREATED, Direction.AJERA_TO_CRM,
                               f"created in the CRM from the Ajera {self.rt.name}")
                return
            if isinstance(step.action, CreateInAjera):
                return  # done in the Ajera call
            step.to_crm = still_to_write(step.to_crm, step.crm)  # the CRM record may have been read again since
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
        due = [s for s in steps if s.error is None and s.status != ActionStatus.DONE and not s.creates
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

def to_read(steps: list[Step], staged_a: dict[str, Record], staged_c: dict[str, Record],
            retry: bool) -> tuple[list[str], list[str]]:
    """The (Ajera, CRM) keys a batch reads before it writes: an Ajera update needs the record as Ajera holds it
    (the baseline) and a link needs both sides in full, so what extract did not stage whole is read, and on a
    retry everything (an earlier try may have written)."""
    def missing(staged: dict[str, Record], key: str) -> bool:
        return retry or key not in staged or staged[key].raw is None

    ajera = {s.ajera_key for s in steps if s.ajera_key and not s.creates and missing(staged_a, s.ajera_key)}
    crm = {s.crm_key for s in steps if s.crm_key and isinstance(s.action, Link) and missing(staged_c, s.crm_key)}
    return sorted(ajera), sorted(crm)


def still_to_write(values: dict[str, Any], record: Record | None) -> dict[str, Any]:
    """Of the values planned for ``record``, those it does not hold yet: a retry after a partial write must not
    send a no-op (Ajera refuses one). A record not read whole keeps them all."""
    if record is None or record.raw is None:
        return values
    return {k: v for k, v in values.items() if record.fields.get(k) != v}


def apply_batch(db: SyncDatabase, rt: RecordType, run_id: str, batch_no: int, options: RunOptions,
                ajera: AjeraSide, crm: CrmSide) -> dict[str, int]:
    return BatchApplier(db, rt, run_id, options, ajera, crm).run(batch_no)


def _baseline(step: Step) -> dict[str, Any]:
    """The record as Ajera holds it, which an update sends back (prepare read every update's record in full)."""
    if step.ajera is None or step.ajera.raw is None:
        raise ValueError(f"{step.name}: the Ajera record to update was not read")
    return step.ajera.raw
