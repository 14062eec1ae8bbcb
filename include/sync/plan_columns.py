"""The planner at scale: the same plan as ``planner.plan_record_type``, with the bulk work done on columns.

``plan_record_type`` takes every record as a ``Record`` and loops over all of them in Python: fine for
thousands, 30 µs and kilobytes per record at a million. Here each system's staged records and the mappings
are columns (``plan_frames``: key, name, modified, hash, fetched, flag, group, quarantined; no payloads).
From the database only what a plan can need is streamed, in chunks: the mappings with a side read in full this
run or gone, their records, and the records without a mapping (the pairs left out are unchanged pairs of
unchanged records, which a cap counts by group in SQL). So a run that read little hands Python little; what
still grows with the picture is the database's own scans for those rows. The bulk questions are asked of whole
columns:

* the diff: which mapped pairs lost a side (unlink) or were read in full on either side (only those can have
  changed), by one hash join on the keys per side;
* first-time exact matching: names grouped by ``exact_key`` on both sides, unique on both sides → a link,
  several on either side → ambiguous;
* the flagged, unmapped records and the same-name candidates they can reach.

Only the records that end up in an action or a note are loaded in full (``Loader``), and the per-record rules
(``plan_mapped``, ``plan_unmapped``: reconcile, decisions, caps, closed projects, create problems) are the
record planner's own functions, run on those only. A property test checks that this and ``plan_record_type``
return the same plan on generated inputs.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from include.sync.db import SyncDatabase
from include.sync.enums import LinkMethod
from include.sync.model import Record, System
from include.sync.names import exact_key
from include.sync.plan_frames import (
    MAPPING_COLUMNS,
    DbLoader,
    Loader,
    Stub,
    frame,
    stream_plan_mappings,
    stream_plan_side,
    unplanned_group_counts,
)
from include.sync.plan_mapped import group_moves, plan_pair
from include.sync.plan_model import MappingState, Options, Plan, default_options
from include.sync.plan_unmapped import (
    Taken,
    Unmapped,
    ambiguous,
    link_accepted,
    pending_creates,
    plan_flagged,
)
from include.sync.reconcile import link, swept_link
from include.sync.record_types import RecordType
from include.sync.suggestions import Suggester, decided, plain

Decisions = dict[tuple[str, str], dict[str, System]]


@dataclass(frozen=True)
class _Frames:
    """The inputs, with each mapping's row on each side (-1: the record is gone) and the unmapped records."""

    mappings: pd.DataFrame
    ajera: pd.DataFrame
    crm: pd.DataFrame
    a_pos: np.ndarray
    c_pos: np.ndarray
    un_a: pd.DataFrame  # unmapped, not quarantined, in key order, with ``name_key`` (their exact_key)
    un_c: pd.DataFrame

    @classmethod
    def of(cls, mappings: pd.DataFrame, ajera: pd.DataFrame, crm: pd.DataFrame) -> _Frames:
        a_pos = _positions(mappings["ajera_key"].to_numpy(dtype=object), ajera["key"].to_numpy(dtype=object))
        c_pos = _positions(mappings["crm_key"].to_numpy(dtype=object), crm["key"].to_numpy(dtype=object))
        return cls(mappings, ajera, crm, a_pos, c_pos, _unmapped(ajera, a_pos), _unmapped(crm, c_pos))


def plan_columns(
    rt: RecordType,
    mappings: pd.DataFrame,
    ajera: pd.DataFrame,
    crm: pd.DataFrame,
    load: Loader,
    options: Options | None = None,
    reviewed: dict[tuple[str, str], str] | None = None,
    decisions: Decisions | None = None,
    first_sync: bool | None = None,
    *,
    with_suggestions: bool = True,
    with_changes: bool = True,
    suggester: Suggester = plain,
    unplanned_groups: dict[str, int] | None = None,
) -> tuple[Plan, Plan]:
    """(matching plan, change plan), equal to ``plan_record_type`` on the same records and mappings (the
    arguments mean the same). Keys are unique per side (the picture's primary key).
    ``with_changes=False``: the matching plan only (the match step stores nothing else), the change plan empty.
    ``mappings`` may leave out pairs of unchanged records read on neither side (with their records, which then
    are not unmapped either), given ``first_sync`` and, for a capped type, those pairs' ``unplanned_groups``:
    synced records per CRM group."""
    options = options or default_options()
    reviewed = reviewed or {}
    with _collector_paused():
        frames = _Frames.of(mappings, ajera, crm)
        matching, taken = _matching(rt, frames, load, options, reviewed, first_sync,
                                    suggester if with_suggestions else None)
        changes = Plan()
        if not with_changes:
            return matching, changes
        group_counts = _diff(rt, frames, load, options, changes, decisions or {}, dict(unplanned_groups or {}))
        if rt.cap_field is not None:
            linked = np.array([a.crm_key for a in matching.actions if a.crm_key is not None], dtype=object)
            _count_groups(group_counts, crm, _positions(linked, crm["key"].to_numpy(dtype=object)))
        _flagged(rt, options, changes, frames, load, taken, group_counts,
                 pending_creates(reviewed, matching.suggestions))
    return matching, changes


def plan_from_database(db: SyncDatabase, rt: RecordType, run_id: str, load: DbLoader, options: Options,
                       reviewed: dict[tuple[str, str], str], decisions: Decisions | None = None,
                       first_sync: bool | None = None, with_changes: bool = True,
                       suggester: Suggester = plain) -> tuple[Plan, Plan]:
    """The plan of one record type from the run's picture (``seen_record`` with what it staged) and the mapping
    table: only the part it can need, streamed (the mappings with a side read or gone, their records, and the
    unmapped records)."""
    # Matching plans only the records without a mapping (the first sync's too, when there are none yet).
    mappings = stream_plan_mappings(db, run_id, rt) if with_changes else frame([], MAPPING_COLUMNS)
    if first_sync is None:
        first_sync = not db.scalar("count_mappings", {"record_type": rt.name})
    unplanned = unplanned_group_counts(db, run_id, rt) if with_changes and rt.cap_field is not None else None
    return plan_columns(rt, mappings, stream_plan_side(db, run_id, rt, "ajera", mappings["ajera_key"].tolist()),
                        stream_plan_side(db, run_id, rt, "crm", mappings["crm_key"].tolist()), load, options,
                        reviewed, decisions, first_sync, with_changes=with_changes, suggester=suggester,
                        unplanned_groups=unplanned)


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


# --- matching -------------------------------------------------------------------------------------


def _matching(rt: RecordType, f: _Frames, load: Loader, options: Options, reviewed: dict[tuple[str, str], str],
              first_sync: bool | None, suggester: Suggester | None) -> tuple[Plan, Taken]:
    matching, taken = Plan(), Taken()
    if first_sync if first_sync is not None else f.mappings.empty:
        _first_time_matching(rt, f.un_a, f.un_c, load, options, matching, taken)
    elif options.match_unsynced and rt.name == "project":
        # The first sync's exact-name match again, for the names no unmapped Ajera project of which is set to
        # sync (as ``plan_unmapped.unsynced_names``).
        flagged_names = f.un_a["name_key"][f.un_a["flagged"].to_numpy(dtype=bool)]
        unsynced = f.un_a[~f.un_a["name_key"].isin(flagged_names).to_numpy()].reset_index(drop=True)
        _first_time_matching(rt, unsynced, f.un_c, load, options, matching, taken)
    accepted = [pair for pair, status in reviewed.items() if status == "accepted"]
    if accepted:
        a_keys = sorted({a for a, _ in accepted})
        c_keys = sorted({c for _, c in accepted})
        link_accepted(rt, reviewed, load.records("ajera", a_keys), load.records("crm", c_keys),
                      load.mapped("ajera", a_keys), load.mapped("crm", c_keys), options, matching, taken)
    if suggester is not None:
        free_a = [Stub("ajera", k, n) for k, n in zip(f.un_a["key"].tolist(), f.un_a["name"].tolist())
                  if k not in taken.ajera]
        free_c = [Stub("crm", k, n) for k, n in zip(f.un_c["key"].tolist(), f.un_c["name"].tolist())
                  if k not in taken.crm]
        matching.suggestions = suggester(free_a, free_c, decided(reviewed))
    return matching, taken


def _first_time_matching(rt: RecordType, un_a: pd.DataFrame, un_c: pd.DataFrame, load: Loader, options: Options,
                         plan: Plan, taken: Taken) -> None:
    """Names equal on both sides: unique on both → link; several on either → ambiguous, nothing linked.
    (Links and notes go to separate lists, so the two kinds are planned one after the other, each in the
    order of its names' first Ajera record.)"""
    if not len(un_a) or not len(un_c):
        return
    names = _SharedNames.of(un_a, un_c)
    _link_exact(rt, un_a, un_c, names.first[names.single], names.c_row[names.codes[names.single]], load, options,
                plan, taken)
    shared_ambiguous = names.codes[~names.single]
    if not len(shared_ambiguous):
        return
    a_groups = _stubs_by_name(un_a[np.isin(names.ca, shared_ambiguous)], "ajera")
    c_groups = _stubs_by_name(un_c[np.isin(names.cc, shared_ambiguous)], "crm")
    for name_key in names.uniques[shared_ambiguous].tolist():
        a_list, c_list = a_groups[name_key], c_groups[name_key]
        plan.notes.append(ambiguous(rt, a_list[0], c_list, a_list))
        taken.ajera.update(r.key for r in a_list)
        taken.crm.update(r.key for r in c_list)


def _link_exact(rt: RecordType, un_a: pd.DataFrame, un_c: pd.DataFrame, pair_a: np.ndarray, pair_c: np.ndarray,
                load: Loader, options: Options, plan: Plan, taken: Taken) -> None:
    """Links the rows ``pair_a`` of ``un_a`` with the rows ``pair_c`` of ``un_c``, in that order. A link
    reconciles the pair's fields only when both were read in full: only those are loaded."""
    a_keys = un_a["key"].to_numpy(dtype=object)[pair_a].tolist()
    a_names = un_a["name"].to_numpy(dtype=object)[pair_a].tolist()
    c_keys = un_c["key"].to_numpy(dtype=object)[pair_c].tolist()
    read = un_a["fetched"].to_numpy(dtype=bool)[pair_a] & un_c["fetched"].to_numpy(dtype=bool)[pair_c]
    full = np.flatnonzero(read).tolist()
    a_records = load.records("ajera", [a_keys[i] for i in full])
    c_records = load.records("crm", [c_keys[i] for i in full])
    actions = plan.actions
    for a_key, name, c_key, both_read in zip(a_keys, a_names, c_keys, read.tolist()):
        actions.append(link(rt, a_records[a_key], c_records[c_key], options, LinkMethod.NAME_EXACT, plan)
                       if both_read else swept_link(name, a_key, c_key, LinkMethod.NAME_EXACT))
    taken.ajera.update(a_keys)
    taken.crm.update(c_keys)


@dataclass(frozen=True)
class _SharedNames:
    """The names (``exact_key``) on both sides as integer codes, counted and paired by array operations."""

    ca: np.ndarray  # each Ajera row's name code
    cc: np.ndarray  # each CRM row's
    uniques: np.ndarray  # code -> name
    first: np.ndarray  # for each name on both sides, its first Ajera row, in row (key) order
    codes: np.ndarray  # ... and its code
    single: np.ndarray  # ... and whether it is one record on each side
    c_row: np.ndarray  # code -> a CRM row with that name (its only one, for a name single on that side)

    @classmethod
    def of(cls, un_a: pd.DataFrame, un_c: pd.DataFrame) -> _SharedNames:
        na = len(un_a)
        codes, uniques = pd.factorize(np.concatenate([un_a["name_key"].to_numpy(dtype=object),
                                                      un_c["name_key"].to_numpy(dtype=object)]))
        ca, cc = codes[:na], codes[na:]
        count_a = np.bincount(ca, minlength=len(uniques))
        count_c = np.bincount(cc, minlength=len(uniques))
        seen, first = np.unique(ca, return_index=True)
        first = np.sort(first[count_c[seen] > 0])
        name_codes = ca[first]
        single = (count_a[name_codes] == 1) & (count_c[name_codes] == 1)
        c_row = np.full(len(uniques), -1, dtype=np.int64)
        c_row[cc] = np.arange(len(cc))
        return cls(ca, cc, np.asarray(uniques, dtype=object), first, name_codes, single, c_row)


def _stubs_by_name(side: pd.DataFrame, system: System) -> dict[str, list[Record]]:
    """Key and name records by ``exact_key``, each list in key order (what ``ambiguous`` needs)."""
    out: dict[str, list[Record]] = {}
    for key, name, name_key in zip(side["key"].tolist(), side["name"].tolist(), side["name_key"].tolist()):
        # The ignore below: ambiguous reads only system, key and name of each (see Stub).
        out.setdefault(name_key, []).append(Stub(system, key, name))  # type: ignore[arg-type]
    return out


# --- mapped pairs ---------------------------------------------------------------------------------


def _diff(rt: RecordType, f: _Frames, load: Loader, options: Options, plan: Plan,
          decisions: Decisions, counts: dict[str, int]) -> dict[str, int]:
    """Unlinks and updates of the mapped pairs. Only pairs that lost a side or were read in full this run can
    need anything (an unread record has not changed, and a decision waits until both sides are read); those
    few go through the planner's own rule. Returns the synced records per group once moves are made (for a
    capped type; see ``plan_mapped.group_moves``), counting on from ``counts``."""
    if f.mappings.empty:
        return counts
    a_present, c_present = f.a_pos >= 0, f.c_pos >= 0
    read = _fetched(f.ajera, f.a_pos) | _fetched(f.crm, f.c_pos)
    if rt.cap_field is not None:  # a pair read on neither side has not moved: it counts in its CRM group
        _count_groups(counts, f.crm, f.c_pos[a_present & c_present & ~read])
    rows = np.flatnonzero(~a_present | ~c_present | read)
    if not len(rows):
        return counts
    a_keys = f.mappings["ajera_key"].to_numpy()[rows].tolist()
    c_keys = f.mappings["crm_key"].to_numpy()[rows].tolist()
    states = load.mappings(a_keys)
    a_records = load.records("ajera", [k for k, i in zip(a_keys, rows) if a_present[i]])
    c_records = load.records("crm", [k for k, i in zip(c_keys, rows) if c_present[i]])
    pairs: list[tuple[MappingState, Record | None, Record | None]] = [
        (states[(a_key, c_key)], a_records.get(a_key), c_records.get(c_key)) for a_key, c_key in zip(a_keys, c_keys)]
    held = group_moves(rt, [(m, a, c) for m, a, c in pairs if a is not None and c is not None], options, counts)
    for m, a, c in pairs:
        plan_pair(rt, m, a, c, options, plan, decisions.get((m.ajera_key, m.crm_key)), held)
    return counts


def _count_groups(counts: dict[str, int], side: pd.DataFrame, positions: np.ndarray) -> None:
    """Adds the groups of the side's rows at ``positions`` (-1: none) to ``counts``; no group counts nothing."""
    groups = side["group"].to_numpy(dtype=object)[positions[positions >= 0]]
    for group, n in pd.Series(groups, dtype=object).value_counts(dropna=True).items():
        if group:
            counts[str(group)] = counts.get(str(group), 0) + int(n)


def _fetched(side: pd.DataFrame, positions: np.ndarray) -> np.ndarray:
    present = positions >= 0
    fetched = np.zeros(len(positions), dtype=bool)
    fetched[present] = side["fetched"].to_numpy(dtype=bool)[positions[present]]
    return fetched


# --- flagged unmapped records ---------------------------------------------------------------------


def _flagged(rt: RecordType, options: Options, plan: Plan, f: _Frames, load: Loader, taken: Taken,
             group_counts: dict[str, int], pending: set[str]) -> None:
    """The planner's own rule for flagged unmapped records, given only them and the records sharing a name."""
    flagged_a = f.un_a[f.un_a["flagged"].to_numpy(dtype=bool)]
    flagged_a = flagged_a[np.array([k not in taken.ajera for k in flagged_a["key"].tolist()], dtype=bool)]
    flagged_c = f.un_c[f.un_c["flagged"].to_numpy(dtype=bool)]
    flagged_c = flagged_c[np.array([k not in taken.crm for k in flagged_c["key"].tolist()], dtype=bool)]
    if flagged_a.empty and flagged_c.empty:
        return
    names = set(flagged_a["name_key"]) | set(flagged_c["name_key"])
    near_a = f.un_a[f.un_a["name_key"].isin(names)]
    near_c = f.un_c[f.un_c["name_key"].isin(names)]
    a_records = load.records("ajera", near_a["key"].tolist())
    c_records = load.records("crm", near_c["key"].tolist())
    ajera_by_name: dict[str, list[Record]] = {}
    for key, name_key in zip(near_a["key"], near_a["name_key"]):
        ajera_by_name.setdefault(name_key, []).append(a_records[key])
    crm_by_name: dict[str, list[Record]] = {}
    for key, name_key in zip(near_c["key"], near_c["name_key"]):
        crm_by_name.setdefault(name_key, []).append(c_records[key])
    unmapped = Unmapped([a_records[k] for k in flagged_a["key"]], [c_records[k] for k in flagged_c["key"]],
                        ajera_by_name, crm_by_name)
    plan_flagged(rt, options, plan, unmapped, taken, group_counts, pending)


# --- columns --------------------------------------------------------------------------------------


def _positions(keys: np.ndarray, lookup: np.ndarray) -> np.ndarray:
    """The row of each of ``keys`` in ``lookup`` (-1: not there). ``lookup`` holds each key once."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    codes, uniques = pd.factorize(np.concatenate([lookup, keys]))
    row = np.full(len(uniques), -1, dtype=np.int64)
    row[codes[:len(lookup)]] = np.arange(len(lookup))
    return row[codes[len(lookup):]]


def _unmapped(side: pd.DataFrame, mapped_rows: np.ndarray) -> pd.DataFrame:
    """Records without a mapping and not quarantined (a quarantined record is never matched or created), in
    key order (as ``sorted`` orders them), with their ``exact_key``."""
    left = ~side["problem"].to_numpy(dtype=bool)
    left[mapped_rows[mapped_rows >= 0]] = False
    out = side[left]
    out = out.iloc[_key_order(out["key"].to_numpy(dtype=object))].reset_index(drop=True)
    return out.assign(name_key=[exact_key(n) for n in out["name"].tolist()])


def _key_order(keys: np.ndarray) -> np.ndarray:
    """The order ``sorted`` puts these strings in, sorted in C: fixed-width unicode compares by code point,
    as Python's ``str`` does (an object array would compare through Python, a million times slower)."""
    if not len(keys):
        return np.arange(0)
    return np.argsort(keys.astype(str), kind="stable")
