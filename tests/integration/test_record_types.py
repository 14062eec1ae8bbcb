"""Every record type end to end, in-process (include.sync.runner) against both simulators over HTTP.

Each test asserts on the simulators' state *and* on the sync database (integration log, mapping table,
match suggestions, conflicts, watermarks). Record types are run with the types they depend on, so a
contact or project test also syncs the firms (and employees) it refers to.

Deletes are tested on the CRM side only: the Ajera API has no delete method, and the Ajera simulator
(simulators/ajera/) offers no other way to remove a record.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import text

from include.sync.names import exact_key
from tests.support.engine import Engine
from tests.support.record_sync import (
    EDIT,
    NEW_NAMES,
    TWO_WAY,
    TYPES,
    VALUES,
    WRITES,
    a_get,
    a_link_contact,
    a_list,
    a_names,
    a_update,
    a_value,
    ajera_writes,
    c_get,
    c_hub,
    c_names,
    c_value,
    check_created_in_ajera,
    check_created_in_crm,
    conflicts,
    crm_snapshot,
    crm_writes,
    log_rows,
    make_ajera,
    make_crm,
    pairs,
    planted,
    query,
    quiet_firm,
    refs,
    rt_of,
    suggestions,
    sync,
    usable_pairs,
    write_rows,
)

pytestmark = pytest.mark.integration

# ------------------------------------------------------------------------------- first-time matching


@pytest.mark.parametrize("t", TYPES)
def test_first_time_matching(engine: Engine, t: str) -> None:
    a_before, c_before = a_names(engine, t), c_names(engine, t)
    run = sync(engine, t).run_id
    mapped = pairs(engine, t)
    mapped_a = {a for a, _ in mapped}
    mapped_c = {c for _, c in mapped}
    mapped_rows = {(r.ajera_key, r.crm_key) for r in log_rows(engine, run, t, "mapped")}

    # Exact and case-only pairs are linked by name, logged as mapped, and both records are still there.
    for p in planted(engine, t, "exact") + planted(engine, t, "case_only"):
        key = (str(p["ajera"]), p["crm"])
        assert mapped.get(key) == "name_exact", (t, p)
        assert key in mapped_rows, (t, p)
        assert a_get(engine, t, p["ajera"]) is not None and c_get(engine, t, p["crm"]) is not None

    # Near misses: not linked, but proposed as match suggestions (and logged so); no record made for them.
    sugg = suggestions(engine, t)
    suggested_rows = {(r.ajera_key, r.crm_key) for r in log_rows(engine, run, t, "suggested")}
    assert planted(engine, t, "near_miss"), t
    for p in planted(engine, t, "near_miss"):
        key = (str(p["ajera"]), p["crm"])
        assert key[0] not in mapped_a and key[1] not in mapped_c, (t, p)
        assert sugg.get(key) == "proposed", (t, p, sugg)
        assert key in suggested_rows, (t, p)
        assert c_names(engine, t).count(exact_key(p["ajera_name"])) == 0, (t, p)
        assert a_names(engine, t).count(exact_key(p["crm_name"])) == 0, (t, p)

    # Duplicates: logged ambiguous with every key, never linked, nothing created under that name.
    a_after, c_after = a_names(engine, t), c_names(engine, t)
    ambiguous = log_rows(engine, run, t, "ambiguous")
    for dup in planted(engine, t, "duplicates"):
        a_keys = {str(k) for k in dup["ajera"]}
        c_keys = set(dup["crm"])
        assert not a_keys & mapped_a and not c_keys & mapped_c, (t, dup)
        rows = [r for r in ambiguous if set((r.ajera_key or "").split(",")) == a_keys
                and set((r.crm_key or "").split(",")) == c_keys]
        assert rows, (t, dup, ambiguous)
        assert "not linked" in rows[0].message
        name = exact_key(dup["name"])
        assert (a_after.count(name), c_after.count(name)) == (a_before.count(name), c_before.count(name))

    # The mapping table is one-to-one and every mapping is logged.
    assert len(mapped_a) == len(mapped_c) == len(mapped)
    methods = {m for m in mapped.values()}
    assert methods <= {"name_exact", "name_recheck", "created_in_crm", "created_in_ajera"}, methods


# ------------------------------------------------------------------------------------------- creates


@pytest.mark.parametrize("t", TYPES)
def test_create_each_way(engine: Engine, t: str) -> None:
    sync(engine, t)
    firm = quiet_firm(engine) if t == "contact" else ("", "")
    ajera_new = make_ajera(engine, t, firm)
    crm_new = make_crm(engine, t, firm)
    if t == "project":
        _, firm_c = sorted(pairs(engine, "firm"))[0]
        engine.crm.create("project", {
            "WBS1": "2099102.00", "Name": "Coldspring Fire Station No 9", "ChargeType": "R", "Status": "A",
            "ClientID": firm_c, "AjeraSync": "Y", "ProjectTemplate": ""})
    a_key = str(ajera_new[rt_of(t).ajera_key])
    c_key = crm_new[rt_of(t).crm_key]
    to_crm_name, to_ajera_name = (exact_key(n) for n in NEW_NAMES[t])

    run = sync(engine, t).run_id
    mapped = pairs(engine, t)
    by_a = {a: c for a, c in mapped}
    by_c = {c: a for a, c in mapped}

    # Ajera -> CRM: exactly one CRM record, mapped, logged, with the fields.
    assert c_names(engine, t).count(to_crm_name) == 1, (t, to_crm_name)
    assert mapped.get((a_key, by_a.get(a_key, ""))) == "created_in_crm", (t, a_key, by_a.get(a_key))
    crm_made = c_get(engine, t, by_a[a_key])
    check_created_in_crm(engine, t, a_get(engine, t, a_key), crm_made)
    created = [r for r in log_rows(engine, run, t, "created") if r.direction == "ajera_to_crm" and r.ajera_key == a_key]
    assert len(created) == 1 and created[0].crm_key == by_a[a_key], created

    if t in TWO_WAY:
        # CRM -> Ajera: exactly one Ajera record, mapped, logged, with the fields.
        assert a_names(engine, t).count(to_ajera_name) == 1, (t, to_ajera_name)
        assert mapped.get((by_c.get(c_key, ""), c_key)) == "created_in_ajera", (t, c_key)
        ajera_made = a_get(engine, t, by_c[c_key])
        check_created_in_ajera(engine, t, c_get(engine, t, c_key), ajera_made)
        created = [r for r in log_rows(engine, run, t, "created")
                   if r.direction == "crm_to_ajera" and r.crm_key == c_key]
        assert len(created) == 1 and created[0].ajera_key == by_c[c_key], created
    else:
        # Employees and vendors go Ajera -> CRM only: a CRM record is never created in Ajera.
        assert a_names(engine, t).count(to_ajera_name) == 0, (t, to_ajera_name)
        assert c_key not in by_c
        assert not [r for r in log_rows(engine, run, t) if r.crm_key == c_key and r.action in WRITES]
        assert not [r for r in log_rows(engine, run, t) if r.direction == "crm_to_ajera" and r.action in WRITES]

    if t == "project":
        # A flagged CRM project without an Ajera Project Template cannot be created: an error names it.
        errors = [r for r in log_rows(engine, run, t, "error") if r.crm_key == "2099102.00"]
        assert len(errors) == 1, log_rows(engine, run, t, "error")
        assert errors[0].record_name == "Coldspring Fire Station No 9"
        assert "Project Template" in errors[0].message
        assert a_names(engine, t).count(exact_key("Coldspring Fire Station No 9")) == 0
        assert "2099102.00" not in by_c

    # A further run creates nothing again (exactly once) and writes nothing.
    again = sync(engine, t).run_id
    assert write_rows(engine, again) == [], write_rows(engine, again)
    assert c_names(engine, t).count(to_crm_name) == 1
    assert a_names(engine, t).count(to_ajera_name) == (1 if t in TWO_WAY else 0)
    assert pairs(engine, t) == mapped


# ------------------------------------------------------------------------------ updates and no echo


@pytest.mark.parametrize("t", TYPES)
def test_update_each_way_without_echo(engine: Engine, t: str) -> None:
    sync(engine, t)
    (a1, c1), (a2, c2) = usable_pairs(engine, t)[:2]
    a_field, c_field, canonical = EDIT[t]
    from_ajera, from_crm = VALUES["ajera"][canonical], VALUES["crm"][canonical]

    a_update(engine, t, a1, **{a_field: from_ajera})  # pair 1: edited in Ajera
    engine.crm.update(c_hub(t), c2, {c_field: from_crm})  # pair 2: edited in the CRM
    ajera2_before = a_get(engine, t, a2)

    run = sync(engine, t).run_id
    assert c_value(t, c_get(engine, t, c1)) == from_ajera
    assert a_value(t, a_get(engine, t, a1)) == from_ajera
    # (A project's accounting from Ajera is logged on rows of its own: only the record's own update counts here.)
    updated = [r for r in log_rows(engine, run, t, "updated") if not (r.message or "").startswith("accounting")]
    rows1 = [r for r in updated if (r.ajera_key, r.crm_key) == (a1, c1)]
    assert len(rows1) == 1 and rows1[0].direction == "ajera_to_crm", updated
    assert canonical in rows1[0].message

    rows2 = [r for r in updated if (r.ajera_key, r.crm_key) == (a2, c2)]
    if t in TWO_WAY:
        assert a_value(t, a_get(engine, t, a2)) == from_crm
        assert len(rows2) == 1 and rows2[0].direction == "crm_to_ajera", updated
        assert canonical in rows2[0].message
    else:
        # One-way types: a CRM edit is not carried to Ajera (Ajera untouched, nothing logged as written).
        after = a_get(engine, t, a2)
        assert after == ajera2_before
        assert rows2 == []
        assert not [r for r in updated if r.direction in ("crm_to_ajera", "both")]
        assert c_value(t, c_get(engine, t, c2)) == from_crm  # and the CRM value is not reverted either

    # No echo: our own writes do not come back as changes.
    crm_before = crm_snapshot(engine)
    a1_before, a2_now = a_get(engine, t, a1), a_get(engine, t, a2)
    engine.crm_sim.reset_stats()
    engine.ajera_sim.reset_stats()
    echo = sync(engine, t).run_id
    assert write_rows(engine, echo) == [], write_rows(engine, echo)
    assert crm_writes(engine.crm_sim.stats()) == {}
    assert ajera_writes(engine.ajera_sim.stats()) == {}
    assert crm_snapshot(engine) == crm_before
    assert (a_get(engine, t, a1), a_get(engine, t, a2)) == (a1_before, a2_now)


# ---------------------------------------------------------------------------------------- conflicts


@pytest.mark.parametrize("t", TYPES)
def test_conflict_newer_side_or_owner_wins(engine: Engine, t: str) -> None:
    """Both sides changed; the CRM edit is later. Two-way types: the newer side (CRM) wins a shared field.
    One-way types: Ajera owns every field. Projects: the fee is Ajera's even though the CRM edited it later."""
    sync(engine, t)
    a1, c1 = usable_pairs(engine, t)[0]
    a_field, c_field, canonical = EDIT[t]
    a_val, c_val = VALUES["ajera"][canonical], VALUES["crm"][canonical]
    a_changes: dict[str, Any] = {a_field: a_val}
    c_changes: dict[str, Any] = {c_field: c_val}
    if t == "project":
        a_changes["TotalContractAmount"] = 111111.0
        c_changes["Fee"] = 222222.0
    a_update(engine, t, a1, **a_changes)
    time.sleep(0.05)
    engine.crm.update(c_hub(t), c1, c_changes)

    run = sync(engine, t, clock_skew_seconds=0).run_id
    ajera, crm = a_get(engine, t, a1), c_get(engine, t, c1)
    winner = c_val if t in TWO_WAY else a_val
    assert (a_value(t, ajera), c_value(t, crm)) == (winner, winner)

    found = {r.field_name: r for r in conflicts(engine, run, t) if (r.ajera_key, r.crm_key) == (a1, c1)}
    row = found.get(canonical)
    assert row is not None, found
    assert (row.ajera_value, row.crm_value) == (a_val, c_val)
    assert row.resolution == ("crm_wins" if t in TWO_WAY else "ajera_wins"), row
    logged = [r for r in log_rows(engine, run, t, "conflict") if (r.ajera_key, r.crm_key) == (a1, c1)]
    assert any(r.message.startswith(f"{canonical}:") and a_val in r.message and c_val in r.message
               and row.resolution in r.message for r in logged), logged

    if t == "project":
        assert float(ajera["TotalContractAmount"]) == 111111.0
        assert float(crm["Fee"]) == 111111.0
        fee = found.get("fee")
        assert fee is not None and fee.resolution == "ajera_wins", found
        assert (float(fee.ajera_value), float(fee.crm_value)) == (111111.0, 222222.0)
        assert "owns fee" in fee.reason
        assert any(r.message.startswith("fee:") and "111111" in r.message and "222222" in r.message
                   for r in logged), logged
    # Every conflict row is in the log with both values, and vice versa.
    logged_all = log_rows(engine, run, t, "conflict")
    rows_all = conflicts(engine, run, t)
    assert len(logged_all) == len(rows_all)
    for r in rows_all:
        assert any(row.ajera_key == r.ajera_key and row.crm_key == r.crm_key
                   and row.message.startswith(f"{r.field_name}:") and str(r.ajera_value) in row.message
                   and str(r.crm_value) in row.message and r.resolution in row.message for row in logged_all), r

    # The resolved pair does not echo: the next run writes nothing and logs no new conflict.
    quiet = sync(engine, t, clock_skew_seconds=0).run_id
    assert write_rows(engine, quiet) == [], write_rows(engine, quiet)
    assert conflicts(engine, quiet, t) == []
    assert (a_get(engine, t, a1), c_get(engine, t, c1)) == (ajera, crm)


@pytest.mark.parametrize("t", TWO_WAY)
def test_conflict_near_tie_goes_to_review(engine: Engine, t: str) -> None:
    sync(engine, t)
    a1, c1 = usable_pairs(engine, t)[0]
    a_field, c_field, canonical = EDIT[t]
    a_val, c_val = VALUES["ajera"][canonical], VALUES["crm"][canonical]
    a_update(engine, t, a1, **{a_field: a_val})
    engine.crm.update(c_hub(t), c1, {c_field: c_val})

    run = sync(engine, t, clock_skew_seconds=3600).run_id
    # Neither side is overwritten for that field.
    assert a_value(t, a_get(engine, t, a1)) == a_val
    assert c_value(t, c_get(engine, t, c1)) == c_val
    rows = [r for r in conflicts(engine, run, t) if (r.ajera_key, r.crm_key, r.field_name) == (a1, c1, canonical)]
    assert len(rows) == 1, conflicts(engine, run, t)
    assert (rows[0].resolution, rows[0].ajera_value, rows[0].crm_value) == ("review", a_val, c_val)
    assert "clock-skew" in rows[0].reason
    logged = [r for r in log_rows(engine, run, t, "conflict") if (r.ajera_key, r.crm_key) == (a1, c1)]
    assert any(r.message.startswith(f"{canonical}:") and "review" in r.message and a_val in r.message
               and c_val in r.message for r in logged), logged
    assert not [r for r in log_rows(engine, run, t, "updated")
                if (r.ajera_key, r.crm_key) == (a1, c1) and canonical in r.message]


# ------------------------------------------------------------------------------------ unlink on delete


@pytest.mark.parametrize("t", TYPES)
def test_crm_delete_unlinks(engine: Engine, t: str) -> None:
    sync(engine, t)
    a1, c1 = usable_pairs(engine, t)[0]
    assert engine.crm.delete(c_hub(t), c1)

    run = sync(engine, t, deletion_sweep_hours=0).run_id  # the sweep that finds deletions, due at every run
    assert (a1, c1) not in pairs(engine, t)
    assert a1 not in {a for a, _ in pairs(engine, t)}
    unlinked = [r for r in log_rows(engine, run, t, "unlinked") if (r.ajera_key, r.crm_key) == (a1, c1)]
    assert len(unlinked) == 1, log_rows(engine, run, t, "unlinked")
    assert "no longer exists" in unlinked[0].message and "mapping removed" in unlinked[0].message
    # Unlink, never delete: the Ajera record is still there, untouched in this run.
    assert a_get(engine, t, a1) is not None
    assert c_get(engine, t, c1) is None
    assert not [r for r in log_rows(engine, run, t) if r.ajera_key == a1 and r.action in WRITES]


# --------------------------------------------------------------------------------------- contact cap


def test_contact_cap(engine: Engine) -> None:
    sync(engine, "contact")
    firm_a, firm_c = quiet_firm(engine)
    made = [engine.crm.create("contact", {"FirstName": first, "LastName": "Capwell", "ClientID": firm_c,
                                          "AjeraSync": "Y", "Title": "Reviewer"})
            for first in ("Abel", "Bianca", "Cosmo", "Delphine", "Eamon", "Florian")]
    keys = [c["ContactID"] for c in made]

    run = sync(engine, "contact").run_id
    by_c = {c: a for a, c in pairs(engine, "contact")}
    created = [k for k in keys if k in by_c]
    assert len(created) == 5, created
    ajera = engine.ajera.get("Contacts", [int(by_c[k]) for k in created])
    assert {str(c["ContactClientKey"]) for c in ajera} == {firm_a}
    assert sum(1 for n in a_names(engine, "contact") if n.endswith("capwell")) == 5
    left = [k for k in keys if k not in by_c]
    skipped = [r for r in log_rows(engine, run, "contact", "skipped") if r.crm_key in left]
    assert len(skipped) == 1, log_rows(engine, run, "contact", "skipped")
    assert "5 synced contacts" in skipped[0].message and "contact_cap" in skipped[0].message

    run = sync(engine, "contact", contact_cap=6).run_id
    by_c = {c: a for a, c in pairs(engine, "contact")}
    assert all(k in by_c for k in keys)
    assert sum(1 for n in a_names(engine, "contact") if n.endswith("capwell")) == 6
    assert [r.crm_key for r in log_rows(engine, run, "contact", "created")] == left
    assert str(a_get(engine, "contact", by_c[left[0]])["ContactClientKey"]) == firm_a


# ------------------------------------------------------------------------------------ one-way mode


def test_one_way_mode_writes_only_ajera(engine: Engine) -> None:
    before = crm_snapshot(engine)
    engine.crm_sim.reset_stats()
    first = engine.sync(mode="one_way")
    assert first.completed, first.lines()
    counts = engine.counts(first.run_id)
    assert counts.get(("firm", "crm_to_ajera", "created"), 0) > 0
    assert counts.get(("contact", "crm_to_ajera", "created"), 0) > 0
    assert not [k for k in counts if k[1] in ("ajera_to_crm", "both") and k[2] in ("created", "updated")]

    # Edits on both sides of mapped firms: only the CRM's reaches Ajera.
    (a1, c1), (a2, c2) = usable_pairs(engine, "firm")[:2]
    a_update(engine, "firm", a1, PrimaryPhoneNumber="(555) 777-0001")
    engine.crm.update("firm", c2, {"PrimaryPhone": "(555) 777-0002"})
    before = {hub: {**rows, **({c2: c_get(engine, "firm", c2)["ModDate"]} if hub == "firm" else {})}
              for hub, rows in before.items()}
    engine.crm_sim.reset_stats()
    second = engine.sync(mode="one_way")
    assert second.completed
    assert a_get(engine, "firm", a2)["PrimaryPhoneNumber"] == "(555) 777-0002"
    assert c_get(engine, "firm", c1)["PrimaryPhone"] != "(555) 777-0001"
    assert engine.counts(second.run_id).get(("firm", "crm_to_ajera", "updated")) == 1
    # The CRM is never written: same records, same ModDates, no POST/PUT/DELETE.
    assert crm_snapshot(engine) == before
    assert crm_writes(engine.crm_sim.stats()) == {}


# ------------------------------------------------------------------------------------------ dry run


def test_dry_run_changes_nothing_then_real_run_does_the_work(engine: Engine) -> None:
    crm_before = crm_snapshot(engine)
    ajera_before = {t: a_list(engine, t) for t in TYPES}
    engine.crm_sim.reset_stats()
    engine.ajera_sim.reset_stats()
    dry = engine.sync(dry_run=True)
    assert dry.completed, dry.lines()

    assert crm_writes(engine.crm_sim.stats()) == {}
    assert ajera_writes(engine.ajera_sim.stats()) == {}
    assert crm_snapshot(engine) == crm_before
    assert {t: a_list(engine, t) for t in TYPES} == ajera_before
    for t in TYPES:
        assert engine.mappings(t) == [], t
    assert query(engine, "SELECT * FROM watermark") == []
    assert query(engine, "SELECT * FROM match_suggestion") == []
    assert query(engine, "SELECT * FROM sync_conflict") == []
    log = engine.log(dry.run_id)
    planned = [r for r in log if r.action == "planned"]
    assert {r.record_type for r in planned} == set(TYPES)
    assert all(r.message.startswith("dry run: ") for r in planned)
    assert not [r for r in log if r.action in WRITES]

    real = engine.sync()
    assert real.completed
    counts = engine.counts(real.run_id)
    for t in TYPES:
        assert counts.get((t, "both", "mapped"), 0) > 0, t
        assert engine.mappings(t), t
    assert counts.get(("firm", "ajera_to_crm", "created"), 0) > 0
    assert counts.get(("firm", "crm_to_ajera", "created"), 0) > 0
    # What the dry run planned to link, the real run linked.
    would_link = {(r.record_type, r.ajera_key, r.crm_key) for r in planned if "would link" in r.message}
    linked = {(t, m.ajera_key, m.crm_key) for t in TYPES for m in engine.mappings(t)}
    assert would_link and would_link <= linked
    assert len(query(engine, "SELECT * FROM watermark")) == 2 * len(TYPES)


# ---------------------------------------------------------------------------- accepted suggestion


@pytest.mark.parametrize("t", TYPES)
def test_accepted_suggestion_links_the_pair(engine: Engine, t: str) -> None:
    sync(engine, t)
    near = planted(engine, t, "near_miss")[0]
    a_key, c_key = str(near["ajera"]), near["crm"]
    assert suggestions(engine, t).get((a_key, c_key)) == "proposed"
    a_before, c_before = a_names(engine, t), c_names(engine, t)
    with engine.db.engine.begin() as conn:
        done = conn.execute(text("UPDATE match_suggestion SET status = :s WHERE record_type = :t "
                                 "AND ajera_key = :a AND crm_key = :c"),
                            {"s": "accepted", "t": t, "a": a_key, "c": c_key})
        assert done.rowcount == 1

    run = sync(engine, t).run_id
    assert pairs(engine, t).get((a_key, c_key)) == "suggestion"
    assert suggestions(engine, t)[(a_key, c_key)] == "linked"
    mapped = [r for r in log_rows(engine, run, t, "mapped") if (r.ajera_key, r.crm_key) == (a_key, c_key)]
    assert len(mapped) == 1 and "accepted match suggestion" in mapped[0].message
    # Linked, not created: both records still there and nothing new made under either name.
    assert a_get(engine, t, a_key) is not None and c_get(engine, t, c_key) is not None
    assert not [r for r in log_rows(engine, run, t, "created") if r.ajera_key == a_key or r.crm_key == c_key]
    assert len(a_names(engine, t)) == len(a_before) and len(c_names(engine, t)) == len(c_before)
    # The link reconciled the pair: both sides now carry the same name (the newer side's, or Ajera's for the
    # one-way types), and the next run has nothing to do for it.
    ajera, crm = a_get(engine, t, a_key), c_get(engine, t, c_key)
    assert exact_key(rt_of(t).ajera_name(ajera)) == exact_key(rt_of(t).crm_name(crm)), (ajera, crm)
    if t not in TWO_WAY:
        assert rt_of(t).crm_name(crm) == near["ajera_name"]
    quiet = sync(engine, t).run_id
    assert write_rows(engine, quiet) == [], write_rows(engine, quiet)


# ---------------------------------------------------------------------------------- closed projects


def test_closed_project_created_only_when_asked(engine: Engine) -> None:
    ajera_only = {int(k) for k in planted(engine, "project", "ajera_only")}
    closed = [p for p in engine.ajera.get("Projects", sorted(ajera_only))
              if p["Status"] == "Closed" and (p["SyncToCRM"] or p["CreateInCRM"])]
    assert closed
    project = closed[0]
    key, name = str(project["ProjectKey"]), project["Description"]

    run = sync(engine, "project").run_id
    assert key not in {a for a, _ in pairs(engine, "project")}
    assert c_get(engine, "project", project["ID"]) is None
    assert c_names(engine, "project").count(exact_key(name)) == 0
    skipped = [r for r in log_rows(engine, run, "project", "skipped") if r.ajera_key == key]
    assert len(skipped) == 1 and "closed" in skipped[0].message, skipped

    run = sync(engine, "project", sync_closed_projects=True).run_id
    by_a = {a: c for a, c in pairs(engine, "project")}
    assert key in by_a
    crm = c_get(engine, "project", by_a[key])
    assert crm["WBS1"] == project["ID"] and crm["Status"] == "D"
    assert c_names(engine, "project").count(exact_key(name)) == 1
    created = [r for r in log_rows(engine, run, "project", "created") if r.ajera_key == key]
    assert len(created) == 1 and created[0].direction == "ajera_to_crm"


# ------------------------------------------------------------------------------------- project client


def test_project_client_is_ajeras_first_invoice_group_and_set_only_at_create(engine: Engine) -> None:
    """Ajera keeps a project's client on its invoice groups and takes it only at create: the sync reads the
    first group's client; a CRM edit of a mapped project's firm is put back to Ajera's, logged as an update."""
    sync(engine, "project")
    firm_by_a = dict(pairs(engine, "firm").keys())
    a1, c1 = next((a, c) for a, c in usable_pairs(engine, "project")
                  if str(a_get(engine, "project", a)["InvoiceGroups"][0]["ClientKey"]) in firm_by_a)
    ajera = a_get(engine, "project", a1)
    first_client = str(ajera["InvoiceGroups"][0]["ClientKey"])
    assert c_get(engine, "project", c1)["ClientID"] == firm_by_a[first_client]
    other = next(c for a, c in sorted(firm_by_a.items()) if a != first_client)
    engine.crm.update("project", c1, {"ClientID": other})

    run = sync(engine, "project").run_id
    assert [str(g["ClientKey"]) for g in a_get(engine, "project", a1)["InvoiceGroups"]] == \
        [str(g["ClientKey"]) for g in ajera["InvoiceGroups"]]  # Ajera untouched
    assert c_get(engine, "project", c1)["ClientID"] == firm_by_a[first_client]
    rows = [r for r in log_rows(engine, run, "project", "updated") if r.crm_key == c1]
    assert len(rows) == 1 and rows[0].direction == "ajera_to_crm" and "firm" in rows[0].message, rows
    quiet = sync(engine, "project").run_id
    assert write_rows(engine, quiet) == [], write_rows(engine, quiet)


# ------------------------------------------------------------------------------------- contact's firm


def test_contact_moved_to_another_firm_either_way(engine: Engine) -> None:
    """A contact's firm reaches Ajera through the clients' Contacts[] (off the old client, onto the new one),
    and an Ajera move (made the same way) reaches the CRM's ClientID; neither comes back as an echo."""
    sync(engine, "contact")
    firm_by_a = dict(pairs(engine, "firm").keys())
    by_c = {c: a for a, c in pairs(engine, "contact")}
    moved_c = next(c for c in sorted(by_c) if c_get(engine, "contact", c)["ClientID"]
                   and a_get(engine, "contact", by_c[c])["ContactClientKey"])
    moved_a = by_c[moved_c]
    old_a = str(a_get(engine, "contact", moved_a)["ContactClientKey"])
    new_a, new_c = quiet_firm(engine)
    assert new_a != old_a

    engine.crm.update("contact", moved_c, {"ClientID": new_c})
    run = sync(engine, "contact").run_id
    assert str(a_get(engine, "contact", moved_a)["ContactClientKey"]) == new_a
    assert int(moved_a) in {c["ContactKey"] for c in a_get(engine, "firm", new_a)["Contacts"]}
    assert int(moved_a) not in {c["ContactKey"] for c in a_get(engine, "firm", old_a)["Contacts"]}
    rows = [r for r in log_rows(engine, run, "contact", "updated") if r.crm_key == moved_c]
    assert len(rows) == 1 and rows[0].direction == "crm_to_ajera" and "firm" in rows[0].message, rows
    quiet = sync(engine, "contact").run_id
    assert write_rows(engine, quiet) == [], write_rows(engine, quiet)

    # Back in Ajera, the way Ajera takes it: listed on the old client again.
    a_link_contact(engine, moved_a, old_a)
    assert int(moved_a) not in {c["ContactKey"] for c in a_get(engine, "firm", new_a)["Contacts"]}
    run = sync(engine, "contact").run_id
    assert c_get(engine, "contact", moved_c)["ClientID"] == firm_by_a[old_a]
    rows = [r for r in log_rows(engine, run, "contact", "updated") if r.crm_key == moved_c]
    assert len(rows) == 1 and rows[0].direction == "ajera_to_crm", rows
    quiet = sync(engine, "contact").run_id
    assert write_rows(engine, quiet) == [], write_rows(engine, quiet)


def test_contact_link_is_reapplied_when_the_client_was_edited_meanwhile(engine: Engine,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The firm link goes through an Update of the client with its baseline; a client edited between that read
    and the write is refused as stale, read again and linked, not left half done."""
    from include.sync.systems import AjeraSide

    sync(engine, "contact")
    contact_a = next(a for a, _ in sorted(pairs(engine, "contact")) if a_get(engine, "contact", a)["ContactClientKey"])
    baseline = a_get(engine, "contact", contact_a)
    new_a, _ = quiet_firm(engine)
    original_get = engine.ajera.get
    meddled: list[str] = []

    def get(entity: str, keys: Any) -> list[dict[str, Any]]:
        rows = original_get(entity, keys)
        if entity == "Clients" and not meddled:
            meddled.append("yes")  # someone edits the new client in Ajera right after the sync read it
            base = next(r for r in rows if str(r["ClientKey"]) == new_a)
            assert not engine.ajera.update("Clients", [{**base, "Notes": "edited meanwhile"}], [base]).errors
        return rows

    monkeypatch.setattr(engine.ajera, "get", get)
    outcome = AjeraSide(engine.ajera, refs(engine)).write(rt_of("contact"), {}, {contact_a: ({"firm": f"A:{new_a}"},
                                                                                             baseline)})
    assert meddled and outcome.errors == {}
    assert outcome.saved[contact_a].fields["firm"] == f"A:{new_a}"
    client = a_get(engine, "firm", new_a)
    assert client["Notes"] == "edited meanwhile" and int(contact_a) in {c["ContactKey"] for c in client["Contacts"]}

