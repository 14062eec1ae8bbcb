"""Projects in batches of 500 through Airflow: 1,600 changed projects are four mapped apply tasks in one run;
Deltek's batch cap announces the re-runs; a batch that fails once writes nothing twice on retry; a run
killed (SIGKILL) mid-batch and re-run creates no duplicate CRM project."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from include.sync.batch_cap import backlog_message
from simulators import datagen
from tests.support.airflow_env import ROOT
from tests.support.backends import LAST
from tests.support.engine import Harness, open_harness, start_engine, stop_engine

pytestmark = pytest.mark.integration

BASE = datagen.Sizes(firms=6, contacts=6, employees=4, vendors=2, projects=2, templates=1)
PROJECTS_ONLY = {"record_types": ["firm", "employee", "project"]}


def bulk_world(n: int, seed: int = 11) -> datagen.World:
    """A small world plus ``n`` Ajera projects flagged SyncToCRM that the CRM does not have yet."""
    world = datagen.generate(seed=seed, sizes=BASE)
    a = world.ajera
    model = copy.deepcopy(a["Projects"][0])
    # The world's own projects stay out of the way: the bulk ones are the only project work.
    a["Projects"] = [{**p, "SyncToCRM": False, "CreateInCRM": False} for p in a["Projects"]]
    for grid in ("project", "firmClient", "projectEmployee"):
        world.crm[grid] = []
    client = a["Clients"][0]["ClientKey"]
    project_key = max(p["ProjectKey"] for p in a["Projects"]) + 1
    group_key = max(g["InvoiceGroupKey"] for g in a["InvoiceGroups"]) + 1
    phase_key = max(p["PhaseKey"] for p in a["Phases"]) + 1
    for i in range(n):
        key = project_key + i
        a["Projects"].append({**model, "ProjectKey": key, "ID": f"B{i:05d}", "Description": f"Bulk Building {i:05d}",
                              "Status": "Active", "SyncToCRM": True, "CreateInCRM": False})
        a["InvoiceGroups"].append({"InvoiceGroupKey": group_key + i, "ProjectKey": key, "ClientKey": client,
                                   "Description": "Basic Services", "InvoiceFormatKey": 1})
        a["Phases"].append({"PhaseKey": phase_key + i, "ProjectKey": key, "InvoiceGroupKey": group_key + i,
                            "ParentKey": key, "ID": "01", "Description": "Design"})
    return world


def _state(dag_run: Any) -> str:
    return str(getattr(dag_run, "state", "")).lower().rsplit(".", 1)[-1]


def _bulk_in_crm(h: Any) -> Counter[str]:
    return Counter(r["WBS1"] for r in h.crm.list("project", fields=["WBS1"]) if r["WBS1"].startswith("B"))


def _apply_tries(dag_run: Any) -> dict[int, tuple[str, int]]:
    from airflow.models import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(TaskInstance).filter(TaskInstance.run_id == dag_run.run_id,
                                                  TaskInstance.task_id == "project.apply").all()
        return {ti.map_index: (str(ti.state).rsplit(".", 1)[-1], ti.try_number) for ti in rows}


@pytest.fixture
def bulk(sync_dag: Any, sync_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    yield from open_harness(sync_dag, sync_db_url, monkeypatch, bulk_world(1600))


# Two of the longest Airflow runs of the suite: on the last backend only (tests/support/backends.py); the
# batches' bookkeeping on both backends is in the crash and retry tests below.
@pytest.mark.parametrize("sync_db_url", LAST, indirect=True)
def test_1600_changed_projects_are_four_mapped_batches_in_one_run(bulk: Harness) -> None:
    started = time.monotonic()
    run = bulk.run(**PROJECTS_ONLY)
    elapsed = time.monotonic() - started
    assert _state(run) == "success"
    sizes = [n for _, n in bulk.db.rows("batch_sizes", {"run_id": run.run_id, "record_type": "project"})]
    assert sizes == [500, 500, 500, 100]
    tries = _apply_tries(run)
    assert sorted(tries) == list(range(len(sizes))) and all(state == "success" for state, _ in tries.values())
    in_crm = _bulk_in_crm(bulk)
    assert len(in_crm) == 1600 and set(in_crm.values()) == {1}
    log = bulk.log(run.run_id)
    assert log[-1].message.endswith("Sync Completed")
    stats_a, stats_c = bulk.ajera_sim.stats(), bulk.crm_sim.stats()
    print(f"\n1,600-project run through Airflow: {elapsed:.1f} s; Ajera calls {stats_a['_total']} "
          f"({ {k: v for k, v in stats_a.items() if not k.startswith('_')} }); CRM calls {stats_c['_total']} "
          f"({ {k: v for k, v in stats_c.items() if not k.startswith('_')} })")


def test_a_batch_failing_once_writes_nothing_twice_on_its_retry(sync_dag: Any, sync_db_url: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    for h in open_harness(sync_dag, sync_db_url, monkeypatch, bulk_world(60)):
        stop = threading.Event()

        def break_mid_batch() -> None:  # once 20 projects are in, the CRM fails long enough to fail the task
            while not stop.is_set():
                if h.crm_sim.stats().get("POST /api/project", 0) >= 20:
                    h.crm_sim.faults(fail_next=4, match="POST /api/project")
                    return
                time.sleep(0.02)

        watcher = threading.Thread(target=break_mid_batch)
        watcher.start()
        try:
            run = h.run(**PROJECTS_ONLY, batch_size=30)
        finally:
            stop.set()
            watcher.join()
        assert _state(run) == "success"
        tries = _apply_tries(run)
        assert max(t for _, t in tries.values()) >= 2, tries  # a batch did fail and was retried
        in_crm = _bulk_in_crm(h)
        assert len(in_crm) == 60 and set(in_crm.values()) == {1}
        created = Counter(r.ajera_key for r in h.log(run.run_id)
                          if r.action == "created" and r.record_type == "project")
        assert len(created) >= 60 and set(created.values()) == {1}  # each create logged once
        mapped = [m.ajera_key for m in h.mappings("project")]
        assert len(mapped) == len(set(mapped))


@pytest.mark.parametrize("sync_db_url", LAST, indirect=True)
def test_batch_cap_announces_the_reruns_then_completes(sync_dag: Any, sync_db_url: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    for h in open_harness(sync_dag, sync_db_url, monkeypatch, bulk_world(38)):
        capped = {**PROJECTS_ONLY, "batch_size": 10, "max_project_batches": 1}
        messages = []
        for expected in (3, 2, 1):
            run = h.run(**capped)
            assert _state(run) == "success"
            lines = [r.message for r in h.log(run.run_id)]
            assert backlog_message(10, expected) in lines
            assert not any(line.endswith("Sync Completed") for line in lines)
            messages.append(expected)
        last = h.run(**capped)
        assert _state(last) == "success"
        assert h.log(last.run_id)[-1].message.endswith("Sync Completed")
        in_crm = _bulk_in_crm(h)
        assert len(in_crm) == 38 and set(in_crm.values()) == {1}


def test_batch_cap_holds_crm_to_ajera_until_the_backlog_is_empty(engine_factory: Any) -> None:
    world = bulk_world(25)
    template = world.ajera["ProjectTemplates"][0]["ProjectTemplateKey"]
    firm = world.crm["firm"][0]
    world.crm["firm"][0] = {**firm, "AjeraSync": "Y", "ClientInd": "Y"}
    world.crm["project"].append({"WBS1": "CRM-NEW-1", "Status": "A", "ChargeType": "R",
                                 "Name": "Harbor Clinic Addition", "LongName": "Harbor Clinic Addition",
                                 "AjeraSync": "Y",
                                 "ProjectTemplate": str(template), "ClientID": firm["ClientID"]})
    engine = engine_factory(world)
    options = {"record_types": ("firm", "employee", "project"), "batch_size": 10, "max_project_batches": 1}

    def in_ajera() -> bool:
        return any(p["Description"] == "Harbor Clinic Addition" for p in engine.ajera.list("Projects"))

    first = engine.sync(**options)
    assert any("re-run the manual or auto sync 2 more times" in line for line in first.lines())
    assert not in_ajera()
    waits = [r for r in engine.log(first.run_id) if r.action == "skipped" and r.crm_key == "CRM-NEW-1"]
    assert waits and "backlog" in waits[0].message
    engine.sync(**options)
    assert not in_ajera()
    last = engine.sync(**options)
    assert last.lines()[-1] == "Sync Completed" and in_ajera()


@pytest.fixture
def engine_factory(sync_db_url: str) -> Iterator[Any]:
    parts: list[Any] = []

    def make(world: datagen.World) -> Any:
        engine, stop = start_engine(sync_db_url, world)
        parts.append(stop)
        return engine

    yield make
    for stop in parts:
        stop_engine(stop)


KILL_TARGET = """
import sys
from include.clients.ajera import AjeraClient
from include.clients.vantagepoint import VantagepointClient
from include.sync.db import SyncDatabase
from include.sync.runner import run_sync
from include.sync.runs import RunOptions
from simulators.harness import AJERA_LOGIN, CRM_LOGIN
ajera_url, crm_url, db_url = sys.argv[1:4]
ajera = AjeraClient(ajera_url, *AJERA_LOGIN, rate_limit_rps=None)
crm = VantagepointClient(crm_url, *CRM_LOGIN)
run_sync(SyncDatabase(db_url), ajera, crm, "killed-run", RunOptions(record_types=("firm", "employee", "project"),
         batch_size=500))
"""


def test_a_run_killed_mid_batch_and_rerun_creates_no_duplicate(engine_factory: Any, sync_db_url: str) -> None:
    engine = engine_factory(bulk_world(700))
    proc = subprocess.Popen([sys.executable, "-c", KILL_TARGET, engine.ajera_sim.url, engine.crm_sim.url,
                             sync_db_url], cwd=ROOT,
                            # the killed run's sync lock lapses quickly, so the re-run can take it over
                            env={**os.environ, "PYTHONPATH": str(ROOT), "AJERA_CRM_LOCK_TTL_SECONDS": "2"})
    try:
        deadline = time.monotonic() + 240
        while engine.crm_sim.stats().get("POST /api/project", 0) < 300:
            assert proc.poll() is None, "the sync ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)  # mid-batch: no finally block, no cleanup
    finally:
        proc.wait(timeout=30)
    partly = len(_bulk_in_crm(engine))
    assert 300 <= partly < 700
    time.sleep(6)  # the dead run's lease expires (a live one renews it)
    summary = engine.sync(record_types=("firm", "employee", "project"))
    assert summary.completed, summary.lines()
    in_crm = _bulk_in_crm(engine)
    assert len(in_crm) == 700 and set(in_crm.values()) == {1}
    mapped = [m.crm_key for m in engine.mappings("project")]
    assert len(mapped) == len(set(mapped))


def test_map_unsynced_ajera_projects_links_unique_names_and_logs_ambiguous(engine_factory: Any) -> None:
    world = bulk_world(3)
    a, c = world.ajera["Projects"], world.crm["project"]
    long_name = "Riverside Regional Water Treatment Plant Expansion Phase Two"
    unsynced = [{**a[0], "ProjectKey": 9001, "ID": "U-1", "Description": "Old Mill Lofts", "SyncToCRM": False},
                {**a[0], "ProjectKey": 9002, "ID": "U-2", "Description": long_name, "SyncToCRM": False},
                {**a[0], "ProjectKey": 9003, "ID": "U-3", "Description": "Twin Name Depot", "SyncToCRM": False}]
    a.extend(unsynced)
    for p in unsynced:
        world.ajera["InvoiceGroups"].append({"InvoiceGroupKey": 90000 + p["ProjectKey"], "ProjectKey": p["ProjectKey"],
                                             "ClientKey": world.ajera["Clients"][0]["ClientKey"],
                                             "Description": "Basic Services", "InvoiceFormatKey": 1})
    crm_base = {"Status": "A", "ChargeType": "R", "AjeraSync": "N"}
    c.extend([{**crm_base, "WBS1": "C-1", "Name": "OLD MILL LOFTS", "LongName": "OLD MILL LOFTS"},
              {**crm_base, "WBS1": "C-2", "Name": long_name[:40], "LongName": long_name},
              {**crm_base, "WBS1": "C-3", "Name": "Twin Name Depot", "LongName": "Twin Name Depot"},
              {**crm_base, "WBS1": "C-4", "Name": "Twin Name Depot", "LongName": "Twin Name Depot"},
              {**crm_base, "WBS1": "C-0", "Name": "Anchor Pair", "LongName": "Anchor Pair"}])
    engine = engine_factory(world)
    types = ("firm", "employee", "project")
    # The first sync links nothing of these (the pair was missed: here, the bulk projects were first)...
    engine.db.create_schema()
    with engine.db.begin() as tx:
        tx.execute("insert_mapping", {"record_type": "project", "ajera_key": str(a[0]["ProjectKey"]),
                                      "crm_key": "C-0", "match_method": "name_exact", "run_id": "seed",
                                      "now": "2026-01-01", "synced_at": "2026-01-01",
                                      "ajera_modified": None, "crm_modified": None, "ajera_hash": None,
                                      "crm_hash": None, "ajera_fields": None, "crm_fields": None})
        # ...and was applied in full: later runs are no longer first syncs (no first-time matching).
        tx.execute("mark_first_sync_done", {"record_type": "project", "run_id": "seed", "now": "2026-01-01"})
    assert engine.sync(record_types=types).completed
    linked = {m.ajera_key: m.crm_key for m in engine.mappings("project")}
    assert not {"9001", "9002", "9003"} & set(linked)

    # ...until a run sets the option: unique exact names (40-character rule) link, the twin is logged.
    summary = engine.sync(record_types=types, map_unsynced_projects=True)
    assert summary.completed, summary.lines()
    linked = {m.ajera_key: m.crm_key for m in engine.mappings("project")}
    assert linked["9001"] == "C-1" and linked["9002"] == "C-2" and "9003" not in linked
    ambiguous = [r for r in engine.log(summary.run_id) if r.action == "ambiguous" and r.ajera_key == "9003"]
    assert ambiguous
    # Nothing was created for them on either side.
    assert len([p for p in engine.crm.list("project") if p["Name"] == "OLD MILL LOFTS"]) == 1
