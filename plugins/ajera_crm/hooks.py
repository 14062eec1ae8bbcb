"""Airflow hooks that build the API clients and the sync database from Airflow connections.

Connections (set them in the UI, a secrets backend, or ``AIRFLOW_CONN_<ID>`` JSON env vars):
- ``ajera_default``: host = the Ajera server root (``https://host``), login, password,
  extra ``{"api_id": "<base64 id from the API URL>", "rate_limit_rps": 8, "timeout": 30}``. The rate is for
  every task together: through Redis when ``AJERA_CRM_RATE_LIMIT_REDIS_URL`` (or extra
  ``rate_limit_redis_url``) is set, so Celery workers on several hosts share it; else for all tasks on a
  host (a lock file). ``"rate_limit_scope"`` (``redis`` / ``host`` / ``task``) chooses explicitly.
- ``vantagepoint_default``: host = the Vantagepoint server root or its ``/api`` base, login, password,
  extra ``{"database": ..., "client_id": ..., "client_secret": ..., "timeout": 30}``.
- ``ajera_crm_sync_db`` (optional): the sync database URI; without it, ``SYNC_DATABASE_URL`` or the
  SQLite file under ``var/``.
Secrets stay in the connection: nothing here logs a password or a token.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

from airflow.sdk import BaseHook

import ajera_crm  # noqa: F401  (puts the project root on sys.path, for ``include``)
from ajera_crm import extras
from include.clients.ajera import AjeraClient
from include.clients.ratelimit import RedisRateLimiter, SharedRateLimiter
from include.clients.vantagepoint import VantagepointClient
from include.sync import secrets
from include.sync.db import SyncDatabase
from include.sync.settings import Settings


def _base_url(conn: Any) -> str:
    host = (conn.host or "").rstrip("/")
    if "://" not in host:
        scheme = conn.schema or "https"
        host = f"{scheme}://{host}" + (f":{conn.port}" if conn.port else "")
    return host


class AjeraHook(BaseHook):
    conn_name_attr = "ajera_conn_id"
    default_conn_name = "ajera_default"
    conn_type = "http"
    hook_name = "Ajera API"

    def __init__(self, ajera_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.ajera_conn_id = ajera_conn_id

    def get_client(self) -> AjeraClient:
        conn = self.get_connection(self.ajera_conn_id)
        extra = extras.parse(extras.AjeraExtras, self.ajera_conn_id, conn.extra_dejson)
        rate = extra.rate_limit_rps
        limiter = _shared_limiter(conn, extra) if rate else None
        return AjeraClient(
            _base_url(conn), extra.api_id, conn.login or "", conn.password or "",
            timeout=extra.timeout, retry=extra.retry,
            rate_limit_rps=rate or None, page_size=extra.page_size, limiter=limiter,
        )


def _shared_limiter(conn: Any, extra: extras.AjeraExtras) -> Any:
    """One request spacing for every task that talks to this tenant, so parallel apply tasks together stay
    under its limit: across hosts through Redis, else across the processes of one host."""
    redis_url = extra.rate_limit_redis_url or Settings.from_env().rate_limit_redis_url
    scope = extra.rate_limit_scope or ("redis" if redis_url else "host")
    tenant = hashlib.sha256(f"{_base_url(conn)}|{extra.api_id}|{conn.login}".encode()).hexdigest()[:16]
    rate = extra.rate_limit_rps
    if scope == "redis":
        if not redis_url:
            raise ValueError("rate_limit_scope 'redis' needs AJERA_CRM_RATE_LIMIT_REDIS_URL or "
                             "extra.rate_limit_redis_url")
        return RedisRateLimiter(rate, redis_url, f"ajera-crm:rate:{tenant}")
    if scope == "host":
        path = extra.rate_limit_file or os.path.join(tempfile.gettempdir(), f"ajera-rate-{tenant}.lock")
        return SharedRateLimiter(rate, path)
    return None  # "task": the client's own spacing; size the ajera_crm_api pool so slots x rate stay under it


class VantagepointHook(BaseHook):
    conn_name_attr = "vantagepoint_conn_id"
    default_conn_name = "vantagepoint_default"
    conn_type = "http"
    hook_name = "Vantagepoint API"

    def __init__(self, vantagepoint_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.vantagepoint_conn_id = vantagepoint_conn_id

    def get_client(self) -> VantagepointClient:
        conn = self.get_connection(self.vantagepoint_conn_id)
        extra = extras.parse(extras.VantagepointExtras, self.vantagepoint_conn_id, conn.extra_dejson)
        return VantagepointClient(
            _base_url(conn), conn.login or "", conn.password or "", extra.database, extra.client_id,
            extra.client_secret, timeout=extra.timeout, retry=extra.retry, page_size=extra.page_size,
        )


SYNC_DB_CONN_ID = "ajera_crm_sync_db"


T = TypeVar("T")


class _PerProcess:
    """What a worker process builds once and reuses across the tasks it runs: the sync database engine and
    the logged-in clients (a task that rebuilt them paid an engine, two Ajera logins and a CRM token each).

    Keyed by process id, so a forked task never uses its parent's connections, and by the settings they were
    built from (the connection's fields, hashed; nothing secret is kept in the key), so a changed connection
    gets a new one. The few most recent are kept; older ones and all at exit are closed."""

    def __init__(self, keep: int = 4) -> None:
        self._items: OrderedDict[tuple[int, Hashable], tuple[Any, Callable[[Any], None]]] = OrderedDict()
        self._keep = keep
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], T], close: Callable[[T], None]) -> T:
        slot = (os.getpid(), key)
        with self._lock:
            if slot in self._items:
                self._items.move_to_end(slot)
                return cast(T, self._items[slot][0])  # the value ``build`` made for this key
            item = build()
            self._items[slot] = (item, close)
            evicted = [self._items.popitem(last=False)[1] for _ in range(max(0, len(self._items) - self._keep))]
        for old, close_old in evicted:
            _quietly(close_old, old)
        return item

    def close_all(self) -> None:
        with self._lock:
            items, self._items = [v for k, v in self._items.items() if k[0] == os.getpid()], OrderedDict()
        for item, close in items:
            _quietly(close, item)


def _quietly(close: Callable[[Any], None], item: Any) -> None:
    with contextlib.suppress(Exception):  # closing is best effort (an Ajera session also expires by itself)
        close(item)


_PROCESS = _PerProcess()
atexit.register(_PROCESS.close_all)


def _fingerprint(conn: Any) -> str:
    fields = [conn.conn_id, conn.host, conn.schema, conn.port, conn.login, conn.password, conn.extra]
    return hashlib.sha256(json.dumps(fields, default=str).encode()).hexdigest()


def ajera_client(conn_id: str = AjeraHook.default_conn_name) -> AjeraClient:
    """This process's logged-in Ajera client for the connection (built on first use, then reused)."""
    hook = AjeraHook(conn_id)
    key = ("ajera", _fingerprint(hook.get_connection(conn_id)))
    return _PROCESS.get(key, hook.get_client, lambda client: client.close())


def crm_client(conn_id: str = VantagepointHook.default_conn_name) -> VantagepointClient:
    """This process's logged-in Vantagepoint client for the connection (built on first use, then reused)."""
    hook = VantagepointHook(conn_id)
    key = ("crm", _fingerprint(hook.get_connection(conn_id)))
    return _PROCESS.get(key, hook.get_client, lambda client: client.close())


def protect_secrets() -> None:
    """Scrub the connections' secrets (passwords, client secrets, the alert webhook's URL) from every log
    line and log row of this process, and have Airflow mask them in task logs too. Every task registers
    them afresh: a long-lived worker runs many tasks, and a connection may change between them."""
    secrets.install()
    from airflow.sdk.log import mask_secret

    from ajera_crm.notifiers import WEBHOOK_CONN_ID

    for conn_id in (AjeraHook.default_conn_name, VantagepointHook.default_conn_name, SYNC_DB_CONN_ID,
                    WEBHOOK_CONN_ID):
        try:
            conn = BaseHook.get_connection(conn_id)
        except Exception:  # not configured
            continue
        extra = conn.extra_dejson
        values = [conn.password, *(extra.get(k) for k in extras.SECRET_KEYS)]
        if conn_id == WEBHOOK_CONN_ID:  # a webhook's address is its secret
            values += [conn.host, conn.get_uri()]
        for value in values:
            if isinstance(value, str) and value:
                secrets.register(value)
                mask_secret(value)


def sync_database() -> SyncDatabase:
    """The sync database: the ``ajera_crm_sync_db`` connection if there is one, else the default URL. One
    engine per process and URL, reused by every task the process runs."""
    protect_secrets()  # every task opens the sync database first
    url = Settings.from_env().sync_database_url or None
    if url is None:
        try:
            url = BaseHook.get_connection(SYNC_DB_CONN_ID).get_uri()
            # Airflow's postgres connection type writes "postgres://", which SQLAlchemy does not accept.
            if url.startswith("postgres://"):
                url = "postgresql://" + url[len("postgres://"):]
        except Exception:  # no such connection: fall back to the default (env var or SQLite file)
            url = None
    key = ("db", url or "")
    return _PROCESS.get(key, lambda: SyncDatabase(url), lambda db: db.dispose())
