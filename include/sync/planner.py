"""Diff against the mapping table and first-time name matching: a pure function from state to a plan.

Nothing here does I/O. ``plan_record_type`` gets every swept record of both systems (with full fields
for the ones extract fetched) and the current mappings, and returns what to link, create, update and
unlink, plus the log notes (ambiguous names, skipped records) and the conflicts it resolved. It loops over
every record in Python: the reference the column planner (``plan_columns``, the one the sync runs) is
tested against. The rules themselves live beside it: one pair's (``reconcile``), mapped pairs'
(``plan_mapped``), unmapped records' (``plan_unmapped``); the plan's types in ``plan_model``.
"""

from __future__ import annotations

from collections.abc import Iterable

from include.sync.model import Record, System
from include.sync.plan_mapped import group_moves, plan_pair
from include.sync.plan_model import (
    RESOLUTION,
    Conflict,
    MappingState,
    Note,
    Options,
    Plan,
    allowed,
    default_options,
)
from include.sync.plan_unmapped import (
    Taken,
    Unmapped,
    by_name,
    first_time_matching,
    link_accepted,
    pending_creates,
    plan_flagged,
    unsynced_names,
)
from include.sync.reconcile import has_changed, link_conflicts, reconcile, settle
from include.sync.record_types import RecordType
from include.sync.suggestions import decided, suggest

__all__ = [  # the plan's vocabulary, also importable from here (its home is plan_model / reconcile)
    "RESOLUTION", "Conflict", "MappingState", "Note", "Options", "Plan",
    "allowed", "default_options", "has_changed", "link_conflicts", "plan_record_type", "reconcile", "settle",
]


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
    ``first_sync``: first-time matching runs until the type's first sync was applied in full (by default:
    while it has no mappings); a first sync that crashed part-way has some mappings and is still a first sync.
    """
    options = options or default_options()
    reviewed = reviewed or {}
    mappings = list(mappings)
    mapped_ajera = {m.ajera_key for m in mappings}
    mapped_crm = {m.crm_key for m in mappings}
    # A record with a problem (quarantined) is never matched or created: only its mapping is kept.
    unmapped_ajera = [r for key, r in sorted(ajera.items()) if key not in mapped_ajera and not r.problem]
    unmapped_crm = [r for key, r in sorted(crm.items()) if key not in mapped_crm and not r.problem]
    unmapped = Unmapped(unmapped_ajera, unmapped_crm, by_name(unmapped_ajera), by_name(unmapped_crm))
    taken = Taken()

    matching = Plan()
    if first_sync if first_sync is not None else not mappings:
        first_time_matching(rt, unmapped.ajera_by_name, unmapped.crm_by_name, options, matching, taken)
    elif options.match_unsynced and rt.name == "project":
        first_time_matching(rt, unsynced_names(unmapped.ajera_by_name), unmapped.crm_by_name, options, matching,
                            taken)
    link_accepted(rt, reviewed, ajera, crm, mapped_ajera, mapped_crm, options, matching, taken)
    matching.suggestions = suggest([r for r in unmapped_ajera if r.key not in taken.ajera],
                                   [r for r in unmapped_crm if r.key not in taken.crm], skip_pairs=decided(reviewed))

    changes = Plan()
    group_counts: dict[str, int] = {}
    held = group_moves(rt, [(m, ajera[m.ajera_key], crm[m.crm_key]) for m in mappings
                            if m.ajera_key in ajera and m.crm_key in crm], options, group_counts)
    decisions = decisions or {}
    for m in mappings:
        plan_pair(rt, m, ajera.get(m.ajera_key), crm.get(m.crm_key), options, changes,
                  decisions.get((m.ajera_key, m.crm_key)), held)
    for action in matching.actions:
        partner = crm.get(action.crm_key or "")
        linked_group = partner.group if partner else None
        if linked_group:
            group_counts[linked_group] = group_counts.get(linked_group, 0) + 1
    plan_flagged(rt, options, changes, unmapped, taken, group_counts, pending_creates(reviewed, matching.suggestions))
    return matching, changes
