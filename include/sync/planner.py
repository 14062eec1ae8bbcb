"""Diff against the mapping table and first-time name matching: a pure function from state to a plan.

Nothing here does I/O. ``plan_record_type`` gets every swept record of both systems (with full fields
for the ones extract fetched) and the current mappings, and returns what to link, create, update and
unlink, plus the log notes (ambiguous names, skipped records) and the conflicts it resolved.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable, Literal

from include.sync.model import Record
from include.sync.names import exact_key
from include.sync.record_types import Direction, RecordType
from include.sync.refs import writable
from include.sync.suggestions import Suggestion, suggest

Mode = Literal["two_way", "one_way"]
ActionKind = Literal["link", "update", "create_in_crm", "create_in_ajera"]


@dataclass(frozen=True)
class MappingState:
    ajera_key: str
    crm_key: str
    ajera_modified: datetime | None
    crm_modified: datetime | None
    ajera_hash: str | None
    crm_hash: str | None
    ajera_fields: dict[str, Any] | None = None  # synced field values as last synced, per side
    crm_fields: dict[str, Any] | None = None


@dataclass
class Action:
    kind: ActionKind
    name: str
    ajera_key: str | None = None
    crm_key: str | None = None
    # link/update: {"to_crm": {...}, "to_ajera": {...}, "method": ...}; creates: {"fields": {...}}
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Note:
    action: str  # ambiguous | skipped | unlinked | error
    direction: str
    message: str
    name: str | None = None
    ajera_key: str | None = None
    crm_key: str | None = None


@dataclass(frozen=True)
class Conflict:
    ajera_key: str
    crm_key: str
    field_name: str
    ajera_value: Any
    crm_value: Any
    resolution: Literal["ajera_wins", "crm_wins", "review"]
    reason: str


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)
    unlinks: list[MappingState] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)  # new ones, for a person to review


@dataclass(frozen=True)
class Options:
    mode: Mode = "two_way"
    clock_skew: timedelta = timedelta(minutes=2)
    sync_closed: bool = False  # closed projects are left alone unless a manual run asks for them
    cap: int = 5  # synced records per group for types with a cap (contacts per firm)
    match_unsynced: bool = False  # manual option: exact-name matching again for unflagged Ajera projects


def allowed(rt: RecordType, mode: Mode, direction: Direction) -> bool:
    return direction in rt.directions and (mode == "two_way" or direction == "crm_to_ajera")


def has_changed(record: Record, last_modified: datetime | None, last_hash: str | None) -> bool:
    """Changed only if both the modified date and the content moved: our own writes do not echo back."""
    if record.raw is None:
        return False  # not fetched: extract saw no change since the watermark
    if last_hash is None:
        return True
    # ">=": the content can change with the date standing still when a reference it holds gets linked
    # (a contact's firm mapped after the contact was), and that must reach the other side.
    moved = last_modified is None or (record.modified is not None and record.modified >= last_modified)
    return moved and record.content_hash != last_hash


def reconcile(
    rt: RecordType,
    ajera: Record,
    crm: Record,
    options: Options,
    *,
    ajera_changed: bool,
    crm_changed: bool,
    mapping: MappingState | None = None,
) -> tuple[dict[str, Any], dict[str, Any], list[Conflict]]:
    """Which field values go to which side of a pair; a side not fetched (unchanged) has ``raw`` None.

    With a synced history (the mapping's last-synced values of both sides) the merge is per field: a field
    that moved on one side only goes to the other; a field that moved on both sides to different values
    is a conflict, settled by ownership, then by the newer side outside the clock-skew tolerance, and a
    near-tie is left for review. Without a history (a new link, or an old mapping) every differing field
    of a changed side counts as moved. Every field settled between two moves is returned as a conflict;
    for a new link only the ones left for review are worth recording (see ``link_conflicts``).
    """
    to_crm: dict[str, Any] = {}
    to_ajera: dict[str, Any] = {}
    conflicts: list[Conflict] = []
    can_crm = allowed(rt, options.mode, "ajera_to_crm")
    can_ajera = allowed(rt, options.mode, "crm_to_ajera")
    last_a = mapping.ajera_fields if mapping else None
    last_c = mapping.crm_fields if mapping else None
    history = last_a is not None and last_c is not None
    a_known, c_known = ajera.raw is not None, crm.raw is not None
    for name in rt.synced:
        a_value, c_value = ajera.fields.get(name), crm.fields.get(name)
        a_moved = ajera_changed and a_known and (not history or a_value != last_a.get(name))  # type: ignore[union-attr]
        c_moved = crm_changed and c_known and (not history or c_value != last_c.get(name))  # type: ignore[union-attr]
        if not (a_moved or c_moved) or (a_known and c_known and a_value == c_value):
            continue
        if a_moved and c_moved:
            winner, reason = _winner(rt, name, ajera, crm, options)
            resolution = {"ajera": "ajera_wins", "crm": "crm_wins", None: "review"}[winner]
            conflicts.append(Conflict(ajera.key, crm.key, name, a_value, c_value, resolution, reason))  # type: ignore[arg-type]
        else:
            winner = "ajera" if a_moved else "crm"
        if winner == "crm" and not rt.ajera_updatable(name):
            # Ajera takes this field only at create (a project's client): Ajera's value stands and goes back.
            a_value = a_value if a_known else (last_a or {}).get(name)
            winner = "ajera" if a_value is not None else None
        if winner == "ajera" and can_crm and writable(a_value, "crm"):
            to_crm[name] = a_value
        elif winner == "crm" and can_ajera and writable(c_value, "ajera"):
            to_ajera[name] = c_value
    return to_crm, to_ajera, conflicts


def _winner(rt: RecordType, field_name: str, ajera: Record, crm: Record, options: Options) -> tuple[str | None, str]:
    """The side whose value stands when both changed a field: the owner, else the newer outside the skew."""
    owner = rt.owner(field_name)
    if owner != "shared":
        return owner, f"{'Ajera' if owner == 'ajera' else 'the CRM'} owns {field_name}"
    if ajera.modified is None or crm.modified is None:
        return None, "a modified date is missing"
    gap = ajera.modified - crm.modified
    if abs(gap) <= options.clock_skew:
        return None, f"changed on both sides within the clock-skew tolerance ({options.clock_skew})"
    return ("ajera" if gap > timedelta(0) else "crm"), "newer side wins"

def plan_record_type(
    rt: RecordType,
    mappings: Iterable[MappingState],
    ajera: dict[str, Record],
    crm: dict[str, Record],
    options: Options = Options(),
    reviewed: dict[tuple[str, str], str] | None = None,
) -> tuple[Plan, Plan]:
    """(matching plan, change plan). Deterministic for the same inputs, so the match task and the diff
    task can each compute both and store only their own part.

    ``reviewed`` holds the match suggestions already in the table, (Ajera key, CRM key) -> status
    (proposed, accepted, rejected, linked). Matching links exact names on a first sync and accepted
    suggestions on any run, and proposes new suggestions for what is still unmatched.
    """
    reviewed = reviewed or {}
    mappings = list(mappings)
    mapped_ajera = {m.ajera_key for m in mappings}
    mapped_crm = {m.crm_key for m in mappings}
    unmapped_ajera = [r for key, r in sorted(ajera.items()) if key not in mapped_ajera]
    unmapped_crm = [r for key, r in sorted(crm.items()) if key not in mapped_crm]
    ajera_by_name = _by_name(unmapped_ajera)
    crm_by_name = _by_name(unmapped_crm)
    taken_ajera: set[str] = set()
    taken_crm: set[str] = set()

    matching = Plan()
    if not mappings:
        _first_time_matching(rt, ajera_by_name, crm_by_name, options, matching, taken_ajera, taken_crm)
    elif options.match_unsynced and rt.name == "project":
        # "Map unsynced Ajera projects to existing CRM projects": the first sync's exact-name match again, for
        # Ajera projects not set to sync and not mapped (flagged ones get their own same-name check below).
        unsynced = {name: rs for name, rs in ajera_by_name.items() if not any(r.flagged for r in rs)}
        _first_time_matching(rt, unsynced, crm_by_name, options, matching, taken_ajera, taken_crm)
    for (a_key, c_key), status in sorted(reviewed.items()):
        a, c = ajera.get(a_key), crm.get(c_key)
        if status != "accepted" or a is None or c is None or a_key in mapped_ajera or c_key in mapped_crm \
                or a_key in taken_ajera or c_key in taken_crm:
            continue
        matching.actions.append(_link(rt, a, c, options, "suggestion", matching))
        taken_ajera.add(a_key)
        taken_crm.add(c_key)
    free_ajera = [r for r in unmapped_ajera if r.key not in taken_ajera]
    free_crm = [r for r in unmapped_crm if r.key not in taken_crm]
    matching.suggestions = suggest(free_ajera, free_crm, skip_pairs=set(reviewed))
    # A flagged record with a suggestion awaiting review is not created: that could make a near-duplicate.
    pending: set[str] = set()
    for (a_key, c_key), status in reviewed.items():
        if status == "proposed":
            pending.update((f"ajera:{a_key}", f"crm:{c_key}"))
    for s in matching.suggestions:
        pending.update((f"ajera:{s.ajera_key}", f"crm:{s.crm_key}"))

    changes = Plan()
    for mapping in mappings:
        _plan_mapped(rt, mapping, ajera, crm, options, changes)
    # Groups of what is already synced (a contact's firm, read from the CRM side, which the sweep has).
    mapped_groups = [crm[m.crm_key].group if m.crm_key in crm else None for m in mappings]
    mapped_groups += [crm[a.crm_key].group for a in matching.actions if a.crm_key in crm]
    _plan_flagged(rt, options, changes, unmapped_ajera, unmapped_crm, ajera_by_name, crm_by_name,
                  taken_ajera, taken_crm, mapped_groups, pending)
    return matching, changes


def _plan_flagged(
    rt: RecordType,
    options: Options,
    plan: Plan,
    unmapped_ajera: list[Record],
    unmapped_crm: list[Record],
    ajera_by_name: dict[str, list[Record]],
    crm_by_name: dict[str, list[Record]],
    taken_ajera: set[str],
    taken_crm: set[str],
    mapped_groups: list[str | None],
    pending: set[str],
) -> None:
    """Flagged unmapped records: a same-named unmapped partner is linked, else the partner is created."""
    caps = _Caps(rt, options.cap, mapped_groups)
    for source, direction in ((unmapped_ajera, "ajera_to_crm"), (unmapped_crm, "crm_to_ajera")):
        for record in source:
            from_ajera = record.system == "ajera"
            taken_self, taken_other = (taken_ajera, taken_crm) if from_ajera else (taken_crm, taken_ajera)
            if not record.flagged or record.key in taken_self:
                continue
            if not allowed(rt, options.mode, direction):  # type: ignore[arg-type]
                continue
            name_key = exact_key(record.name)
            candidates = [r for r in (crm_by_name if from_ajera else ajera_by_name).get(name_key, [])
                          if r.key not in taken_other]
            same_side = [r for r in (ajera_by_name if from_ajera else crm_by_name).get(name_key, [])
                         if r.key not in taken_self]
            if len(candidates) > 1 or (candidates and len(same_side) > 1):
                plan.notes.append(_ambiguous(rt, record, candidates, same_side))
                taken_self.update(r.key for r in same_side)
                taken_other.update(r.key for r in candidates)
                continue
            if candidates and not caps.take(record):
                plan.notes.append(Note("skipped", direction, caps.message(record), record.name, *_keys(record)))
                continue
            if candidates:
                partner = candidates[0]
                a, c = (record, partner) if from_ajera else (partner, record)
                plan.actions.append(_link(rt, a, c, options, "name_recheck", plan))
                taken_ajera.add(a.key)
                taken_crm.add(c.key)
                continue
            if record.raw is None:
                plan.notes.append(Note("error", direction, "flagged record was not fetched; retried next run",
                                       record.name, *_keys(record)))
                continue
            if f"{record.system}:{record.key}" in pending:
                plan.notes.append(Note("skipped", direction, "not created: a similar record on the other side is "
                                       "proposed as a match; accept or reject the match suggestion first",
                                       record.name, *_keys(record)))
                continue
            if not options.sync_closed and _closed(rt, record):
                plan.notes.append(Note("skipped", direction, f"closed {rt.name}: not created on the other side "
                                       "(sync closed projects is off)", record.name, *_keys(record)))
                continue
            problem = rt.create_problem(record)
            if problem:
                plan.notes.append(Note("error", direction, problem, record.name, *_keys(record)))
                continue
            if not caps.take(record):
                plan.notes.append(Note("skipped", direction, caps.message(record), record.name, *_keys(record)))
                continue
            kind: ActionKind = "create_in_crm" if from_ajera else "create_in_ajera"
            plan.actions.append(Action(kind, record.name, *_keys(record), detail={"fields": record.fields}))
            taken_self.add(record.key)


def _plan_mapped(
    rt: RecordType,
    mapping: MappingState,
    ajera: dict[str, Record],
    crm: dict[str, Record],
    options: Options,
    plan: Plan,
) -> None:
    a, c = ajera.get(mapping.ajera_key), crm.get(mapping.crm_key)
    if a is None or c is None:
        plan.unlinks.append(mapping)
        gone = "Ajera" if a is None else "CRM"
        name = (a or c).name if (a or c) else None
        plan.notes.append(Note("unlinked", "none", f"the {gone} record no longer exists; mapping removed",
                               name, mapping.ajera_key, mapping.crm_key))
        return
    a_changed = has_changed(a, mapping.ajera_modified, mapping.ajera_hash)
    c_changed = has_changed(c, mapping.crm_modified, mapping.crm_hash)
    if not (a_changed or c_changed):
        return
    if not options.sync_closed and _closed(rt, a) and _closed(rt, c):
        # Closed on both sides: left alone. (The change that closes a project is still carried across.)
        plan.notes.append(Note("skipped", "none", f"closed {rt.name}: left alone (sync closed projects is off)",
                               a.name, a.key, c.key))
        return
    to_crm, to_ajera, conflicts = reconcile(rt, a, c, options, ajera_changed=a_changed, crm_changed=c_changed,
                                            mapping=mapping)
    plan.conflicts.extend(conflicts)
    plan.actions.append(Action("update", a.name, a.key, c.key, detail={
        "to_crm": to_crm, "to_ajera": to_ajera, "ajera_changed": a_changed, "crm_changed": c_changed}))


def _first_time_matching(
    rt: RecordType,
    ajera_by_name: dict[str, list[Record]],
    crm_by_name: dict[str, list[Record]],
    options: Options,
    plan: Plan,
    taken_ajera: set[str],
    taken_crm: set[str],
) -> None:
    for name_key, a_list in ajera_by_name.items():
        c_list = crm_by_name.get(name_key)
        if not c_list:
            continue
        if len(a_list) > 1 or len(c_list) > 1:
            plan.notes.append(_ambiguous(rt, a_list[0], c_list, a_list))
            taken_ajera.update(r.key for r in a_list)
            taken_crm.update(r.key for r in c_list)
            continue
        plan.actions.append(_link(rt, a_list[0], c_list[0], options, "name_exact", plan))
        taken_ajera.add(a_list[0].key)
        taken_crm.add(c_list[0].key)


def link_conflicts(conflicts: list[Conflict]) -> list[Conflict]:
    """Of the fields two newly linked records disagree on, the near-ties are left as they are: record them
    for review, or the pair would stay different with nobody told. (The rest are settled, not conflicts.)"""
    return [c for c in conflicts if c.resolution == "review"]


def _link(rt: RecordType, a: Record, c: Record, options: Options, method: str, plan: Plan) -> Action:
    detail: dict[str, Any] = {"method": method}
    if a.raw is not None and c.raw is not None:
        to_crm, to_ajera, conflicts = reconcile(rt, a, c, options, ajera_changed=True, crm_changed=True)
        plan.conflicts.extend(link_conflicts(conflicts))
        detail.update(to_crm=to_crm, to_ajera=to_ajera, reconciled=True)
    return Action("link", a.name, a.key, c.key, detail=detail)


class _Caps:
    """At most ``limit`` synced records per group (Deltek: five synced contacts per firm)."""

    def __init__(self, rt: RecordType, limit: int, synced_groups: Iterable[str | None]) -> None:
        self.rt = rt
        self.limit = limit
        self.counts: dict[str, int] = defaultdict(int)
        for group in synced_groups:
            if group:
                self.counts[group] += 1

    def take(self, record: Record) -> bool:
        if self.rt.cap_field is None or not record.group:
            return True
        if self.counts[record.group] >= self.limit:
            return False
        self.counts[record.group] += 1
        return True

    def message(self, record: Record) -> str:
        return (f"not synced: its {self.rt.cap_field} already has {self.limit} synced {self.rt.name}s "
                f"(the limit; raise contact_cap to sync more)")


def _closed(rt: RecordType, record: Record) -> bool:
    return record.raw is not None and rt.closed(record.fields)


def _ambiguous(rt: RecordType, record: Record, candidates: list[Record], same_side: list[Record]) -> Note:
    ajera_side = same_side if record.system == "ajera" else candidates
    crm_side = candidates if record.system == "ajera" else same_side
    return Note(
        "ambiguous", "none",
        f"{rt.name} name {record.name!r} matches {len(ajera_side)} Ajera and {len(crm_side)} CRM records "
        f"(Ajera keys {', '.join(sorted(r.key for r in ajera_side))}; CRM keys "
        f"{', '.join(sorted(r.key for r in crm_side))}); not linked, review by hand",
        record.name,
        ",".join(sorted(r.key for r in ajera_side)) or None,
        ",".join(sorted(r.key for r in crm_side)) or None,
    )


def _by_name(records: Iterable[Record]) -> dict[str, list[Record]]:
    index: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        index[exact_key(record.name)].append(record)
    return index


def _keys(record: Record) -> tuple[str | None, str | None]:
    return (record.key, None) if record.system == "ajera" else (None, record.key)


def has_changed_columns(fetched: Any, modified: Any, hashes: Any, last_modified: Any, last_hash: Any) -> Any:
    """``has_changed`` over whole columns (numpy arrays). Dates are the sync tables' ``format_ts`` text,
    whose text order is time order, so no column of datetimes is ever built."""
    import numpy as np
    import pandas as pd

    fetched = np.asarray(fetched, dtype=bool)
    modified, hashes = np.asarray(modified, dtype=object), np.asarray(hashes, dtype=object)
    last_modified, last_hash = np.asarray(last_modified, dtype=object), np.asarray(last_hash, dtype=object)
    no_hash = pd.isna(last_hash)
    no_last = pd.isna(last_modified)
    both = ~pd.isna(modified) & ~no_last
    later = np.zeros(len(fetched), dtype=bool)
    later[both] = np.asarray(modified[both] >= last_modified[both], dtype=bool)
    differs = np.asarray(hashes != last_hash, dtype=bool)
    return fetched & (no_hash | ((no_last | later) & differs))
