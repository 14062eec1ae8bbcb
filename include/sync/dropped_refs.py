"""Say why a reference is left out of a write, instead of dropping it without a word.

A reference to a record that has no partner on the other side (a contact's firm that does not exist or
is not linked yet, a project's unknown client or manager, a client that is a vendor-only firm) cannot be
written there, so the write leaves it out (see ``include.sync.refs``). Each such field gets a log row
naming the record, the field and why, from the run's picture of the referenced types.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from include.sync import record_types
from include.sync.actions import Action, CreateInAjera, CreateInCrm
from include.sync.db import SyncDatabase
from include.sync.enums import Direction, LogAction, Mode
from include.sync.model import Record, System
from include.sync.planner import Note, allowed
from include.sync.record_types import RecordType
from include.sync.refs import UNMAPPED_AJERA, UNMAPPED_CRM

_SYSTEM_NAME = {"ajera": "Ajera", "crm": "CRM"}


class Known:
    """What this run's picture holds of the keys the planned records refer to with no partner (``wanted``, per
    system): looked up per referenced type in one query per slice of keys, not the picture loaded whole."""

    def __init__(self, db: SyncDatabase, run_id: str, wanted: dict[str, set[str]]) -> None:
        self.db, self.run_id, self.wanted = db, run_id, wanted
        self._extracted: dict[tuple[str, str], bool] = {}
        self._states: dict[tuple[str, str], dict[str, bool]] = {}

    def extracted(self, system: str, record_type: str) -> bool:
        """Whether the run read the type from the system (else its picture says nothing for this run)."""
        scope = (system, record_type)
        if scope not in self._extracted:
            self._extracted[scope] = self.db.scalar("extracted_in_run", {
                "run_id": self.run_id, "system": system, "record_type": record_type}) is not None
        return self._extracted[scope]

    def quarantined(self, system: str, record_type: str, key: str) -> bool | None:
        """None: not in the run's picture; else whether it is quarantined."""
        scope = (system, record_type)
        if scope not in self._states:
            self._states[scope] = {}
            if self.extracted(system, record_type):
                self._states[scope].update(
                    (row.record_key, bool(row.quarantined)) for row in self.db.rows_by_keys("select_staged_by_keys", {
                        "run_id": self.run_id, "system": system, "record_type": record_type},
                        self.wanted.get(system, set()) | {key}))
        return self._states[scope].get(key)


def referenced_keys(records: Iterable[Record]) -> dict[str, set[str]]:
    """Per system, the keys ``records`` refer to that have no partner on the other side (what ``Known`` is asked)."""
    out: dict[str, set[str]] = {"ajera": set(), "crm": set()}
    for record in records:
        prefix = _unmapped_prefix(record.system)
        out[record.system].update(value[len(prefix):] for value in record.fields.values()
                                  if isinstance(value, str) and value.startswith(prefix))
    return out


def _unmapped_prefix(system: str) -> str:
    return UNMAPPED_AJERA if system == "ajera" else UNMAPPED_CRM


def related_types(rt: RecordType) -> list[str]:
    """The referenced types, and the types stored alongside them (a vendor is a CRM firm too)."""
    referenced = [record_types.get(t) for t in rt.references]
    hubs = {r.crm_hub for r in referenced} | {r.ajera_entity for r in referenced}
    return list(dict.fromkeys([*rt.references, rt.name, *(t.name for t in record_types.RECORD_TYPES.values()
                                                             if t.crm_hub in hubs or t.ajera_entity in hubs)]))


def why(rt: RecordType, record: Record, field_name: str, system: System, key: str, known: Known) -> str:
    """Why the ``system`` key in ``record``'s ``field_name`` has no partner on the other side."""
    where = _SYSTEM_NAME[system]
    other = _SYSTEM_NAME["crm" if system == "ajera" else "ajera"]
    # A field named after a type refers to it (a contact's firm); another refers to what is left (a project's
    # manager is its employee).
    candidates = [field_name] if field_name in rt.references else \
        [t for t in rt.references if t not in record.fields] or list(rt.references)
    if rt.name in candidates and key == record.key and record.system == system:
        return f"the {rt.name} refers to itself"
    for t in candidates:
        state = known.quarantined(system, t, key)
        if state:
            return f"{where} {t} {key} is quarantined (see its quarantine row); the reference follows once it is fixed"
        if state is not None:
            return f"{where} {t} {key} is not linked to {_a(other)} {t} yet; the reference is written once it is"
    if not any(known.extracted(system, t) for t in candidates):
        return f"{where} {'/'.join(candidates)} {key} is not linked to the {other} (its type was not read in this run)"
    for t in related_types(rt):
        if t not in candidates and known.quarantined(system, t, key) is False:
            return f"{where} record {key} is a {t}, not a {'/'.join(candidates)}"
    return f"{where} {'/'.join(candidates)} {key} does not exist"


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "AEIOU" else f"a {word}"


def notes(rt: RecordType, actions: Iterable[Action], ajera: dict[str, Record], crm: dict[str, Record],
          known: Known, mode: Mode) -> list[Note]:
    """A note per reference an action leaves out, in the directions the run writes: creates (every field),
    links and updates (the fields the two sides disagree on, which would have been written)."""
    out: list[Note] = []
    for action in actions:
        sources: list[tuple[Record, Direction]] = []
        a = ajera.get(action.ajera_key or "")
        c = crm.get(action.crm_key or "")
        creates = isinstance(action, CreateInCrm | CreateInAjera)
        if isinstance(action, CreateInCrm) and a is not None:
            sources.append((a, Direction.AJERA_TO_CRM))
        elif isinstance(action, CreateInAjera) and c is not None:
            sources.append((c, Direction.CRM_TO_AJERA))
        elif not creates and a is not None and c is not None:
            sources += [(a, Direction.AJERA_TO_CRM), (c, Direction.CRM_TO_AJERA)]
        for record, direction in sources:
            partner = c if record is a else a
            out += _record_notes(rt, record, None if creates else partner, direction,
                                 action.ajera_key, action.crm_key, known, mode)
    return out


def _record_notes(rt: RecordType, record: Record, partner: Record | None, direction: Direction, ajera_key: str | None,
                  crm_key: str | None, known: Known, mode: Mode) -> list[Note]:
    if not allowed(rt, mode, direction):
        return []
    out = []
    prefix = _unmapped_prefix(record.system)
    for field_name, value in sorted(record.fields.items()):
        if not (isinstance(value, str) and value.startswith(prefix)):
            continue
        if partner is not None and partner.fields.get(field_name) == value:
            continue
        reason = why(rt, record, field_name, record.system, value[len(prefix):], known)
        target = "the CRM" if direction == Direction.AJERA_TO_CRM else "Ajera"
        out.append(Note(LogAction.REFERENCE_DROPPED, direction,
                        f"{field_name} left out of the write to {target}: {reason}", record.name,
                        ajera_key or (record.key if record.system == "ajera" else None),
                        crm_key or (record.key if record.system == "crm" else None)))
    return out


def not_created(rt: RecordType, plan_notes: Iterable[Note], ajera: dict[str, Record], crm: dict[str, Record],
                known: Known, mode: Mode) -> list[Note]:
    """For a record that is not created (an error, or held back: waiting for its parent), why its references
    have no partner: a parent that does not exist must be told apart from one not synced yet."""
    out: list[Note] = []
    for note in plan_notes:
        if note.action not in (LogAction.ERROR, LogAction.SKIPPED) or bool(note.ajera_key) == bool(note.crm_key):
            continue
        record = ajera.get(note.ajera_key or "") if note.ajera_key else crm.get(note.crm_key or "")
        if record is not None and record.raw is not None:
            direction = Direction.AJERA_TO_CRM if record.system == "ajera" else Direction.CRM_TO_AJERA
            out += [replace(n, beside_held=True)
                    for n in _record_notes(rt, record, None, direction, note.ajera_key, note.crm_key, known, mode)]
    return out
