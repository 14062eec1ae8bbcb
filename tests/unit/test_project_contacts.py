"""The pure decision of project contacts: which of a project's Ajera contacts go on the CRM project, which
wait for their mapping, which are over the cap; and the order Ajera's Contacts[] gives."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from include.sync.project_children.contacts import ContactPlan, ordered_contacts, plan_contacts

SEVEN = [str(k) for k in (11, 12, 13, 14, 15, 16, 17)]


def test_first_five_mapped_are_added_and_the_next_ones_over_the_cap() -> None:
    plan = plan_contacts(SEVEN, mapped=set(SEVEN), placed=set(), cap=5)
    assert plan == ContactPlan(add=("11", "12", "13", "14", "15"), waiting=(), over_cap=("16", "17"))


def test_an_unmapped_contact_within_the_cap_waits_and_keeps_its_place() -> None:
    mapped = set(SEVEN) - {"12"}
    plan = plan_contacts(SEVEN, mapped, placed=set(), cap=5)
    assert plan == ContactPlan(add=("11", "13", "14", "15"), waiting=("12",), over_cap=("16", "17"))
    # Once mapped it is the only one added; the sixth and seventh stay out.
    after = plan_contacts(SEVEN, set(SEVEN), placed={"11", "13", "14", "15"}, cap=5)
    assert after == ContactPlan(add=("12",), waiting=(), over_cap=("16", "17"))


def test_nothing_to_do_once_placed() -> None:
    assert plan_contacts(SEVEN, set(SEVEN), placed=set(SEVEN[:5]), cap=5) == \
        ContactPlan(add=(), waiting=(), over_cap=("16", "17"))


def test_placed_contacts_pushed_back_by_a_reorder_still_take_room() -> None:
    # 16 and 17 were placed when they were first; Ajera now lists five others before them.
    plan = plan_contacts(SEVEN, set(SEVEN), placed={"16", "17"}, cap=5)
    assert plan == ContactPlan(add=("11", "12", "13"), waiting=(), over_cap=("14", "15"))


def test_a_contact_gone_from_the_ajera_project_no_longer_counts() -> None:
    plan = plan_contacts(SEVEN[:3], set(SEVEN), placed={"99"}, cap=2)
    assert plan == ContactPlan(add=("11", "12"), waiting=(), over_cap=("13",))


def test_cap_zero_adds_nothing() -> None:
    assert plan_contacts(SEVEN[:2], set(SEVEN), set(), cap=0) == ContactPlan((), (), ("11", "12"))


@given(st.lists(st.sampled_from([*SEVEN, "18", "19"]), max_size=12), st.sets(st.sampled_from(SEVEN)),
       st.sets(st.sampled_from(SEVEN)), st.integers(min_value=0, max_value=8))
def test_never_more_than_the_cap_and_every_contact_accounted_for(ordered: list[str], mapped: set[str],
                                                                placed: set[str], cap: int) -> None:
    plan = plan_contacts(ordered, mapped, placed, cap)
    listed = list(dict.fromkeys(ordered))
    on_project = [k for k in listed if k in placed]
    assert len(on_project) + len(plan.add) <= max(cap, len(on_project))
    assert set(plan.add) <= mapped and not set(plan.waiting) & mapped
    parts = [*plan.add, *plan.waiting, *plan.over_cap]
    assert sorted(parts) == sorted(k for k in listed if k not in placed)  # each unplaced contact exactly once
    assert list(plan.add) == [k for k in listed if k in plan.add]  # in Ajera's order


def test_ordered_contacts_sorts_by_order_and_names_each_once() -> None:
    project = {"Contacts": [
        {"ContactKey": 7, "Order": 3, "FirstName": "Ana", "LastName": "Ruiz", "Text": ""},
        {"ContactKey": 2, "Order": 1, "FirstName": "", "LastName": "", "Text": "Site office"},
        {"ContactKey": 9, "Order": None, "FirstName": "Bo", "LastName": "Lee"},
        {"ContactKey": 7, "Order": 5, "FirstName": "Ana", "LastName": "Ruiz"},
        {"Order": 0, "FirstName": "no key"},
    ]}
    assert ordered_contacts(project) == [("2", "Site office"), ("7", "Ana Ruiz"), ("9", "Bo Lee")]
    assert ordered_contacts({"Contacts": {"ContactKey": 4, "Order": 1}}) == [("4", "")]
    assert ordered_contacts({}) == []
