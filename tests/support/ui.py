"""A real ``airflow api-server`` with the plugin, the simple auth manager and two users, and the world the UI
tests look at (see tests/ui/conftest.py for the fixtures that start them)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import text

from tests.support.airflow_env import ROOT
from tests.support.engine import Harness

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
