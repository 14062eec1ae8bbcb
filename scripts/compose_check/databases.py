"""The throw-away databases behind the compose file's ``airflow`` and ``sync`` ones."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from .common import CheckFailed, say

if TYPE_CHECKING:
    import psycopg


class Databases:
    """``compose_check_<name>`` databases on a local PostgreSQL server, or SQLite files."""

    def __init__(self, server_url: str, tmp: Path) -> None:
        self.url = make_url(server_url)
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
        url = self.url.set(drivername=driver.removeprefix("db+"), database=f"compose_check_{name}")
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
            for name in names:
                db = f"compose_check_{name}"
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')  # left over from an aborted run
                conn.execute(f'CREATE DATABASE "{db}"')
                self.created.append(db)
                say(f"created PostgreSQL database {db}")

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
