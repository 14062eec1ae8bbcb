"""One sync run through Airflow: ``dag.test()`` on a freshly migrated metadata database.

Run as ``python -m benchmark.airflow_run`` with the Airflow home, the connections and the sync database in
the environment (``benchmark.runs.Pass.through_airflow`` sets them). Migrating the metadata database and
parsing the DAG are set-up, timed apart; the figure compared with the in-process run is ``dag.test()``.
``--floor``: the same for ``benchmark/floor_dags`` (no-op tasks, as many as ``BENCHMARK_FLOOR_TASKS``, with
the sync DAG's params): what Airflow itself costs for that many tasks, on the same metadata database.
Prints one JSON line: ``{"dag_test_s", "migrate_s", "warm_s", "tasks", "state"}``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from benchmark.sims import ROOT


def main() -> int:
    started = time.perf_counter()
    for args in (["db", "migrate"], ["pools", "set", "ajera_crm_api", "4", "API concurrency of the sync"]):
        done = subprocess.run([sys.executable, "-m", "airflow", *args], capture_output=True, text=True)
        if done.returncode:
            print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
            return done.returncode
    migrate_s = time.perf_counter() - started

    from airflow.dag_processing.dagbag import DagBag

    floor = "--floor" in sys.argv[1:]
    bag = DagBag(dag_folder=str(ROOT / ("benchmark/floor_dags" if floor else "dags")))
    if bag.import_errors:
        print(bag.import_errors, file=sys.stderr)
        return 1
    dag = bag.get_dag("airflow_floor" if floor else "ajera_crm_sync")
    conf = {name: param.value for name, param in dag.params.items()}
    # As before the in-process figures: Great Expectations' import, once per process (dag.test() runs every
    # task in this process, as a worker process runs many), is not in the figure.
    from include.sync import expectations

    started = time.perf_counter()
    expectations.warm_up()
    warm_s = time.perf_counter() - started
    started = time.perf_counter()
    run = dag.test(run_conf=conf)
    dag_test_s = time.perf_counter() - started
    # The tasks dag.test() ran (a try counted): an apply mapped over no batches is skipped without running.
    tasks = sum(1 for ti in run.get_task_instances() if ti.try_number) if hasattr(run, "get_task_instances") else 0
    print(json.dumps({"dag_test_s": dag_test_s, "migrate_s": migrate_s, "warm_s": warm_s, "tasks": tasks,
                      "state": str(getattr(run, "state", ""))}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
