"""Real Airflow components for a test: a fresh AIRFLOW_HOME, ``airflow db migrate``, then the API server,
the scheduler and the DAG processor as processes, and the ``airflow`` CLI against the same home.

The metadata database is a throw-away database on the local PostgreSQL server when one answers (the
scheduler, the API server and task processes write to it at once, which SQLite cannot take reliably), else
a SQLite file (Airflow's development setting); with SQLite a test should run its CLI commands before it
starts the components.

The processes get no PYTHONPATH and run from a directory outside the project, as a deployment would: the
dags and plugins folders are all they are given."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.airflow_env import ROOT

COMPONENTS = ("api-server", "scheduler", "dag-processor")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env() -> dict[str, str]:
    """This process's environment without Airflow, sync or path settings (the test's own are set apart)."""
    drop = ("AIRFLOW", "_AIRFLOW", "SYNC_DATABASE_URL", "AJERA_CRM_", "PYTHONPATH", "ALERT_EMAIL")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def _server_url() -> str:
    return os.environ.get("SYNC_TEST_POSTGRES_URL") or DEFAULT_POSTGRES


def _create_metadata_database() -> str | None:
    """A fresh database on the local PostgreSQL server, or None when there is none."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = make_url(_server_url()).set(drivername="postgresql+psycopg", query={})
    name = f"airflow_test_{os.urandom(6).hex()}"
    try:
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception:
        return None
    return server.set(database=name).render_as_string(hide_password=False)


def _drop_metadata_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


class AirflowCluster:
    def __init__(self, home: Path, settings: dict[str, str]) -> None:
        self.home = home
        self.logs = home / "logs-of-components"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.api_port = free_port()
        self.postgres_url = _create_metadata_database()
        metadata = self.postgres_url or f"sqlite:///{home / 'airflow.db'}"
        self.env = {
            **clean_env(),
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.api_port}/execution/",
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{self.api_port}",
            "AIRFLOW__API_AUTH__JWT_SECRET": "test-jwt-secret-" + os.urandom(8).hex(),
            "AIRFLOW__API__SECRET_KEY": "test-api-secret-" + os.urandom(8).hex(),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "GX_ANALYTICS_ENABLED": "False",
            **settings,
        }
        if self.postgres_url:  # psycopg 3 does async too (asyncpg is not a requirement)
            self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] = self.postgres_url
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def cli(self, *args: str, timeout: float = 240) -> str:
        done = subprocess.run([sys.executable, "-m", "airflow", *args], cwd=self.home, env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode:
            raise RuntimeError(f"airflow {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n"
                               f"{done.stderr[-3000:]}")
        return done.stdout

    def start(self, components: tuple[str, ...] = COMPONENTS) -> None:
        """Start the components; the API server first, and the others once it answers (task processes
        report to its Execution API from their first second)."""
        for name in components:
            extra = ["--host", "127.0.0.1", "--port", str(self.api_port)] if name == "api-server" else []
            with open(self.logs / f"{name}.log", "wb") as out:
                # Own session: stopping it stops its children too (API workers, task processes).
                self.procs[name] = subprocess.Popen([sys.executable, "-m", "airflow", name, *extra], cwd=self.home,
                                                    env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                                    start_new_session=True)
            if name == "api-server":
                self.wait("the API server", self._api_healthy, 180, interval=0.5)

    def _api_healthy(self) -> bool:
        import requests

        try:
            return requests.get(f"http://127.0.0.1:{self.api_port}/api/v2/monitor/health", timeout=5).ok
        except requests.RequestException:
            return False

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def wait(self, what: str, probe: Callable[[], Any], timeout: float, interval: float = 1.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            result = probe()
            if result:
                return result
            time.sleep(interval)
        raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}\n"
                           + "\n".join(f"--- {n} ---\n{self.tail(n)}" for n in self.procs))

    def metadata(self, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
        """Read Airflow's metadata database (the test's own)."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(sql), params or {}).all())
        finally:
            engine.dispose()

    def dag_parsed(self, dag_id: str) -> bool:
        errors = self.metadata("SELECT filename, stacktrace FROM import_error")
        if errors:
            raise RuntimeError(f"DAG import errors: {json.dumps([list(e) for e in errors])[:3000]}")
        return bool(self.metadata("SELECT 1 FROM serialized_dag WHERE dag_id = :d", {"d": dag_id}))

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            # Whatever is left of its group (task processes) goes too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        if self.postgres_url:
            _drop_metadata_database(self.postgres_url)
