"""The DAG run's note (shown in the run list and on the run page) set to the sync run's one-line summary.

Tasks cannot write notes (the Task SDK has no call for it), so an Airflow listener does it in the
scheduler when a run of the sync DAG ends, reading the summary that ``write_run_log`` stored in the sync
database. A note someone typed is never overwritten.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin

log = logging.getLogger(__name__)

DAG_ID = "ajera_crm_sync"


def _summary(run_id: str) -> str | None:
    from ajera_crm.hooks import sync_database
    from include.sync import runs

    db = sync_database()
    try:
        return runs.one_line(db, run_id)
    finally:
        db.dispose()


def _in_own_thread(fn: Callable[[str], str | None], run_id: str) -> str | None:
    """``fn(run_id)`` in a thread of its own. Airflow's ORM session is one per thread, and looking up a
    connection opens and closes it: done on the scheduler's thread, that closes the scheduler's own session
    and detaches the run it is finishing (the scheduler then dies on its next attribute access)."""
    result: list[str | None] = [None]
    failure: list[BaseException] = []

    def work() -> None:
        try:
            result[0] = fn(run_id)
        except BaseException as exc:  # re-raised on the caller's thread
            failure.append(exc)

    worker = threading.Thread(target=work, name=f"run-note-{run_id}")
    worker.start()
    worker.join()
    if failure:
        raise failure[0]
    return result[0]


def _note_run(dag_run: Any) -> None:
    if getattr(dag_run, "dag_id", None) != DAG_ID:
        return
    from sqlalchemy.orm import object_session

    # Read what we need before anything else runs: the run object belongs to the caller's session.
    in_scheduler = object_session(dag_run) is not None
    run_id, pk = dag_run.run_id, dag_run.id
    try:
        line = _in_own_thread(_summary, run_id)
        if not line:
            return
        if in_scheduler:  # the scheduler: its session commits the run's new state, and the note with it
            if not dag_run.note:
                dag_run.note = line
            return
        # dag.test() hands over a run outside any session: write through a short session of our own.
        from airflow.models.dagrun import DagRun
        from airflow.utils.session import create_session

        with create_session() as session:
            stored = session.get(DagRun, pk)
            if stored is not None and not stored.note:
                stored.note = line
    except Exception:  # a note is a convenience: never disturb the scheduler
        log.exception("could not set the note of run %s", run_id)


class RunNoteListener:
    @hookimpl
    def on_dag_run_success(self, dag_run: Any, msg: str) -> None:
        _note_run(dag_run)

    @hookimpl
    def on_dag_run_failed(self, dag_run: Any, msg: str) -> None:
        _note_run(dag_run)


class AjeraCrmRunNotesPlugin(AirflowPlugin):
    name = "ajera_crm_run_notes"
    listeners = [RunNoteListener()]
