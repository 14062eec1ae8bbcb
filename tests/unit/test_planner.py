"""The planner as a pure function: hand-built records and mappings in, a plan out (no I/O)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from include.sync.model import Record, fields_hash
from include.sync.names import exact_key
from include.sync.planner import (
    MappingState,
    Options,
    Plan,
    allowed,
    default_options,
    has_changed,
    plan_record_type,
    reconcile,
)
from include.sync.record_types import FIRM
from tests.support.planner_records import BASE_NAMES, T0, VARIANTS, by_key, rec, synced


def links(plan: Plan) -> set[tuple[str | None, str | None]]:
    return {(a.ajera_key, a.crm_key) for a in plan.actions if a.kind == "link"}


def kinds(plan: Plan) -> list[str]:
    return [a.kind for a in plan.actions]


# --- first-time name matching -------------------------------------------------------------------------


def test_first_time_matching_links_exact_and_case_insensitive_names_only():
    ajera = by_key(
        rec("ajera", "1", "Acme Engineering"),
        rec("ajera", "2", "Beta  Surveying"),  # folded white space
        rec("ajera", "3", "Gamma Partners"),  # near miss on the CRM side
        rec("ajera", "4", "Smith & Jones"),  # '&' vs 'and' is suggestion material, never a link
        rec("ajera", "5", "ABC Trading Inc"),  # legal suffix differs
        rec("ajera", "6", "Only In Ajera"),
    )
    crm = by_key(
        rec("crm", "C1", "ACME ENGINEERING"),
        rec("crm", "C2", "beta surveying"),
        rec("crm", "C3", "Gamma Partners Inc"),
        rec("crm", "C4", "Smith and Jones"),
        rec("crm", "C5", "ABC Trading Ltd"),
        rec("crm", "C6", "Only In CRM"),
    )
    matching, changes = plan_record_type(FIRM, [], ajera, crm)
    assert links(matching) == {("1", "C1"), ("2", "C2")}
    assert {a.method for a in matching.actions} == {"name_exact"}
    assert matching.notes == []
    # Nothing is flagged, so nothing else is planned either.
    assert changes.actions == [] and changes.unlinks == []


@pytest.mark.parametrize("side", ["ajera", "crm"])
def test_first_time_duplicates_on_either_side_are_ambiguous_and_never_linked(side: str):
    ajera = by_key(rec("ajera", "1", "Acme"), rec("ajera", "9", "Unique Name"))
    crm = by_key(rec("crm", "C1", "ACME"), rec("crm", "C9", "unique name"))
    if side == "ajera":
        ajera["2"] = rec("ajera", "2", "acme", flagged=True)
    else:
        crm["C2"] = rec("crm", "C2", "Acme ", flagged=True)
    matching, changes = plan_record_type(FIRM, [], ajera, crm)

    assert links(matching) == {("9", "C9")}
    ambiguous = [n for n in matching.notes if n.action == "ambiguous"]
    assert len(ambiguous) == 1
    note = ambiguous[0]
    expected_ajera = "1,2" if side == "ajera" else "1"
    expected_crm = "C1" if side == "ajera" else "C1,C2"
    assert (note.ajera_key, note.crm_key) == (expected_ajera, expected_crm)
    assert "not linked" in note.message
    # The flagged duplicate is neither linked nor created on the other side: that would make a third one.
    assert changes.actions == []


def test_first_time_ambiguous_on_both_sides_never_links():
    ajera = by_key(rec("ajera", "1", "Acme"), rec("ajera", "2", "ACME"))
    crm = by_key(rec("crm", "C1", "acme"), rec("crm", "C2", "Acme"))
    matching, changes = plan_record_type(FIRM, [], ajera, crm)
    assert links(matching) == set() and links(changes) == set()
    assert [n.action for n in matching.notes] == ["ambiguous"]


def test_after_mappings_exist_unflagged_records_are_not_name_matched():
    a_old, c_old = rec("ajera", "1", "Mapped Firm"), rec("crm", "C1", "Mapped Firm")
    ajera = by_key(a_old, rec("ajera", "2", "Acme"))
    crm = by_key(c_old, rec("crm", "C2", "ACME"))
    matching, changes = plan_record_type(FIRM, [synced(a_old, c_old)], ajera, crm)
    assert matching.actions == [] and matching.notes == []
    assert changes.actions == []  # same names, but neither is flagged: left alone


@pytest.mark.parametrize("flagged_side", ["ajera", "crm"])
def test_flagged_unmapped_record_links_to_same_named_unmapped_partner(flagged_side: str):
    a_old, c_old = rec("ajera", "1", "Mapped Firm"), rec("crm", "C1", "Mapped Firm")
    ajera = by_key(a_old, rec("ajera", "2", "Acme Engineering", flagged=flagged_side == "ajera"))
    crm = by_key(c_old, rec("crm", "C2", "acme engineering", flagged=flagged_side == "crm"))
    matching, changes = plan_record_type(FIRM, [synced(a_old, c_old)], ajera, crm)
    assert matching.actions == []
    assert kinds(changes) == ["link"]
    link = changes.actions[0]
    assert (link.ajera_key, link.crm_key, link.method) == ("2", "C2", "name_recheck")


def test_flagged_unmapped_record_does_not_link_to_an_already_mapped_partner():
    a_old, c_old = rec("ajera", "1", "Acme"), rec("crm", "C1", "Acme")
    ajera = by_key(a_old, rec("ajera", "2", "Acme", flagged=True))
    crm = by_key(c_old)
    _, changes = plan_record_type(FIRM, [synced(a_old, c_old)], ajera, crm)
    assert links(changes) == set()
    assert ("1", "C1") not in {(a.ajera_key, a.crm_key) for a in changes.actions}


def test_flagged_unmapped_record_with_two_candidates_is_ambiguous_not_created():
    a_old, c_old = rec("ajera", "1", "Mapped"), rec("crm", "C1", "Mapped")
    ajera = by_key(a_old, rec("ajera", "2", "Acme", flagged=True))
    crm = by_key(c_old, rec("crm", "C2", "Acme"), rec("crm", "C3", "ACME"))
    _, changes = plan_record_type(FIRM, [synced(a_old, c_old)], ajera, crm)
    assert changes.actions == []
    assert [n.action for n in changes.notes] == ["ambiguous"]
    assert changes.notes[0].crm_key == "C2,C3"


def test_flagged_with_no_partner_is_created_on_the_other_side():
    a_old, c_old = rec("ajera", "1", "Mapped"), rec("crm", "C1", "Mapped")
    new_a = rec("ajera", "2", "New In Ajera", flagged=True, phone="555-0100")
    new_c = rec("crm", "C2", "New In CRM", flagged=True, city="Denver")
    ajera, crm = by_key(a_old, new_a), by_key(c_old, new_c)
    _, changes = plan_record_type(FIRM, [synced(a_old, c_old)], ajera, crm)
    by_kind = {a.kind: a for a in changes.actions}
    assert set(by_kind) == {"create_in_crm", "create_in_ajera"}
    to_crm, to_ajera = by_kind["create_in_crm"], by_kind["create_in_ajera"]
    assert (to_crm.ajera_key, to_crm.crm_key, to_crm.fields) == ("2", None, new_a.fields)
    assert (to_ajera.ajera_key, to_ajera.crm_key, to_ajera.fields) == (None, "C2", new_c.fields)


def test_first_run_flagged_with_no_partner_is_created():
    ajera = by_key(rec("ajera", "1", "Only Ajera", flagged=True), rec("ajera", "2", "Not Flagged"))
    crm = by_key(rec("crm", "C1", "Only CRM", flagged=True))
    matching, changes = plan_record_type(FIRM, [], ajera, crm)
    assert matching.actions == []
    assert sorted((a.kind, a.ajera_key, a.crm_key) for a in changes.actions) == [
        ("create_in_ajera", None, "C1"), ("create_in_crm", "1", None)]


def test_flagged_but_not_fetched_is_an_error_note_not_a_create():
    a_old, c_old = rec("ajera", "1", "Mapped"), rec("crm", "C1", "Mapped")
    swept_only = rec("ajera", "2", "Swept Only", flagged=True, full=False)
    _, changes = plan_record_type(FIRM, [synced(a_old, c_old)], by_key(a_old, swept_only), by_key(c_old))
    assert changes.actions == []
    assert [(n.action, n.ajera_key) for n in changes.notes] == [("error", "2")]


# --- one-way mode -------------------------------------------------------------------------------------


def test_one_way_never_plans_writes_to_the_crm():
    one_way = default_options(mode="one_way")
    a_map, c_map = rec("ajera", "1", "Mapped"), rec("crm", "C1", "Mapped")
    a_both, c_both = rec("ajera", "3", "Both"), rec("crm", "C3", "Both")
    mappings = [synced(a_map, c_map), synced(a_both, c_both)]
    ajera = by_key(
        rec("ajera", "1", "Mapped", modified=T0 + timedelta(hours=1), phone="111"),  # changed in Ajera
        rec("ajera", "3", "Both", modified=T0 + timedelta(hours=2), phone="333"),  # changed on both sides
        rec("ajera", "2", "Flagged In Ajera", flagged=True),  # would be create_in_crm in two-way
        rec("ajera", "4", "Recheck", flagged=True, city="Ajera City"),
    )
    crm = by_key(
        c_map,
        rec("crm", "C3", "Both", modified=T0 + timedelta(hours=1), email="x@y.z"),
        rec("crm", "C5", "Flagged In CRM", flagged=True),
        rec("crm", "C4", "recheck", city="CRM City"),
    )
    plans = plan_record_type(FIRM, mappings, ajera, crm, one_way)
    actions = [a for plan in plans for a in plan.actions]
    assert "create_in_crm" not in [a.kind for a in actions]
    assert all(not getattr(a, "to_crm", None) for a in actions), actions  # creates have none
    assert "create_in_ajera" in [a.kind for a in actions]  # CRM -> Ajera still works
    assert not allowed(FIRM, "one_way", "ajera_to_crm") and allowed(FIRM, "one_way", "crm_to_ajera")

    # First-time matching in one-way mode links, but only carries CRM values to Ajera.
    matching, _ = plan_record_type(FIRM, [], by_key(rec("ajera", "1", "Acme", phone="1")),
                                   by_key(rec("crm", "C1", "acme", phone="2", modified=T0 + timedelta(hours=1))),
                                   one_way)
    assert links(matching) == {("1", "C1")}
    assert matching.actions[0].to_crm == {}
    assert matching.actions[0].to_ajera == {"name": "acme", "phone": "2"}


# --- change detection and echoes ----------------------------------------------------------------------


def test_has_changed_rules():
    before = rec("ajera", "1", "Acme", phone="1")
    last_hash = before.content_hash
    assert last_hash == fields_hash(before.fields)  # the firm's fields are exactly its synced fields
    later = T0 + timedelta(minutes=5)

    # Our own write echoing back: the date moved but the content is what we synced.
    assert not has_changed(rec("ajera", "1", "Acme", phone="1", modified=later), T0, last_hash)
    # Date did not move but the content did: a reference it holds got linked since. That is a change.
    assert has_changed(rec("ajera", "1", "Acme", phone="2", modified=T0), T0, last_hash)
    # An older date than the last sync is not a change either.
    assert not has_changed(rec("ajera", "1", "Acme", phone="2", modified=T0 - timedelta(days=1)), T0, last_hash)
    # Both moved: changed.
    assert has_changed(rec("ajera", "1", "Acme", phone="2", modified=later), T0, last_hash)
    # Never synced (no hash): changed; swept only (no raw): never changed.
    assert has_changed(rec("ajera", "1", "Acme"), T0, None)
    assert not has_changed(rec("ajera", "1", "Acme", full=False, modified=later), T0, last_hash)
    # No last date recorded but different content: changed.
    assert has_changed(rec("ajera", "1", "Acme", phone="2"), None, last_hash)


def test_echo_of_our_own_write_plans_nothing():
    a, c = rec("ajera", "1", "Acme", phone="1"), rec("crm", "C1", "Acme", phone="1")
    mapping = synced(a, c)
    echoed_a = rec("ajera", "1", "Acme", phone="1", modified=T0 + timedelta(minutes=3))
    echoed_c = rec("crm", "C1", "Acme", phone="1", modified=T0 + timedelta(minutes=3))
    _, changes = plan_record_type(FIRM, [mapping], by_key(echoed_a), by_key(echoed_c))
    assert changes.actions == [] and changes.conflicts == [] and changes.unlinks == []


@pytest.mark.parametrize("changed_side", ["ajera", "crm"])
def test_one_side_changed_updates_the_other_with_its_fields(changed_side: str):
    a, c = rec("ajera", "1", "Acme", flagged=True, phone="1"), rec("crm", "C1", "Acme", phone="1")
    mapping = synced(a, c)
    later = T0 + timedelta(hours=1)
    if changed_side == "ajera":
        a = rec("ajera", "1", "Acme", flagged=True, phone="2", city="Boise", modified=later)
    else:
        c = rec("crm", "C1", "Acme", phone="3", modified=later)
    _, changes = plan_record_type(FIRM, [mapping], by_key(a), by_key(c))
    assert kinds(changes) == ["update"]
    update = changes.actions[0]
    assert (update.ajera_key, update.crm_key) == ("1", "C1")
    # Only what differs is written (both sides were read here).
    if changed_side == "ajera":
        assert update.to_crm == {"phone": "2", "city": "Boise"} and update.to_ajera == {}
    else:
        assert update.to_ajera == {"phone": "3"} and update.to_crm == {}
    assert update.ajera_changed is (changed_side == "ajera")
    assert update.crm_changed is (changed_side == "crm")
    assert changes.conflicts == []


def _both_changed(a_offset: timedelta, c_offset: timedelta, rt=FIRM, options: Options = default_options()):
    a0 = rec("ajera", "1", "Acme", flagged=True, phone="1", city="Old")
    c0 = rec("crm", "C1", "Acme", phone="1", city="Old")
    mapping = synced(a0, c0)
    a = rec("ajera", "1", "Acme", flagged=True, phone="A-phone", city="A-city", website="a.example",
            modified=T0 + a_offset)
    c = rec("crm", "C1", "Acme", phone="C-phone", city="C-city", website="c.example", modified=T0 + c_offset)
    _, changes = plan_record_type(rt, [mapping], by_key(a), by_key(c), options)
    assert kinds(changes) == ["update"]
    return changes.actions[0], {x.field_name: x for x in changes.conflicts}


def test_both_changed_ownership_then_newer_side_wins():
    rt = FIRM.with_owners(phone="ajera", website="crm")
    # The CRM is newer by an hour: shared fields go to the CRM, owned fields to their owner.
    update, conflicts = _both_changed(timedelta(minutes=10), timedelta(minutes=70), rt)
    assert update.to_crm == {"phone": "A-phone"}
    assert update.to_ajera == {"city": "C-city", "website": "c.example"}
    assert {f: c.resolution for f, c in conflicts.items()} == {
        "phone": "ajera_wins", "city": "crm_wins", "website": "crm_wins"}
    assert "owns" in conflicts["phone"].reason and "newer" in conflicts["city"].reason
    # Every conflict carries both values.
    assert (conflicts["phone"].ajera_value, conflicts["phone"].crm_value) == ("A-phone", "C-phone")

    # Ajera newer: the shared field flips, the owned ones do not.
    update, conflicts = _both_changed(timedelta(minutes=70), timedelta(minutes=10), rt)
    assert update.to_crm == {"phone": "A-phone", "city": "A-city"}
    assert update.to_ajera == {"website": "c.example"}


def test_both_changed_near_tie_goes_to_review_and_writes_nothing_for_that_field():
    rt = FIRM.with_owners(phone="ajera")
    update, conflicts = _both_changed(timedelta(minutes=10), timedelta(minutes=11), rt)  # 1 min < 2 min skew
    assert conflicts["city"].resolution == "review" and conflicts["website"].resolution == "review"
    assert "clock-skew" in conflicts["city"].reason
    assert "city" not in update.to_crm and "city" not in update.to_ajera
    assert "website" not in update.to_crm and "website" not in update.to_ajera
    # Ownership is not a tie: the owner still wins inside the tolerance.
    assert conflicts["phone"].resolution == "ajera_wins"
    assert update.to_crm == {"phone": "A-phone"} and update.to_ajera == {}


def test_clock_skew_boundary():
    skew = timedelta(minutes=2)
    _, at_skew = _both_changed(timedelta(minutes=10), timedelta(minutes=10) + skew,
                               options=default_options(clock_skew=skew))
    assert at_skew["city"].resolution == "review"
    _, past_skew = _both_changed(timedelta(minutes=10), timedelta(minutes=10) + skew + timedelta(seconds=1),
                                 options=default_options(clock_skew=skew))
    assert past_skew["city"].resolution == "crm_wins"


def test_reconcile_reports_no_conflict_when_one_side_changed():
    a = rec("ajera", "1", "Acme", phone="1", modified=T0 + timedelta(hours=1))
    c = rec("crm", "C1", "Acme", phone="2")
    to_crm, to_ajera, conflicts = reconcile(FIRM, a, c, default_options(), ajera_changed=True, crm_changed=False)
    assert (to_crm, to_ajera, conflicts) == ({"phone": "1"}, {}, [])


# --- orphans ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("gone", ["ajera", "crm"])
def test_orphan_mapping_is_unlinked_and_logged(gone: str):
    a, c = rec("ajera", "1", "Acme"), rec("crm", "C1", "Acme")
    mapping = synced(a, c)
    ajera = {} if gone == "ajera" else by_key(a)
    crm = {} if gone == "crm" else by_key(c)
    matching, changes = plan_record_type(FIRM, [mapping], ajera, crm)
    assert changes.unlinks == [mapping]
    assert changes.actions == []  # never a delete, never a re-create in the same run
    assert [(n.action, n.ajera_key, n.crm_key, n.name) for n in changes.notes] == [("unlinked", "1", "C1", "Acme")]
    assert ("Ajera" if gone == "ajera" else "CRM") in changes.notes[0].message
    assert matching.actions == []


# --- determinism --------------------------------------------------------------------------------------


def _mixed_scenario() -> tuple[list[MappingState], dict[str, Record], dict[str, Record]]:
    a1, c1 = rec("ajera", "1", "Mapped One", phone="1"), rec("crm", "C1", "Mapped One", phone="1")
    a2, c2 = rec("ajera", "2", "Mapped Two"), rec("crm", "C2", "Mapped Two")
    mappings = [synced(a1, c1), synced(a2, c2), MappingState("9", "C9", T0, T0, "h", "h")]
    ajera = by_key(
        rec("ajera", "1", "Mapped One", phone="new", modified=T0 + timedelta(hours=1)),
        rec("ajera", "2", "Mapped Two", city="x", modified=T0 + timedelta(hours=1)),
        rec("ajera", "3", "Recheck Me", flagged=True),
        rec("ajera", "4", "Create In CRM", flagged=True),
        rec("ajera", "5", "Dup", flagged=True),
        rec("ajera", "9", "Orphan"),
    )
    crm = by_key(
        c1,
        rec("crm", "C2", "Mapped Two", city="y", modified=T0 + timedelta(hours=3)),
        rec("crm", "C3", "RECHECK ME"),
        rec("crm", "C5", "dup"), rec("crm", "C6", "DUP"),
        rec("crm", "C7", "Create In Ajera", flagged=True),
    )
    return mappings, ajera, crm


def test_same_input_gives_the_same_plan():
    mappings, ajera, crm = _mixed_scenario()
    first = plan_record_type(FIRM, mappings, ajera, crm)
    second = plan_record_type(FIRM, mappings, ajera, crm)
    assert first == second
    assert kinds(first[1])  # the scenario does plan something


def test_plan_does_not_depend_on_dict_order():
    mappings, ajera, crm = _mixed_scenario()
    expected = plan_record_type(FIRM, mappings, ajera, crm)
    rng = random.Random(7)
    for _ in range(5):
        a_items, c_items = list(ajera.items()), list(crm.items())
        rng.shuffle(a_items)
        rng.shuffle(c_items)
        assert plan_record_type(FIRM, mappings, dict(a_items), dict(c_items)) == expected


# --- property: first-time matching --------------------------------------------------------------------

side_names = st.lists(st.tuples(st.sampled_from(BASE_NAMES), st.sampled_from(range(len(VARIANTS))), st.booleans()),
                      max_size=14)


def _side(system: str, prefix: str, picks: list[tuple[str, int, bool]]) -> dict[str, Record]:
    return by_key(*(rec(system, f"{prefix}{i}", VARIANTS[v](base), flagged=flag)
                    for i, (base, v, flag) in enumerate(picks)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a_picks=side_names, c_picks=side_names)
def test_first_time_matching_properties(a_picks, c_picks):
    ajera, crm = _side("ajera", "A", a_picks), _side("crm", "C", c_picks)
    matching, changes = plan_record_type(FIRM, [], ajera, crm)
    all_links = [(a.ajera_key, a.crm_key) for plan in (matching, changes) for a in plan.actions if a.kind == "link"]

    # Never a key linked twice (across both plans).
    assert len({a for a, _ in all_links}) == len(all_links)
    assert len({c for _, c in all_links}) == len(all_links)
    # Never names that differ under exact_key.
    for a_key, c_key in all_links:
        assert exact_key(ajera[a_key].name) == exact_key(crm[c_key].name)

    a_count: dict[str, int] = {}
    c_count: dict[str, int] = {}
    for r in ajera.values():
        a_count[exact_key(r.name)] = a_count.get(exact_key(r.name), 0) + 1
    for r in crm.values():
        c_count[exact_key(r.name)] = c_count.get(exact_key(r.name), 0) + 1
    linked_names = {exact_key(ajera[a].name) for a, _ in all_links}
    # Every name unique on both sides is linked by first-time matching; a duplicated one never is.
    first_time = {exact_key(ajera[a].name) for a, _ in links(matching)}
    for name, n in a_count.items():
        if n == 1 and c_count.get(name) == 1:
            assert name in first_time
        elif c_count.get(name):
            assert name not in linked_names
    # No duplicates: nothing is created on a side that already has a record of that name.
    for action in changes.actions:
        if action.kind == "create_in_crm":
            assert exact_key(action.name) not in c_count
        if action.kind == "create_in_ajera":
            assert exact_key(action.name) not in a_count


def _with_history(a, c):
    """A mapping that remembers each side's synced field values (the per-field merge's base)."""
    from include.sync.planner import MappingState as M

    base = synced(a, c)
    return M(base.ajera_key, base.crm_key, base.ajera_modified, base.crm_modified, base.ajera_hash,
             base.crm_hash, dict(a.fields), dict(c.fields))


def test_different_fields_changed_on_each_side_merge_without_conflict():
    a = rec("ajera", "1", "Acme", flagged=True, phone="1", email="x@a")
    c = rec("crm", "C1", "Acme", phone="1", email="x@a")
    mapping = _with_history(a, c)
    # Ajera changes the phone, then, much later, the CRM changes the e-mail: both edits must survive.
    a2 = rec("ajera", "1", "Acme", flagged=True, phone="2", email="x@a", modified=T0 + timedelta(hours=1))
    c2 = rec("crm", "C1", "Acme", phone="1", email="y@c", modified=T0 + timedelta(hours=5))
    _, changes = plan_record_type(FIRM, [mapping], by_key(a2), by_key(c2))
    update = changes.actions[0]
    assert update.to_crm == {"phone": "2"}
    assert update.to_ajera == {"email": "y@c"}
    assert changes.conflicts == []


def test_same_field_changed_on_both_sides_is_a_conflict_won_by_the_newer_side():
    a, c = rec("ajera", "1", "Acme", flagged=True, phone="1"), rec("crm", "C1", "Acme", phone="1")
    mapping = _with_history(a, c)
    a2 = rec("ajera", "1", "Acme", flagged=True, phone="2", modified=T0 + timedelta(hours=1))
    c2 = rec("crm", "C1", "Acme", phone="3", modified=T0 + timedelta(hours=5))
    _, changes = plan_record_type(FIRM, [mapping], by_key(a2), by_key(c2))
    assert [(x.field_name, x.resolution) for x in changes.conflicts] == [("phone", "crm_wins")]
    assert changes.actions[0].to_ajera == {"phone": "3"}


def test_a_change_on_one_side_sends_only_the_moved_fields_when_the_other_was_not_read():
    a = rec("ajera", "1", "Acme", flagged=True, phone="1", city="Boise")
    c = rec("crm", "C1", "Acme", phone="1", city="Boise")
    mapping = _with_history(a, c)
    a2 = rec("ajera", "1", "Acme", flagged=True, phone="2", city="Boise", modified=T0 + timedelta(hours=1))
    unread = Record("crm", "C1", "Acme", None, False)  # swept only: unchanged since the watermark
    _, changes = plan_record_type(FIRM, [mapping], by_key(a2), {"C1": unread})
    assert changes.actions[0].to_crm == {"phone": "2"}


@pytest.mark.parametrize("sync_closed", [False, True])
def test_a_pair_closed_on_both_sides_is_left_alone_when_one_side_was_not_read_this_run(sync_closed: bool):
    # A side not read in full is unchanged since the sync last read it: its mapping's values say it is closed.
    closing = replace(FIRM, closed=lambda fields: fields.get("status") == "closed")
    a = rec("ajera", "1", "Acme", flagged=True, status="closed", phone="1")
    c = rec("crm", "C1", "Acme", flagged=True, status="closed", phone="1")
    mapping = _with_history(a, c)
    a2 = rec("ajera", "1", "Acme", flagged=True, status="closed", phone="2", modified=T0 + timedelta(hours=1))
    unread = Record("crm", "C1", "Acme", None, True)
    _, changes = plan_record_type(closing, [mapping], by_key(a2), {"C1": unread},
                                  default_options(sync_closed=sync_closed))
    if sync_closed:
        assert changes.actions[0].to_crm == {"phone": "2"}
    else:
        assert not changes.actions
        assert [n.message for n in changes.notes] == ["closed firm: left alone (sync closed projects is off)"]
