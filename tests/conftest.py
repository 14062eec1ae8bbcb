"""Fixtures shared by every test layer: simulators on loopback ports, started in-thread."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from simulators import datagen
from simulators.harness import SimulatorHandle
from simulators.harness import start as start_simulator
from tests.support import airflow_env
from tests.support.airflow_env import ROOT
from tests.support.backends import BACKENDS as DB_BACKENDS
from tests.support.backends import POSTGRES_URL
from tests.support.engine import SMALL, Engine, Harness, open_harness, start_engine, stop_engine

# The alert receivers' fixtures, for the notifier unit tests and the alert DAG tests.
pytest_plugins = ["tests.support.alert_receivers"]

if TYPE_CHECKING:
    from include.sync.db import SyncDatabase


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from tests.support import scheduling

    return scheduling.make_scheduler(config, log)


def pytest_configure(config: pytest.Config) -> None:
    # Before any test module imports Airflow: its settings are read once, at import.
    airflow_env.configure()


@pytest.fixture
def ajera_sim(request: pytest.FixtureRequest) -> Iterator[SimulatorHandle]:
    """An empty Ajera simulator; parametrize indirectly with {"seed": ..., "settings": ...} to seed it."""
    params = getattr(request, "param", None) or {}
    sim = start_simulator("ajera", seed=params.get("seed"), settings=params.get("settings"))
    yield sim
    sim.stop()


@pytest.fixture
def crm_sim(request: pytest.FixtureRequest) -> Iterator[SimulatorHandle]:
    """An empty Vantagepoint simulator; parametrize indirectly like ``ajera_sim``."""
    params = getattr(request, "param", None) or {}
    sim = start_simulator("crm", seed=params.get("seed"), settings=params.get("settings"))
    yield sim
    sim.stop()


# --- the sync database: SQLite always, PostgreSQL too when SYNC_TEST_POSTGRES_URL is set (CI sets it) ----



@pytest.fixture(params=DB_BACKENDS)
def sync_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty sync database URL: a SQLite file, or a throw-away PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sync.db'}"
        return
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sync_db(sync_db_url: str) -> Iterator[SyncDatabase]:
    from include.sync.db import SyncDatabase

    db = SyncDatabase(sync_db_url)
    db.create_schema()
    yield db
    db.dispose()


# --- Airflow and the sync engine (the DAG tests, the reliability suites, the UI tests) -------------------

@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Migrate the (throw-away) Airflow metadata database once per session; create the API pool."""
    env = dict(os.environ)
    for args in (["db", "migrate"], ["pools", "set", "ajera_crm_api", "4", "API concurrency of the sync"]):
        done = subprocess.run([sys.executable, "-m", "airflow", *args], env=env, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


@pytest.fixture(scope="session")
def sync_dag(airflow_db: None) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag("ajera_crm_sync")


@pytest.fixture
def harness(sync_dag: Any, sync_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    """The Airflow DAG against freshly seeded simulators; the DAG reaches them through its connections."""
    yield from open_harness(sync_dag, sync_db_url, monkeypatch, datagen.generate(seed=7, sizes=SMALL))


@pytest.fixture
def engine(sync_db_url: str) -> Iterator[Engine]:
    """A fresh sync database and simulators seeded with the small world (seed 7)."""
    engine, parts = start_engine(sync_db_url, datagen.generate(seed=7, sizes=SMALL))
    yield engine
    stop_engine(parts)
