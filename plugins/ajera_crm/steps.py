"""Task callables of the sync DAG: Airflow context and connections in, ``include.sync`` calls out.

Each function takes and returns only small references (run id, record type, batch numbers), so XCom never
carries data. The database engine and the logged-in clients are built once per worker process and reused by the
tasks it runs (``ajera_crm.hooks``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from enum import Enum
from typing import Any

from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from ajera_crm.hooks import ajera_client, crm_client, sync_database
from include.sync import lock, runs
from include.sync.engine import Clients, RunSteps, SyncEngine
from include.sync.finish import RecordTypeFailed
from include.sync.model import System
from include.sync.settings import Settings
from include.sync.systems import AjeraApi, CrmApi

log = logging.getLogger(__name__)


def _engine() -> SyncEngine:
    """The worker process's database engine and logged-in clients (reused across tasks; closed when the
    process ends), the clients got only by steps that call a system."""
    return SyncEngine(sync_database(), Clients(ajera_client, crm_client))


@contextmanager
def _api_calls(*systems: System) -> Iterator[None]:
    """Logs the calls this task made to ``systems`` (only those: a task never looks up a connection it does not
    use)."""
    clients: dict[System, Callable[[], AjeraApi | CrmApi]] = {"ajera": ajera_client, "crm": crm_client}
    before = {s: clients[s]().calls for s in systems}
    try:
        yield
    finally:
        log.info("API calls this task: %s", ", ".join(f"{'Ajera' if s == 'ajera' else 'CRM'} "
                                                       f"{clients[s]().calls - n}" for s, n in before.items()))


BACKFILL = "backfill"  # the value of DagRunType.BACKFILL_JOB, in the core and in the Task SDK alike


def _value(member: Enum | str | None) -> str | None:
    """An Airflow enum's value. The Task SDK hands over its own enums (``DagRunType.BACKFILL`` prints as
    that, not as ``backfill``), the core has others, the REST API plain strings: compare values only."""
    return member.value if isinstance(member, Enum) else member


def is_backfill(run_type: Enum | str | None) -> bool:
    return _value(run_type) == BACKFILL


def wait_for_turn(run_id: str, run_state: Callable[[str], str]) -> bool:
    """True once this run holds the sync lease (one run at a time per sync database, backfills too).

    ``run_state`` gives a run's Airflow state, so a lease left by a run that no longer runs is taken over."""
    db = sync_database()
    db.create_schema()

    def active(other: str) -> bool:
        try:
            return _value(run_state(other)) in ("running", "queued")
        except Exception:  # not a run this Airflow knows (an in-process sync, another deployment): its TTL decides
            return True

    holder = lock.take_turn(db, run_id, active)
    if holder is None:
        log.info("sync lease taken by %s", run_id)
        return True
    log.info("waiting for sync run %s to finish (one sync run at a time)", holder)
    return False


def start_run(run_id: str, params: dict[str, Any], run_type: Enum | str | None,
              interval_start: datetime | None, interval_end: datetime | None) -> str:
    """The run's options: the form's values over the deployment's settings (read now, not when the DAG was
    parsed); a backfill's data interval is its modified window."""
    backfill = is_backfill(run_type)
    try:
        options = runs.from_form(params, Settings.from_env().option_defaults,
                                 window_start=interval_start if backfill else None,
                                 window_end=interval_end if backfill else None)
    except ValueError as exc:  # the same values would fail every retry
        raise AirflowFailException(f"sync run {run_id} not started: {exc}") from None
    _engine().start(run_id, options)
    log.info("sync run %s: %s", run_id, options)
    return run_id


def _selected(run_id: str, record_type: str) -> RunSteps:
    """The run's steps; skips the task (grey in the UI, not green) when the trigger form left this record
    type out."""
    run = _engine().run(run_id)
    if record_type not in run.options.record_types:
        raise AirflowSkipException(f"{record_type} is not selected in this run "
                                   f"({', '.join(run.options.record_types)})")
    return run


def read_ajera_ahead(run_id: str, record_type: str) -> dict[str, Any]:
    """A first sync's Ajera reads of a type that waits for others (include.sync.extract_ahead)."""
    run = _selected(run_id, record_type)
    with _api_calls("ajera"):
        result = run.read_ajera_ahead(record_type)
    log.info("read ahead %s", result)
    return asdict(result)


def extract_system(run_id: str, record_type: str, system: System) -> dict[str, Any]:
    run = _selected(run_id, record_type)
    with _api_calls(system):
        result = run.extract(record_type, system)
    log.info("extracted %s", result)
    return asdict(result)


def validate_staged(run_id: str, record_type: str) -> dict[str, Any]:
    results = [asdict(r) for r in _selected(run_id, record_type).validate(record_type)]
    log.info("validated %s", results)
    return {"results": results}


def match_names(run_id: str, record_type: str) -> int:
    result = _selected(run_id, record_type).match(record_type)
    log.info("first-time matching: %s", result)
    return result.actions


def diff(run_id: str, record_type: str) -> list[int]:
    result = _selected(run_id, record_type).diff(record_type)
    log.info("plan: %s", result)
    return result.batches


def apply_batch(run_id: str, record_type: str, batch_no: int) -> dict[str, int]:
    run = _engine().run(run_id)
    with _api_calls("ajera", "crm"):
        counts = run.apply_batch(record_type, batch_no)
    log.info("batch %s of %s: %s", batch_no, record_type, counts)
    return counts


def finish_record_type(run_id: str, record_type: str) -> dict[str, Any]:
    try:
        return _selected(run_id, record_type).finish(record_type)
    except RecordTypeFailed as exc:  # a retry would count the same failures and log the same error again
        raise AirflowFailException(str(exc)) from None


def _children_run(run_id: str) -> RunSteps:
    run = _engine().run(run_id)
    reason = run.children_skip_reason()
    if reason:  # not asked for in this run: skipped (grey), not green
        raise AirflowSkipException(f"project children not run: {reason}")
    return run


def read_ahead_for_children(run_id: str) -> dict[str, Any]:
    """The project children's Ajera reads (timesheets, totals, resources), while the project batches are
    written (include.sync.project_children.ahead)."""
    run = _children_run(run_id)
    with _api_calls("ajera"):
        return asdict(run.read_ahead())


def project_children(run_id: str, backfill: bool = False) -> dict[str, Any]:
    """Accounting, team, consultants and contacts of mapped projects (or, with ``backfill``, every
    consultant already on them), Ajera -> CRM."""
    run = _children_run(run_id)
    with _api_calls("ajera", "crm"):
        result = run.backfill() if backfill else run.children()
    log.info("%s", result)
    if "skipped" in result:
        raise AirflowSkipException(str(result["skipped"]))
    return result


class SyncIncomplete(AirflowFailException):
    """Raised by the last task so the DAG run fails (and alerts) when any record type did not finish. Not
    retried: the summary would say the same again."""


def write_run_log(run_id: str) -> list[str]:
    """The run summary; then the sync lease goes to the next run, whatever happened to this one."""
    engine = _engine()
    try:
        try:
            run = engine.run(run_id)
        except LookupError as exc:  # start_run never ran (the wait for the lock timed out, or it failed)
            raise SyncIncomplete(str(exc)) from None
        summary = run.write_log()
    finally:
        lock.release(engine.db, run_id)  # also when finish_run failed: the next run must not wait for the TTL
    for line in summary.lines():
        log.info("%s", line)
    if not summary.completed:
        raise SyncIncomplete("; ".join(summary.lines()[1:]))
    return summary.lines()
