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

from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Protocol, Sequence

import numpy as np
import pandas as pd

from include.sync.db import SyncDatabase, format_ts
from include.sync.model import Record, System
from include.sync.names import exact_key
from include.sync.planner import (
    Action,
    MappingState,
    Note,
    Options,
    Plan,
    _ambiguous,
    _closed,
    _link,
    _plan_flagged,
    has_changed_columns,
    reconcile,
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


@dataclass(frozen=True)
class _Named:
    """What suggestions need of a record: its key and name."""

    key: str
    name: str


# --- columns from records (tests, small inputs) and from the database (chunks) ----------------------


def side_frame(records: Iterable[Record]) -> pd.DataFrame:
    rows = [(r.key, r.name, format_ts(r.modified) if r.modified else None, r.content_hash, r.raw is not None,
             bool(r.flagged), r.group) for r in records]
    return _frame(rows, SIDE_COLUMNS)


def mapping_frame(mappings: Iterable[MappingState]) -> pd.DataFrame:
    rows = [(m.ajera_key, m.crm_key, format_ts(m.ajera_modified) if m.ajera_modified else None,
             format_ts(m.crm_modified) if m.crm_modified else None, m.ajera_hash, m.crm_hash) for m in mappings]
    return _frame(rows, MAPPING_COLUMNS)


def _frame(rows: list[tuple[Any, ...]] | Iterator[Sequence[Any]], columns: Sequence[str]) -> pd.DataFrame:
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
    options: Options = Options(),
    reviewed: dict[tuple[str, str], str] | None = None,
    *,
    with_suggestions: bool = True,
) -> tuple[Plan, Plan]:
    """(matching plan, change plan), equal to ``plan_record_type`` on the same records and mappings."""
    reviewed = reviewed or {}
    ajera = ajera.drop_duplicates("key", keep="last")  # a dict keeps the last record of a key
    crm = crm.drop_duplicates("key", keep="last")
    un_a = _unmapped(ajera, mappings["ajera_key"])
    un_c = _unmapped(crm, mappings["crm_key"])
    taken_ajera: set[str] = set()
    taken_crm: set[str] = set()

    matching = Plan()
    if mappings.empty:
        _first_time_matching(rt, un_a, un_c, load, options, matching, taken_ajera, taken_crm)
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
        free_a = [_Named(k, n) for k, n in zip(un_a["key"], un_a["name"]) if k not in taken_ajera]
        free_c = [_Named(k, n) for k, n in zip(un_c["key"], un_c["name"]) if k not in taken_crm]
        matching.suggestions = suggest(free_a, free_c, skip_pairs=set(reviewed))  # type: ignore[arg-type]
    pending: set[str] = set()
    for (a_key, c_key), status in reviewed.items():
        if status == "proposed":
            pending.update((f"ajera:{a_key}", f"crm:{c_key}"))
    for s in matching.suggestions:
        pending.update((f"ajera:{s.ajera_key}", f"crm:{s.crm_key}"))

    changes = Plan()
    _diff(rt, mappings, ajera, crm, load, options, changes)
    mapped_groups: list[str | None] = []
    if rt.cap_field is not None:
        groups = dict(zip(crm["key"], crm["group"]))
        mapped_groups = [groups.get(k) for k in mappings["crm_key"]]
        mapped_groups += [groups.get(a.crm_key) for a in matching.actions if a.crm_key in groups]
    _flagged(rt, options, changes, un_a, un_c, load, taken_ajera, taken_crm, mapped_groups, pending)
    return matching, changes


def _unmapped(side: pd.DataFrame, mapped_keys: pd.Series) -> pd.DataFrame:
    """Records without a mapping, in key order (as ``sorted`` orders them), with their ``exact_key``."""
    out = side[~side["key"].isin(mapped_keys)]
    out = out.iloc[np.argsort(out["key"].to_numpy(dtype=object), kind="stable")].reset_index(drop=True)
    return out.assign(name_key=[exact_key(n) for n in out["name"]])


def _diff(rt: RecordType, mappings: pd.DataFrame, ajera: pd.DataFrame, crm: pd.DataFrame, load: Loader,
          options: Options, plan: Plan) -> None:
    """Unlinks and updates of the mapped pairs; only pairs that lost a side or changed are looked at."""
    if mappings.empty:
        return
    a = _lookup(mappings["ajera_key"], ajera)
    c = _lookup(mappings["crm_key"], crm)
    a_present, c_present = a["present"], c["present"]
    a_changed = a_present & has_changed_columns(a["fetched"], a["modified"], a["hash"],
                                                mappings["ajera_modified"].to_numpy(), mappings["ajera_hash"].to_numpy())
    c_changed = c_present & has_changed_columns(c["fetched"], c["modified"], c["hash"],
                                                mappings["crm_modified"].to_numpy(), mappings["crm_hash"].to_numpy())
    rows = np.flatnonzero(~a_present | ~c_present | a_changed | c_changed)
    if not len(rows):
        return
    a_keys = mappings["ajera_key"].to_numpy()[rows].tolist()
    c_keys = mappings["crm_key"].to_numpy()[rows].tolist()
    states = load.mappings(a_keys)
    a_records = load.records("ajera", [k for k, i in zip(a_keys, rows) if a_present[i]])
    c_records = load.records("crm", [k for k, i in zip(c_keys, rows) if c_present[i]])
    for i, a_key, c_key in zip(rows.tolist(), a_keys, c_keys):
        mapping = states[(a_key, c_key)]
        ar, cr = a_records.get(a_key), c_records.get(c_key)
        if ar is None or cr is None:
            plan.unlinks.append(mapping)
            gone = "Ajera" if ar is None else "CRM"
            name = (ar or cr).name if (ar or cr) else None
            plan.notes.append(Note("unlinked", "none", f"the {gone} record no longer exists; mapping removed",
                                   name, a_key, c_key))
            continue
        if not options.sync_closed and _closed(rt, ar) and _closed(rt, cr):
            plan.notes.append(Note("skipped", "none", f"closed {rt.name}: left alone (sync closed projects is off)",
                                   ar.name, ar.key, cr.key))
            continue
        a_ch, c_ch = bool(a_changed[i]), bool(c_changed[i])
        to_crm, to_ajera, conflicts = reconcile(rt, ar, cr, options, ajera_changed=a_ch, crm_changed=c_ch,
                                                mapping=mapping)
        plan.conflicts.extend(conflicts)
        plan.actions.append(Action("update", ar.name, ar.key, cr.key, detail={
            "to_crm": to_crm, "to_ajera": to_ajera, "ajera_changed": a_ch, "crm_changed": c_ch}))


def _lookup(keys: pd.Series, side: pd.DataFrame) -> dict[str, np.ndarray]:
    """The side's columns aligned to ``keys`` (one row per key; ``present`` False where it has none)."""
    positions = pd.Index(side["key"]).get_indexer(keys)
    present = positions >= 0
    found = positions[present]
    out = {"present": present}
    for name in ("modified", "hash", "fetched"):
        values = np.full(len(positions), None, dtype=object)
        values[present] = side[name].to_numpy(dtype=object)[found]
        out[name] = values
    out["fetched"] = np.asarray(out["fetched"] == True, dtype=bool)  # noqa: E712 (None is not fetched)
    return out


def _first_time_matching(rt: RecordType, un_a: pd.DataFrame, un_c: pd.DataFrame, load: Loader, options: Options,
                         plan: Plan, taken_ajera: set[str], taken_crm: set[str]) -> None:
    """Names equal on both sides: unique on both → link; several on either → ambiguous, nothing linked."""
    common = pd.Index(un_a["name_key"]).intersection(pd.Index(un_c["name_key"]))
    if common.empty:
        return
    a = un_a[un_a["name_key"].isin(common)]
    c = un_c[un_c["name_key"].isin(common)]
    firsts = a.drop_duplicates("name_key")  # in Ajera key order: the order the simple planner walks names in
    single_a = firsts["name_key"].map(a["name_key"].value_counts()) == 1
    single_c = firsts["name_key"].map(c["name_key"].value_counts()) == 1
    unique = (single_a & single_c).to_numpy()
    c_by_name = dict(zip(c["name_key"], c["key"]))  # for unique names only the one key is used
    pairs = [(ak, c_by_name[nk]) for ak, nk, u in zip(firsts["key"], firsts["name_key"], unique) if u]
    a_records = load.records("ajera", [ak for ak, _ in pairs])
    c_records = load.records("crm", [ck for _, ck in pairs])
    a_groups = c_groups = None
    if not unique.all():
        a_groups = _groups(a, "ajera")
        c_groups = _groups(c, "crm")
    for ak, nk, u in zip(firsts["key"].tolist(), firsts["name_key"].tolist(), unique.tolist()):
        if u:
            ck = c_by_name[nk]
            plan.actions.append(_link(rt, a_records[ak], c_records[ck], options, "name_exact", plan))
            taken_ajera.add(ak)
            taken_crm.add(ck)
            continue
        a_list, c_list = a_groups[nk], c_groups[nk]  # type: ignore[index]
        plan.notes.append(_ambiguous(rt, a_list[0], c_list, a_list))
        taken_ajera.update(r.key for r in a_list)
        taken_crm.update(r.key for r in c_list)


def _groups(side: pd.DataFrame, system: System) -> dict[str, list[Record]]:
    """Key and name records by ``exact_key``, each list in key order (what ``_ambiguous`` needs)."""
    out: dict[str, list[Record]] = {}
    for key, name, name_key in zip(side["key"], side["name"], side["name_key"]):
        out.setdefault(name_key, []).append(_Stub(system, key, name))  # type: ignore[arg-type]
    return out


@dataclass(frozen=True)
class _Stub:
    """A record as the ambiguity note sees it (system, key and name only)."""

    system: System
    key: str
    name: str


def _flagged(rt: RecordType, options: Options, plan: Plan, un_a: pd.DataFrame, un_c: pd.DataFrame, load: Loader,
             taken_ajera: set[str], taken_crm: set[str], mapped_groups: list[str | None], pending: set[str]) -> None:
    """The planner's own rule for flagged unmapped records, given only them and the records sharing a name."""
    flagged_a = un_a[un_a["flagged"].to_numpy(dtype=bool) & ~un_a["key"].isin(taken_ajera).to_numpy()]
    flagged_c = un_c[un_c["flagged"].to_numpy(dtype=bool) & ~un_c["key"].isin(taken_crm).to_numpy()]
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

