"""Suggestions made once per change of their inputs (``include.sync.suggestion_memo``), and the same pairs
suggested run after run while nobody decides (``suggestions.decided``)."""

from __future__ import annotations

from include.sync.db import SyncDatabase
from include.sync.record_types import FIRM
from include.sync.suggestion_memo import Memo
from include.sync.suggestions import decided, plain
from tests.unit.test_suggestions import pairs, sides

AJERA = {"A1": "Harbor Point Engineering", "A2": "Cobalt Ridge Surveying", "A3": "Juniper Landscape Studio"}
CRM = {"C1": "Harbour Point Engineering", "C2": "Cobalt Ridge Surveying Inc", "C3": "Juniper Landscape Studios",
       "C4": "Unrelated Name Entirely"}


def test_the_memo_hands_back_the_suggestions_while_their_inputs_do_not_change(sync_db: SyncDatabase) -> None:
    ajera, crm = sides(AJERA, CRM)
    memo = Memo(sync_db, FIRM, "r1")
    first = memo(ajera, crm, set())
    assert first == plain(ajera, crm, set()) and len(first) == 3 and memo.made == 1

    later = Memo(sync_db, FIRM, "r2")  # another step, another run: the same inputs in another order
    assert later(list(reversed(ajera)), crm, set()) == first and later.made == 0

    renamed, _ = sides({**AJERA, "A3": "Juniper Landscape Architects"}, {})
    assert pairs(later(renamed, crm, set())) == {("A1", "C1"), ("A2", "C2")} and later.made == 1
    assert pairs(later(renamed, crm, {("A1", "C1")})) == {("A2", "C2")} and later.made == 2


def test_a_pair_still_proposed_is_suggested_again_and_a_decided_one_is_not() -> None:
    ajera, crm = sides(AJERA, CRM)
    reviewed = {("A1", "C1"): "proposed", ("A2", "C2"): "rejected", ("A3", "C3"): "accepted"}
    assert decided(reviewed) == {("A2", "C2"), ("A3", "C3")}
    assert pairs(plain(ajera, crm, decided(reviewed))) == {("A1", "C1")}
