"""The processes the check starts: each in its own session, logged to a file, always stopped."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import requests

from .common import ROOT, CheckFailed, say

T = TypeVar("T")


class Processes:
    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = self.logs / f"{name}.log"
        # Own session: stopping it stops its children too (api-server workers, LocalExecutor task processes).
        with open(log, "wb") as fh:
            proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.running[name] = (proc, log)
        say(f"started {name} (pid {proc.pid}): {' '.join(shlex.quote(a) for a in argv[1:])}")
        return proc

    def check_alive(self) -> None:
        for name, (proc, log) in self.running.items():
            if proc.poll() is not None:
                raise CheckFailed(f"{name} exited with status {proc.returncode}; see {log}")

    def stop_all(self) -> None:
        for proc, _ in self.running.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for name, (proc, _) in self.running.items():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"{name} did not stop on SIGTERM; killing it")
            # Whatever is left of its group (task processes) goes too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            say(f"stopped {name}")

    def tails(self, lines: int = 25) -> None:
        for name, (_, log) in self.running.items():
            text = log.read_text(errors="replace").splitlines() if log.exists() else []
            print(f"----- last {lines} lines of {name} ({log}) -----")
            print("\n".join(text[-lines:]))


def run_cli(argv: list[str], env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode:
        raise CheckFailed(f"{' '.join(argv[1:])} failed ({done.returncode}):\n{done.stdout[-3000:]}\n"
                          f"{done.stderr[-3000:]}")
    return done


def wait_until(what: str, probe: Callable[[], T], timeout: float, procs: Processes, interval: float = 1.0) -> T:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        procs.check_alive()
        try:
            result = probe()
            if result:
                return result
        except (requests.RequestException, ValueError) as exc:
            last_error = exc
        time.sleep(interval)
    raise CheckFailed(f"timed out after {timeout:.0f}s waiting for {what}"
                      + (f" (last error: {last_error})" if last_error else ""))
