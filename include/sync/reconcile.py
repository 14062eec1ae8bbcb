"""The rules for one pair of records: whether a side changed, which field values go where, who wins a conflict.

Pure functions over ``Record`` and ``MappingState``; both planners call them for every pair they plan.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from include.sync.actions import Link
from include.sync.enums import Direction, LinkMethod
from include.sync.model import Record, System
from include.sync.plan_model import RESOLUTION, Conflict, MappingState, Options, Plan, allowed
from include.sync.record_types import RecordType
from include.sync.refs import linked, writable


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
    can_crm = allowed(rt, options.mode, Direction.AJERA_TO_CRM)
    can_ajera = allowed(rt, options.mode, Direction.CRM_TO_AJERA)
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


def link_conflicts(conflicts: list[Conflict]) -> list[Conflict]:
    """Of the fields two newly linked records disagree on, the near-ties are left as they are: record them
    for review, or the pair would stay different with nobody told. (The rest are settled, not conflicts.)"""
    return [c for c in conflicts if c.resolution == "review"]


def link(rt: RecordType, a: Record, c: Record, options: Options, method: LinkMethod, plan: Plan) -> Link:
    if a.raw is None or c.raw is None:
        return swept_link(a.name, a.key, c.key, method)
    to_crm, to_ajera, conflicts = reconcile(rt, a, c, options, ajera_changed=True, crm_changed=True)
    plan.conflicts.extend(link_conflicts(conflicts))
    return Link(a.name, a.key, c.key, method, reconciled=True, to_crm=to_crm, to_ajera=to_ajera)


def swept_link(name: str, ajera_key: str, crm_key: str, method: LinkMethod) -> Link:
    """The link of two records not both read in full this run: their fields are not reconciled."""
    return Link(name, ajera_key, crm_key, method)
