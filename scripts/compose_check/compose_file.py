"""Reading docker-compose.yaml as ``docker compose up`` without a .env file reads it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML ships no type hints and no stub package is pinned

from .common import COMPOSE_FILE, RUNNERS, CheckFailed

_VAR = re.compile(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<default>[^}]*))?\}")


def interpolate(value: str) -> str:
    """Resolve compose interpolation to the defaults: ``${X:-d}`` -> d, ``${X}`` -> "", ``$$`` -> $."""

    def repl(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        if match.group("op") and match.group("op").endswith("?"):
            raise CheckFailed(f"compose variable {match.group('name')} is required (no default)")
        return match.group("default") or ""

    return _VAR.sub(repl, value)


def load_compose(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    with open(path) as fh:
        compose: dict[str, Any] = yaml.safe_load(fh)
    return compose


def service_env(compose: dict[str, Any], service: str) -> dict[str, str]:
    env = compose["services"][service].get("environment") or {}
    if isinstance(env, list):  # KEY=VALUE list form
        env = dict(item.split("=", 1) for item in env)
    return {k: interpolate(str(v)) for k, v in env.items()}


def common_env(compose: dict[str, Any]) -> dict[str, str]:
    """The environment every Airflow runner of the default profile gets (checked to be the same)."""
    envs = {name: service_env(compose, name) for name in RUNNERS}
    first = envs[RUNNERS[0]]
    for name, env in envs.items():
        if env != first:
            raise CheckFailed(f"{name} does not share the common Airflow environment of {RUNNERS[0]}")
    return first


def argv_of(service: dict[str, Any], key: str) -> list[str]:
    value = service.get(key)
    if value is None:
        return []
    return shlex.split(value) if isinstance(value, str) else [str(v) for v in value]


def init_commands(compose: dict[str, Any]) -> list[list[str]]:
    """The ``airflow ...`` lines of the airflow-init script (db migrate, pools, ...)."""
    script = argv_of(compose["services"]["airflow-init"], "command")[-1]
    lines = [ln.strip() for ln in interpolate(script).splitlines()]
    return [shlex.split(ln) for ln in lines if ln.startswith("airflow ")]
