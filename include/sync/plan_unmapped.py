"""Records without a mapping: first-time exact-name matching, accepted suggestions, and the flagged records
that are linked to a same-named partner or created on the other side.

Both planners call these; the column planner hands over only the records that can take part (the flagged
ones and the records sharing a name with them), the record planner all of them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from include.sync.actions import CreateInAjera, CreateInCrm
from include.sync.enums import Direction, LinkMethod, LogAction
from include.sync.model import Record, System
from include.sync.names import exact_key
from include.sync.plan_model import HELD_FOR_REVIEW, Note, Options, Plan, allowed, closed
from include.sync.reconcile import link
from include.sync.record_types import RecordType
from include.sync.refs import writable
from include.sync.suggestions import Suggestion


@dataclass
class Taken:
    """Keys this run's matching has linked or set aside (ambiguous), per side: none is linked or created again."""

    ajera: set[str] = field(default_factory=set)
    crm: set[str] = field(default_factory=set)

    def side(self, system: System) -> set[str]:
        return self.ajera if system == "ajera" else self.crm

    def add(self, ajera_key: str, crm_key: str) -> None:
        self.ajera.add(ajera_key)
        self.crm.add(crm_key)


def by_name(records: Iterable[Record]) -> dict[str, list[Record]]:
    index: dict[str, list[Record]] = {}
    for record in records:
        index.setdefault(exact_key(record.name), []).append(record)
    return index


def first_time_matching(rt: RecordType, ajera_by_name: dict[str, list[Record]],
                        crm_by_name: dict[str, list[Record]], options: Options, plan: Plan, taken: Taken) -> None:
    """Names equal on both sides: unique on both → link; several on either → ambiguous, nothing linked."""
    for name_key, a_list in ajera_by_name.items():
        c_list = crm_by_name.get(name_key)
        if not c_list:
            continue
        if len(a_list) > 1 or len(c_list) > 1:
            plan.notes.append(ambiguous(rt, a_list[0], c_list, a_list))
            taken.ajera.update(r.key for r in a_list)
            taken.crm.update(r.key for r in c_list)
            continue
        plan.actions.append(link(rt, a_list[0], c_list[0], options, LinkMethod.NAME_EXACT, plan))
        taken.add(a_list[0].key, c_list[0].key)


def unsynced_names(ajera_by_name: dict[str, list[Record]]) -> dict[str, list[Record]]:
    """"Map unsynced Ajera projects to existing CRM projects": the names first-time matching is run again for,
    those no unmapped Ajera project of which is set to sync (flagged ones get their own same-name check)."""
    return {name: rs for name, rs in ajera_by_name.items() if not any(r.flagged for r in rs)}


def link_accepted(rt: RecordType, reviewed: dict[tuple[str, str], str], ajera: Mapping[str, Record],
                  crm: Mapping[str, Record], mapped_ajera: Collection[str], mapped_crm: Collection[str],
                  options: Options, plan: Plan, taken: Taken) -> None:
    """Accepted suggestions whose two records are both there and free are linked, in key order. One whose
    record is quarantined this run waits (with a note) until the record reads clean: a link would make the
    record synced from then on, with values that could not be read."""
    for (a_key, c_key), status in sorted(reviewed.items()):
        a, c = ajera.get(a_key), crm.get(c_key)
        if status != "accepted" or a is None or c is None or a_key in mapped_ajera or c_key in mapped_crm \
                or a_key in taken.ajera or c_key in taken.crm:
            continue
        bad = [f"the {label} record is quarantined" for label, r in (("Ajera", a), ("CRM", c)) if r.problem]
        if bad:
            plan.notes.append(Note(LogAction.SKIPPED, Direction.BOTH,
                                   f"accepted match not linked yet: {' and '.join(bad)} (see the quarantine); "
                                   "it is linked once the record reads clean", a.name, a_key, c_key))
            taken.add(a_key, c_key)  # kept for each other: neither is created, linked elsewhere or suggested
            continue
        plan.actions.append(link(rt, a, c, options, LinkMethod.SUGGESTION, plan))
        taken.add(a_key, c_key)


def pending_creates(reviewed: dict[tuple[str, str], str], suggestions: Iterable[Suggestion]) -> set[str]:
    """``system:key`` of the records with a suggestion awaiting review: a flagged one is not created (that
    could make a near-duplicate)."""
    pending: set[str] = set()
    for (a_key, c_key), status in reviewed.items():
        if status == "proposed":
            pending.update((f"ajera:{a_key}", f"crm:{c_key}"))
    for s in suggestions:
        pending.update((f"ajera:{s.ajera_key}", f"crm:{s.crm_key}"))
    return pending


NOT_FETCHED = "flagged record was not fetched; retried next run"



@dataclass
class Unmapped:
    """The unmapped records of both sides that flagged-record planning looks at, in key order, by name."""

    ajera: list[Record]
    crm: list[Record]
    ajera_by_name: dict[str, list[Record]]
    crm_by_name: dict[str, list[Record]]


def plan_flagged(rt: RecordType, options: Options, plan: Plan, unmapped: Unmapped, taken: Taken,
                 group_counts: dict[str, int], pending: set[str]) -> None:
    """Flagged unmapped records: a same-named unmapped partner is linked, else the partner is created.
    ``group_counts``: synced records per group (a contact's firm) once the mapped pairs' moves are made."""
    caps = Caps(rt, options.cap, group_counts)
    sides: tuple[tuple[list[Record], Direction], ...] = (
        (unmapped.ajera, Direction.AJERA_TO_CRM), (unmapped.crm, Direction.CRM_TO_AJERA))
    for source, direction in sides:
        if not allowed(rt, options.mode, direction):
            continue
        for record in source:
            if record.flagged and record.key not in taken.side(record.system):
                _plan_one_flagged(rt, options, plan, unmapped, taken, caps, pending, record, direction)


def _plan_one_flagged(rt: RecordType, options: Options, plan: Plan, unmapped: Unmapped, taken: Taken, caps: Caps,
                      pending: set[str], record: Record, direction: Direction) -> None:
    from_ajera = record.system == "ajera"
    taken_self, taken_other = (taken.ajera, taken.crm) if from_ajera else (taken.crm, taken.ajera)
    name_key = exact_key(record.name)
    other_by_name, self_by_name = (unmapped.crm_by_name, unmapped.ajera_by_name) if from_ajera else \
        (unmapped.ajera_by_name, unmapped.crm_by_name)
    candidates = [r for r in other_by_name.get(name_key, []) if r.key not in taken_other]
    same_side = [r for r in self_by_name.get(name_key, []) if r.key not in taken_self]
    if len(candidates) > 1 or (candidates and len(same_side) > 1):
        plan.notes.append(ambiguous(rt, record, candidates, same_side))
        taken_self.update(r.key for r in same_side)
        taken_other.update(r.key for r in candidates)
        return
    if record.raw is None and (candidates or f"{record.system}:{record.key}" not in pending):
        # Left to the picture while held for review (extract), it now has more to do than wait: read in full
        # next run (the note makes it a waiting record).
        plan.notes.append(Note(LogAction.ERROR, direction, NOT_FETCHED, record.name, *_keys(record)))
        return
    if candidates and caps.take(record):
        a, c = (record, candidates[0]) if from_ajera else (candidates[0], record)
        plan.actions.append(link(rt, a, c, options, LinkMethod.NAME_RECHECK, plan))
        taken.add(a.key, c.key)
        return
    skipped = (LogAction.SKIPPED, caps.message()) if candidates else _not_created(rt, options, pending, record)
    if skipped is not None:
        plan.notes.append(Note(skipped[0], direction, skipped[1], record.name, *_keys(record)))
        return
    if not caps.take(record):
        plan.notes.append(Note(LogAction.SKIPPED, direction, caps.message(), record.name, *_keys(record)))
        return
    create = CreateInCrm if from_ajera else CreateInAjera
    plan.actions.append(create(record.name, *_keys(record), fields=record.fields))
    taken_self.add(record.key)


def _not_created(rt: RecordType, options: Options, pending: set[str], record: Record
                 ) -> tuple[LogAction, str] | None:
    """Why a flagged record without a partner is not created on the other side (the note's action and
    message), else None."""
    if f"{record.system}:{record.key}" in pending:  # whether read in full or not: it waits for a person
        return LogAction.SKIPPED, HELD_FOR_REVIEW
    if record.raw is None:
        return LogAction.ERROR, NOT_FETCHED
    if not options.sync_closed and closed(rt, record):
        return LogAction.SKIPPED, f"closed {rt.name}: not created on the other side (sync closed projects is off)"
    problem = rt.create_problem(record)
    if problem:
        return LogAction.ERROR, problem
    waiting = _waiting_for_parent(rt, record)
    return (LogAction.SKIPPED, waiting) if waiting else None


class Caps:
    """At most ``limit`` synced records per group (Deltek: five synced contacts per firm)."""

    def __init__(self, rt: RecordType, limit: int, counts: dict[str, int]) -> None:
        self.rt = rt
        self.limit = limit
        self.counts = dict(counts)

    def take(self, record: Record) -> bool:
        if self.rt.cap_field is None or not record.group:
            return True
        if self.counts.get(record.group, 0) >= self.limit:
            return False
        self.counts[record.group] = self.counts.get(record.group, 0) + 1
        return True

    def message(self) -> str:
        return (f"not synced: its {self.rt.cap_field} already has {self.limit} synced {self.rt.name}s "
                f"(the limit; raise contact_cap to sync more)")


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


def ambiguous(rt: RecordType, record: Record, candidates: list[Record], same_side: list[Record]) -> Note:
    ajera_side = same_side if record.system == "ajera" else candidates
    crm_side = candidates if record.system == "ajera" else same_side
    return Note(
        LogAction.AMBIGUOUS, Direction.NONE,
        f"{rt.name} name {record.name!r} matches {len(ajera_side)} Ajera and {len(crm_side)} CRM records "
        f"(Ajera keys {', '.join(sorted(r.key for r in ajera_side))}; CRM keys "
        f"{', '.join(sorted(r.key for r in crm_side))}); not linked, review by hand",
        record.name,
        ",".join(sorted(r.key for r in ajera_side)) or None,
        ",".join(sorted(r.key for r in crm_side)) or None,
    )


def _keys(record: Record) -> tuple[str | None, str | None]:
    return (record.key, None) if record.system == "ajera" else (None, record.key)
