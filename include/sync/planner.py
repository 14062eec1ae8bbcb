"""Diff against the mapping table and first-time name matching: a pure function from state to a plan.

Nothing here does I/O. ``plan_record_type`` gets every swept record of both systems (with full fields
for the ones extract fetched) and the current mappings, and returns what to link, create, update and
unlink, plus the log notes (ambiguous names, skipped records) and the conflicts it resolved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from include.sync.model import Record, System
from include.sync.names import exact_key
from include.sync.record_types import Direction, RecordType
from include.sync.refs import linked, writable
from include.sync.suggestions import Suggestion, suggest

Mode = Literal["two_way", "one_way"]
Resolution = Literal["ajera_wins", "crm_wins", "review"]
# The side whose value stands on a field both changed (None: neither, a person decides) -> the conflict's resolution.
RESOLUTION: dict[System | None, Resolution] = {"ajera": "ajera_wins", "crm": "crm_wins", None: "review"}
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
    resolution: Resolution
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
    """What the planner needs of a run's options (``RunOptions.planner_options``, where the defaults are)."""

    mode: Mode
    clock_skew: timedelta
    sync_closed: bool  # closed projects are left alone unless a manual run asks for them
    cap: int  # synced records per group for types with a cap (contacts per firm)
    match_unsynced: bool  # manual option: exact-name matching again for unflagged Ajera projects


def default_options(**changes: Any) -> Options:
    """The planner's part of a run with the declared default options, with ``changes``."""
    from include.sync.runs import RunOptions  # that module builds on this one

    return replace(RunOptions().planner_options, **changes)


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
    history = (last_a, last_c) if last_a is not None and last_c is not None else None
    a_known, c_known = ajera.raw is not None, crm.raw is not None
    for name in rt.synced:
        a_value, c_value = ajera.fields.get(name), crm.fields.get(name)
        a_moved = ajera_changed and a_known and (history is None or a_value != history[0].get(name))
        c_moved = crm_changed and c_known and (history is None or c_value != history[1].get(name))
        if not (a_moved or c_moved) or (a_known and c_known and a_value == c_value):
            continue
        if a_moved and c_moved:
            winner, reason = _winner(rt, name, ajera, crm, options)
            conflicts.append(Conflict(ajera.key, crm.key, name, a_value, c_value, RESOLUTION[winner], reason))
        else:
            winner = "ajera" if a_moved else "crm"
        if winner == "crm" and not rt.ajera_updatable(name):
            # Ajera takes this field only at create (a project's client): Ajera's value stands and goes back.
            a_value = a_value if a_known else (last_a or {}).get(name)
            winner = "ajera" if a_value is not None else None
        # What the target holds now: read this run, else as last synced.
        c_now = c_value if c_known else (last_c or {}).get(name)
        a_now = a_value if a_known else (last_a or {}).get(name)
        if winner == "ajera" and can_crm:
            value = _carried(a_value, c_now, "crm")
            if value is not None:
                to_crm[name] = value
        elif winner == "crm" and can_ajera:
            value = _carried(c_value, a_now, "ajera")
            if value is not None:
                to_ajera[name] = value
    return to_crm, to_ajera, conflicts


def _carried(value: Any, current: Any, target: str) -> Any:
    """What the target side gets for a field that moved to ``value``; None: nothing.

    A reference to a record the target does not have cannot be written. If the target still points at a
    synced record (the contact's old firm), it is cleared rather than left pointing there; a reference the
    target holds to a record of its own (not synced either) is left alone."""
    if writable(value, target):
        return value
    return "" if linked(current) else None


def cleared_references(rt: RecordType, source: Record, written: dict[str, Any]) -> list[str]:
    """Fields cleared on the other side because the source now refers to a record not synced there."""
    return [name for name, value in written.items()
            if value == "" and isinstance(source.fields.get(name), str) and source.fields[name] != ""
            and not writable(source.fields[name], "crm" if source.system == "ajera" else "ajera")]


def _winner(rt: RecordType, field_name: str, ajera: Record, crm: Record, options: Options) -> tuple[System | None, str]:
    return settle(rt, field_name, ajera.modified, crm.modified, options)


def settle(rt: RecordType, field_name: str, ajera_modified: datetime | None, crm_modified: datetime | None,
           options: Options) -> tuple[System | None, str]:
    """The side whose value stands when both changed a field: the owner, else the newer outside the skew."""
    owner = rt.owner(field_name)
    if owner != "shared":
        return owner, f"{'Ajera' if owner == 'ajera' else 'the CRM'} owns {field_name}"
    if ajera_modified is None or crm_modified is None:
        return None, "a modified date is missing"
    gap = ajera_modified - crm_modified
    if abs(gap) <= options.clock_skew:
        return None, f"changed on both sides within the clock-skew tolerance ({options.clock_skew})"
    return ("ajera" if gap > timedelta(0) else "crm"), "newer side wins"

def plan_record_type(
    rt: RecordType,
    mappings: Iterable[MappingState],
    ajera: dict[str, Record],
    crm: dict[str, Record],
    options: Options | None = None,
    reviewed: dict[tuple[str, str], str] | None = None,
    decisions: dict[tuple[str, str], dict[str, System]] | None = None,
    first_sync: bool | None = None,
) -> tuple[Plan, Plan]:
    """(matching plan, change plan). Deterministic for the same inputs, so the match task and the diff
    task can each compute both and store only their own part.

    ``reviewed`` holds the match suggestions already in the table, (Ajera key, CRM key) -> status
    (proposed, accepted, rejected, linked). Matching links exact names on a first sync and accepted
    suggestions on any run, and proposes new suggestions for what is still unmatched. ``decisions`` holds the
    conflicts a person decided and no run has applied yet, (Ajera key, CRM key) -> field -> winning side.
    """
    options = options or default_options()
    reviewed = reviewed or {}
    mappings = list(mappings)
    mapped_ajera = {m.ajera_key for m in mappings}
    mapped_crm = {m.crm_key for m in mappings}
    # A record with a problem (quarantined) is never matched or created: only its mapping is kept.
    unmapped_ajera = [r for key, r in sorted(ajera.items()) if key not in mapped_ajera and not r.problem]
    unmapped_crm = [r for key, r in sorted(crm.items()) if key not in mapped_crm and not r.problem]
    ajera_by_name = _by_name(unmapped_ajera)
    crm_by_name = _by_name(unmapped_crm)
    taken_ajera: set[str] = set()
    taken_crm: set[str] = set()

    matching = Plan()
    # First-time matching until the type's first sync was applied in full (by default: while it has no
    # mappings); a first sync that crashed part-way has some mappings and is still a first sync.
    if first_sync if first_sync is not None else not mappings:
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
    decisions = decisions or {}
    mapped_groups, held = _group_moves(rt, mappings, ajera, crm, options)
    for mapping in mappings:
        if mapping.ajera_key in held:
            a = ajera[mapping.ajera_key]
            changes.notes.append(Note("skipped", "none", _cap_message(rt, options.cap, held[mapping.ajera_key]),
                                      a.name, mapping.ajera_key, mapping.crm_key))
            continue
        try:
            _plan_mapped(rt, mapping, ajera, crm, options, changes,
                         decisions.get((mapping.ajera_key, mapping.crm_key)))
        except Exception as exc:  # one pair's surprise is that pair's error row; the others are planned
            record = ajera.get(mapping.ajera_key) or crm.get(mapping.crm_key)
            changes.notes.append(Note("error", "none", f"could not be planned ({type(exc).__name__}: {exc})",
                                      record.name if record else None, mapping.ajera_key, mapping.crm_key))
    mapped_groups += [crm[a.crm_key].group for a in matching.actions if a.crm_key in crm]
    _plan_flagged(rt, options, changes, unmapped_ajera, unmapped_crm, ajera_by_name, crm_by_name,
                  taken_ajera, taken_crm, mapped_groups, pending)
    return matching, changes


def _group_moves(rt: RecordType, mappings: list[MappingState], ajera: dict[str, Record], crm: dict[str, Record],
                 options: Options) -> tuple[list[str | None], dict[str, str]]:
    """The group of every synced record (a contact's firm) once this run's moves are made, and the moves
    held back (Ajera key -> the group it wanted): a record moved, on either side, into a group that already
    has ``cap`` synced records stays where it was. Moves take free places in key order."""
    if rt.cap_field is None:
        return [], {}
    field_name = rt.cap_field
    staying: list[str | None] = []
    moves: list[tuple[str, str, str | None]] = []  # (Ajera key, wanted group, group it leaves)
    for m in mappings:
        a, c = ajera.get(m.ajera_key), crm.get(m.crm_key)
        if a is None or c is None:
            continue
        before = (m.crm_fields or m.ajera_fields or {}).get(field_name) or c.group
        wanted = None
        for record, last in ((a, m.ajera_fields), (c, m.crm_fields)):
            value = record.fields.get(field_name)
            if record.raw is not None and last is not None and value != last.get(field_name) and linked(value):
                wanted = value
        if wanted is None or wanted == before:
            staying.append(c.group)
        else:
            moves.append((m.ajera_key, wanted, before))
    counts: dict[str, int] = defaultdict(int)
    for group in staying:
        if group:
            counts[group] += 1
    held: dict[str, str] = {}
    for key, wanted, before in sorted(moves, key=lambda move: _key_order(move[0])):
        if counts[wanted] >= options.cap:
            held[key] = wanted
            wanted = before
        if wanted:
            counts[wanted] += 1
    groups: list[str | None] = [g for g, n in counts.items() for _ in range(n)]
    return groups, held


def _key_order(key: str) -> tuple[int, str]:
    return (0, f"{int(key):020d}") if key.lstrip("-").isdigit() else (1, key)


def _cap_message(rt: RecordType, limit: int, group: str) -> str:
    return (f"held back: moved to a {rt.cap_field} (Ajera key {group[2:]}) that already has {limit} synced "
            f"{rt.name}s (the limit; unflag one there or raise contact_cap); it syncs again once there is room")


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
    sides: tuple[tuple[list[Record], Direction], ...] = (
        (unmapped_ajera, "ajera_to_crm"), (unmapped_crm, "crm_to_ajera"))
    for source, direction in sides:
        for record in source:
            from_ajera = record.system == "ajera"
            taken_self, taken_other = (taken_ajera, taken_crm) if from_ajera else (taken_crm, taken_ajera)
            if not record.flagged or record.key in taken_self:
                continue
            if not allowed(rt, options.mode, direction):
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
            waiting = _waiting_for_parent(rt, record)
            if waiting:
                plan.notes.append(Note("skipped", direction, waiting, record.name, *_keys(record)))
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
    decided: dict[str, System] | None = None,
) -> None:
    a, c = ajera.get(mapping.ajera_key), crm.get(mapping.crm_key)
    if a is None or c is None:
        plan.unlinks.append(mapping)
        gone = "Ajera" if a is None else "CRM"
        left = a or c
        name = left.name if left else None
        plan.notes.append(Note("unlinked", "none", f"the {gone} record no longer exists; mapping removed",
                               name, mapping.ajera_key, mapping.crm_key))
        return
    for record in (a, c):
        notice = rt.notice(record) if record.raw is not None else None
        if notice:
            plan.notes.append(Note("skipped", "none", notice, record.name, mapping.ajera_key, mapping.crm_key))
    a_changed = has_changed(a, mapping.ajera_modified, mapping.ajera_hash)
    c_changed = has_changed(c, mapping.crm_modified, mapping.crm_hash)
    if decided and (a.raw is None or c.raw is None):
        decided = None  # not read in full this run (set aside as poison): the decision waits
    if not (a_changed or c_changed or decided):
        return
    if not decided and _flags_on_both_sides(rt) and not a.flagged and not c.flagged:
        # Deltek: once records are mapped, only those marked Sync to CRM / Sync to Ajera are considered.
        plan.notes.append(Note("skipped", "none", f"not synced: this {rt.name} is marked to sync on neither "
                               "side (Ajera Sync to CRM and CRM Sync to Ajera are both off); its change stays "
                               "where it was made", a.name, a.key, c.key))
        return
    if not decided and not options.sync_closed and _closed(rt, a) and _closed(rt, c):
        # Closed on both sides: left alone. (The change that closes a project is still carried across.)
        plan.notes.append(Note("skipped", "none", f"closed {rt.name}: left alone (sync closed projects is off)",
                               a.name, a.key, c.key))
        return
    to_crm, to_ajera, conflicts = reconcile(rt, a, c, options, ajera_changed=a_changed, crm_changed=c_changed,
                                            mapping=mapping)
    detail: dict[str, Any] = {"ajera_changed": a_changed, "crm_changed": c_changed}
    if decided:
        conflicts = [x for x in conflicts if x.field_name not in decided]
        detail["decisions"] = _apply_decisions(rt, a, c, options, decided, to_crm, to_ajera, plan)
    plan.conflicts.extend(conflicts)
    for source, written, there in ((a, to_crm, "the CRM"), (c, to_ajera, "Ajera")):
        for name in cleared_references(rt, source, written):
            here = "Ajera" if source.system == "ajera" else "the CRM"
            plan.notes.append(Note(
                "skipped", "ajera_to_crm" if source.system == "ajera" else "crm_to_ajera",
                f"its {name} in {here} is now a record that is not synced to {there} ({source.fields[name][2:]}); "
                f"cleared in {there} rather than left pointing at the old one, until that {name} syncs",
                a.name, a.key, c.key))
    plan.actions.append(Action("update", a.name, a.key, c.key, detail={"to_crm": to_crm, "to_ajera": to_ajera,
                                                                       **detail}))


def _apply_decisions(rt: RecordType, a: Record, c: Record, options: Options, decided: dict[str, System],
                     to_crm: dict[str, Any], to_ajera: dict[str, Any], plan: Plan) -> dict[str, str]:
    """A person's "take Ajera's" / "take the CRM's": the winner's current value goes across, whatever the
    run would have done with the field. Returns the decisions this run carries out."""
    done: dict[str, str] = {}
    for name, winner in sorted(decided.items()):
        to_crm.pop(name, None)
        to_ajera.pop(name, None)
        value, other_value = (a.fields.get(name), c.fields.get(name)) if winner == "ajera" else \
            (c.fields.get(name), a.fields.get(name))
        target = "crm" if winner == "ajera" else "ajera"
        direction: Direction = "ajera_to_crm" if winner == "ajera" else "crm_to_ajera"
        if value != other_value:
            if not allowed(rt, options.mode, direction) or not writable(value, target):
                plan.notes.append(Note("error", direction, f"cannot take {'Ajera' if winner == 'ajera' else 'the CRM'}"
                                       f"'s {name} as decided: {rt.name}s do not sync {direction} in {options.mode} "
                                       "mode, or the value cannot be written; the decision waits",
                                       a.name, a.key, c.key))
                continue
            (to_crm if target == "crm" else to_ajera)[name] = value
        done[name] = winner
    return done


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


def _flags_on_both_sides(rt: RecordType) -> bool:
    """Whether both systems carry a sync flag for this type (the two-way types): one-way types have a fixed
    rule instead (every Ajera employee, every consultant vendor)."""
    return len(rt.directions) == 2


def _waiting_for_parent(rt: RecordType, record: Record) -> str | None:
    """A CRM record is not created in Ajera before its parent is there (a contact before its firm, a project
    before its client): Ajera keeps contacts and projects under a client. A reference field named after the
    type it refers to is the parent (``firm``); others (a project's manager) are optional. The CRM holds
    records without a firm, so an Ajera record goes across without it and gets it once the firm syncs."""
    if record.system != "crm":
        return None
    for name in rt.references:
        value = record.fields.get(name)
        if isinstance(value, str) and value and not writable(value, "ajera"):
            # Whether that firm exists at all is told by the reference_dropped row logged beside this one.
            return (f"waiting for its {name}: that {name} (CRM key {value[2:]}) has no Ajera partner yet; this "
                    f"{rt.name} is created in Ajera once it has one (a CRM {name} goes to Ajera when flagged Sync "
                    f"to Ajera)")
    return None


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
