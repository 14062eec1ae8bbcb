"""The Ajera rate limit held across Celery workers on several hosts: each worker builds its client from the
connection (as a task does), and the spacing is shared through Redis (the compose's, here the local one on
127.0.0.1:6379), on Redis's clock."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
from typing import Any

import pytest

from simulators.harness import SimulatorHandle, connections

REDIS_URL = os.environ.get("SYNC_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RATE = 8.0  # the connection's rate_limit_rps: under Ajera's ~9 requests/s
CALLS = 12


def _redis_or_skip() -> Any:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    return client


def _worker(conn_json: str, out: multiprocessing.Queue[list[float]]) -> None:
    """One Celery worker's tasks, reduced to what matters: a client from the connection, real API calls."""
    os.environ["AIRFLOW_CONN_AJERA_DEFAULT"] = conn_json
    os.environ["AJERA_CRM_RATE_LIMIT_REDIS_URL"] = REDIS_URL
    from ajera_crm.hooks import AjeraHook

    client = AjeraHook().get_client()
    limiter = client._limiter
    slots: list[float] = []
    acquire = limiter.acquire
    limiter.acquire = lambda: slots.append(acquire()) or slots[-1]  # record each granted slot
    try:
        for _ in range(CALLS):
            client.list("Clients")
    finally:
        client.close()
    out.put(slots)


@pytest.mark.parametrize("ajera_sim", [{"settings": {}}], indirect=True)
def test_two_workers_share_the_ajera_rate_through_redis(ajera_sim: SimulatorHandle) -> None:
    _redis_or_skip()
    # the limiter's Redis key derives from the tenant: this simulator's own address
    conn = connections(ajera_sim.url, "", {"rate_limit_rps": RATE, "timeout": 10,
                                           "retry_attempts": 1})["AIRFLOW_CONN_AJERA_DEFAULT"]
    ajera_sim.reset_stats()
    spawn = multiprocessing.get_context("spawn")  # fresh interpreters, like workers on other hosts
    queue: multiprocessing.Queue[list[float]] = spawn.Queue()
    workers = [spawn.Process(target=_worker, args=(conn, queue)) for _ in range(2)]
    for worker in workers:
        worker.start()
    per_worker = [queue.get(timeout=120), queue.get(timeout=120)]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    slots = sorted(per_worker[0] + per_worker[1])
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    # Every request of both workers took its own slot, 1/rate apart on Redis's clock: together they never
    # exceed the rate, however their calls interleave.
    assert len(per_worker[0]) >= CALLS and len(per_worker[1]) >= CALLS
    assert min(gaps) >= 1 / RATE - 1e-6, gaps
    assert (slots[-1] - slots[0]) >= (len(slots) - 1) / RATE - 1e-6
    stats = ajera_sim.stats()
    assert stats.get("_total", 0) == len(slots), (stats, len(slots))  # each API call went through the limiter


def test_the_scope_is_chosen_by_the_deployment(monkeypatch: pytest.MonkeyPatch) -> None:
    from ajera_crm.hooks import AjeraHook

    from include.clients.ratelimit import RedisRateLimiter, SharedRateLimiter

    base = {"conn_type": "http", "host": "http://127.0.0.1:9", "login": "sync", "password": "p",
            "extra": {"api_id": "x", "rate_limit_rps": 8}}
    monkeypatch.setenv("AIRFLOW_CONN_AJERA_DEFAULT", json.dumps(base))
    monkeypatch.delenv("AJERA_CRM_RATE_LIMIT_REDIS_URL", raising=False)
    assert isinstance(AjeraHook().get_client()._limiter, SharedRateLimiter)  # one host: a lock file
    monkeypatch.setenv("AJERA_CRM_RATE_LIMIT_REDIS_URL", REDIS_URL)
    assert isinstance(AjeraHook().get_client()._limiter, RedisRateLimiter)  # Celery: the compose's Redis
    base["extra"]["rate_limit_scope"] = "sideways"
    monkeypatch.setenv("AIRFLOW_CONN_AJERA_DEFAULT", json.dumps(base))
    with pytest.raises(ValueError, match="rate_limit_scope"):
        AjeraHook().get_client()
