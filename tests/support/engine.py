"""The sync against both simulators over real HTTP: in-process (``Engine``) or run by Airflow's ``dag.test()``
(``Harness``), over simulators seeded with a generated world."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from include.clients.ajera import AjeraClient
from include.clients.http import RetryPolicy
from include.clients.vantagepoint import VantagepointClient
from include.sync.db import SyncDatabase
from simulators import datagen
from simulators.harness import AJERA_LOGIN, CRM_LOGIN, SimulatorHandle, connections, start_both

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


def airflow_connections(engine: Engine, timeout: float) -> dict[str, str]:
    """The DAG's connections to the engine's simulators: short timeouts and quick retries, no client throttle."""
    retries = {"timeout": timeout, "retry_attempts": 3, "retry_base_delay": 0.05}
    return connections(engine.ajera_sim.url, engine.crm_sim.url, {**retries, "rate_limit_rps": 0}, retries)


def open_harness(sync_dag: Any, sync_db_url: str, monkeypatch: pytest.MonkeyPatch,
                 world: datagen.World) -> Iterator[Harness]:
    """A harness over simulators seeded with ``world`` (a generator: the simulators stop after it)."""
    engine, parts = start_engine(sync_db_url, world)
    monkeypatch.setenv("SYNC_DATABASE_URL", sync_db_url)
    for name, value in airflow_connections(engine, timeout=2).items():
        monkeypatch.setenv(name, value)
    try:
        yield Harness(**vars(engine), dag=sync_dag)
    finally:
        stop_engine(parts)


def start_engine(sync_db_url: str, world: datagen.World) -> tuple[Engine, list[Any]]:
    sims = start_both(world)
    db = SyncDatabase(sync_db_url)
    db.create_schema()
    quick = RetryPolicy(attempts=3, base_delay=0.05)
    ajera = AjeraClient(sims.ajera.url, *AJERA_LOGIN, retry=quick, rate_limit_rps=None, timeout=5)
    crm = VantagepointClient(sims.crm.url, *CRM_LOGIN, retry=quick, timeout=5)
    engine = Engine(db, sims.ajera, sims.crm, ajera, crm, world)
    return engine, [ajera, crm, db.dispose, sims]


def stop_engine(parts: list[Any]) -> None:
    ajera, crm, dispose, sims = parts
    ajera.close()
    crm.close()
    dispose()
    sims.stop()
