"""The planner at scale: the same plan as ``planner.plan_record_type``, with the bulk work done on columns.

``plan_record_type`` takes every record as a ``Record`` and loops over all of them in Python: fine for
thousands, 30 µs and kilobytes per record at a million. Here each system's staged records and the mappings
are columns (key, name, modified, hash, fetched, flag, group; no payloads), streamed from the database in
chunks, and the bulk questions are asked of whole columns:

* the diff: which mapped pairs lost a side (unlink) or changed on either side (``has_changed`` as a column
  expression), by two joins on the keys;
* first-time exact matching: names grouped by ``exact_key`` on both sides, unique on both sides → a link,
  several on either side → ambiguous;
* the flagged, unmapped records and the same-name candidates they can reach.

Only the records that end up in an action or a note are loaded in full (``Loader``), and the per-record rules
(``reconcile``, caps, closed projects, create problems) are the planner's own functions, run on those only.
A property test checks that this and ``plan_record_type`` return the same plan on generated inputs.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple, Protocol

import numpy as np
import pandas as pd

from include.sync.db import SyncDatabase, format_ts
from include.sync.model import Record, System
from include.sync.names import exact_key
from include.sync.planner import (
    MappingState,
    Options,
    Plan,
    _ambiguous,
    _link,
    _plan_flagged,
    _plan_mapped,
    default_options,
    plan_record_type,
)
from include.sync.record_types import RecordType
from include.sync.suggestions import suggest

SIDE_COLUMNS = ("key", "name", "modified", "hash", "fetched", "flagged", "group")
MAPPING_COLUMNS = ("ajera_key", "crm_key", "ajera_modified", "crm_modified", "ajera_hash", "crm_hash")
CHUNK_ROWS = 50_000  # rows per fetch when streaming staged records and mappings from the database
KEYS_PER_QUERY = 5_000  # keys per IN (...) list when loading full records


class Loader(Protocol):
    """Full records and mapping states for the few keys that need them."""

    def records(self, system: System, keys: Sequence[str]) -> dict[str, Record]: ...
    def mappings(self, ajera_keys: Sequence[str]) -> dict[tuple[str, str], MappingState]: ...


# --- columns from records (tests, small inputs) and from the database (chunks) ----------------------


def side_frame(records: Iterable[Record]) -> pd.DataFrame:
    rows = [(r.key, r.name, format_ts(r.modified) if r.modified else None, r.content_hash, r.raw is not None,
             bool(r.flagged), r.group) for r in records]
    return _frame(rows, SIDE_COLUMNS)


def mapping_frame(mappings: Iterable[MappingState]) -> pd.DataFrame:
    rows = [(m.ajera_key, m.crm_key, format_ts(m.ajera_modified) if m.ajera_modified else None,
             format_ts(m.crm_modified) if m.crm_modified else None, m.ajera_hash, m.crm_hash) for m in mappings]
    return _frame(rows, MAPPING_COLUMNS)


def _frame(rows: Iterable[tuple[Any, ...]], columns: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(list(rows), columns=list(columns))
    for name in columns:  # plain object columns: None stays None, strings compare as Python strings
        if name not in ("fetched", "flagged"):
            frame[name] = frame[name].astype(object)
    for name in ("fetched", "flagged"):
        if name in frame:
            frame[name] = frame[name].astype(bool)
    return frame


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
    """One system's staged records of a run as columns, read in chunks, without payloads. A quarantined
    row is a bare key (it exists, so its mapping stays; nothing else of it is used), as in ``load_staged``."""
    params = {"run_id": run_id, "system": system, "record_type": rt.name}
    columns: list[list[Any]] = [[] for _ in SIDE_COLUMNS]
    for chunk in _stream(db, "select_staged_columns", params):
        for key, name, modified, flagged, group, content_hash, fetched, quarantined in chunk:
            bad = bool(quarantined)
            for column, value in zip(columns, (key, name, modified, None if bad else content_hash,
                                               bool(fetched) and not bad, bool(flagged) and not bad,
                                               None if bad else group)):
                column.append(value)
    return _frame(zip(*columns) if columns[0] else [], SIDE_COLUMNS)


def stream_mappings(db: SyncDatabase, rt: RecordType) -> pd.DataFrame:
    rows: list[tuple[Any, ...]] = []
    for chunk in _stream(db, "select_mapping_columns", {"record_type": rt.name}):
        rows.extend(tuple(row) for row in chunk)
    return _frame(rows, MAPPING_COLUMNS)


def _stream(db: SyncDatabase, query: str, params: dict[str, Any]) -> Iterator[Sequence[Any]]:
    with db.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=CHUNK_ROWS).execute(db.sql(query), params)
        yield from result.partitions()


class DbLoader:
    """A ``Loader`` over the staged snapshot and the mapping table, keys queried in slices."""

    def __init__(self, db: SyncDatabase, run_id: str, rt: RecordType) -> None:
        self.db, self.run_id, self.rt = db, run_id, rt

    def records(self, system: System, keys: Sequence[str]) -> dict[str, Record]:
        from include.sync.staging import load_staged

        out: dict[str, Record] = {}
        unique = sorted(set(keys))
        for start in range(0, len(unique), KEYS_PER_QUERY):
            out.update(load_staged(self.db, self.run_id, self.rt, system, keys=unique[start:start + KEYS_PER_QUERY],
                                   quarantined_as_keys=True))
        return out

    def mappings(self, ajera_keys: Sequence[str]) -> dict[tuple[str, str], MappingState]:
        from include.sync.staging import mapping_state

        out: dict[tuple[str, str], MappingState] = {}
        unique = sorted(set(ajera_keys))
        for start in range(0, len(unique), KEYS_PER_QUERY):
            for row in self.db.rows("select_mappings_by_keys", {"record_type": self.rt.name,
                                                                 "keys": unique[start:start + KEYS_PER_QUERY]}):
                state = mapping_state(row)
                out[(state.ajera_key, state.crm_key)] = state
        return out


# --- the plan ------------------------------------------------------------------------------------


def plan_columns(
    rt: RecordType,
    mappings: pd.DataFrame,
    ajera: pd.DataFrame,
    crm: pd.DataFrame,
    load: Loader,
    options: Options | None = None,
    reviewed: dict[tuple[str, str], str] | None = None,
    *,
    with_suggestions: bool = True,
) -> tuple[Plan, Plan]:
    """(matching plan, change plan), equal to ``plan_record_type`` on the same records and mappings.
    Keys are unique per side (the staged snapshot's primary key)."""
    options = options or default_options()
    with _collector_paused():
        if rt.cap_field is not None:
            # A capped type's group moves (a contact moved to a full firm) need every mapped pair's fields:
            # the simple planner on whole records. Its size is bounded by the groups times the cap.
            a_all = load.records("ajera", ajera["key"].tolist())
            c_all = load.records("crm", crm["key"].tolist())
            states = load.mappings(mappings["ajera_key"].tolist())
            ordered = [states[(a, c)] for a, c in zip(mappings["ajera_key"].tolist(), mappings["crm_key"].tolist())]
            return plan_record_type(rt, ordered, a_all, c_all, options, reviewed)
        return _plan(rt, mappings, ajera, crm, load, options, reviewed or {}, with_suggestions)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The plan makes an object or two per planned record and none of them form cycles; with the cyclic
    collector on, its full passes over the millions of live objects made planning grow faster than N
    (measured: 13.4 s with, 5.4 s without, at 300,000 records per side). Reference counting still frees
    everything; the collector runs again as soon as the plan is made."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _plan(rt: RecordType, mappings: pd.DataFrame, ajera: pd.DataFrame, crm: pd.DataFrame, load: Loader,
          options: Options, reviewed: dict[tuple[str, str], str], with_suggestions: bool) -> tuple[Plan, Plan]:
    # Each mapping's row on each side (-1: the record is gone), by one hash pass per side.
    a_pos = _positions(mappings["ajera_key"].to_numpy(dtype=object), ajera["key"].to_numpy(dtype=object))
    c_pos = _positions(mappings["crm_key"].to_numpy(dtype=object), crm["key"].to_numpy(dtype=object))
    un_a = _unmapped(ajera, a_pos)
    un_c = _unmapped(crm, c_pos)
    taken_ajera: set[str] = set()
    taken_crm: set[str] = set()

    matching = Plan()
    if mappings.empty:
        _first_time_matching(rt, un_a, un_c, load, options, matching, taken_ajera, taken_crm)
    elif options.match_unsynced and rt.name == "project":
        # "Map unsynced Ajera projects to existing CRM projects": the first sync's exact-name match again, for
        # names no unmapped Ajera project of which is set to sync (those get their own same-name check).
        flagged_names = un_a["name_key"][un_a["flagged"].to_numpy(dtype=bool)]
        unsynced = un_a[~un_a["name_key"].isin(flagged_names).to_numpy()].reset_index(drop=True)
        _first_time_matching(rt, unsynced, un_c, load, options, matching, taken_ajera, taken_crm)
    accepted = sorted((pair for pair, status in reviewed.items() if status == "accepted"))
    if accepted:
        known_a, known_c = set(ajera["key"]), set(crm["key"])
        mapped_a, mapped_c = set(mappings["ajera_key"]), set(mappings["crm_key"])
        wanted = [(a, c) for a, c in accepted if a in known_a and c in known_c and a not in mapped_a
                  and c not in mapped_c]
        a_records = load.records("ajera", [a for a, _ in wanted])
        c_records = load.records("crm", [c for _, c in wanted])
        for a_key, c_key in wanted:
            if a_key in taken_ajera or c_key in taken_crm:
                continue
            matching.actions.append(_link(rt, a_records[a_key], c_records[c_key], options, "suggestion", matching))
            taken_ajera.add(a_key)
            taken_crm.add(c_key)
    if with_suggestions:
        free_a = [_Stub("ajera", k, n) for k, n in zip(un_a["key"].tolist(), un_a["name"].tolist())
                  if k not in taken_ajera]
        free_c = [_Stub("crm", k, n) for k, n in zip(un_c["key"].tolist(), un_c["name"].tolist())
                  if k not in taken_crm]
        # The ignore below: a _Stub stands in for a swept Record (key and name, raw None), which is all
        # suggest reads; a NamedTuple, not a Record, for its cost (see _Stub).
        matching.suggestions = suggest(free_a, free_c, skip_pairs=set(reviewed))  # type: ignore[arg-type]
    pending: set[str] = set()
    for (a_key, c_key), status in reviewed.items():
        if status == "proposed":
            pending.update((f"ajera:{a_key}", f"crm:{c_key}"))
    for s in matching.suggestions:
        pending.update((f"ajera:{s.ajera_key}", f"crm:{s.crm_key}"))

    changes = Plan()
    _diff(rt, mappings, ajera, crm, a_pos, c_pos, load, options, changes)
    mapped_groups: list[str | None] = []
    if rt.cap_field is not None:
        linked = np.array([a.crm_key for a in matching.actions if a.crm_key is not None], dtype=object)
        mapped_groups = _column_at(crm, "group", c_pos).tolist()
        mapped_groups += _column_at(crm, "group", _positions(linked, crm["key"].to_numpy(dtype=object))).tolist()
    _flagged(rt, options, changes, un_a, un_c, load, taken_ajera, taken_crm, mapped_groups, pending)
    return matching, changes


def _positions(keys: np.ndarray, lookup: np.ndarray) -> np.ndarray:
    """The row of each of ``keys`` in ``lookup`` (-1: not there). ``lookup`` holds each key once."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    codes, uniques = pd.factorize(np.concatenate([lookup, keys]))
    row = np.full(len(uniques), -1, dtype=np.int64)
    row[codes[:len(lookup)]] = np.arange(len(lookup))
    return row[codes[len(lookup):]]


def _column_at(side: pd.DataFrame, name: str, positions: np.ndarray) -> np.ndarray:
    """The side's column ``name`` at ``positions`` (None where -1)."""
    present = positions >= 0
    values = np.full(len(positions), None, dtype=object)
    values[present] = side[name].to_numpy(dtype=object)[positions[present]]
    return values


def _unmapped(side: pd.DataFrame, mapped_rows: np.ndarray) -> pd.DataFrame:
    """Records without a mapping, in key order (as ``sorted`` orders them), with their ``exact_key``."""
    mapped = np.zeros(len(side), dtype=bool)
    mapped[mapped_rows[mapped_rows >= 0]] = True
    out = side[~mapped]
    out = out.iloc[_key_order(out["key"].to_numpy(dtype=object))].reset_index(drop=True)
    return out.assign(name_key=[exact_key(n) for n in out["name"].tolist()])


def _key_order(keys: np.ndarray) -> np.ndarray:
    """The order ``sorted`` puts these strings in, sorted in C: fixed-width unicode compares by code point,
    as Python's ``str`` does (an object array would compare through Python, a million times slower)."""
    if not len(keys):
        return np.arange(0)
    return np.argsort(keys.astype(str), kind="stable")


def _diff(rt: RecordType, mappings: pd.DataFrame, ajera: pd.DataFrame, crm: pd.DataFrame, a_pos: np.ndarray,
          c_pos: np.ndarray, load: Loader, options: Options, plan: Plan) -> None:
    """Unlinks and updates of the mapped pairs. Only pairs that lost a side or were read in full this run can
    need anything (an unread record has not changed); those few go through the planner's own rule.
    ``a_pos``/``c_pos``: each mapping's row on each side (-1: gone)."""
    if mappings.empty:
        return
    a_present, c_present = a_pos >= 0, c_pos >= 0
    rows = np.flatnonzero(~a_present | ~c_present | _fetched(ajera, a_pos) | _fetched(crm, c_pos))
    if not len(rows):
        return
    a_keys = mappings["ajera_key"].to_numpy()[rows].tolist()
    c_keys = mappings["crm_key"].to_numpy()[rows].tolist()
    states = load.mappings(a_keys)
    a_records = load.records("ajera", [k for k, i in zip(a_keys, rows) if a_present[i]])
    c_records = load.records("crm", [k for k, i in zip(c_keys, rows) if c_present[i]])
    for a_key, c_key in zip(a_keys, c_keys):
        ar, cr = a_records.get(a_key), c_records.get(c_key)
        _plan_mapped(rt, states[(a_key, c_key)], {a_key: ar} if ar else {}, {c_key: cr} if cr else {}, options, plan)


def _fetched(side: pd.DataFrame, positions: np.ndarray) -> np.ndarray:
    present = positions >= 0
    fetched = np.zeros(len(positions), dtype=bool)
    fetched[present] = side["fetched"].to_numpy(dtype=bool)[positions[present]]
    return fetched


def _first_time_matching(rt: RecordType, un_a: pd.DataFrame, un_c: pd.DataFrame, load: Loader, options: Options,
                         plan: Plan, taken_ajera: set[str], taken_crm: set[str]) -> None:
    """Names equal on both sides: unique on both → link; several on either → ambiguous, nothing linked.
    Names become integer codes once; counting and pairing are array operations."""
    na = len(un_a)
    if not na or not len(un_c):
        return
    codes, uniques = pd.factorize(np.concatenate([un_a["name_key"].to_numpy(dtype=object),
                                                  un_c["name_key"].to_numpy(dtype=object)]))
    ca, cc = codes[:na], codes[na:]
    count_a = np.bincount(ca, minlength=len(uniques))
    count_c = np.bincount(cc, minlength=len(uniques))
    # Walk the names shared by both sides in the order of their first Ajera record (rows are in key order).
    seen, first = np.unique(ca, return_index=True)
    first = np.sort(first[count_c[seen] > 0])
    name_codes = ca[first]
    single = (count_a[name_codes] == 1) & (count_c[name_codes] == 1)
    c_row = np.full(len(uniques), -1, dtype=np.int64)
    c_row[cc] = np.arange(len(cc))  # for a name single on the CRM side, its one row
    pair_a, pair_c = first[single], c_row[name_codes[single]]
    a_keys, a_names = un_a["key"].tolist(), un_a["name"].tolist()
    c_keys, c_names = un_c["key"].tolist(), un_c["name"].tolist()
    # A link reconciles the pair's fields only when both were read in full: only those are loaded.
    both = un_a["fetched"].to_numpy(dtype=bool)[pair_a] & un_c["fetched"].to_numpy(dtype=bool)[pair_c]
    a_records = load.records("ajera", [a_keys[i] for i in pair_a[both].tolist()])
    c_records = load.records("crm", [c_keys[i] for i in pair_c[both].tolist()])
    ambiguous = name_codes[~single]
    a_groups = _groups(un_a[np.isin(ca, ambiguous)], "ajera") if len(ambiguous) else {}
    c_groups = _groups(un_c[np.isin(cc, ambiguous)], "crm") if len(ambiguous) else {}
    c_of = dict(zip(first[single].tolist(), pair_c.tolist()))
    for ai, code, is_single in zip(first.tolist(), name_codes.tolist(), single.tolist()):
        if is_single:
            ci = c_of[ai]
            ak, ck = a_keys[ai], c_keys[ci]
            ar = a_records.get(ak) or _Stub("ajera", ak, a_names[ai])
            cr = c_records.get(ck) or _Stub("crm", ck, c_names[ci])
            # The ignore below: _link reads only key, name and raw of a _Stub (raw None: nothing to reconcile).
            plan.actions.append(_link(rt, ar, cr, options, "name_exact", plan))  # type: ignore[arg-type]
            taken_ajera.add(ak)
            taken_crm.add(ck)
            continue
        name_key = uniques[code]
        a_list, c_list = a_groups[name_key], c_groups[name_key]
        plan.notes.append(_ambiguous(rt, a_list[0], c_list, a_list))
        taken_ajera.update(r.key for r in a_list)
        taken_crm.update(r.key for r in c_list)


def _groups(side: pd.DataFrame, system: System) -> dict[str, list[Record]]:
    """Key and name records by ``exact_key``, each list in key order (what ``_ambiguous`` needs)."""
    out: dict[str, list[Record]] = {}
    for key, name, name_key in zip(side["key"].tolist(), side["name"].tolist(), side["name_key"].tolist()):
        # The ignore below: _ambiguous reads only system, key and name of each (see _Stub).
        out.setdefault(name_key, []).append(_Stub(system, key, name))  # type: ignore[arg-type]
    return out


class _Stub(NamedTuple):
    """A record known by key and name only (swept, not read in full): what a link or a note needs of it.
    (A named tuple: a million of them are made in a first sync, at a fifth of a frozen dataclass's cost.)"""

    system: System
    key: str
    name: str
    raw: None = None


def _flagged(rt: RecordType, options: Options, plan: Plan, un_a: pd.DataFrame, un_c: pd.DataFrame, load: Loader,
             taken_ajera: set[str], taken_crm: set[str], mapped_groups: list[str | None], pending: set[str]) -> None:
    """The planner's own rule for flagged unmapped records, given only them and the records sharing a name."""
    flagged_a = un_a[un_a["flagged"].to_numpy(dtype=bool)]
    flagged_a = flagged_a[np.array([k not in taken_ajera for k in flagged_a["key"].tolist()], dtype=bool)]
    flagged_c = un_c[un_c["flagged"].to_numpy(dtype=bool)]
    flagged_c = flagged_c[np.array([k not in taken_crm for k in flagged_c["key"].tolist()], dtype=bool)]
    if flagged_a.empty and flagged_c.empty:
        return
    names = set(flagged_a["name_key"]) | set(flagged_c["name_key"])
    near_a = un_a[un_a["name_key"].isin(names)]
    near_c = un_c[un_c["name_key"].isin(names)]
    a_records = load.records("ajera", near_a["key"].tolist())
    c_records = load.records("crm", near_c["key"].tolist())
    ajera_by_name: dict[str, list[Record]] = {}
    for key, name_key in zip(near_a["key"], near_a["name_key"]):
        ajera_by_name.setdefault(name_key, []).append(a_records[key])
    crm_by_name: dict[str, list[Record]] = {}
    for key, name_key in zip(near_c["key"], near_c["name_key"]):
        crm_by_name.setdefault(name_key, []).append(c_records[key])
    _plan_flagged(rt, options, plan, [a_records[k] for k in flagged_a["key"]], [c_records[k] for k in flagged_c["key"]],
                  ajera_by_name, crm_by_name, taken_ajera, taken_crm, mapped_groups, pending)


def plan_from_database(db: SyncDatabase, rt: RecordType, run_id: str, options: Options,
                       reviewed: dict[tuple[str, str], str]) -> tuple[Plan, Plan]:
    """The plan of one record type from the run's staged snapshot and the mapping table, streamed."""
    return plan_columns(rt, stream_mappings(db, rt), stream_side(db, run_id, rt, "ajera"),
                        stream_side(db, run_id, rt, "crm"), DbLoader(db, run_id, rt), options, reviewed)

