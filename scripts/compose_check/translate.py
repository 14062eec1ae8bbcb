"""Translating container settings to this machine: paths, host names and database URLs."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from pathlib import Path

from .common import CONTAINER_ROOT, ROOT


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Translator:
    """Maps container paths, host names and databases of the compose file to local ones."""

    def __init__(self, tmp: Path, ports: dict[tuple[str, int], int], db_url_for: Callable[[str, str], str]) -> None:
        self.tmp = tmp
        self.ports = ports  # (container host, container port) -> local port
        self.db_url_for = db_url_for  # (driver prefix, compose database name) -> local URL
        self.mounts: dict[str, Path] = {}

    def add_volumes(self, volumes: list[str]) -> None:
        for spec in volumes:
            source, target = spec.split(":")[:2]
            if source.startswith((".", "/")):
                self.mounts[target] = (ROOT / source).resolve()
            else:  # a named volume: a fresh directory, as a fresh volume would be
                self.mounts[target] = self.tmp / "volumes" / source
                self.mounts[target].mkdir(parents=True, exist_ok=True)

    def path(self, value: str) -> str:
        for target in sorted(self.mounts, key=len, reverse=True):
            if value == target or value.startswith(target + "/"):
                return str(self.mounts[target]) + value[len(target):]
        if value == CONTAINER_ROOT or value.startswith(CONTAINER_ROOT + "/"):
            return str(ROOT) + value[len(CONTAINER_ROOT):]
        return value

    def value(self, value: str) -> str:
        # Database URLs on the postgres service -> the throw-away local databases.
        value = re.sub(r"(?P<driver>[\w+]+)://(?:[^@/\s\"]*@)?postgres(?::\d+)?/(?P<db>\w+)",
                       lambda m: self.db_url_for(m.group("driver"), m.group("db")), value)
        # Other service addresses -> loopback ports.
        for (host, port), local in self.ports.items():
            value = re.sub(rf"\b{re.escape(host)}:{port}\b", f"127.0.0.1:{local}", value)
        value = re.sub(r"\blocalhost\b", "127.0.0.1", value)
        # Container paths (also inside PYTHONPATH-like lists).
        if not value.startswith("/"):
            return value
        return ":".join(self.path(part) if part.startswith("/") else part for part in value.split(":"))

    def env(self, env: dict[str, str]) -> dict[str, str]:
        return {k: self.value(v) for k, v in env.items()}
