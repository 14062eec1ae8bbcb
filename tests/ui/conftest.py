"""A real ``airflow api-server`` with the plugin, the simple auth manager and two users, on a free loopback
port, and a small world synced by the DAG into the sync database it reads. Both live for the whole package
(one server start, two DAG runs): the access tests change nothing, the browser tests build on the world."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import text

from include.sync.record_types import FIRM
from simulators import datagen
from tests.airflow_env import ROOT
from tests.integration.conftest import API_ID, SMALL, Harness, airflow_db, start_engine, stop_engine, sync_dag  # noqa: F401  (fixtures shared with the DAG tests)

USERS = {"admin": ("admin", "admin-secret-1"), "viewer": ("viewer", "viewer-secret-1")}  # name -> (role, password)
ARTEFACTS = ROOT / "var" / "artefacts"
START_TIMEOUT = 90
BAD_STATUS = "Z"  # not a CRM firm status (A, I): the validate step quarantines the firm


@dataclass
class ApiServer:
    url: str
    sync_db_url: str
    log_path: Path
    process: subprocess.Popen
    ready: bool = False

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not self.ready:
            if self.process.poll() is not None:
                raise RuntimeError(f"airflow api-server exited ({self.process.returncode}):\n{self.log_tail()}")
            with contextlib.suppress(requests.ConnectionError):
                self.ready = requests.get(f"{self.url}/api/v2/version", timeout=2).status_code in (200, 401, 403)
            if not self.ready:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"airflow api-server did not answer in {START_TIMEOUT} s:\n{self.log_tail()}")
                time.sleep(0.5)

    def token(self, user: str) -> str:
        response = requests.post(f"{self.url}/auth/token", json={"username": user, "password": USERS[user][1]},
                                 timeout=10)
        response.raise_for_status()
        return response.json()["access_token"]

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api_server_env(sync_db_url: str, home: Path) -> dict[str, str]:
    passwords = home / "simple_auth_manager_passwords.json"
    passwords.write_text(json.dumps({name: password for name, (_, password) in USERS.items()}))
    # No PYTHONPATH, as in a new deployment: Airflow puts the plugins folder on sys.path, the package the rest.
    return {
        **{k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        "SYNC_DATABASE_URL": sync_db_url,
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{n}:{role}" for n, (role, _) in USERS.items()),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__API_AUTH__JWT_SECRET": "ui-test-jwt-secret-0123456789abcdef",
        "AIRFLOW__API__SECRET_KEY": "ui-test-api-secret-0123456789abcdef",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }


@pytest.fixture(scope="package")
def launched_api_server(airflow_db: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:  # noqa: F811
    """The server process, started but not yet waited for: the world's DAG runs overlap its start-up."""
    home = tmp_path_factory.mktemp("api-server")
    sync_db_url = f"sqlite:///{home / 'sync.db'}"
    port = _free_port()
    log_path = home / "api-server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "airflow", "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=api_server_env(sync_db_url, home), stdout=log, stderr=subprocess.STDOUT, cwd=home,
        )
    server = ApiServer(f"http://127.0.0.1:{port}", sync_db_url, log_path, process)
    try:
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log_path, ARTEFACTS / "api-server.log")


@pytest.fixture(scope="package")
def api_server(launched_api_server: ApiServer) -> ApiServer:
    launched_api_server.wait_ready()
    return launched_api_server


@dataclass
class World:
    harness: Harness
    server: ApiServer
    runs: list[str]
    near_miss: dict[str, Any]  # a suggestion to accept: names alike, not equal
    conflict_pair: dict[str, Any]  # a linked pair whose phone is changed on both sides
    bad_firm: str  # CRM key of the quarantined firm

    def sync(self, **env: str) -> str:
        with pytest.MonkeyPatch.context() as mp:
            for name, value in env.items():
                mp.setenv(name, value)
            run = self.harness.run(record_types=["firm"])
        assert run.state == "success", run.state
        self.runs.append(run.run_id)
        return run.run_id

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.harness.db.engine.begin() as conn:
            return list(conn.execute(text(sql), params).all())


@pytest.fixture(scope="package")
def world(launched_api_server: ApiServer, sync_dag: Any) -> Iterator[World]:  # noqa: F811
    """Simulators seeded with the small world plus one CRM firm of a status the API does not know, the DAG
    pointed at them and at the API server's sync database, and two runs: the first sync, then one after both
    sides changed the same phone within the clock-skew tolerance (a conflict for review)."""
    generated = datagen.generate(seed=7, sizes=SMALL)
    bad_firm = generated.notes["firms"]["crm_only"][0]
    for firm in generated.crm["firm"]:
        if firm["ClientID"] == bad_firm:
            firm["Status"] = BAD_STATUS  # seed data is loaded as it is, like bad data already in a tenant
    api_server = launched_api_server
    engine, parts = start_engine(api_server.sync_db_url, generated)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYNC_DATABASE_URL", api_server.sync_db_url)
        mp.setenv("AIRFLOW_CONN_AJERA_DEFAULT", json.dumps({
            "conn_type": "http", "host": engine.ajera_sim.url, "login": "sync", "password": "sync-password",
            "extra": {"api_id": API_ID, "timeout": 5, "retry_attempts": 3, "retry_base_delay": 0.05,
                      "rate_limit_rps": 0}}))
        mp.setenv("AIRFLOW_CONN_VANTAGEPOINT_DEFAULT", json.dumps({
            "conn_type": "http", "host": engine.crm_sim.url, "login": "sync", "password": "sync-password",
            "extra": {"database": "VPSIM", "client_id": "sync-client", "client_secret": "sync-secret", "timeout": 5,
                      "retry_attempts": 3, "retry_base_delay": 0.05}}))
        w = World(Harness(**vars(engine), dag=sync_dag), api_server, [], generated.notes["firms"]["near_miss"][0],
                  generated.notes["firms"]["exact"][0], bad_firm)
        w.sync()
        ajera_key, crm_key = str(w.conflict_pair["ajera"]), w.conflict_pair["crm"]
        base = engine.ajera.get(FIRM.ajera_entity, [int(ajera_key)])[0]
        phone = FIRM.field("phone")
        engine.ajera.update(FIRM.ajera_entity, [{**base, phone.ajera: "(555) 010-1111"}], [base])
        engine.crm.update(FIRM.crm_hub, crm_key, {phone.crm: "(555) 020-2222"})
        w.sync(AJERA_CRM_CLOCK_SKEW_SECONDS="3600")
        api_server.wait_ready()
        yield w
    stop_engine(parts)
