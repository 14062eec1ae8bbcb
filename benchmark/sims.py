"""Both simulators in one subprocess (so they share neither the sync's GIL nor its memory), on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 600.0  # seconds for the simulators to generate their world (L is large) and answer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pythonpath() -> str:
    return os.pathsep.join([str(ROOT), str(ROOT / "plugins")])


class Simulators:
    def __init__(self, seed: int, sizes: dict[str, int], workdir: Path, label: str) -> None:
        self.seed, self.sizes, self.workdir, self.label = seed, sizes, workdir, label
        self.process: subprocess.Popen[bytes] | None = None
        self.urls: dict[str, Any] = {}
        self._log: Any = None

    def __enter__(self) -> Simulators:
        ready = self.workdir / f"sim-{self.label}.json"
        ready.unlink(missing_ok=True)
        sizes = [arg for name, n in self.sizes.items() for arg in (f"--{name}", str(n))]
        command = [sys.executable, "-m", "simulators", "serve", "--memory", "--host", "127.0.0.1",
                   "--seed", str(self.seed), *sizes, "--ajera-port", str(free_port()),
                   "--crm-port", str(free_port()), "--ready-file", str(ready)]
        log_path = self.workdir / f"sim-{self.label}.log"
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ, PYTHONPATH=pythonpath()),
                                        stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"the simulators did not start:\n{log_path.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)
        self.urls = json.loads(ready.read_text())
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def throttle_ajera(self, rps: float | None) -> None:
        """The Ajera simulator's throttle (HTTP 429 above ``rps``); None turns it off. The CRM is not throttled."""
        response = requests.put(f"{self.urls['ajera_base_url']}/_sim/faults", json={"throttle_rps": rps}, timeout=10)
        response.raise_for_status()

    def stats(self) -> dict[str, dict[str, int]]:
        out = {}
        for system, key in (("ajera", "ajera_base_url"), ("crm", "crm_base_url")):
            out[system] = requests.get(f"{self.urls[key]}/_sim/stats", timeout=10).json()
        return out
