"""One database engine and one set of logged-in clients per worker process, reused across its tasks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ajera_crm import hooks


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
        monkeypatch.setenv("AIRFLOW_CONN_AJERA_DEFAULT", json.dumps({
            "conn_type": "http", "host": host, "login": "sync", "password": "secret",
            "extra": {"api_id": "YWplcmEtc2ltOjE=", "rate_limit_rps": 0}}))

    monkeypatch.setattr(hooks, "_PROCESS", hooks._PerProcess())
    connection("http://127.0.0.1:1")
    first: Any = hooks.ajera_client()
    assert hooks.ajera_client() is first
    connection("http://127.0.0.1:2")
    second = hooks.ajera_client()
    assert second is not first and second.base_url == "http://127.0.0.1:2"
    hooks._PROCESS.close_all()
