"""The sync DAG loads cleanly, is wired as designed, and does no heavy work at parse time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "ajera_crm_sync"


def _drop_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AIRFLOW_CONN_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    with pytest.MonkeyPatch.context() as mp:
        _drop_connections(mp)
        mp.delenv("AJERA_CRM_SYNC_MODE", raising=False)
        mp.delenv("AJERA_CRM_SYNC_CRON", raising=False)
        return DagBag(dag_folder=str(ROOT / "dags"))


@pytest.fixture(scope="module")
def dag(dagbag):
    return dagbag.dags[DAG_ID]


def test_no_import_errors_without_connections(dagbag):
    assert dagbag.import_errors == {}
    assert DAG_ID in dagbag.dag_ids


def test_every_task_retries_with_backoff_and_alerts(dag):
    from ajera_crm.notifiers import RunAttentionNotifier, RunFailureNotifier, TaskFailureRecorder

    # One alert per run: tasks only record their failure; the DAG's callbacks send.
    assert any(isinstance(c, RunFailureNotifier) for c in dag.on_failure_callback)
    assert any(isinstance(c, RunAttentionNotifier) for c in dag.on_success_callback)
    assert dag.tasks
    for task in dag.tasks:
        assert task.retries >= 2, task.task_id
        # Airflow 3.3 keeps True on plain operators and a float multiplier (2.0) on mapped ones.
        assert task.retry_exponential_backoff not in (False, None, 0), task.task_id
        callbacks = task.on_failure_callback
        callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
        assert any(isinstance(c, TaskFailureRecorder) for c in callbacks), task.task_id
        assert not any(isinstance(c, (RunFailureNotifier, RunAttentionNotifier)) for c in callbacks), task.task_id
        assert task.max_retry_delay is not None, task.task_id


def test_dag_level_settings(dag):
    assert dag.max_active_runs == 1
    assert dag.doc_md and "Sync Completed" in dag.doc_md
    assert dag.catchup is False


def test_timetable_has_a_real_data_interval(dag):
    import pendulum
    from airflow.sdk import CronDataIntervalTimetable
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    core = coerce_to_core_timetable(dag.timetable)
    manual = core.infer_manual_data_interval(run_after=pendulum.datetime(2026, 3, 1, 12, 30, tz="UTC"))
    assert manual.start < manual.end
    info = core.next_dagrun_info(last_automated_data_interval=None, restriction=TimeRestriction(
        earliest=pendulum.datetime(2026, 1, 1, tz="UTC"), latest=None, catchup=True))
    assert info.data_interval.start < info.data_interval.end


def test_params_and_defaults(dag):
    from include.sync.record_types import ORDER

    params = dag.params
    assert set(params.keys()) >= {"record_types", "mode", "dry_run", "batch_size"}
    assert list(params["record_types"]) == list(ORDER)
    assert params.get_param("record_types").schema["type"] == "array"
    # The deployment's AJERA_CRM_SYNC_MODE applies when the run starts, not as the DAG file was parsed.
    assert params["mode"] == "deployment_default"
    assert set(params.get_param("mode").schema["enum"]) == {"deployment_default", "two_way", "one_way"}
    assert params["dry_run"] is False
    assert params["batch_size"] == 500
    schema = params.get_param("batch_size").schema
    assert schema["type"] == "integer" and schema["minimum"] >= 1
    for name in params:
        schema = params.get_param(name).schema
        assert params.get_param(name).description, f"param {name} needs a description on the form"
        assert schema.get("title") and "_" not in schema["title"], f"param {name} needs a label on the form"
        assert schema.get("section"), f"param {name} needs a section on the form"
    # The UI renders an array with "examples" as a multi-select (a free-text box otherwise).
    record_types = params.get_param("record_types").schema
    assert record_types["examples"] == list(ORDER) and set(record_types["values_display"]) == set(ORDER)
    section = params.get_param("contact_cap").schema["section"]
    assert params.get_param("sync_closed_projects").schema["section"] == section


def test_the_run_waits_for_its_turn_first(dag):
    """One sync run at a time, backfill runs too: the first task is a sensor that waits for the lock."""
    first = dag.get_task("wait_for_turn")
    assert not first.upstream_list and first.mode == "poke" and first.timeout >= 3600
    assert dag.get_task("start_run").upstream_task_ids == {"wait_for_turn"}
    assert [t.task_id for t in dag.roots] == ["wait_for_turn"]


def test_record_types_not_selected_are_skipped_not_failed(dag, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Each step of a type the run did not select raises Airflow's skip (grey, not green), and a type after a
    skipped one still runs: its extracts accept skipped upstreams. (tests/integration/test_alerts.py sees
    the states of a real run.)"""
    from airflow.sdk.exceptions import AirflowSkipException
    from ajera_crm import steps

    from include.sync import record_types

    for record_type in record_types.ORDER:
        for side in ("extract_ajera", "extract_crm"):
            assert dag.get_task(f"{record_type}.{side}").trigger_rule == "none_failed"
    monkeypatch.setenv("SYNC_DATABASE_URL", f"sqlite:///{tmp_path / 'sync.db'}")
    steps.start_run("manual__firms", {"record_types": ["firm"]}, "manual", None, None)
    for step in (lambda: steps.extract_system("manual__firms", "contact", "crm"),
                 lambda: steps.validate_staged("manual__firms", "contact"),
                 lambda: steps.match_names("manual__firms", "project"),
                 lambda: steps.diff("manual__firms", "vendor"),
                 lambda: steps.finish_record_type("manual__firms", "employee")):
        with pytest.raises(AirflowSkipException, match="not selected"):
            step()


def test_apply_is_mapped_and_bounded_by_the_api_pool(dag):
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    applies = [t for t in dag.tasks if t.task_id.endswith(".apply")]
    assert applies
    for task in applies:
        assert isinstance(task, MappedOperator), task.task_id
        assert task.pool == "ajera_crm_api"


def test_finish_and_run_log_trigger_rules(dag):
    assert dag.get_task("write_run_log").trigger_rule == "all_done"
    for task in dag.tasks:
        if task.task_id.endswith(".finish"):
            # An empty plan skips the mapped apply; finish must still run then, but not after a failure.
            assert task.trigger_rule == "none_failed"
    # The run log is the very last task and depends on every record type.
    assert not dag.get_task("write_run_log").downstream_list
    assert dag.get_task("start_run").downstream_list


def test_record_types_run_in_dependency_order(dag):
    from include.sync import record_types

    order = record_types.ORDER
    # Types that need another type's mappings (a contact its firm's) start only after that type finished.
    depends_on = getattr(record_types, "DEPENDS_ON", None) or {t: order[:i][-1:] for i, t in enumerate(order)}
    for record_type, needs in depends_on.items():
        upstream = _all_upstream(dag, f"{record_type}.extract_ajera")
        assert "start_run" in upstream
        for need in needs:
            assert order.index(need) < order.index(record_type)
            assert f"{need}.finish" in upstream, f"{record_type} starts before {need} finished"
    # The run log waits for every record type.
    last = _all_upstream(dag, "write_run_log")
    assert {f"{t}.finish" for t in order} <= last


def test_a_type_waiting_for_others_reads_ajera_ahead_from_the_start(dag):
    """Contacts and projects wait for their firms (and managers) to finish, but their first sync's Ajera reads
    need no mapping: they start with the run, and only the extract that converts them waits."""
    from include.sync import record_types

    for record_type, needs in record_types.DEPENDS_ON.items():
        ahead = f"{record_type}.read_ajera_ahead"
        if not needs:
            assert ahead not in dag.task_ids
            continue
        assert _all_upstream(dag, ahead) == {"start_run", "wait_for_turn"}
        assert ahead in dag.get_task(f"{record_type}.extract_ajera").upstream_task_ids
        assert ahead not in _all_upstream(dag, f"{record_type}.extract_crm")


def test_the_children_reads_start_beside_the_project_batches(dag):
    """The children's Ajera reads wait for the project plan only, not its batches; the children wait for
    every type they read, not for the reads."""
    ahead = _all_upstream(dag, "project_reads_ahead")
    assert "project.diff" in ahead and "project.apply" not in ahead and "contact.finish" not in ahead
    assert dag.get_task("project_reads_ahead").pool == "ajera_crm_api"
    children = _all_upstream(dag, "project_children")
    assert {"project.finish", "employee.finish", "vendor.finish", "contact.finish"} <= children
    assert "project_reads_ahead" not in children  # they go on together: the children take what it reads
    assert "project_reads_ahead" in _all_upstream(dag, "write_run_log")


def _all_upstream(dag, task_id: str) -> set[str]:
    seen: set[str] = set()
    stack = [task_id]
    while stack:
        for up in dag.get_task(stack.pop()).upstream_task_ids:
            if up not in seen:
                seen.add(up)
                stack.append(up)
    return seen


_PARSE_PROBE = r"""
import json, socket, sys, time

def _no_network(*args, **kwargs):
    raise RuntimeError("network access while parsing the DAG file")

socket.socket.connect = _no_network
socket.socket.connect_ex = _no_network
socket.create_connection = _no_network

import importlib.util
spec = importlib.util.spec_from_file_location("ajera_crm_sync_dag", "dags/ajera_crm_sync.py")
module = importlib.util.module_from_spec(spec)
start = time.perf_counter()
spec.loader.exec_module(module)
loaded = sorted(sys.modules)
print(json.dumps({"seconds": time.perf_counter() - start, "modules": loaded}))
"""


def test_parsing_the_dag_file_is_light(monkeypatch):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    env["PYTHONPATH"] = os.pathsep.join([".", "plugins"])
    assert env.get("AIRFLOW_HOME"), "tests/conftest.py sets a throw-away AIRFLOW_HOME"
    result = subprocess.run([sys.executable, "-c", _PARSE_PROBE], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    modules = set(report["modules"])

    def imported(top: str) -> bool:
        return top in modules or any(m.startswith(top + ".") for m in modules)

    for heavy in ("great_expectations", "pandas", "simulators"):
        assert not imported(heavy), f"{heavy} is imported when the DAG file is parsed"
    # The sync logic and the clients may be imported (they are cheap); the DAG object was built.
    assert imported("include.sync.record_types")


def test_deployment_settings_reach_the_run_options(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from ajera_crm import steps

    from include.sync import runs
    from include.sync.db import SyncDatabase

    url = f"sqlite:///{tmp_path / 'sync.db'}"
    monkeypatch.setenv("SYNC_DATABASE_URL", url)
    monkeypatch.setenv("AJERA_CRM_CLOCK_SKEW_SECONDS", "30")
    monkeypatch.setenv("AJERA_CRM_POISON_AFTER", "3")
    steps.start_run("manual__settings", {"mode": "one_way", "dry_run": True}, "manual", None, None)
    options = runs.load_options(SyncDatabase(url), "manual__settings")
    assert (options.clock_skew_seconds, options.poison_after, options.overlap_minutes) == (30, 3, 10)
    assert options.mode == "one_way" and options.dry_run and options.window_start is None


def test_project_contact_cap_from_the_form_reaches_the_run_options(dag, monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path) -> None:
    from ajera_crm import steps

    from include.sync import lock, runs
    from include.sync.db import SyncDatabase

    assert dag.params["project_contact_cap"] == runs.RunOptions.project_contact_cap == 5  # one home for it
    assert dag.params.get_param("project_contact_cap").schema["section"] == \
        dag.params.get_param("contact_cap").schema["section"]
    url = f"sqlite:///{tmp_path / 'sync.db'}"
    monkeypatch.setenv("SYNC_DATABASE_URL", url)
    for run_id, params, expected in (("manual__cap3", {"project_contact_cap": 3}, 3),
                                     ("manual__cap0", {"project_contact_cap": 0}, 0),
                                     ("manual__nocap", {}, 5)):
        steps.start_run(run_id, params, "manual", None, None)
        lock.release(SyncDatabase(url), run_id)  # as its last task would
        assert runs.load_options(SyncDatabase(url), run_id).project_contact_cap == expected


def test_a_backfill_run_uses_its_data_interval_as_the_modified_window(monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path) -> None:
    """Whatever form the run type arrives in: the Task SDK's enum (what a task gets at run time, printing as
    ``DagRunType.BACKFILL``), the core's, or the REST API's string. ``tests/integration/test_backfill.py``
    proves it through ``airflow backfill create`` and a scheduler."""

    from airflow.sdk.api.datamodels._generated import DagRunType as SdkRunType
    from airflow.utils.types import DagRunType
    from ajera_crm import steps

    from include.sync import lock, runs
    from include.sync.db import SyncDatabase

    url = f"sqlite:///{tmp_path / 'sync.db'}"
    monkeypatch.setenv("SYNC_DATABASE_URL", url)
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)
    db = SyncDatabase(url)
    assert str(SdkRunType.BACKFILL) == "DagRunType.BACKFILL"  # the value that fooled the old test
    for i, backfill_type in enumerate((SdkRunType.BACKFILL, DagRunType.BACKFILL_JOB, "backfill")):
        steps.start_run(f"backfill__{i}", {}, backfill_type, start, end)
        lock.release(db, f"backfill__{i}")  # as its last task would: one sync at a time holds the lease
        backfill = runs.load_options(db, f"backfill__{i}")
        assert (backfill.window_start, backfill.window_end) == (start, end), backfill_type
    for i, other in enumerate((SdkRunType.SCHEDULED, DagRunType.MANUAL, "asset_triggered", None)):
        steps.start_run(f"other__{i}", {}, other, start, end)
        lock.release(db, f"other__{i}")
        assert runs.load_options(db, f"other__{i}").window_start is None, other  # these read from the watermark


def test_the_project_imports_without_pythonpath(tmp_path) -> None:
    """A new deployment sets no PYTHONPATH: Airflow puts the dags and plugins folders on sys.path, and the
    ajera_crm package adds the project root for ``include``. Neither the DAG nor a plugin file fails."""
    probe = (
        "import json\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        "from airflow import plugins_manager\n"
        f"bag = DagBag(dag_folder={str(ROOT / 'dags')!r})\n"
        "plugins, errors = plugins_manager._get_plugins()\n"
        "print(json.dumps({'dags': bag.dag_ids, 'dag_errors': bag.import_errors, 'plugin_errors': errors,\n"
        "                  'plugins': [p.name for p in plugins]}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("AIRFLOW_CONN_")}
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["dag_errors"] == {} and DAG_ID in report["dags"]
    assert report["plugin_errors"] == {}
    assert {"ajera_crm_run_notes", "ajera_crm_ui"} <= set(report["plugins"])


def test_one_sync_run_at_a_time(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """The sync lease: a second run waits while the holder is running (the Task SDK reports the state as its
    own enum), takes over a holder that Airflow no longer runs, and gets the lock once it is released."""
    from airflow.sdk.api.datamodels._generated import DagRunState
    from ajera_crm import steps

    from include.sync import lock
    from include.sync.db import SyncDatabase

    url = f"sqlite:///{tmp_path / 'sync.db'}"
    monkeypatch.setenv("SYNC_DATABASE_URL", url)
    states = {"backfill__1": DagRunState.RUNNING, "backfill__2": DagRunState.QUEUED}
    assert steps.wait_for_turn("backfill__1", states.__getitem__)
    assert steps.wait_for_turn("backfill__1", states.__getitem__)  # a retried sensor keeps its own lock
    assert not steps.wait_for_turn("backfill__2", states.__getitem__)
    states["backfill__1"] = DagRunState.FAILED  # marked failed by hand: its last task never released the lock
    assert steps.wait_for_turn("backfill__2", states.__getitem__)
    assert not steps.wait_for_turn("scheduled__3", {"backfill__2": DagRunState.RUNNING}.__getitem__)
    lock.release(SyncDatabase(url), "backfill__2")
    assert steps.wait_for_turn("scheduled__3", {}.__getitem__)
    # A holder this Airflow does not know (an in-process sync, another deployment) keeps its lease until its TTL.
    assert not steps.wait_for_turn("scheduled__4", {}.__getitem__)


def test_the_dag_runs_the_engines_steps_in_the_engines_order(dag):
    """The DAG is wired from ``engine.STEPS``, the order the in-process runner follows too: each step's task
    waits for exactly the tasks of the steps it starts after, and for the run's start (whose run id it takes)."""
    from include.sync.engine import STEPS, log_after

    assert {t.task_id for t in dag.tasks} == {str(s) for s in STEPS} | {"wait_for_turn", "start_run", "write_run_log"}
    for step, after in STEPS.items():
        assert dag.get_task(str(step)).upstream_task_ids == {str(a) for a in after} | {"start_run"}, step
    assert dag.get_task("write_run_log").upstream_task_ids == {str(s) for s in log_after(STEPS)} | {"start_run"}
