"""Airflow's own cost per task in ``dag.test()``: a chain of no-op tasks, as many as the sync run had
(``BENCHMARK_FLOOR_TASKS``), with the sync DAG's params (``dag.test()`` serialises each task with them before
it runs it). ``benchmark.airflow_run --floor`` runs it beside the sync run; not a DAG of the deployment."""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import dag, task
from ajera_crm import form


@task
def noop(i: int) -> int:
    return i


@dag(dag_id="airflow_floor", start_date=datetime(2026, 1, 1), schedule=None, catchup=False, params=form.params())
def airflow_floor() -> None:
    previous = None
    for i in range(int(os.environ.get("BENCHMARK_FLOOR_TASKS", "40"))):
        current = noop.override(task_id=f"noop_{i:03d}")(i)
        if previous is not None:
            previous >> current
        previous = current


airflow_floor()
