"""The words the sync stores in its own tables, each list written once: the code writes these members, and the
schema's CHECK constraints are made from the same lists (``sql_values``, substituted by ``db``).

String-valued (``StrEnum``): a member is its stored text, in SQL parameters, JSON and f-strings alike, so rows
written before these types existed read back unchanged. No imports from the rest of the sync: the schema
loader and the record-type specs both build on this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Literal


class ActionKind(StrEnum):
    """What a planned action does (``planned_action.action``)."""

    LINK = "link"
    UPDATE = "update"
    CREATE_IN_CRM = "create_in_crm"
    CREATE_IN_AJERA = "create_in_ajera"


class ActionStatus(StrEnum):
    """Where a planned action stands (``planned_action.status``)."""

    PENDING = "pending"
    IN_FLIGHT = "in_flight"  # a create sent (or about to be): a retry looks it up by name before creating again
    DONE = "done"
    FAILED = "failed"
    HELD = "held"  # a CRM -> Ajera project action waiting for the Ajera -> CRM backlog (batch cap)
    DEFERRED = "deferred"  # in a batch past the batch cap: the next run plans it again


class BatchStatus(StrEnum):
    """Where a batch of planned actions stands (``project_batch.status``)."""

    PENDING = "pending"
    RUNNING = "running"  # an apply task has started on it: a second start is a retry
    DONE = "done"


class PlannedBy(StrEnum):
    """The planning step that stored an action (``planned_action.planned_by``)."""

    MATCH = "match"  # first-time name matching and accepted suggestions
    DIFF = "diff"


class Direction(StrEnum):
    """Which way a change goes: a record type's sync directions (the first two), and an integration-log row's."""

    AJERA_TO_CRM = "ajera_to_crm"
    CRM_TO_AJERA = "crm_to_ajera"
    BOTH = "both"
    NONE = "none"


class LinkMethod(StrEnum):
    """How a mapping came to be (``record_mapping.match_method``; the first four are a planned link's)."""

    NAME_EXACT = "name_exact"  # first-time matching: the same name on both sides
    NAME_RECHECK = "name_recheck"  # a flagged record's same-named partner, checked before creating
    SUGGESTION = "suggestion"  # an accepted match suggestion
    RECOVERED_CREATE = "recovered_create"  # found after an interrupted create
    CREATED_IN_CRM = "created_in_crm"
    CREATED_IN_AJERA = "created_in_ajera"


class LogAction(StrEnum):
    """What an integration-log row reports (``integration_log.action``)."""

    MAPPED = "mapped"
    CREATED = "created"
    UPDATED = "updated"
    SKIPPED = "skipped"
    CONFLICT = "conflict"
    RESOLVED = "resolved"
    ERROR = "error"
    UNLINKED = "unlinked"
    AMBIGUOUS = "ambiguous"
    REFERENCE_DROPPED = "reference_dropped"
    SUGGESTED = "suggested"
    PLANNED = "planned"
    BACKLOG = "backlog"  # the batch cap's re-run announcement
    COMPLETED = "completed"
    SUMMARY = "summary"
    REVIEWED = "reviewed"


# The notes about a record that stays as it is until someone acts (or room frees up): told once, then kept as
# pending (``pending_note.action``).
PENDING_NOTE_ACTIONS = (LogAction.SKIPPED, LogAction.ERROR, LogAction.AMBIGUOUS)


Mode = Literal["two_way", "one_way"]  # a run's (``sync_run.mode``)
RunStatus = Literal["running", "succeeded", "failed"]  # a run's (``sync_run.status``)
SuggestionStatus = Literal["proposed", "accepted", "rejected", "linked"]  # ``match_suggestion.status``
Resolution = Literal["ajera_wins", "crm_wins", "review"]  # a conflict's (``sync_conflict.resolution``)


class ReviewAction(StrEnum):
    """What a person did on the Sync Details page (``review_action.action``)."""

    ACCEPT_SUGGESTION = "accept_suggestion"
    REJECT_SUGGESTION = "reject_suggestion"
    TAKE_AJERA = "take_ajera"
    TAKE_CRM = "take_crm"
    RETRY_RECORD = "retry_record"


def sql_values(members: Iterable[str]) -> str:
    """The members (an enum's, or a ``Literal``'s arguments) as a SQL list of string literals, for
    ``column IN (...)`` (the values are identifiers: no quote to escape)."""
    return ", ".join(f"'{member}'" for member in members)
