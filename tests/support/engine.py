"""The sync against both simulators over real HTTP: in-process (``Engine``) or run by Airflow's ``dag.test()``
(``Harness``), over simulators seeded with a generated world."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from include.clients.ajera import AjeraClient
from include.clients.http import RetryPolicy
from include.clients.vantagepoint import VantagepointClient
from include.sync.db import SyncDatabase
from simulators import datagen
from simulators.ajera.app import create_app as ajera_app
from simulators.server import start_in_thread
from simulators.vantagepoint.app import create_app as crm_app
from tests.support.simulators import SimulatorHandle

API_ID = "YWplcmEtc2ltOjE="  # base64("ajera-sim:1"), the simulator's default
SMALL = datagen.Sizes(firms=40, contacts=60, employees=12, vendors=8, projects=30, templates=2)


class _SyncTables:
    """Read helpers over the sync database, shared by the Airflow harness and the in-process engine."""

    db: SyncDatabase

    def log(self, run_id: str) -> list[Any]:
        return self.db.rows("log_for_run", {"run_id": run_id})

    def counts(self, run_id: str) -> dict[tuple[str, str, str], int]:
        return {(t, d, a): n for t, d, a, n in self.db.rows("log_counts", {"run_id": run_id})}

    def mappings(self, record_type: str = "firm") -> list[Any]:
        return self.db.rows("select_mappings", {"record_type": record_type})

    def pairs(self, record_type: str) -> dict[str, str]:
        """The CRM key mapped to each Ajera key."""
        return {m.ajera_key: m.crm_key for m in self.mappings(record_type)}


@dataclass
class Engine(_SyncTables):
    """The sync's steps run in-process (include.sync.runner) against both simulators over HTTP."""

    db: SyncDatabase
    ajera_sim: SimulatorHandle
    crm_sim: SimulatorHandle
    ajera: AjeraClient
    crm: VantagepointClient
    world: datagen.World
    runs: int = 0

    def sync(self, **options: Any) -> Any:
        from include.sync.runner import run_sync
        from include.sync.runs import RunOptions

        self.runs += 1
        run_id = f"test-run-{self.runs:03d}"
        return run_sync(self.db, self.ajera, self.crm, run_id, RunOptions(**options))



@dataclass
class Harness(Engine):
    """The same simulators and clients as ``Engine``, with the sync run by Airflow instead."""

    dag: Any = None

    def run(self, **conf: Any) -> Any:
        """One DAG run through Airflow; returns the DagRun.

        Every option is passed each time: dag.test() applies run_conf to the DAG object's params in place,
        so an option left out would silently keep the previous run's value."""
        from ajera_crm import form

        return self.dag.test(run_conf={**form.defaults(), **conf})


def open_harness(sync_dag: Any, sync_db_url: str, monkeypatch: pytest.MonkeyPatch,
                 world: datagen.World) -> Iterator[Harness]:
    """A harness over simulators seeded with ``world`` (a generator: the simulators stop after it)."""
    engine, parts = start_engine(sync_db_url, world)
    monkeypatch.setenv("SYNC_DATABASE_URL", sync_db_url)
    monkeypatch.setenv("AIRFLOW_CONN_AJERA_DEFAULT", json.dumps({
        "conn_type": "http", "host": engine.ajera_sim.url, "login": "sync", "password": "sync-password",
        "extra": {"api_id": API_ID, "timeout": 2, "retry_attempts": 3, "retry_base_delay": 0.05,
                  "rate_limit_rps": 0},
    }))
    monkeypatch.setenv("AIRFLOW_CONN_VANTAGEPOINT_DEFAULT", json.dumps({
        "conn_type": "http", "host": engine.crm_sim.url, "login": "sync", "password": "sync-password",
        "extra": {"database": "VPSIM", "client_id": "sync-client", "client_secret": "sync-secret", "timeout": 2,
                  "retry_attempts": 3, "retry_base_delay": 0.05},
    }))
    try:
        yield Harness(**vars(engine), dag=sync_dag)
    finally:
        stop_engine(parts)


def start_engine(sync_db_url: str, world: datagen.World) -> tuple[Engine, list[Any]]:
    ajera_server = start_in_thread(ajera_app(seed=world.ajera))
    crm_server = start_in_thread(crm_app(seed=world.crm))
    db = SyncDatabase(sync_db_url)
    db.create_schema()
    quick = RetryPolicy(attempts=3, base_delay=0.05)
    ajera = AjeraClient(ajera_server.url, API_ID, "sync", "sync-password", retry=quick, rate_limit_rps=None,
                        timeout=5)
    crm = VantagepointClient(crm_server.url, "sync", "sync-password", "VPSIM", "sync-client", "sync-secret",
                             retry=quick, timeout=5)
    engine = Engine(db, SimulatorHandle(ajera_server), SimulatorHandle(crm_server), ajera, crm, world)
    return engine, [ajera, crm, db.dispose, ajera_server, crm_server]


def stop_engine(parts: list[Any]) -> None:
    ajera, crm, dispose, ajera_server, crm_server = parts
    ajera.close()
    crm.close()
    dispose()
    ajera_server.stop()
    crm_server.stop()
