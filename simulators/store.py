"""A small record store for the simulators: records in memory, written through to SQLite.

Each record type is a ``Table`` of JSON documents keyed by one field. Reads come from memory, so a
simulator with tens of thousands of records still answers list calls quickly; every write also goes to
SQLite, so a simulator started on a file keeps its state across restarts. A simulator started in memory
(``":memory:"``) keeps no SQLite copy at all: it would only double the memory a large tenant takes (size L)
and the time of every write, and it ends with the process either way.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from copy import deepcopy
from pathlib import Path
from typing import Any, TypeVar

Record = dict[str, Any]


T = TypeVar("T")

class Database:
    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self.lock = threading.RLock()
        self.persistent = self.path != ":memory:"
        self._conn = sqlite3.connect(self.path if self.persistent else ":memory:", check_same_thread=False)
        if self.persistent:
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._tables: dict[str, Table] = {}

    def table(self, name: str, key_field: str) -> Table:
        with self.lock:
            if name not in self._tables:
                self._tables[name] = Table(self, name, key_field)
            return self._tables[name]

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        with self.lock:
            return self._conn.execute(sql, params)

    def commit(self) -> None:
        with self.lock:
            self._conn.commit()

    def close(self) -> None:
        with self.lock:
            self._conn.close()


class Table:
    def __init__(self, db: Database, name: str, key_field: str) -> None:
        if not name.isidentifier():
            raise ValueError(f"bad table name {name!r}")
        self.db = db
        self.name = name
        self.key_field = key_field
        self._rows: dict[str, Record] = {}
        self.version = 0  # moves on every write: what ``derived`` made of the rows before is made again
        self._derived: dict[str, tuple[int, Any]] = {}
        # Kept current by every write (``where`` once first asked for, ``max_int_key``): a write followed by a read
        # (CreateProjects answers with the new project's bundle) must not cost a scan of the table.
        self._indexes: dict[str, dict[Any, dict[str, Record]]] = {}
        if db.persistent:
            db.execute(f'CREATE TABLE IF NOT EXISTS "{name}" (key TEXT PRIMARY KEY, doc TEXT NOT NULL)')
            for key, doc in db.execute(f'SELECT key, doc FROM "{name}"').fetchall():
                self._rows[key] = json.loads(doc)
        self._max_int = max((int(k) for k in self._rows if k.isdigit()), default=0)  # then kept by ``put``

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, key: Any) -> Record | None:
        row = self._rows.get(str(key))
        return deepcopy(row) if row is not None else None

    def peek(self, key: Any) -> Record | None:
        """The live row (not a copy), for read-only lookups on hot paths. Callers must not mutate it."""
        return self._rows.get(str(key))

    def exists(self, key: Any) -> bool:
        return str(key) in self._rows

    def all(self) -> Iterator[Record]:
        """Live rows, in insertion order. Callers must not mutate them (copy what you return)."""
        with self.db.lock:
            rows = list(self._rows.values())
        return iter(rows)

    def derived(self, name: str, build: Callable[[list[Record]], T]) -> T:
        """What ``build`` makes of the live rows (an index), kept until the next write: a read that would scan the
        whole table per call (the totals of one project) stays O(1) as the tenant grows."""
        with self.db.lock:
            cached = self._derived.get(name)
            if cached is None or cached[0] != self.version:
                cached = (self.version, build(list(self._rows.values())))
                self._derived[name] = cached
            value: T = cached[1]
            return value

    def where(self, field: str, value: Any) -> list[Record]:
        """The live rows whose ``field`` is ``value``, from an index kept current by every write (built on the
        first ask): O(rows found), not a scan. In insertion order, but a row written with a new ``field`` value
        comes last. Callers must not mutate them."""
        with self.db.lock:
            index = self._indexes.get(field)
            if index is None:
                index = {}
                for key, row in self._rows.items():
                    index.setdefault(row.get(field), {})[key] = row
                self._indexes[field] = index
            return list(index.get(value, {}).values())

    def _unindex(self, key: str, row: Record, *fields: str) -> None:
        for field in fields or list(self._indexes):
            index = self._indexes[field]
            group = index.get(row.get(field))
            if group is not None:
                group.pop(key, None)
                if not group:
                    del index[row.get(field)]

    def put(self, record: Record, commit: bool = True) -> Record:
        key = str(record[self.key_field])
        with self.db.lock:
            for field in self._indexes:  # before any change: a value an index cannot hold leaves the table as it was
                _require_hashable(record, field)
            self.version += 1
            old = self._rows.get(key)
            row = self._rows[key] = deepcopy(record)
            for field, index in self._indexes.items():
                if old is not None and old.get(field) != row.get(field):
                    self._unindex(key, old, field)
                index.setdefault(row.get(field), {})[key] = row  # same value: the row keeps its place
            if key.isdigit():
                self._max_int = max(self._max_int, int(key))
            if self.db.persistent:
                self.db.execute(
                    f'INSERT OR REPLACE INTO "{self.name}" (key, doc) VALUES (?, ?)', (key, json.dumps(record))
                )
                if commit:
                    self.db.commit()
        return deepcopy(record)

    def put_many(self, records: list[Record]) -> None:
        with self.db.lock:
            for record in records:
                self.put(record, commit=False)
            self.db.commit()

    def delete(self, key: Any) -> bool:
        with self.db.lock:
            self.version += 1
            old = self._rows.pop(str(key), None)
            if old is not None:
                self._unindex(str(key), old)
            found = old is not None
            if self.db.persistent:
                self.db.execute(f'DELETE FROM "{self.name}" WHERE key = ?', (str(key),))
                self.db.commit()
        return found

    def max_int_key(self) -> int:
        """The highest integer key stored since the table was loaded (a deleted one is not given out again in
        this process, as an identity column)."""
        return self._max_int


def _require_hashable(record: Record, field: str) -> None:
    """An indexed field's value must be hashable to be indexed."""
    value = record.get(field)
    try:
        hash(value)
    except TypeError:
        raise TypeError(f"{field!r} is indexed and its value {value!r} is not hashable") from None
