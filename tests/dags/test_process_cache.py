"""One database engine and one set of logged-in clients per worker process, reused across its tasks."""

from __future__ import annotations

from typing import Any

import pytest
from ajera_crm import hooks

from simulators.harness import connections


def test_built_once_per_process_and_key_then_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = hooks._PerProcess(keep=2)
    built: list[str] = []
    closed: list[str] = []

    def get(key: str) -> str:
        return cache.get(key, lambda: built.append(key) or f"{key}#{len(built)}", closed.append)

    assert get("a") == get("a") == "a#1"
    monkeypatch.setattr(hooks.os, "getpid", lambda: -1)  # a forked task never uses its parent's item
    assert get("a") == "a#2"
    get("b")  # over the limit of two: the oldest is closed
    assert closed == ["a#1"]
    cache.close_all()  # at exit: this process's items
    assert closed == ["a#1", "a#2", "b#3"]


def test_a_changed_connection_gets_a_new_client(monkeypatch: pytest.MonkeyPatch) -> None:
    def connection(host: str) -> None:
        monkeypatch.setenv("AIRFLOW_CONN_AJERA_DEFAULT",
                           connections(host, "", {"rate_limit_rps": 0})["AIRFLOW_CONN_AJERA_DEFAULT"])

    monkeypatch.setattr(hooks, "_PROCESS", hooks._PerProcess())
    connection("http://127.0.0.1:1")
    first: Any = hooks.ajera_client()
    assert hooks.ajera_client() is first
    connection("http://127.0.0.1:2")
    second = hooks.ajera_client()
    assert second is not first and second.base_url == "http://127.0.0.1:2"
    hooks._PROCESS.close_all()


def test_tasks_of_one_process_share_one_session_per_api_version(monkeypatch: pytest.MonkeyPatch,
                                                                 ajera_sim: Any) -> None:
    """Several tasks in one worker process: one version 1 and one version 2 login in all, none ended between
    tasks (ending a session is left to the process's exit)."""
    monkeypatch.setenv("AIRFLOW_CONN_AJERA_DEFAULT",
                       connections(ajera_sim.url, "", {"rate_limit_rps": 0})["AIRFLOW_CONN_AJERA_DEFAULT"])
    monkeypatch.setattr(hooks, "_PROCESS", hooks._PerProcess())
    for _ in range(3):  # each "task" takes the process's client and uses both versions
        client = hooks.ajera_client()
        client.list("Clients")  # version 1
        client.list("Projects")  # version 2
    stats = ajera_sim.stats()
    assert stats.get("CreateAPISession") == 2 and not stats.get("EndAPISession"), stats
    hooks._PROCESS.close_all()
    assert ajera_sim.stats().get("EndAPISession") == 2
