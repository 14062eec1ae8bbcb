"""Project contacts, Ajera -> CRM, through the sync's own steps against both simulators over HTTP: at most
the cap per project in Ajera's Order with one log row for each contact after it, nothing added twice or
written when nothing changed, a contact not mapped yet waits and arrives once mapped."""

from __future__ import annotations

from typing import Any

import requests

from tests.support.engine import Engine


def set_contacts(engine: Engine, project: str, ordered: dict[str, int]) -> None:
    """List these contacts (key -> Order) on the Ajera project, as its Contacts tab does."""
    response = requests.post(f"{engine.ajera_sim.url}/_sim/project_contacts", timeout=5, json={
        "ProjectKey": int(project), "Contacts": [{"ContactKey": int(k), "Order": o} for k, o in ordered.items()]})
    assert response.ok, response.text


def team_contacts(engine: Engine, wbs1: str) -> list[str]:
    return [r["ContactID"] for r in engine.crm.grid("project", wbs1, "teammember") if r["RecordType"] == "Contact"]


def contact_rows(engine: Engine, action: str) -> list[Any]:
    return [r for r in engine.log(f"test-run-{engine.runs:03d}")
            if r.record_type == "project_contact" and r.action == action]


def quiet_project(engine: Engine) -> tuple[str, str]:
    """A mapped project that no generated contact is on (its CRM team has no contact yet)."""
    listed = {str(r["ProjectKey"]) for r in engine.world.ajera["ProjectContacts"]}
    for ajera_key, wbs1 in sorted(engine.pairs("project").items(), key=lambda p: int(p[0])):
        if ajera_key not in listed and not team_contacts(engine, wbs1):
            return ajera_key, wbs1
    raise AssertionError("no mapped project without contacts in the world")


def test_cap_respected_in_ajera_order_and_the_next_ones_logged(engine: Engine) -> None:
    assert engine.sync().completed
    project, wbs1 = quiet_project(engine)
    contacts = engine.pairs("contact")
    seven = sorted(contacts, key=int)[:7]
    orders = dict(zip(seven, (7, 1, 6, 2, 5, 3, 4)))  # Ajera's Order is not the list order
    set_contacts(engine, project, orders)

    summary = engine.sync()
    assert summary.completed, summary.lines()
    by_order = sorted(seven, key=orders.__getitem__)
    assert sorted(team_contacts(engine, wbs1)) == sorted(contacts[k] for k in by_order[:5])
    over = [r for r in contact_rows(engine, "skipped") if r.ajera_key == project]
    assert len(over) == 2 and all(r.crm_key == wbs1 for r in over)
    for row, contact in zip(over, by_order[5:]):
        assert "over the cap of 5 contacts per project" in row.message and f"Ajera contact {contact})" in row.message
        assert row.record_name and row.record_name in row.message  # the project, by ID and name
    added = [r for r in contact_rows(engine, "updated") if r.ajera_key == project]
    assert len(added) == 1

    # The cap is an option: raised to 6, the sixth in Ajera's Order joins (the project itself unchanged).
    assert engine.sync(project_contact_cap=6).completed
    assert sorted(team_contacts(engine, wbs1)) == sorted(contacts[k] for k in by_order[:6])
    # The seventh was logged once, when the list was read: not again while the list stays the same.
    assert not [r for r in contact_rows(engine, "skipped") if r.ajera_key == project]


def test_generated_contacts_are_placed_once_and_an_unchanged_rerun_writes_nothing(engine: Engine) -> None:
    engine.ajera_sim.reset_stats()
    assert engine.sync().completed
    # The lists came with the consultants' read (25 projects a call): no Ajera call of their own.
    assert engine.ajera_sim.stats().get("GetProjectsWithResources", 0) == -(-len(engine.pairs("project")) // 25)
    placed = [r for r in engine.db.rows("select_project_contacts") if r.crm_contact]
    assert placed, "the generated world puts contacts on mapped projects"
    projects = {r.crm_project for r in placed}
    for wbs1 in projects:
        team = team_contacts(engine, wbs1)
        assert len(team) == len(set(team)) <= 5
    assert any(len(team_contacts(engine, w)) == 5 for w in projects), "a generated project over the cap"
    teams = {w: sorted(team_contacts(engine, w)) for w in projects}

    # Nothing changed: no CRM write at all.
    engine.crm_sim.reset_stats()
    assert engine.sync().completed
    assert engine.crm_sim.stats().get("PUT /api/project", 0) == 0
    assert not contact_rows(engine, "updated")

    # The sync forgets what it placed (a crash between the CRM's answer and the record): the contacts are
    # found on the CRM team and recorded again, none added twice.
    with engine.db.begin() as tx:
        tx.conn.exec_driver_sql("UPDATE project_contact SET crm_project = NULL, crm_contact = NULL")
    engine.crm_sim.reset_stats()
    assert engine.sync().completed
    assert engine.crm_sim.stats().get("PUT /api/project", 0) == 0
    assert {w: sorted(team_contacts(engine, w)) for w in projects} == teams
    assert {(r.ajera_project, r.ajera_contact) for r in engine.db.rows("select_project_contacts") if r.crm_contact} \
        == {(r.ajera_project, r.ajera_contact) for r in placed}
    assert not contact_rows(engine, "error")

    # Ajera's project read again with the same list: nothing is written for its contacts.
    project = placed[0].ajera_project
    listed = next(r for r in engine.world.ajera["ProjectContacts"] if str(r["ProjectKey"]) == project)
    set_contacts(engine, project, {str(c["ContactKey"]): c["Order"] for c in listed["Contacts"]})
    assert engine.sync().completed
    assert not contact_rows(engine, "updated")
    assert sorted(team_contacts(engine, placed[0].crm_project)) == teams[placed[0].crm_project]


def test_contact_not_mapped_yet_waits_then_arrives(engine: Engine) -> None:
    assert engine.sync().completed
    project, wbs1 = quiet_project(engine)
    saved = engine.ajera.update("Contacts", [{"ContactKey": -1, "FirstName": "Imani", "LastName": "Castellanos",
                                              "Title": "Owner's representative"}], [])
    newcomer = str(saved.saved[0]["ContactKey"])
    known = sorted(engine.pairs("contact"), key=int)[0]
    set_contacts(engine, project, {newcomer: 1, known: 2})

    summary = engine.sync(record_types=("firm", "employee", "vendor", "project"))  # contacts not synced
    assert summary.completed, summary.lines()
    waiting = [r for r in contact_rows(engine, "skipped") if f"Ajera contact {newcomer})" in r.message]
    assert waiting and waiting[0].ajera_key == project and waiting[0].crm_key == wbs1
    assert "waits for the contact to be synced" in waiting[0].message
    assert team_contacts(engine, wbs1) == [engine.pairs("contact")[known]]
    # Still waiting in the next run: told once, not again.
    again = engine.sync(record_types=("firm", "employee", "vendor", "project"))
    assert again.completed and not [r for r in engine.log(again.run_id) if f"Ajera contact {newcomer})" in r.message]

    assert engine.sync().completed  # the contact is synced, then joins the project in the same run
    crm_contact = engine.pairs("contact")[newcomer]
    assert sorted(team_contacts(engine, wbs1)) == sorted([engine.pairs("contact")[known], crm_contact])
    arrived = [r for r in contact_rows(engine, "updated") if r.ajera_key == project]
    assert len(arrived) == 1 and "Imani Castellanos" in arrived[0].message
    assert not [r for r in contact_rows(engine, "skipped") if f"Ajera contact {newcomer})" in r.message]
