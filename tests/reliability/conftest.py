"""Fixtures of the reliability suites (their helpers are in tests/support/reliability.py)."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from include.sync import expectations
from simulators import datagen
from tests.support.engine import Engine, start_engine, stop_engine
from tests.support.reliability import TINY, passing_suite


@pytest.fixture(autouse=True)
def fast_validation(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("with_gx") or os.environ.get("RELIABILITY_WITH_GX") == "1":
        yield
        return
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(expectations, "check_records", passing_suite)
        yield


@pytest.fixture
def new_db_url(sync_db_url: str, tmp_path: Any) -> Iterator[Any]:
    """A factory of fresh, empty sync databases of the test's backend (a SQLite file or a PostgreSQL schema)."""
    from sqlalchemy import create_engine, text

    schemas: list[str] = []
    admin = None
    counter = itertools.count()

    def make() -> str:
        nonlocal admin
        if sync_db_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path}/sync-{next(counter)}.db"
        base = sync_db_url.split("?")[0] if "options=" in sync_db_url else sync_db_url
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = admin or create_engine(base)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        schemas.append(schema)
        return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"

    yield make
    if admin is not None:
        with admin.begin() as conn:
            for schema in schemas:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def tiny(sync_db_url: str) -> Iterator[Engine]:
    engine, parts = start_engine(sync_db_url, datagen.generate(seed=11, sizes=TINY))
    yield engine
    stop_engine(parts)
