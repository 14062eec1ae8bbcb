"""The diff of mapped pairs: unlink a pair that lost a side, update a pair that changed, carry out a person's
conflict decisions, and hold back a move into a group that is full (a contact moved to a firm with five).

Both planners call these per pair; they differ only in which pairs they hand over (the column planner only
the pairs that lost a side or were read in full: nothing else can need anything).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from include.sync.actions import Update
from include.sync.enums import Direction, LogAction
from include.sync.model import Record, System
from include.sync.plan_model import MappingState, Note, Options, Plan, allowed, closed
from include.sync.reconcile import cleared_references, has_changed, reconcile
from include.sync.record_types import RecordType
from include.sync.refs import linked, writable


def plan_pair(rt: RecordType, mapping: MappingState, a: Record | None, c: Record | None, options: Options, plan: Plan,
              decided: dict[str, System] | None, held: dict[str, str]) -> None:
    """One mapped pair's part of the change plan; ``held``: the group moves held back (see ``group_moves``)."""
    if a is not None and mapping.ajera_key in held:
        plan.notes.append(Note(LogAction.SKIPPED, Direction.NONE,
                               _cap_message(rt, options.cap, held[mapping.ajera_key]), a.name,
                               mapping.ajera_key, mapping.crm_key))
        return
    try:
        _plan_mapped(rt, mapping, a, c, options, plan, decided)
    except Exception as exc:  # one pair's surprise is that pair's error row; the others are planned
        record = a or c
        plan.notes.append(Note(LogAction.ERROR, Direction.NONE, f"could not be planned ({type(exc).__name__}: {exc})",
                               record.name if record else None, mapping.ajera_key, mapping.crm_key))


def _plan_mapped(rt: RecordType, mapping: MappingState, a: Record | None, c: Record | None, options: Options,
                 plan: Plan, decided: dict[str, System] | None) -> None:
    if a is None or c is None:
        plan.unlinks.append(mapping)
        gone = "Ajera" if a is None else "CRM"
        left = a or c
        plan.notes.append(Note(LogAction.UNLINKED, Direction.NONE,
                               f"the {gone} record no longer exists; mapping removed", left.name if left else None,
                               mapping.ajera_key, mapping.crm_key))
        return
    for record in (a, c):
        notice = rt.notice(record) if record.raw is not None else None
        if notice:
            plan.notes.append(Note(LogAction.SKIPPED, Direction.NONE, notice, record.name, mapping.ajera_key,
                                   mapping.crm_key))
    a_changed = has_changed(a, mapping.ajera_modified, mapping.ajera_hash)
    c_changed = has_changed(c, mapping.crm_modified, mapping.crm_hash)
    if decided and (a.raw is None or c.raw is None):
        decided = None  # not read in full this run (set aside as poison): the decision waits
    if not (a_changed or c_changed or decided):
        return
    left_alone = None if decided else _left_alone(rt, mapping, a, c, options)
    if left_alone:
        plan.notes.append(Note(LogAction.SKIPPED, Direction.NONE, left_alone, a.name, a.key, c.key))
        return
    to_crm, to_ajera, conflicts = reconcile(rt, a, c, options, ajera_changed=a_changed, crm_changed=c_changed,
                                            mapping=mapping)
    decisions = None
    if decided:
        conflicts = [x for x in conflicts if x.field_name not in decided]
        decisions = _apply_decisions(rt, a, c, options, decided, to_crm, to_ajera, plan)
    plan.conflicts.extend(conflicts)
    for source, written, there in ((a, to_crm, "the CRM"), (c, to_ajera, "Ajera")):
        for name in cleared_references(rt, source, written):
            here = "Ajera" if source.system == "ajera" else "the CRM"
            plan.notes.append(Note(
                LogAction.SKIPPED, Direction.AJERA_TO_CRM if source.system == "ajera" else Direction.CRM_TO_AJERA,
                f"its {name} in {here} is now a record that is not synced to {there} ({source.fields[name][2:]}); "
                f"cleared in {there} rather than left pointing at the old one, until that {name} syncs",
                a.name, a.key, c.key))
    plan.actions.append(Update(a.name, a.key, c.key, to_crm, to_ajera, a_changed, c_changed, decisions))


def _left_alone(rt: RecordType, mapping: MappingState, a: Record, c: Record, options: Options) -> str | None:
    """Why a changed pair is not synced (no decision of a person's on it), else None."""
    if _flags_on_both_sides(rt) and not a.flagged and not c.flagged:
        # Deltek: once records are mapped, only those marked Sync to CRM / Sync to Ajera are considered.
        return (f"not synced: this {rt.name} is marked to sync on neither side (Ajera Sync to CRM and CRM Sync "
                "to Ajera are both off); its change stays where it was made")
    if not options.sync_closed and closed(rt, a, mapping.ajera_fields) and closed(rt, c, mapping.crm_fields):
        # Closed on both sides: left alone. (The change that closes a project is still carried across.)
        return f"closed {rt.name}: left alone (sync closed projects is off)"
    return None


def _apply_decisions(rt: RecordType, a: Record, c: Record, options: Options, decided: dict[str, System],
                     to_crm: dict[str, Any], to_ajera: dict[str, Any], plan: Plan) -> dict[str, System]:
    """A person's "take Ajera's" / "take the CRM's": the winner's current value goes across, whatever the
    run would have done with the field. Returns the decisions this run carries out."""
    done: dict[str, System] = {}
    for name, winner in sorted(decided.items()):
        to_crm.pop(name, None)
        to_ajera.pop(name, None)
        value, other_value = (a.fields.get(name), c.fields.get(name)) if winner == "ajera" else \
            (c.fields.get(name), a.fields.get(name))
        target = "crm" if winner == "ajera" else "ajera"
        direction = Direction.AJERA_TO_CRM if winner == "ajera" else Direction.CRM_TO_AJERA
        if value != other_value:
            if not allowed(rt, options.mode, direction) or not writable(value, target):
                side = "Ajera" if winner == "ajera" else "the CRM"
                plan.notes.append(Note(LogAction.ERROR, direction,
                                       f"cannot take {side}'s {name} as decided: {rt.name}s do not sync {direction} "
                                       f"in {options.mode} mode, or the value cannot be written; the decision waits",
                                       a.name, a.key, c.key))
                continue
            (to_crm if target == "crm" else to_ajera)[name] = value
        done[name] = winner
    return done


def group_moves(rt: RecordType, pairs: Iterable[tuple[MappingState, Record, Record]], options: Options,
                counts: dict[str, int]) -> dict[str, str]:
    """The moves held back (Ajera key -> the group it wanted): a record moved, on either side, into a group
    that already has ``cap`` synced records stays where it was. Moves take free places in key order.

    ``pairs``: the mapped pairs with both sides present that may have moved (a pair read in full on neither
    side has not: it stays in its CRM group). ``counts``: synced records per group of the pairs that stayed
    (not in ``pairs``); on return, of every pair once this run's moves are made."""
    if rt.cap_field is None:
        return {}
    field_name = rt.cap_field
    moves: list[tuple[str, str, str | None]] = []  # (Ajera key, wanted group, group it leaves)
    for m, a, c in pairs:
        before = (m.crm_fields or m.ajera_fields or {}).get(field_name) or c.group
        wanted = None
        for record, last in ((a, m.ajera_fields), (c, m.crm_fields)):
            value = record.fields.get(field_name)
            if record.raw is not None and last is not None and value != last.get(field_name) and linked(value):
                wanted = value
        if wanted is None or wanted == before:
            if c.group:
                counts[c.group] = counts.get(c.group, 0) + 1
        else:
            moves.append((m.ajera_key, wanted, before))
    held: dict[str, str] = {}
    for key, wanted, before in sorted(moves, key=lambda move: _key_order(move[0])):
        if counts.get(wanted, 0) >= options.cap:
            held[key] = wanted
            wanted = before
        if wanted:
            counts[wanted] = counts.get(wanted, 0) + 1
    return held


def _key_order(key: str) -> tuple[int, str]:
    return (0, f"{int(key):020d}") if key.lstrip("-").isdigit() else (1, key)


def _cap_message(rt: RecordType, limit: int, group: str) -> str:
    return (f"held back: moved to a {rt.cap_field} (Ajera key {group[2:]}) that already has {limit} synced "
            f"{rt.name}s (the limit; unflag one there or raise contact_cap); it syncs again once there is room")


def _flags_on_both_sides(rt: RecordType) -> bool:
    """Whether both systems carry a sync flag for this type (the two-way types): one-way types have a fixed
    rule instead (every Ajera employee, every consultant vendor)."""
    return len(rt.directions) == 2
