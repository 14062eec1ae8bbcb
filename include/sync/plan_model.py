"""The planner's vocabulary: mapping states, actions, notes, conflicts, plans and options.

Shared by the planner over records (``planner``), the one over columns (``plan_columns``), and the apply and
review steps that read plans back.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from include.sync.actions import Action
from include.sync.enums import Direction, LogAction, Mode, Resolution
from include.sync.model import Record, System
from include.sync.record_types import RecordType
from include.sync.suggestions import Suggestion

__all__ = ["RESOLUTION", "Conflict", "MappingState", "Note", "Options", "Plan", "allowed", "closed", "default_options"]

# The side whose value stands on a field both changed (None: neither, a person decides) -> the conflict's resolution.
RESOLUTION: dict[System | None, Resolution] = {"ajera": "ajera_wins", "crm": "crm_wins", None: "review"}


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


@dataclass(frozen=True)
class Note:
    """A log row about a record the plan does nothing with (or not all it could): skipped, ambiguous, ..."""

    action: LogAction
    direction: Direction
    message: str
    name: str | None = None
    ajera_key: str | None = None
    crm_key: str | None = None
    # Said of a record held back, beside the note that holds it (why its references have no partner): told
    # with that note, and not again while that note stays pending.
    beside_held: bool = False


# The note of a flagged record held back only by a match suggestion awaiting review (extract leaves such a record
# to the picture while it does not change): extract and the planner both read it.
HELD_FOR_REVIEW = ("not created: a similar record on the other side is proposed as a match; accept or reject the "
                   "match suggestion first")


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
    return direction in rt.directions and (mode == "two_way" or direction == Direction.CRM_TO_AJERA)


def closed(rt: RecordType, record: Record, last: dict[str, Any] | None = None) -> bool:
    """Whether the record is closed. One not read in full this run is unchanged since the sync last read it,
    so it is judged by the values its mapping holds (``last``); with none, it does not count as closed."""
    if record.raw is not None:
        return rt.closed(record.fields)
    return last is not None and rt.closed(last)
