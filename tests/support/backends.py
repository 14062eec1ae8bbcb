"""The sync database backends the suite runs on: SQLite always, PostgreSQL too when SYNC_TEST_POSTGRES_URL is
set (CI sets it). The longest end-to-end tests do not run every case on both: they share their cases between
the backends, or a whole cluster test runs on the last backend only (PostgreSQL when given), so the suite
stays within its time; everything else runs on both."""

from __future__ import annotations

import os
from typing import TypeVar

T = TypeVar("T")

POSTGRES_URL = os.environ.get("SYNC_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
LAST = BACKENDS[-1:]  # for ``@pytest.mark.parametrize("sync_db_url", LAST, indirect=True)``


def backend_share(cases: list[T], db_url: str) -> list[T]:
    """This backend's share of a long list of cases: with both backends, SQLite takes every other case and
    PostgreSQL the rest, so each case runs once; on SQLite alone it takes them all."""
    mine = 0 if db_url.startswith("sqlite") else len(BACKENDS) - 1
    return cases[mine::len(BACKENDS)]
