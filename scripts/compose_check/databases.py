"""The throw-away databases behind the compose file's ``airflow`` and ``sync`` ones."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from .common import CheckFailed, say

if TYPE_CHECKING:
    import psycopg


class Databases:
    """``compose_check_<name>_<run>`` databases on a local PostgreSQL server, or SQLite files. Each check has
    databases of its own: Airflow processes orphaned by an aborted check (a test's time limit) reconnect to a
    database of the same name and would write into the next check's."""

    def __init__(self, server_url: str, tmp: Path) -> None:
        self.url = make_url(server_url)
        self.run = secrets.token_hex(4)
        self.sqlite = self.url.get_backend_name() == "sqlite"
        self.tmp = tmp
        self.created: list[str] = []
        if not self.sqlite and self.url.host not in ("127.0.0.1", "localhost", "::1"):
            raise CheckFailed(f"the PostgreSQL server must be on loopback, not {self.url.host!r}")

    def local_url(self, driver: str, name: str) -> str:
        if self.sqlite:
            # The metadata DB is the file given on the command line.
            path = self.url.database if name == "airflow" else str(self.tmp / f"{name}.db")
            return ("db+" if driver.startswith("db+") else "") + f"sqlite:///{path}"
        url = self.url.set(drivername=driver.removeprefix("db+"), database=self._name(name))
        text = url.render_as_string(hide_password=False)
        return ("db+" if driver.startswith("db+") else "") + text

    def _admin(self) -> psycopg.Connection[Any]:
        import psycopg  # only the PostgreSQL mode needs the driver

        url = self.url
        return psycopg.connect(host=url.host, port=url.port or 5432, user=url.username or "postgres",
                               password=url.password or None, dbname=url.database or "postgres",
                               autocommit=True, connect_timeout=10)

    def create(self, names: list[str]) -> None:
        if self.sqlite:
            return
        with self._admin() as conn:
            self._drop_leftovers(conn)
            for name in names:
                db = self._name(name)
                conn.execute(f'CREATE DATABASE "{db}"')
                self.created.append(db)
                say(f"created PostgreSQL database {db}")

    def _name(self, name: str) -> str:
        return f"compose_check_{name}_{self.run}"

    @staticmethod
    def _drop_leftovers(conn: psycopg.Connection[Any]) -> None:
        """Databases of aborted checks nobody uses any more (one still in use is left alone)."""
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'compose\\_check\\_%'").fetchall()
        for (db,) in rows:
            try:
                conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
                say(f"dropped leftover PostgreSQL database {db}")
            except Exception as exc:  # in use by a running check, or its orphans: not ours to force
                say(f"left {db} alone: {type(exc).__name__}")

    def drop(self) -> None:
        if not self.created:
            return
        try:
            with self._admin() as conn:
                for db in self.created:
                    conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
                    say(f"dropped PostgreSQL database {db}")
        except Exception as exc:  # cleanup must not hide the result
            say(f"WARNING: could not drop {self.created}: {exc}")
