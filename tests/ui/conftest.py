"""A real ``airflow api-server`` with the plugin, the simple auth manager and two users, on a free loopback
port; the sync database it reads is the one the DAG runs of the test write."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
import requests

from tests.airflow_env import ROOT
from tests.integration.conftest import airflow_db, sync_dag  # noqa: F401  (fixtures shared with the DAG tests)

USERS = {"admin": ("admin", "admin-secret-1"), "viewer": ("viewer", "viewer-secret-1")}  # name -> (role, password)
ARTEFACTS = ROOT / "var" / "artefacts"
START_TIMEOUT = 90


@dataclass
class ApiServer:
    url: str
    sync_db_url: str
    log_path: Path

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
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "plugins")]),
        "SYNC_DATABASE_URL": sync_db_url,
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{n}:{role}" for n, (role, _) in USERS.items()),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__API_AUTH__JWT_SECRET": "ui-test-jwt-secret-0123456789abcdef",
        "AIRFLOW__API__SECRET_KEY": "ui-test-api-secret-0123456789abcdef",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }


@pytest.fixture(scope="module")
def api_server(airflow_db: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:  # noqa: F811
    home = tmp_path_factory.mktemp("api-server")
    sync_db_url = f"sqlite:///{home / 'sync.db'}"
    port = _free_port()
    log_path = home / "api-server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "airflow", "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=api_server_env(sync_db_url, home), stdout=log, stderr=subprocess.STDOUT, cwd=home,
        )
    server = ApiServer(f"http://127.0.0.1:{port}", sync_db_url, log_path)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"airflow api-server exited ({process.returncode}):\n{server.log_tail()}")
            try:
                if requests.get(f"{server.url}/api/v2/version", timeout=2).status_code in (200, 401, 403):
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"airflow api-server did not answer in {START_TIMEOUT} s:\n{server.log_tail()}")
            time.sleep(0.5)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
