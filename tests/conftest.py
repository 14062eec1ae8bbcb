"""Fixtures shared by every test layer: simulators on loopback ports, started in-thread."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from simulators.server import RunningServer, start_in_thread
from tests import airflow_env

if TYPE_CHECKING:
    from include.sync.db import SyncDatabase


def pytest_configure(config: pytest.Config) -> None:
    # Before any test module imports Airflow: its settings are read once, at import.
    airflow_env.configure()


def _start(kind: str, seed: dict[str, Any] | None, settings: dict[str, Any] | None) -> RunningServer:
    if kind == "ajera":
        from simulators.ajera.app import create_app
    else:
        from simulators.vantagepoint.app import create_app
    return start_in_thread(create_app(db_path=":memory:", seed=seed, settings=settings))


class SimulatorHandle:
    """A running simulator plus helpers to steer its faults from a test."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.url = server.url

    def faults(self, **changes: Any) -> dict[str, Any]:
        response = requests.put(f"{self.url}/_sim/faults", json=changes, timeout=5)
        response.raise_for_status()
        return response.json()

    def stats(self) -> dict[str, int]:
        return requests.get(f"{self.url}/_sim/stats", timeout=5).json()

    def reset_stats(self) -> None:
        requests.post(f"{self.url}/_sim/stats/reset", timeout=5).raise_for_status()

    def expire_sessions(self) -> int:
        return requests.post(f"{self.url}/_sim/expire-sessions", timeout=5).json()["expired"]


@pytest.fixture
def ajera_sim(request: pytest.FixtureRequest) -> Iterator[SimulatorHandle]:
    """An empty Ajera simulator; parametrize indirectly with {"seed": ..., "settings": ...} to seed it."""
    params = getattr(request, "param", None) or {}
    server = _start("ajera", params.get("seed"), params.get("settings"))
    yield SimulatorHandle(server)
    server.stop()


@pytest.fixture
def crm_sim(request: pytest.FixtureRequest) -> Iterator[SimulatorHandle]:
    """An empty Vantagepoint simulator; parametrize indirectly like ``ajera_sim``."""
    params = getattr(request, "param", None) or {}
    server = _start("crm", params.get("seed"), params.get("settings"))
    yield SimulatorHandle(server)
    server.stop()


# --- the sync database: SQLite always, PostgreSQL too when SYNC_TEST_POSTGRES_URL is set (CI sets it) ----

POSTGRES_URL = os.environ.get("SYNC_TEST_POSTGRES_URL")
DB_BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


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
