"""Simulators on loopback ports, started in-thread, and a handle that steers their faults from a test."""

from __future__ import annotations

from typing import Any

import requests

from simulators.server import RunningServer, start_in_thread


def start_simulator(kind: str, seed: dict[str, Any] | None, settings: dict[str, Any] | None) -> RunningServer:
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
