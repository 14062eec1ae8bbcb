"""The sync database: engine, schema and the named queries of ``include/sql``.

Queries are loaded from ``include/sql/*.sql`` files, where each statement follows a ``-- name: x`` line.
Values always travel as bound parameters; the only text substitutions are in the schema: ``{serial_pk}``, and
the allowed values of the columns that store one of ``enums`` (``{action_kinds}`` and the like, see ``_VALUES``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, get_args

from sqlalchemy import Connection, Engine, bindparam, create_engine, event, text
from sqlalchemy.exc import DBAPIError

from include.sync.enums import (
    PENDING_NOTE_ACTIONS,
    ActionKind,
    ActionStatus,
    BatchStatus,
    Direction,
    LinkMethod,
    LogAction,
    Mode,
    PlannedBy,
    Resolution,
    ReviewAction,
    RunStatus,
    SuggestionStatus,
    sql_values,
)
from include.sync.model import SYSTEMS
from include.sync.settings import Settings

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
KEYS_PER_QUERY = 5_000  # keys per IN (...) list: well under every backend's limit on bound parameters
_SERIAL_PK = {
    "sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT",
    "postgresql": "BIGSERIAL PRIMARY KEY",
}
# The schema's CHECK (column IN ({name})) lists, made from the enums the code writes, so each is written once.
_VALUES = {
    "{action_kinds}": sql_values(ActionKind),
    "{action_statuses}": sql_values(ActionStatus),
    "{batch_statuses}": sql_values(BatchStatus),
    "{planned_by}": sql_values(PlannedBy),
    "{directions}": sql_values(Direction),
    "{link_methods}": sql_values(LinkMethod),
    "{log_actions}": sql_values(LogAction),
    "{pending_note_actions}": sql_values(PENDING_NOTE_ACTIONS),
    "{review_actions}": sql_values(ReviewAction),
    "{modes}": sql_values(get_args(Mode)),
    "{run_statuses}": sql_values(get_args(RunStatus)),
    "{suggestion_statuses}": sql_values(get_args(SuggestionStatus)),
    "{resolutions}": sql_values(get_args(Resolution)),
    "{systems}": sql_values(SYSTEMS),
}
# An arbitrary constant that names "the sync schema is being created" among PostgreSQL advisory locks.
_SCHEMA_LOCK_KEY = 0x41_6A_43_52  # "AjCR"
_NAME_LINE = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


def utcnow() -> str:
    return format_ts(datetime.now(UTC))


def format_ts(value: datetime) -> str:
    """The one timestamp format of the sync tables (fixed width, UTC) so text order is time order."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def parse_ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@lru_cache(maxsize=1)
def load_queries() -> dict[str, str]:
    queries: dict[str, str] = {}
    for path in sorted(SQL_DIR.glob("*.sql")):
        if path.name.startswith("schema"):
            continue
        parts = _NAME_LINE.split(path.read_text())
        # parts = [preamble, name1, body1, name2, body2, ...]
        for name, body in zip(parts[1::2], parts[2::2]):
            if name in queries:
                raise ValueError(f"query {name} is defined twice (second time in {path.name})")
            # Comment lines go: a ``:word`` in one would be taken for a bound parameter.
            lines = [line for line in body.splitlines() if not line.lstrip().startswith("--")]
            queries[name] = "\n".join(lines).strip().rstrip(";")
    return queries


def default_url(project_root: Path | None = None) -> str:
    url = Settings.from_env().sync_database_url
    if url:
        return url
    root = project_root or Path(__file__).resolve().parents[2]
    (root / "var").mkdir(exist_ok=True)
    return f"sqlite:///{root / 'var' / 'sync.db'}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    # WAL lets the UI read while a sync writes; busy_timeout rides out a parallel batch task's commit.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # In WAL mode NORMAL still survives a killed process (the crash tests SIGKILL the sync); only a power
    # loss can drop the last commits, which the sync redoes (writes are recorded before the watermark
    # moves). FULL would fsync every one of the many small commits a run makes.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class SyncDatabase:
    """The sync's tables behind named queries. One instance per task; cheap to create."""

    def __init__(self, url: str | None = None, engine: Engine | None = None) -> None:
        self.url = url or default_url()
        if engine is None:
            engine = create_engine(self.url, pool_pre_ping=True)
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
        self.engine = engine
        self.dialect = engine.dialect.name
        if self.dialect not in _SERIAL_PK:
            raise ValueError(f"unsupported sync database dialect {self.dialect!r} (use SQLite or PostgreSQL)")
        self._queries = load_queries()

    def create_schema(self) -> None:
        """Create or upgrade the tables; a no-op (one SELECT) when they match this code's DDL already.

        Most tasks call this first. Skipping current DDL matters on PostgreSQL beyond speed: CREATE INDEX
        IF NOT EXISTS still locks its table, and a task doing it while another run's task writes those tables
        could deadlock with it."""
        statements, fingerprint = _schema_ddl(self.dialect)
        if self._schema_fingerprint() == fingerprint:
            return
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                # Two tasks starting at once would otherwise deadlock on IF NOT EXISTS DDL (PostgreSQL takes the
                # table and index locks in statement order per session); the lock ends with the transaction.
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
            for statement in statements:
                conn.execute(text(statement))
            conn.execute(text("DELETE FROM sync_schema"))
            conn.execute(text("INSERT INTO sync_schema (fingerprint) VALUES (:f)"), {"f": fingerprint})

    def _schema_fingerprint(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                return conn.execute(text("SELECT fingerprint FROM sync_schema")).scalar()
        except DBAPIError:  # no tables yet
            return None

    def sql(self, name: str) -> Any:
        try:
            return text(self._queries[name])
        except KeyError:
            raise KeyError(f"no query named {name!r} in {SQL_DIR}") from None

    @contextmanager
    def begin(self) -> Iterator[Tx]:
        """A transaction: everything inside commits together or not at all."""
        with self.engine.begin() as conn:
            yield Tx(self, conn)

    # One-statement conveniences, each in its own transaction.
    def execute(self, name: str, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None) -> None:
        with self.begin() as tx:
            tx.execute(name, params)

    def rows(self, name: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        with self.begin() as tx:
            return tx.rows(name, params)

    def scalar(self, name: str, params: Mapping[str, Any] | None = None) -> Any:
        with self.begin() as tx:
            return tx.scalar(name, params)

    def rows_by_keys(self, name: str, params: Mapping[str, Any], keys: Iterable[str]) -> list[Any]:
        """The rows of a query with an ``IN :keys`` list, for any number of keys (``_by_keys``)."""
        return _by_keys(self.rows, name, params, keys)

    def dispose(self) -> None:
        self.engine.dispose()


class Tx:
    def __init__(self, db: SyncDatabase, conn: Connection) -> None:
        self.db = db
        self.conn = conn

    def execute(self, name: str, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None) -> int:
        if isinstance(params, Sequence) and not params:
            return 0  # executemany with no rows
        result = self.conn.execute(self.db.sql(name), params or {})
        return result.rowcount

    def rows(self, name: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        statement = self.db.sql(name)
        # A list value is an IN (...) list: expand it into one bound parameter per element.
        lists = [k for k, v in (params or {}).items() if isinstance(v, (list, tuple, set, frozenset))]
        if lists:
            statement = statement.bindparams(*(bindparam(k, expanding=True) for k in lists))
            params = {k: list(v) if k in lists else v for k, v in (params or {}).items()}
        return list(self.conn.execute(statement, params or {}).all())

    def scalar(self, name: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.conn.execute(self.db.sql(name), params or {}).scalar()

    def rows_by_keys(self, name: str, params: Mapping[str, Any], keys: Iterable[str]) -> list[Any]:
        return _by_keys(self.rows, name, params, keys)


def _by_keys(rows: Callable[[str, Mapping[str, Any]], list[Any]], name: str, params: Mapping[str, Any],
             keys: Iterable[str]) -> list[Any]:
    """One query per slice of ``KEYS_PER_QUERY`` keys (the bound-parameter limits), in key order."""
    wanted = sorted(set(keys))
    return [row for start in range(0, len(wanted), KEYS_PER_QUERY)
            for row in rows(name, {**params, "keys": wanted[start:start + KEYS_PER_QUERY]})]


@lru_cache(maxsize=2)
def _schema_ddl(dialect: str) -> tuple[list[str], str]:
    """The DDL statements (schema.sql first, then each feature's own schema_*.sql) and their fingerprint."""
    files = sorted(SQL_DIR.glob("schema*.sql"), key=lambda p: (p.name != "schema.sql", p.name))
    ddl = "\n".join(p.read_text() for p in files).replace("{serial_pk}", _SERIAL_PK[dialect])
    for placeholder, values in _VALUES.items():
        ddl = ddl.replace(placeholder, values)
    statements = [s.strip() for s in _strip_comments(ddl).split(";") if s.strip()]
    return statements, hashlib.sha256("\n;".join(statements).encode()).hexdigest()[:32]


def _strip_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
