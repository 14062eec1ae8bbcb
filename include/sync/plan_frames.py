"""The column planner's inputs: each side's staged records and the mappings as columns, and the full records
of the few keys that need them (``Loader``).

Columns: key, name, modified, hash, fetched (read in full this run), flagged, group, problem (quarantined);
no payloads. From the database they are streamed in chunks (``stream_side``, ``stream_mappings``); in tests
they are made from ``Record`` objects (``side_frame``, ``mapping_frame``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, Protocol

import pandas as pd

from include.sync.db import KEYS_PER_QUERY, SyncDatabase, format_ts
from include.sync.model import Record, System
from include.sync.plan_model import MappingState
from include.sync.record_types import RecordType
from include.sync.staging import load_staged, mapping_state

SIDE_COLUMNS = ("key", "name", "modified", "hash", "fetched", "flagged", "group", "problem")
MAPPING_COLUMNS = ("ajera_key", "crm_key", "ajera_modified", "crm_modified", "ajera_hash", "crm_hash")
_BOOLEAN = ("fetched", "flagged", "problem")
CHUNK_ROWS = 50_000  # rows per fetch when streaming staged records and mappings from the database


class Loader(Protocol):
    """Full records and mapping states for the few keys that need them."""

    def records(self, system: System, keys: Sequence[str]) -> dict[str, Record]: ...
    def mappings(self, ajera_keys: Sequence[str]) -> dict[tuple[str, str], MappingState]: ...


class Stub(NamedTuple):
    """A record known by key and name only (swept, not read in full): what a link, a note or a suggestion
    needs of it. (A named tuple: a million of them are made in a first sync, at a fifth of a frozen
    dataclass's cost.)"""

    system: System
    key: str
    name: str
    raw: None = None


def side_frame(records: Iterable[Record]) -> pd.DataFrame:
    rows = [(r.key, r.name, format_ts(r.modified) if r.modified else None, r.content_hash, r.raw is not None,
             bool(r.flagged), r.group, bool(r.problem)) for r in records]
    return frame(rows, SIDE_COLUMNS)


def mapping_frame(mappings: Iterable[MappingState]) -> pd.DataFrame:
    rows = [(m.ajera_key, m.crm_key, format_ts(m.ajera_modified) if m.ajera_modified else None,
             format_ts(m.crm_modified) if m.crm_modified else None, m.ajera_hash, m.crm_hash) for m in mappings]
    return frame(rows, MAPPING_COLUMNS)


def frame(rows: Iterable[tuple[Any, ...]], columns: Sequence[str]) -> pd.DataFrame:
    out = pd.DataFrame.from_records(list(rows), columns=list(columns))
    for name in columns:  # plain object columns: None stays None, strings compare as Python strings
        out[name] = out[name].astype(bool if name in _BOOLEAN else object)
    return out


class DictLoader:
    """A ``Loader`` over records and mappings already in memory (tests, the in-memory benchmark)."""

    def __init__(self, ajera: dict[str, Record], crm: dict[str, Record], mappings: Iterable[MappingState]) -> None:
        self._by_system = {"ajera": ajera, "crm": crm}
        self._mappings = {m.ajera_key: m for m in mappings}

    def records(self, system: System, keys: Sequence[str]) -> dict[str, Record]:
        source = self._by_system[system]
        return {k: source[k] for k in keys if k in source}

    def mappings(self, ajera_keys: Sequence[str]) -> dict[tuple[str, str], MappingState]:
        found = (self._mappings.get(k) for k in ajera_keys)
        return {(m.ajera_key, m.crm_key): m for m in found if m is not None}


def stream_side(db: SyncDatabase, run_id: str, rt: RecordType, system: System) -> pd.DataFrame:
    """The run's picture of one system as columns, read in chunks, without payloads. A quarantined
    row is a bare key with its name, date and flag (it exists, so its mapping stays; it is never matched or
    created), as ``load_staged(quarantined_as_keys=True)`` makes it."""
    return _frame_of(db, "select_picture_columns", {"run_id": run_id, "system": system, "record_type": rt.name},
                     SIDE_COLUMNS)


def stream_mappings(db: SyncDatabase, rt: RecordType) -> pd.DataFrame:
    return _frame_of(db, "select_mapping_columns", {"record_type": rt.name}, MAPPING_COLUMNS)


def _frame_of(db: SyncDatabase, query: str, params: dict[str, Any], columns: Sequence[str]) -> pd.DataFrame:
    """A query's rows, whose columns are ``columns`` in order, as a frame, fetched in chunks."""
    rows: list[tuple[Any, ...]] = []
    with db.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=CHUNK_ROWS).execute(db.sql(query), params)
        for chunk in result.partitions():
            rows.extend(tuple(row) for row in chunk)
    return frame(rows, columns)


class DbLoader:
    """A ``Loader`` over the run's picture and the mapping table, keys queried in slices."""

    def __init__(self, db: SyncDatabase, run_id: str, rt: RecordType) -> None:
        self.db, self.run_id, self.rt = db, run_id, rt

    def records(self, system: System, keys: Sequence[str]) -> dict[str, Record]:
        out: dict[str, Record] = {}
        unique = sorted(set(keys))
        for start in range(0, len(unique), KEYS_PER_QUERY):
            out.update(load_staged(self.db, self.run_id, self.rt, system, keys=unique[start:start + KEYS_PER_QUERY],
                                   quarantined_as_keys=True))
        return out

    def mappings(self, ajera_keys: Sequence[str]) -> dict[tuple[str, str], MappingState]:
        out: dict[tuple[str, str], MappingState] = {}
        unique = sorted(set(ajera_keys))
        for start in range(0, len(unique), KEYS_PER_QUERY):
            for row in self.db.rows("select_mappings_by_keys", {"record_type": self.rt.name,
                                                                 "keys": unique[start:start + KEYS_PER_QUERY]}):
                state = mapping_state(row)
                out[(state.ajera_key, state.crm_key)] = state
        return out
