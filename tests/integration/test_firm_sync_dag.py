"""Firms end to end: the sync DAG run by Airflow against both simulators over HTTP."""

from __future__ import annotations

from collections import Counter

import pytest

from include.sync.names import exact_key
from tests.support.engine import Harness

pytestmark = pytest.mark.integration


FIRMS = {"record_types": ["firm"]}  # the other types have their own tests; this keeps each run short


def _state(dag_run: object) -> str:
    return str(getattr(dag_run, "state", "")).lower().rsplit(".", 1)[-1]


def _names(records: list[dict], field: str) -> Counter[str]:
    return Counter(exact_key(r[field]) for r in records)


def _crm_firms(h: Harness) -> list[dict]:
    return h.crm.list("firm", filters=[("ClientInd", "=", "Y")])


def _ajera_clients(h: Harness) -> list[dict]:
    return h.ajera.list("Clients")


def test_first_run_links_same_names_creates_flagged_and_second_run_changes_nothing(harness: Harness) -> None:
    notes = harness.world.notes["firms"]
    crm_before, ajera_before = len(_crm_firms(harness)), len(_ajera_clients(harness))

    first = harness.run(**FIRMS)
    assert _state(first) == "success"
    pairs = {(m.ajera_key, m.crm_key) for m in harness.mappings()}

    # Exact and case-only names are linked, near misses and duplicates are not.
    for planted in notes["exact"] + notes["case_only"]:
        assert (str(planted["ajera"]), planted["crm"]) in pairs, planted
    linked_ajera = {a for a, _ in pairs}
    linked_crm = {c for _, c in pairs}
    for near in notes["near_miss"]:
        assert (str(near["ajera"]), near["crm"]) not in pairs, near
    for dup in notes["duplicates"]:
        assert not {str(k) for k in dup["ajera"]} & linked_ajera or not set(dup["crm"]) & linked_crm
    log = harness.log(first.run_id)
    assert any(row.action == "ambiguous" for row in log), "duplicate names must be logged for review"

    # Every flagged, unmatched firm now exists on the other side, once.
    crm_after, ajera_after = _crm_firms(harness), _ajera_clients(harness)
    counts = harness.counts(first.run_id)
    created_in_crm = counts.get(("firm", "ajera_to_crm", "created"), 0)
    created_in_ajera = counts.get(("firm", "crm_to_ajera", "created"), 0)
    assert created_in_crm > 0 and created_in_ajera > 0
    assert len(crm_after) == crm_before + created_in_crm
    assert len(ajera_after) == ajera_before + created_in_ajera
    # Ajera keeps no sync flag on clients: every one that was not ambiguous now has a CRM firm.
    # (Not those with a same name twice, nor those with a match suggestion waiting for review.)
    notes = harness.world.notes["firms"]
    ambiguous = {exact_key(d["name"]) for d in notes["duplicates"]} | {
        exact_key(p["ajera_name"]) for p in notes["near_miss"]}
    crm_names = _names(crm_after, "Name")
    for client in ajera_after:
        if exact_key(client["Description"]) in ambiguous:
            continue
        assert crm_names[exact_key(client["Description"])] >= 1, client["Description"]
    assert any(row.message == "Sync Completed" or "Sync Completed" in row.message for row in log)

    second = harness.run(**FIRMS)
    assert _state(second) == "success"
    counts2 = harness.counts(second.run_id)
    changed = {k: n for k, n in counts2.items() if k[2] in ("created", "updated", "mapped", "unlinked", "error")}
    assert changed == {}, f"second run changed things: {changed}"
    assert len(_crm_firms(harness)) == len(crm_after)
    assert len(_ajera_clients(harness)) == len(ajera_after)


def test_edits_on_either_side_reach_the_other(harness: Harness) -> None:
    assert _state(harness.run(**FIRMS)) == "success"
    # Pairs marked to sync (once mapped, a pair flagged on neither side is not considered).
    flagged = {c["ClientID"] for c in harness.crm.list("firm", filters=[("AjeraSync", "=", "Y")], fields=["Name"])}
    mapping, other = [m for m in harness.mappings() if m.crm_key in flagged][:2]

    # CRM edit -> Ajera
    harness.crm.update("firm", mapping.crm_key, {"PrimaryPhone": "555-0100", "PrimaryCity": "Tucson"})
    # Ajera edit -> CRM (update with the unchanged baseline, as a person's edit in Ajera would)
    baseline = harness.ajera.get("Clients", [int(other.ajera_key)])[0]
    edited = {**baseline, "Email": "new-address@example.com"}
    harness.ajera.update("Clients", [edited], [baseline])

    run = harness.run(**FIRMS)
    assert _state(run) == "success"
    ajera_record = harness.ajera.get("Clients", [int(mapping.ajera_key)])[0]
    assert ajera_record["PrimaryPhoneNumber"] == "555-0100" and ajera_record["PrimaryAddressCity"] == "Tucson"
    crm_record = harness.crm.get("firm", other.crm_key)
    assert crm_record["PrimaryEmail"] == "new-address@example.com"
    counts = harness.counts(run.run_id)
    assert counts.get(("firm", "crm_to_ajera", "updated")) == 1
    assert counts.get(("firm", "ajera_to_crm", "updated")) == 1

    # Our own writes do not come back as changes.
    again = harness.run(**FIRMS)
    assert not [k for k in harness.counts(again.run_id) if k[2] in ("updated", "created", "conflict")]


def test_rerun_after_a_failed_apply_creates_no_duplicate(harness: Harness) -> None:
    # Every CRM write fails for longer than the client and the task retries last: the run fails.
    harness.crm_sim.faults(error_rate=1.0)
    harness.ajera_sim.faults(error_rate=0.0)
    failed = harness.run(**FIRMS)
    assert _state(failed) == "failed"
    assert any(r.action == "error" for r in harness.log(failed.run_id))

    # The CRM comes back; a re-run finishes the job with no firm created twice on either side.
    harness.crm_sim.faults(error_rate=0.0)
    rerun = harness.run(**FIRMS)
    assert _state(rerun) == "success"
    for records, field in ((_crm_firms(harness), "Name"), (_ajera_clients(harness), "Description")):
        created = [r for r in records]
        by_name = _names(created, field)
        planted_dups = {exact_key(d["name"]) for d in harness.world.notes["firms"]["duplicates"]}
        twice = {n: c for n, c in by_name.items() if c > 1 and n not in planted_dups}
        assert twice == {}, f"duplicates after re-run: {twice}"
    third = harness.run(**FIRMS)
    assert not [k for k in harness.counts(third.run_id) if k[2] in ("created", "updated")]


def test_a_create_that_timed_out_is_looked_up_not_repeated(harness: Harness) -> None:
    # The CRM answers the next create too late: the client gives up (the create did happen). The task
    # retry must find the firm by name and link it instead of creating it again.
    names_before = _names(_crm_firms(harness), "Name")
    harness.crm_sim.faults(hang_next=1, hang_seconds=3, match="POST /api/firm")
    run = harness.run(**FIRMS)
    assert _state(run) == "success"
    after = _names(_crm_firms(harness), "Name")
    grown = {n: after[n] - names_before.get(n, 0) for n in after if after[n] > names_before.get(n, 0)}
    assert grown and all(v == 1 for v in grown.values()), grown
    assert any(r.action == "mapped" and "interrupted create" in r.message for r in harness.log(run.run_id))

