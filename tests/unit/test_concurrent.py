"""The pure rules of writes that cannot lose an edit: the re-merge against a fresh read, and the sync state
recorded after a write (what the plan read plus what was written)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from include.sync import record_types
from include.sync.concurrent import Seen, remerge, synced_state
from include.sync.model import Record
from include.sync.planner import MappingState, default_options
from include.sync.validate import future_dated

FIRM = record_types.get("firm")
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BASE = {"name": "Acme", "status": "active", "phone": "1", "email": "a@x", "website": "", "address": "", "city": "",
        "state": "", "zip": ""}


def rec(system: str, modified: datetime, **changes: str) -> Record:
    fields = {**BASE, **changes}
    return Record(system, "K", "Acme", modified, True, fields, raw={"x": 1}, content_hash=FIRM.synced_hash(fields))  # type: ignore[arg-type]


def test_a_field_edited_in_the_crm_since_the_plan_read_it_is_a_conflict_the_newer_edit_wins() -> None:
    seen = Seen(dict(BASE), T0)
    fresh = rec("crm", T0 + timedelta(minutes=5), phone="crm-new")  # edited while the sync ran
    ajera = rec("ajera", T0 + timedelta(minutes=1), phone="ajera-new")
    keep, conflicts = remerge(FIRM, "crm", {"phone": "ajera-new", "email": "b@x"}, fresh, seen, ajera,
                              Seen(dict(BASE), T0 + timedelta(minutes=1)), "1", "K",
                              default_options(clock_skew=timedelta(0)))
    assert keep == {"email": "b@x"}  # the CRM's newer phone stands, the untouched field is still written
    assert [(c.field_name, c.ajera_value, c.crm_value, c.resolution) for c in conflicts] == [
        ("phone", "ajera-new", "crm-new", "crm_wins")]


def test_a_near_tie_is_left_for_review_and_taken_as_seen() -> None:
    seen = Seen(dict(BASE), T0)
    fresh = rec("crm", T0 + timedelta(seconds=30), phone="crm-new")
    keep, conflicts = remerge(FIRM, "crm", {"phone": "ajera-new"}, fresh, seen, None,
                              Seen(dict(BASE), T0 + timedelta(seconds=20)), "1", "K", default_options())
    assert keep == {} and conflicts[0].resolution == "review" and seen.fields["phone"] == "crm-new"


def test_the_state_recorded_is_what_the_plan_read_plus_what_was_written() -> None:
    seen_c = Seen(dict(BASE), T0)
    after_write = rec("crm", T0 + timedelta(minutes=9), phone="ajera-new", email="edited-meanwhile@x")
    state = synced_state(FIRM, None, (None, None, None), (after_write, seen_c, {"phone": "ajera-new"}), 120)
    recorded = json.loads(state["crm_fields"])
    assert recorded["phone"] == "ajera-new"  # written
    assert recorded["email"] == "a@x"  # the edit made meanwhile is not taken as synced: it goes across next run
    assert state["crm_modified"].startswith("2026-03-01T12:00:00")
    assert state["crm_hash"] != after_write.content_hash


def test_a_side_neither_read_nor_written_keeps_its_previous_state() -> None:
    previous = MappingState("1", "K", T0, T0, "ha", "hc", dict(BASE), dict(BASE))
    state = synced_state(FIRM, previous, (None, None, None), (None, None, None), 120)
    assert state["crm_hash"] == "hc" and state["ajera_hash"] == "ha"


def test_a_future_modified_date_is_capped_in_the_state_and_flagged_by_validation() -> None:
    future = datetime(2031, 6, 1, tzinfo=UTC)
    created = rec("crm", future)
    state = synced_state(FIRM, None, (None, None, None), (created, None, None), 120)
    assert state["crm_modified"] < "2030"
    now = datetime.now(UTC)
    assert list(future_dated({"K": created, "L": rec("crm", now)}, now, timedelta(seconds=120))) == ["K"]
