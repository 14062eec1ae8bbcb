"""The benchmark package (``python -m benchmark``) runs end to end on a tiny world and writes its figures.

Only that the figures exist, add up and agree with the simulators' own counts is checked: speed is reported
by the benchmark, never asserted in a test. The Ajera floor, a pure function of what a run read and wrote,
is checked on hand-made calls."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmark.floor import AjeraCall, Limits, floor_by_method, total

ROOT = Path(__file__).resolve().parents[1]


def test_floor_prices_distinct_records_at_the_documented_limits() -> None:
    limits = Limits(page_size=500, keys_per_get={"Employees": 50, "Projects": 25}, default_keys_per_get=500)
    calls = [
        AjeraCall("CreateAPISession"), AjeraCall("CreateAPISession"), AjeraCall("CreateAPISession"),
        AjeraCall("ListClients", 1, rows=tuple(range(600))),  # a sweep of two pages ...
        AjeraCall("ListClients", 1, rows=tuple(range(600))),
        AjeraCall("ListClients", 1, rows=tuple(range(10))),  # ... a flag list the sweep covers ...
        AjeraCall("ListClients", 1, throttled=True),  # ... and a 429, which read nothing
        AjeraCall("GetProjects", 2, keys=tuple(range(30))),  # 30 + 30 keys, 40 distinct: 2 calls of 25
        AjeraCall("GetProjects", 2, keys=tuple(range(10, 40))),
        AjeraCall("GetEmployees", 1, keys=tuple(range(120))),
        AjeraCall("UpdateClients", 1, written=(1, 2)), AjeraCall("UpdateClients", 1, written=(3,)),
        AjeraCall("CreateProjects", 2, signature="a"), AjeraCall("CreateProjects", 2, signature="b"),
        AjeraCall("GetProjectTotals", 1, keys=(7,), one_key=True),
        AjeraCall("GetProjectTotals", 1, keys=(8,), one_key=True),
        AjeraCall("EndAPISession"),
    ]
    by_method = floor_by_method(calls, limits)
    assert {m: (f.calls, f.floor) for m, f in by_method.items()} == {
        "CreateAPISession": (3, 2),  # one per API version used (1 and 2)
        "ListClients": (4, 2), "GetProjects": (2, 2), "GetEmployees": (1, 3), "UpdateClients": (2, 1),
        "CreateProjects": (2, 2), "GetProjectTotals": (2, 2), "EndAPISession": (1, 0),
    }
    assert total(by_method) == (17, 14)


def test_benchmark_tiny_writes_figures_that_add_up(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "plugins")]))
    env.pop("SYNC_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-m", "benchmark", "--size", "tiny", "--airflow", "off",
                           "--compute", "300", "--out-dir", str(tmp_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    assert "calls/floor" in done.stdout and "planning compute" in done.stdout
    # each run's figures as it ends, before the tables (a long pass stopped half-way still leaves them)
    for label in ("tiny-free", "tiny-throttled"):
        assert all(f"{label}: {run} run: " in done.stdout for run in ("first", "incremental", "quiet", "steady"))

    figures = json.loads((tmp_path / "benchmark-tiny.json").read_text())
    runs = figures["runs"]
    assert [(r["throttle_rps"], r["run"]) for r in runs] == [
        (throttle, run) for throttle in (None, 9.0) for run in ("first", "incremental", "quiet", "steady")]
    for run in runs:
        assert run["completed"] and run["staged"] > 0 and run["wall_s"] > 0
        # the clients' own counts agree with what the simulators counted
        assert (run["ajera_calls"], run["crm_calls"]) == (run["sim_ajera_calls"], run["sim_crm_calls"])
        assert sum(calls for calls, _, _ in run["ajera_by_method"].values()) == run["ajera_calls"]
        assert 0 < run["floor_calls"] <= run["ajera_calls"] - run["throttled"]
        assert run["peak_rss_mib"] > 0
    first, incremental = runs[0], runs[1]
    assert first["synced"] > 0 and incremental["synced"] > 0  # the edits were carried across
    assert {r["part"] for r in figures["compute"]} == {"diff", "match", "suggest", "quiet"}
    assert all(r["seconds"] > 0 and "note" not in r for r in figures["compute"])
    assert (tmp_path / "benchmark.png").stat().st_size > 0


def test_the_airflow_floor_dag_is_as_many_no_op_tasks_with_the_sync_dags_params(monkeypatch: Any) -> None:
    """What the benchmark subtracts as Airflow's own cost must be the same shape as the sync run it compares."""
    from airflow.dag_processing.dagbag import DagBag
    from ajera_crm import form

    monkeypatch.setenv("BENCHMARK_FLOOR_TASKS", "7")
    bag = DagBag(dag_folder=str(ROOT / "benchmark" / "floor_dags"))
    assert not bag.import_errors
    dag = bag.dags["airflow_floor"]
    assert len(dag.tasks) == 7
    assert dag.params.dump() == {name: param.value for name, param in form.params().items()}
    assert all(len(task.upstream_task_ids) <= 1 for task in dag.tasks)  # one at a time, as dag.test() runs them
