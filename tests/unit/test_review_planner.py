"""The planner honours a person's conflict decisions (pure function, no I/O)."""

from __future__ import annotations

from datetime import timedelta

from include.sync.planner import default_options, plan_record_type
from include.sync.record_types import FIRM
from tests.support.planner_records import T0, by_key, rec, synced


def _pair() -> tuple:
    return rec("ajera", "1", "Acme", phone="111"), rec("crm", "C1", "Acme", phone="222")


def test_take_ajera_writes_its_value_across_even_when_neither_side_changed() -> None:
    a, c = _pair()
    mapping = synced(a, c)  # a near tie left as it was: both sides as last synced, still different
    _, quiet = plan_record_type(FIRM, [mapping], by_key(a), by_key(c))
    assert quiet.actions == []  # without a decision: nothing to do, the fields stay different

    _, changes = plan_record_type(FIRM, [mapping], by_key(a), by_key(c), decisions={("1", "C1"): {"phone": "ajera"}})
    [action] = changes.actions
    assert (action.kind, action.to_crm, action.to_ajera) == ("update", {"phone": "111"}, {})
    assert action.decisions == {"phone": "ajera"}


def test_take_crm_overrides_the_run_own_resolution_and_drops_the_conflict() -> None:
    a = rec("ajera", "1", "Acme", phone="111", modified=T0 + timedelta(hours=1), flagged=True)
    c = rec("crm", "C1", "Acme", phone="222", modified=T0 + timedelta(hours=1, seconds=30), flagged=True)
    old = rec("ajera", "1", "Acme", phone="000"), rec("crm", "C1", "Acme", phone="000")
    mapping = synced(*old)
    mapping = type(mapping)(mapping.ajera_key, mapping.crm_key, T0, T0, mapping.ajera_hash, mapping.crm_hash,
                            dict(old[0].fields), dict(old[1].fields))
    _, undecided = plan_record_type(FIRM, [mapping], by_key(a), by_key(c))
    assert [x.resolution for x in undecided.conflicts] == ["review"]

    _, changes = plan_record_type(FIRM, [mapping], by_key(a), by_key(c), decisions={("1", "C1"): {"phone": "crm"}})
    assert changes.conflicts == []
    [action] = changes.actions
    assert (action.to_ajera, action.to_crm) == ({"phone": "222"}, {})
    assert action.decisions == {"phone": "crm"}


def test_a_decision_already_in_place_is_still_carried_as_done() -> None:
    a, c = rec("ajera", "1", "Acme", phone="111"), rec("crm", "C1", "Acme", phone="111")
    _, changes = plan_record_type(FIRM, [synced(a, c)], by_key(a), by_key(c), decisions={("1", "C1"): {"phone": "crm"}})
    [action] = changes.actions
    assert action.to_crm == action.to_ajera == {}
    assert action.decisions == {"phone": "crm"}  # apply marks it applied: nothing left to do


def test_a_decision_waits_while_a_side_was_not_read_in_full() -> None:
    a, c = _pair()
    swept = rec("crm", "C1", "Acme", full=False)
    _, changes = plan_record_type(FIRM, [synced(a, c)], by_key(a), by_key(swept),
                                  decisions={("1", "C1"): {"phone": "ajera"}})
    assert changes.actions == []


def test_a_decision_the_mode_cannot_carry_out_is_logged_and_waits() -> None:
    a = rec("ajera", "1", "Acme", phone="111")
    c = rec("crm", "C1", "Acme", phone="222")
    _, changes = plan_record_type(FIRM, [synced(a, c)], by_key(a), by_key(c), default_options(mode="one_way"),
                                  decisions={("1", "C1"): {"phone": "ajera"}})
    [action] = changes.actions
    assert action.decisions == {} and action.to_crm == {}
    assert [n.action for n in changes.notes] == ["error"] and "decision waits" in changes.notes[0].message
