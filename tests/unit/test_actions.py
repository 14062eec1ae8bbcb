"""The typed plan: each action kind's ``planned_action`` row and back, the stored words of the enums, and the
schema's CHECK constraints made from them (on SQLite, and on PostgreSQL when the suite is given one)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import exc

from include.sync.actions import Action, CreateInAjera, CreateInCrm, Link, Update, from_row, writes_ajera
from include.sync.db import SyncDatabase, utcnow
from include.sync.enums import (
    PENDING_NOTE_ACTIONS,
    ActionKind,
    ActionStatus,
    BatchStatus,
    Direction,
    LinkMethod,
    LogAction,
    Mode,
    PlannedBy,
    Resolution,
    ReviewAction,
    RunStatus,
    SuggestionStatus,
)
from include.sync.model import SYSTEMS

# --- the row of each kind, both ways ------------------------------------------------------------------------

_keys = st.one_of(st.none(), st.text(min_size=1, max_size=8))
_values = st.one_of(st.none(), st.booleans(), st.integers(-10**9, 10**9), st.text(max_size=12))
_fields = st.dictionaries(st.text(min_size=1, max_size=10), _values, max_size=5)
_links = st.builds(Link, st.text(max_size=20), _keys, _keys, st.sampled_from(LinkMethod), st.booleans(),
                   _fields, _fields)
_updates = st.builds(Update, st.text(max_size=20), _keys, _keys, _fields, _fields, st.booleans(), st.booleans(),
                     st.one_of(st.none(), st.dictionaries(st.text(min_size=1, max_size=10),
                                                          st.sampled_from(["ajera", "crm"]), max_size=3)))
_creates = st.one_of(*(st.builds(kind, st.text(max_size=20), _keys, _keys, fields=_fields)
                       for kind in (CreateInCrm, CreateInAjera)))


def _stored(action: Action) -> Any:
    """The row as the database hands it back (``select_batch_actions``, ``plan_rows``)."""
    return SimpleNamespace(**action.to_row())


def _canonical(action: Action) -> Action:
    """What a row can hold of an action: an unreconciled link's field values are never stored."""
    if isinstance(action, Link) and not action.reconciled:
        return Link(action.name, action.ajera_key, action.crm_key, action.method)
    return action


@given(st.one_of(_links, _updates, _creates))
def test_property_every_action_survives_its_row(action: Action) -> None:
    row = _stored(action)
    assert row.action == action.kind.value
    assert from_row(row) == _canonical(action)
    assert type(from_row(row)) is type(action)


def test_the_stored_detail_keeps_the_keys_rows_were_written_with() -> None:
    # Rows stored before these types (a plan left by a run in progress over an upgrade) read back the same.
    rows: list[tuple[Action, str]] = [
        (Link("Acme", "1", "C1", LinkMethod.NAME_EXACT), '{"method": "name_exact"}'),
        (Link("Acme", "1", "C1", LinkMethod.SUGGESTION, True, {"phone": "2"}, {}),
         '{"method": "suggestion", "to_crm": {"phone": "2"}, "to_ajera": {}, "reconciled": true}'),
        (Update("Acme", "1", "C1", {}, {"city": "Boise"}, False, True),
         '{"to_crm": {}, "to_ajera": {"city": "Boise"}, "ajera_changed": false, "crm_changed": true}'),
        (Update("Acme", "1", "C1", {}, {}, False, False, {}),
         '{"to_crm": {}, "to_ajera": {}, "ajera_changed": false, "crm_changed": false, "decisions": {}}'),
        (CreateInCrm("Acme", "1", None, {"name": "Acme"}), '{"fields": {"name": "Acme"}}'),
        (CreateInAjera("Acme", None, "C1", {"name": "Acme"}), '{"fields": {"name": "Acme"}}'),
    ]
    for action, detail in rows:
        assert action.to_row()["detail"] == detail
        assert from_row(SimpleNamespace(action=action.kind.value, record_name="Acme", ajera_key=action.ajera_key,
                                        crm_key=action.crm_key, detail=detail)) == action


def test_a_value_json_cannot_hold_is_stored_as_its_text() -> None:
    from datetime import date

    row = CreateInCrm("Acme", "1", None, {"start": date(2026, 1, 31)}).to_row()
    assert json.loads(row["detail"]) == {"fields": {"start": "2026-01-31"}}


def test_what_writes_to_ajera() -> None:
    assert writes_ajera(CreateInAjera("a", None, "C1"))
    assert not writes_ajera(CreateInCrm("a", "1", None))
    assert writes_ajera(Update("a", "1", "C1", to_ajera={"x": 1}))
    assert not writes_ajera(Update("a", "1", "C1", to_crm={"x": 1}))
    assert writes_ajera(Link("a", "1", "C1", LinkMethod.NAME_EXACT, True, to_ajera={"x": 1}))
    assert not writes_ajera(Link("a", "1", "C1", LinkMethod.NAME_EXACT))


# --- the stored words -----------------------------------------------------------------------------------------


def test_the_enums_store_the_words_the_tables_and_their_readers_use() -> None:
    # These strings are in stored rows, the SQL (review.sql, runs.sql, batch_cap.sql), the UI templates and the
    # tests of apply and the journal: a member renamed by mistake would orphan them.
    assert [m.value for m in ActionKind] == ["link", "update", "create_in_crm", "create_in_ajera"]
    assert [m.value for m in ActionStatus] == ["pending", "in_flight", "done", "failed", "held", "deferred"]
    assert [m.value for m in BatchStatus] == ["pending", "running", "done"]
    assert [m.value for m in PlannedBy] == ["match", "diff"]
    assert [m.value for m in Direction] == ["ajera_to_crm", "crm_to_ajera", "both", "none"]
    assert [m.value for m in LinkMethod] == ["name_exact", "name_recheck", "suggestion", "recovered_create",
                                             "created_in_crm", "created_in_ajera"]
    assert {m.value for m in LogAction} == {
        "mapped", "created", "updated", "skipped", "conflict", "resolved", "error", "unlinked", "ambiguous",
        "reference_dropped", "suggested", "planned", "backlog", "completed", "summary", "reviewed"}
    assert [m.value for m in PENDING_NOTE_ACTIONS] == ["skipped", "error", "ambiguous"]
    assert f"{Direction.CRM_TO_AJERA}" == "crm_to_ajera"  # as log messages embed it


# --- the CHECK constraints --------------------------------------------------------------------------------------

_RUN = {"run_id": "r1", "record_type": "firm"}


def _action(**changes: Any) -> dict[str, Any]:
    return {**_RUN, "seq": 0, "planned_by": "diff", **CreateInCrm("Acme", "1", None, {}).to_row(), **changes}


def _log(**changes: Any) -> dict[str, Any]:
    return {**_RUN, "now": utcnow(), "direction": "none", "action": "error", "ajera_key": None, "crm_key": None,
            "record_name": None, "message": "m", **changes}


def _mapping(**changes: Any) -> dict[str, Any]:
    return {"record_type": "firm", "ajera_key": "1", "crm_key": "C1", "match_method": "name_exact", "run_id": "r1",
            "now": utcnow(), "synced_at": None, "ajera_modified": None, "crm_modified": None, "ajera_hash": None,
            "crm_hash": None, "ajera_fields": None, "crm_fields": None, **changes}


def _note(**changes: Any) -> dict[str, Any]:
    return {"record_type": "firm", "ajera_key": "1", "crm_key": "", "action": "skipped", "message": "m",
            "run_id": "r1", "now": utcnow(), **changes}


_BATCH = {**_RUN, "batch_no": 0}
# column: (query, its parameters with that column set to a value, the column's enum)
_COLUMNS: dict[str, tuple[str, Any, Any]] = {
    "planned_action.action": ("insert_action", lambda v: _action(action=v), ActionKind),
    "planned_action.planned_by": ("insert_action", lambda v: _action(planned_by=v), PlannedBy),
    "planned_action.status": ("set_action_status", lambda v: {**_RUN, "seq": 0, "status": v, "message": None,
                                                              "ajera_key": "1", "crm_key": None}, ActionStatus),
    "project_batch.status": ("set_batch_status", lambda v: {**_BATCH, "status": v}, BatchStatus),
    "integration_log.action": ("insert_log", lambda v: _log(action=v), LogAction),
    "integration_log.direction": ("insert_log", lambda v: _log(direction=v), Direction),
    "record_mapping.match_method": ("insert_mapping", lambda v: _mapping(match_method=v), LinkMethod),
    "pending_note.action": ("insert_pending_note", lambda v: _note(action=v), PENDING_NOTE_ACTIONS),
    "review_action.action": ("insert_review_action", lambda v: {"now": utcnow(), "actor": "ann", "action": v,
                                                                "record_type": "firm", "ajera_key": "1",
                                                                "crm_key": None, "detail": "d"}, ReviewAction),
    "sync_run.mode": ("start_run", lambda v: {"run_id": f"run-{v}", "started_at": utcnow(), "mode": v, "dry_run": 0,
                                              "record_types": "firm", "window_start": None, "window_end": None,
                                              "options": "{}"}, get_args(Mode)),
    "sync_conflict.resolution": ("insert_conflict", lambda v: {**_RUN, "ajera_key": "1", "crm_key": "C1",
                                                               "field_name": "phone", "ajera_value": "1",
                                                               "crm_value": "2", "resolution": v, "reason": "r",
                                                               "now": utcnow()}, get_args(Resolution)),
    "sync_run.status": ("finish_run", lambda v: {"run_id": "run-two_way", "finished_at": utcnow(), "status": v,
                                                 "summary": "{}"}, get_args(RunStatus)),
    "match_suggestion.status": ("decide_suggestion", lambda v: {"id": 1, "status": v, "now": utcnow()},
                                get_args(SuggestionStatus)),
    "conflict_decision.winner": ("upsert_decision", lambda v: {"record_type": "firm", "ajera_key": "1",
                                                               "crm_key": "C1", "field_name": "phone", "winner": v,
                                                               "conflict_id": 1, "actor": "ann", "now": utcnow()},
                                 SYSTEMS),
}


def _seed(db: SyncDatabase) -> None:
    """The rows the status updates act on."""
    db.execute("insert_action", _action())
    db.execute("insert_batch", {**_BATCH, "action_count": 1})
    db.execute("start_run", {"run_id": "run-two_way", "started_at": utcnow(), "mode": "two_way", "dry_run": 0,
                             "record_types": "firm", "window_start": None, "window_end": None, "options": "{}"})
    db.execute("upsert_suggestion", {"record_type": "firm", "ajera_key": "1", "crm_key": "C1", "ajera_name": "A",
                                     "crm_name": "A.", "score": 95.0, "method": "fuzzy", "run_id": "r1",
                                     "now": utcnow()})


@pytest.mark.parametrize("column", sorted(_COLUMNS))
def test_a_stored_word_outside_its_enum_is_refused(sync_db: SyncDatabase, column: str) -> None:
    query, params, allowed = _COLUMNS[column]
    _seed(sync_db)
    with pytest.raises(exc.IntegrityError):
        sync_db.execute(query, params("update_crm"))  # an action name the schema comment listed, never written
    for n, member in enumerate(allowed):  # and every member is accepted
        value = params(str(member))
        if query.startswith("insert"):  # a new row each time
            key = "seq" if "seq" in value else "ajera_key"
            value[key] = value[key] + 1 + n if key == "seq" else f"k{n}"
            value.update({"crm_key": f"C{n}"} if query == "insert_mapping" else {})
        sync_db.execute(query, value)
