"""The column planner's inputs: each side's staged records and the mappings as columns, and the full records
of the few keys that need them (``Loader``).

Columns: key, name, modified, hash, fetched (read in full this run), flagged, group, problem (quarantined);
no payloads. From the database the planner gets only what it can need (``stream_plan_mappings``,
``stream_plan_side``): the mappings with a side read in full or gone, their records, and the records without a
mapping, streamed in chunks. In tests the columns are made from ``Record`` objects (``side_frame``,
``mapping_frame``), all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, Protocol

import pandas as pd

from include.sync.db import SyncDatabase, format_ts
from include.sync.model import Record, System
from include.sync.plan_model import MappingState
from include.sync.record_types import RecordType
from include.sync.staging import BY_KEY_UP_TO, load_staged, mapped_among, mapping_state

SIDE_COLUMNS = ("key", "name", "modified", "hash", "fetched", "flagged", "group", "problem")
MAPPING_COLUMNS = ("ajera_key", "crm_key", "ajera_modified", "crm_modified", "ajera_hash", "crm_hash")
_BOOLEAN = ("fetched", "flagged", "problem")
CHUNK_ROWS = 50_000  # rows per fetch when streaming staged records and mappings from the database


class Loader(Protocol):
    """Full records and mapping states for the few keys that need them."""

    def records(self, system: System, keys: Sequence[str]) -> dict[str, Record]: ...
    def mappings(self, ajera_keys: Sequence[str]) -> dict[tuple[str, str], MappingState]: ...
    def mapped(self, system: System, keys: Sequence[str]) -> set[str]: ...


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
        self._mapped = {"ajera": set(self._mappings), "crm": {m.crm_key for m in self._mappings.values()}}

    def records(self, system: System, keys: Sequence[str]) -> dict[str, Record]:
        source = self._by_system[system]
        return {k: source[k] for k in keys if k in source}

    def mappings(self, ajera_keys: Sequence[str]) -> dict[tuple[str, str], MappingState]:
        found = (self._mappings.get(k) for k in ajera_keys)
        return {(m.ajera_key, m.crm_key): m for m in found if m is not None}

    def mapped(self, system: System, keys: Sequence[str]) -> set[str]:
        return self._mapped[system].intersection(keys)


def stream_plan_mappings(db: SyncDatabase, run_id: str, rt: RecordType) -> pd.DataFrame:
    """The mappings the diff looks at: a side read in full this run, or gone from the picture. The others are
    unchanged pairs of unchanged records (``count_unplanned_groups`` counts them for a cap)."""
    return _frame_of(db, "select_plan_mappings", {"run_id": run_id, "record_type": rt.name}, MAPPING_COLUMNS)


def stream_plan_side(db: SyncDatabase, run_id: str, rt: RecordType, system: System,
                     mapped_keys: Sequence[str]) -> pd.DataFrame:
    """The run's picture of one system as columns: its records without a mapping, streamed in chunks, and
    those of ``mapped_keys`` (the sides of the mappings the diff looks at). A quarantined row is a bare key
    with its name, date and flag (it exists, so its mapping stays; it is never matched or created), as
    ``load_staged(quarantined_as_keys=True)`` makes it."""
    scope = {"run_id": run_id, "system": system, "record_type": rt.name}
    rows = _rows_of(db, "select_picture_columns", {**scope, "unmapped_only": 1})
    wanted = set(mapped_keys)
    if len(wanted) > BY_KEY_UP_TO:  # a run that read much (a backfill, a bulk edit): one more scan is cheaper
        rows.extend(row for row in _rows_of(db, "select_picture_columns", {**scope, "unmapped_only": 0})
                    if row[0] in wanted)
    else:
        rows.extend(tuple(row) for row in db.rows_by_keys("select_picture_columns_by_keys", scope, wanted))
    return frame(rows, SIDE_COLUMNS)


def unplanned_group_counts(db: SyncDatabase, run_id: str, rt: RecordType) -> dict[str, int]:
    """Synced records per group among the pairs ``stream_plan_mappings`` leaves out (what a cap counts)."""
    return {row.record_group: int(row.synced)
            for row in db.rows("count_unplanned_groups", {"run_id": run_id, "record_type": rt.name})}


def _rows_of(db: SyncDatabase, query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """A query's rows, fetched in chunks."""
    rows: list[tuple[Any, ...]] = []
    with db.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=CHUNK_ROWS).execute(db.sql(query), params)
        for chunk in result.partitions():
            rows.extend(tuple(row) for row in chunk)
    return rows


def _frame_of(db: SyncDatabase, query: str, params: dict[str, Any], columns: Sequence[str]) -> pd.DataFrame:
    """A query's rows, whose columns are ``columns`` in order, as a frame, fetched in chunks."""
    return frame(_rows_of(db, query, params), columns)


class DbLoader:
    """A ``Loader`` over the run's picture and the mapping table, keys queried in slices."""

    def __init__(self, db: SyncDatabase, run_id: str, rt: RecordType) -> None:
        self.db, self.run_id, self.rt = db, run_id, rt

    def records(self, system: System, keys: Sequence[str]) -> dict[str, Record]:
        return load_staged(self.db, self.run_id, self.rt, system, keys=keys, quarantined_as_keys=True)

    def mappings(self, ajera_keys: Sequence[str]) -> dict[tuple[str, str], MappingState]:
        states = (mapping_state(row) for row in self.db.rows_by_keys(
            "select_mappings_by_keys", {"record_type": self.rt.name}, ajera_keys))
        return {(state.ajera_key, state.crm_key): state for state in states}

    def mapped(self, system: System, keys: Sequence[str]) -> set[str]:
        return mapped_among(self.db, self.rt, system, keys)
