"""The DAG run's note (shown in the run list and on the run page) set to the sync run's one-line summary.

Tasks cannot write notes (the Task SDK has no call for it), so an Airflow listener does it in the
scheduler when a run of the sync DAG ends, reading the summary that ``write_run_log`` stored in the sync
database. A note someone typed is never overwritten.
"""

from __future__ import annotations

import logging
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


def _note_run(dag_run: Any) -> None:
    if getattr(dag_run, "dag_id", None) != DAG_ID:
        return
    try:
        from sqlalchemy.orm import object_session

        line = _summary(dag_run.run_id)
        if not line:
            return
        if object_session(dag_run) is not None:  # the scheduler: its session commits the run's new state
            if not dag_run.note:
                dag_run.note = line
            return
        # dag.test() hands over a run outside any session: write through a short session of our own.
        from airflow.models.dagrun import DagRun
        from airflow.utils.session import create_session

        with create_session() as session:
            stored = session.get(DagRun, dag_run.id)
            if stored is not None and not stored.note:
                stored.note = line
    except Exception:  # a note is a convenience: never disturb the scheduler
        log.exception("could not set the note of run %s", getattr(dag_run, "run_id", "?"))


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
