"""One harness for both simulators, for the demo, the benchmark and the tests.

It starts them (in this process's threads, or as ``python -m simulators serve`` in a child process that
shares neither the caller's GIL nor its memory), waits until they answer, says how to reach them (the
credentials, the clients' positional arguments, Airflow connections), steers their faults, reads their
counters and stops them. The sync code never imports it: it reaches the simulators only over HTTP.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import requests

from simulators.credentials import (
    AJERA_API_ID,
    CRM_CLIENT_ID,
    CRM_CLIENT_SECRET,
    CRM_DATABASE,
    PASSWORD,
    USERNAME,
)
from simulators.datagen import World
from simulators.faults import FaultConfig
from simulators.server import RunningServer, start_in_thread

__all__ = [
    "AJERA_API_ID", "AJERA_LOGIN", "CRM_CLIENT_ID", "CRM_CLIENT_SECRET", "CRM_DATABASE", "CRM_EXTRA", "CRM_LOGIN",
    "PASSWORD", "USERNAME", "SimulatorHandle", "Simulators", "System", "ajera_api_url", "connections", "crm_api_url",
    "free_port", "spawn", "start", "start_both",
]

System = Literal["ajera", "crm"]
ROOT = Path(__file__).resolve().parents[1]
# The clients' arguments after the base URL: AjeraClient(url, *AJERA_LOGIN), VantagepointClient(url, *CRM_LOGIN).
AJERA_LOGIN = (AJERA_API_ID, USERNAME, PASSWORD)
CRM_LOGIN = (USERNAME, PASSWORD, CRM_DATABASE, CRM_CLIENT_ID, CRM_CLIENT_SECRET)
# The Vantagepoint connection's extras (and the client's keyword arguments) besides login and password.
CRM_EXTRA = {"database": CRM_DATABASE, "client_id": CRM_CLIENT_ID, "client_secret": CRM_CLIENT_SECRET}
CONTROL_TIMEOUT = 10.0  # seconds for a /_sim/... call
STOP_TIMEOUT = 15.0  # seconds for a child process to exit after SIGTERM (then SIGKILL)


def ajera_api_url(base_url: str) -> str:
    """The Ajera API endpoint under a simulator's base URL."""
    return f"{base_url}/AjeraAPI.ashx?{AJERA_API_ID}"


def crm_api_url(base_url: str) -> str:
    """The Vantagepoint API base under a simulator's base URL."""
    return f"{base_url}/api"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class SimulatorHandle:
    """One running simulator by its base URL: its control calls (``/_sim/...``) and, if it runs in this
    process, its server thread."""

    url: str
    server: RunningServer | None = None

    def faults(self, **changes: Any) -> dict[str, Any]:
        response = requests.put(f"{self.url}/_sim/faults", json=changes, timeout=CONTROL_TIMEOUT)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    def stats(self) -> dict[str, int]:
        counts: dict[str, int] = requests.get(f"{self.url}/_sim/stats", timeout=CONTROL_TIMEOUT).json()
        return counts

    def reset_stats(self) -> None:
        requests.post(f"{self.url}/_sim/stats/reset", timeout=CONTROL_TIMEOUT).raise_for_status()

    def expire_sessions(self) -> int:
        expired: int = requests.post(f"{self.url}/_sim/expire-sessions", timeout=CONTROL_TIMEOUT).json()["expired"]
        return expired

    def alive(self) -> bool:
        return self.server is None or self.server.thread.is_alive()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


def start(system: System, *, seed: dict[str, list[dict[str, Any]]] | None = None,
          settings: dict[str, Any] | None = None, faults: FaultConfig | None = None, db_path: str = ":memory:",
          host: str = "127.0.0.1", port: int = 0) -> SimulatorHandle:
    """One simulator in a thread of this process (port 0: any free port); returns once it accepts connections."""
    if system == "ajera":
        from simulators.ajera.app import create_app
    else:
        from simulators.vantagepoint.app import create_app
    app = create_app(db_path=db_path, faults=faults, seed=seed, settings=settings)
    server = start_in_thread(app, host=host, port=port)
    return SimulatorHandle(server.url, server)


@dataclass
class Simulators:
    """Both simulators, started together, stopped together (also as a context manager)."""

    ajera: SimulatorHandle
    crm: SimulatorHandle
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def ajera_api_url(self) -> str:
        return ajera_api_url(self.ajera.url)

    @property
    def crm_api_url(self) -> str:
        return crm_api_url(self.crm.url)

    def stats(self) -> dict[str, dict[str, int]]:
        return {"ajera": self.ajera.stats(), "crm": self.crm.stats()}

    def connections(self, ajera_extra: Mapping[str, Any] | None = None,
                    crm_extra: Mapping[str, Any] | None = None) -> dict[str, str]:
        return connections(self.ajera.url, self.crm.url, ajera_extra, crm_extra)

    def stop(self) -> None:
        if self.process is not None:
            _end(self.process, self.log)
        self.process, self.log = None, None
        self.ajera.stop()
        self.crm.stop()

    def __enter__(self) -> Simulators:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def connections(ajera_url: str, crm_url: str, ajera_extra: Mapping[str, Any] | None = None,
                crm_extra: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The sync's two Airflow connections to the simulators at these base URLs, as ``AIRFLOW_CONN_*``
    variables; the extras add to the credentials (timeouts, retries, the client's rate limit)."""
    login = {"conn_type": "http", "login": USERNAME, "password": PASSWORD}
    return {
        "AIRFLOW_CONN_AJERA_DEFAULT": json.dumps({
            **login, "host": ajera_url, "extra": {"api_id": AJERA_API_ID, **(ajera_extra or {})}}),
        "AIRFLOW_CONN_VANTAGEPOINT_DEFAULT": json.dumps({
            **login, "host": crm_url, "extra": {**CRM_EXTRA, **(crm_extra or {})}}),
    }


def start_both(world: World) -> Simulators:
    """Both simulators in threads of this process, seeded with ``world``, stores in memory."""
    ajera = start("ajera", seed=world.ajera)
    try:
        return Simulators(ajera, start("crm", seed=world.crm))
    except BaseException:
        ajera.stop()
        raise


def spawn(workdir: Path, label: str, seed: int, sizes: Mapping[str, int] | None = None,
          timeout: float = 60.0) -> Simulators:
    """Both simulators in a child process (``python -m simulators serve``) on free loopback ports, seeded with
    ``generate(seed, sizes)`` (``sizes`` overrides some of the defaults by name). Its output goes to
    ``workdir/<label>.log``; returns once both answer, or raises RuntimeError with the log's tail."""
    ready = workdir / f"{label}.json"
    ready.unlink(missing_ok=True)
    size_args = [arg for name, n in (sizes or {}).items() for arg in (f"--{name}", str(n))]
    command = [sys.executable, "-m", "simulators", "serve", "--memory", "--host", "127.0.0.1", "--seed", str(seed),
               *size_args, "--ajera-port", str(free_port()), "--crm-port", str(free_port()), "--ready-file", str(ready)]
    log_path = workdir / f"{label}.log"
    log = log_path.open("wb")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            _end(process, log)
            raise RuntimeError(f"the simulators did not start:\n{log_path.read_text(errors='replace')[-2000:]}")
        time.sleep(0.1)
    urls = read_ready(ready)
    return Simulators(SimulatorHandle(urls["ajera_base_url"]), SimulatorHandle(urls["crm_base_url"]), process, log)


def _end(process: subprocess.Popen[bytes], log: IO[bytes] | None) -> None:
    """Stop a child process (SIGTERM, then SIGKILL if it does not exit in time) and close its log."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
    if log is not None:
        log.close()


# --- the ready file ``serve --ready-file`` writes (the compose check reads it too) --------------------------


def write_ready(path: Path, content: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(content, indent=2) + "\n")
    os.replace(tmp, path)  # atomic: a watcher never sees a half-written file


def read_ready(path: Path) -> dict[str, Any]:
    content: dict[str, Any] = json.loads(path.read_text())
    return content


def remove_ready(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
