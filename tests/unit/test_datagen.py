"""The seed-data generator: deterministic, sized, consistent, and messy in the planted ways."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, date, datetime

import pytest

from include.sync.model import parse_ajera_date
from include.sync.names import exact_key, normalised
from simulators.datagen import (
    BILLING_TYPES,
    CONTACTS_SYNC_CAP,
    Sizes,
    World,
    describe,
    generate,
    normalize_name,
    person_name,
    planted,
)

SMALL = Sizes(firms=30, contacts=50, employees=15, vendors=12, projects=40, templates=2)
# Ajera's own form: "2023-09-27 09:57:49.607 GMT-04:00 (Eastern Daylight Time)"
AJERA_DATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} GMT[+-]\d{2}:\d{2} \([A-Za-z ]+\)$")
CRM_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$")
HEX32 = re.compile(r"^[0-9A-F]{32}$")


@pytest.fixture(scope="module")
def world() -> World:
    return generate()


def full(rec: dict) -> str:
    return person_name(rec["FirstName"], rec["MiddleName"], rec["LastName"])


# The name each record is matched by, per record type: (Ajera list, Ajera key, Ajera name) / (CRM ...).
def _names(world: World, kind: str) -> tuple[dict, dict]:
    if kind == "firms":
        a = {r["ClientKey"]: r["Description"] for r in world.ajera["Clients"]}
        c = {r["ClientID"]: r["Name"] for r in world.crm["firm"] if r["ClientInd"] == "Y"}
    elif kind == "vendors":
        a = {r["VendorKey"]: r["Name"] for r in world.ajera["Vendors"]}
        c = {r["ClientID"]: r["Name"] for r in world.crm["firm"] if r["VendorInd"] == "Y"}
    elif kind == "contacts":
        a = {r["ContactKey"]: full(r) for r in world.ajera["Contacts"]}
        c = {r["ContactID"]: full(r) for r in world.crm["contact"]}
    elif kind == "employees":
        a = {r["EmployeeKey"]: full(r) for r in world.ajera["Employees"]}
        c = {r["Employee"]: full(r) for r in world.crm["employee"]}
    else:
        a = {r["ProjectKey"]: r["Description"] for r in world.ajera["Projects"]}
        c = {r["WBS1"]: r["LongName"] for r in world.crm["project"]}
    return a, c


KINDS = ["firms", "vendors", "contacts", "employees", "projects"]


def test_same_seed_is_byte_identical() -> None:
    assert generate(7, SMALL).to_json() == generate(7, SMALL).to_json()
    assert generate().to_json() == generate(42).to_json()


def test_different_seed_differs() -> None:
    one, two = generate(1, SMALL), generate(2, SMALL)
    assert one.to_json() != two.to_json()
    assert [c["Description"] for c in one.ajera["Clients"]] != [c["Description"] for c in two.ajera["Clients"]]


def test_world_is_json_serialisable_and_shaped(world: World) -> None:
    data = json.loads(world.to_json())
    assert set(data["ajera"]) == {"Clients", "Contacts", "Employees", "Vendors", "Projects", "InvoiceGroups",
                                  "Phases", "Resources", "ProjectTemplates", "Timesheets", "ProjectContacts"}
    assert set(data["crm"]) == {"firm", "contact", "employee", "project", "firmClient", "projectEmployee"}


def test_some_projects_list_contacts_and_some_more_than_five(world: World) -> None:
    contacts = {c["ContactKey"] for c in world.ajera["Contacts"]}
    projects = {p["ProjectKey"] for p in world.ajera["Projects"]}
    rows = world.ajera["ProjectContacts"]
    assert 0 < len(rows) < len(projects) and {r["ProjectKey"] for r in rows} <= projects
    assert any(len(r["Contacts"]) > 5 for r in rows) and any(len(r["Contacts"]) <= 3 for r in rows)
    for row in rows:
        keys = [c["ContactKey"] for c in row["Contacts"]]
        orders = [c["Order"] for c in row["Contacts"]]
        assert set(keys) <= contacts and len(set(keys)) == len(keys) and len(set(orders)) == len(orders)
    assert any([c["Order"] for c in r["Contacts"]] != sorted(c["Order"] for c in r["Contacts"]) for r in rows)


@pytest.mark.parametrize("sizes", [Sizes(), SMALL, Sizes(firms=3, contacts=4, employees=2, vendors=2, projects=3,
                                                         templates=1)])
def test_sizes_respected(sizes: Sizes) -> None:
    w = generate(3, sizes)
    counts = describe(w)
    assert counts["ajera.Clients"] == sizes.firms
    assert sum(f["ClientInd"] == "Y" for f in w.crm["firm"]) == sizes.firms
    assert counts["ajera.Contacts"] == counts["crm.contact"] == sizes.contacts
    assert counts["ajera.Employees"] == counts["crm.employee"] == sizes.employees
    assert counts["ajera.Vendors"] == sizes.vendors
    assert counts["ajera.Projects"] == counts["crm.project"] == sizes.projects
    assert counts["ajera.ProjectTemplates"] == sizes.templates
    vendor_firms = [f for f in w.crm["firm"] if f["VendorInd"] == "Y"]
    assert len(vendor_firms) <= sizes.vendors
    assert all(f["ClientInd"] == "N" and f["AjeraSync"] == "N" for f in vendor_firms)


def test_empty_world() -> None:
    w = generate(1, Sizes(0, 0, 0, 0, 0, 0))
    assert all(n == 0 for n in describe(w).values())


def test_keys_unique_and_well_formed(world: World) -> None:
    for table, key in [("Clients", "ClientKey"), ("Contacts", "ContactKey"), ("Employees", "EmployeeKey"),
                       ("Vendors", "VendorKey"), ("Projects", "ProjectKey"), ("InvoiceGroups", "InvoiceGroupKey"),
                       ("Phases", "PhaseKey"), ("Resources", "ResourceKey"),
                       ("ProjectTemplates", "ProjectTemplateKey")]:
        keys = [r[key] for r in world.ajera[table]]
        assert len(keys) == len(set(keys)), table
        assert all(isinstance(k, int) and k > 0 for k in keys), table
    for hub, key in [("firm", "ClientID"), ("contact", "ContactID"), ("employee", "Employee"), ("project", "WBS1")]:
        keys = [r[key] for r in world.crm[hub]]
        assert len(keys) == len(set(keys)), hub
    assert all(HEX32.match(r["ClientID"]) for r in world.crm["firm"])
    assert all(HEX32.match(r["ContactID"]) for r in world.crm["contact"])
    assert all(re.fullmatch(r"\d{5}", r["Employee"]) for r in world.crm["employee"])
    assert all(re.fullmatch(r"\d{7}\.00", r["WBS1"]) for r in world.crm["project"])
    assert all(re.fullmatch(r"\d{4}-\d{3,}\.00", r["ID"]) for r in world.ajera["Projects"])
    assert len({r["ID"] for r in world.ajera["Projects"]}) == len(world.ajera["Projects"])


def test_dates_formatted_and_in_range(world: World) -> None:
    zones = set()
    for table in ("Clients", "Contacts", "Employees", "Vendors", "Projects"):
        for rec in world.ajera[table]:
            assert AJERA_DATE.match(rec["LastModifiedDate"]), rec
            modified = parse_ajera_date(rec["LastModifiedDate"])
            assert datetime(2025, 1, 1, tzinfo=UTC) <= modified <= datetime(2026, 7, 1, tzinfo=UTC)
            zones.add(rec["LastModifiedDate"][24:])
    assert len(zones) > 2, zones  # several offsets and zone names, standard and daylight time
    for hub in ("firm", "contact", "employee", "project"):
        for rec in world.crm[hub]:
            assert CRM_DATE.match(rec["ModDate"]) and CRM_DATE.match(rec["CreateDate"]), rec
            assert rec["CreateDate"] <= rec["ModDate"]
            assert "2025-01-01" <= rec["ModDate"][:10] <= "2026-06-30"


def test_field_limits(world: World) -> None:
    assert all(len(p["Name"]) <= 40 for p in world.crm["project"])
    assert all(len(p["LongName"]) <= 255 for p in world.crm["project"])
    assert all(len(p["Description"]) <= 80 for p in world.ajera["Projects"])
    assert all(len(c["Description"]) <= 80 for c in world.ajera["Clients"])
    assert all(len(f["Name"]) <= 100 for f in world.crm["firm"])
    for p in world.crm["project"]:
        assert p["Name"] == p["LongName"][:40].rstrip()


def test_long_project_names_carried_in_long_name(world: World) -> None:
    longs = planted(world)["projects"]["long_names"]
    assert len(longs) >= 10
    crm = {p["WBS1"]: p for p in world.crm["project"]}
    ajera = {p["ProjectKey"]: p for p in world.ajera["Projects"]}
    for pair in longs:
        a, c = ajera[pair["ajera"]], crm[pair["crm"]]
        assert len(a["Description"]) > 40
        assert len(c["Name"]) <= 40 and c["Name"] != c["LongName"]
        assert c["LongName"][:40].rstrip() == c["Name"]
        if pair["kind"] == "exact":
            assert c["LongName"] == a["Description"]
        elif pair["kind"] == "case_only":
            assert c["LongName"].casefold() == a["Description"].casefold()
    assert any(p["kind"] == "exact" for p in longs)


def test_unique_ajera_contact_full_names(world: World) -> None:
    names = [exact_key(full(c)) for c in world.ajera["Contacts"]]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("kind", KINDS)
def test_planted_pairs(world: World, kind: str) -> None:
    notes = planted(world)[kind]
    a_names, c_names = _names(world, kind)
    for pair in notes["exact"]:
        assert a_names[pair["ajera"]] == c_names[pair["crm"]] == pair["ajera_name"] == pair["crm_name"]
    for pair in notes["case_only"]:
        a, c = a_names[pair["ajera"]], c_names[pair["crm"]]
        assert a != c and a.casefold() == c.casefold() and exact_key(a) == exact_key(c)
    for pair in notes["near_miss"]:
        a, c = a_names[pair["ajera"]], c_names[pair["crm"]]
        assert a.casefold() != c.casefold() and exact_key(a) != exact_key(c)
        assert normalize_name(a) == normalize_name(c)
        assert normalised(a) == normalised(c)  # the sync engine's own normaliser pairs them too
    for dup in notes["duplicates"]:
        side_keys = dup["ajera"] if dup["side"] == "ajera" else dup["crm"]
        names = a_names if dup["side"] == "ajera" else c_names
        assert len(side_keys) == 2 and names[side_keys[0]] == names[side_keys[1]] == dup["name"]
        other = dup["crm"] if dup["side"] == "ajera" else dup["ajera"]
        assert [(c_names if dup["side"] == "ajera" else a_names)[k] for k in other] == [dup["name"]]
    # the planted counts are what the data holds: every case-insensitive match is a planted one
    a_by = Counter(exact_key(n) for n in a_names.values())
    c_by = Counter(exact_key(n) for n in c_names.values())
    matched = {k for k in a_by if k in c_by}
    expected = {exact_key(p["ajera_name"]) for p in notes["exact"] + notes["case_only"]}
    expected |= {exact_key(d["name"]) for d in notes["duplicates"]}
    assert matched == expected
    # and no unplanned near-miss pairs either
    a_norm = {normalize_name(n) for n in a_names.values()}
    c_norm = {normalize_name(n) for n in c_names.values()}
    near = {normalize_name(p["ajera_name"]) for p in notes["near_miss"]}
    assert (a_norm & c_norm) - {normalize_name(n) for n in expected_names(notes)} == near
    # only-one-side records have no partner under any rule
    for key in notes["ajera_only"]:
        assert normalize_name(a_names[key]) not in c_norm
    for key in notes["crm_only"]:
        assert normalize_name(c_names[key]) not in a_norm


def expected_names(notes: dict) -> list[str]:
    return ([p["ajera_name"] for p in notes["exact"] + notes["case_only"]] + [d["name"] for d in notes["duplicates"]])


def test_planted_counts_at_default_sizes(world: World) -> None:
    notes = planted(world)
    for kind in KINDS:
        assert len(notes[kind]["exact"]) >= 10, kind
        assert len(notes[kind]["case_only"]) >= 2, kind
        assert len(notes[kind]["near_miss"]) >= 3, kind
        assert len(notes[kind]["duplicates"]) >= 1, kind
        assert notes[kind]["ajera_only"] and notes[kind]["crm_only"], kind
    assert {d["side"] for d in notes["firms"]["duplicates"]} == {"ajera", "crm"}
    assert {d["side"] for d in notes["projects"]["duplicates"]} == {"ajera", "crm"}
    firm_kinds = {p["kind"] for p in notes["firms"]["near_miss"]}
    assert "suffix" in firm_kinds and len(firm_kinds) >= 3
    assert any("&" in p["ajera_name"] + p["crm_name"] for p in notes["firms"]["near_miss"])


def test_small_worlds_still_plant_every_kind() -> None:
    notes = planted(generate(5, SMALL))
    for kind in ("firms", "contacts", "employees", "projects"):
        assert notes[kind]["exact"] and notes[kind]["case_only"] and notes[kind]["near_miss"], kind


def test_contact_sync_cap(world: World) -> None:
    per_firm = Counter(c["ClientID"] for c in world.crm["contact"] if c["AjeraSync"] == "Y")
    assert per_firm and max(per_firm.values()) <= CONTACTS_SYNC_CAP
    cap_firm = planted(world)["flags"]["contact_cap_firm"]
    assert per_firm[cap_firm] == CONTACTS_SYNC_CAP
    assert sum(c["ClientID"] == cap_firm for c in world.crm["contact"]) > CONTACTS_SYNC_CAP


def test_flags_present(world: World) -> None:
    firms = world.crm["firm"]
    assert any(f["AjeraSync"] == "Y" for f in firms) and any(f["AjeraSync"] == "N" for f in firms)
    projects = world.ajera["Projects"]
    assert any(p["SyncToCRM"] for p in projects) and any(p["CreateInCRM"] for p in projects)
    assert any(p["Status"] == "Closed" for p in projects)
    template_keys = {str(t["ProjectTemplateKey"]) for t in world.ajera["ProjectTemplates"]}
    with_template = [p for p in world.crm["project"] if p["ProjectTemplate"]]
    assert with_template and all(p["ProjectTemplate"] in template_keys for p in with_template)
    assert any(p["AjeraSync"] == "Y" for p in world.crm["project"])


def test_templates_have_phases(world: World) -> None:
    """Templates are the version 1 project shape: invoice groups holding their phase trees."""
    for t in world.ajera["ProjectTemplates"]:
        phases = [p for g in t["InvoiceGroups"] for p in g["Phases"]]
        assert phases and all(p["ID"] and p["Description"] for p in phases)
        assert t["BillingType"] and t["RateTableKey"] and t["InvoiceGroups"][0]["InvoiceFormatKey"]
    first_group = world.ajera["ProjectTemplates"][0]["InvoiceGroups"][0]
    assert "Schematic Design" in {p["Description"] for p in first_group["Phases"]}


def test_every_project_has_invoice_group_and_phase(world: World) -> None:
    ig_projects = Counter(ig["ProjectKey"] for ig in world.ajera["InvoiceGroups"])
    phase_projects = Counter(p["ProjectKey"] for p in world.ajera["Phases"])
    for p in world.ajera["Projects"]:
        assert ig_projects[p["ProjectKey"]] >= 1 and phase_projects[p["ProjectKey"]] >= 1


def test_referential_integrity(world: World) -> None:
    a, c = world.ajera, world.crm
    clients = {r["ClientKey"]: r for r in a["Clients"]}
    employees = {r["EmployeeKey"] for r in a["Employees"]}
    vendors = {r["VendorKey"]: r for r in a["Vendors"]}
    projects = {r["ProjectKey"] for r in a["Projects"]}
    contacts = {r["ContactKey"] for r in a["Contacts"]}
    linked = Counter(ref["ContactKey"] for client in a["Clients"] for ref in client["Contacts"])
    assert linked and set(linked) <= contacts and max(linked.values()) == 1  # one client per contact
    for p in a["Projects"]:
        for role in ("ProjectManager", "PrincipalInCharge"):
            assert p[role] is None or p[role]["EmployeeKey"] in employees
    igs = {ig["InvoiceGroupKey"]: ig for ig in a["InvoiceGroups"]}
    for ig in a["InvoiceGroups"]:
        assert ig["ProjectKey"] in projects and ig["ClientKey"] in clients and ig["InvoiceFormatKey"]
    phases = {ph["PhaseKey"]: ph for ph in a["Phases"]}
    for ph in a["Phases"]:
        assert igs[ph["InvoiceGroupKey"]]["ProjectKey"] == ph["ProjectKey"]
        # a top-level phase's parent is its project; phase keys never equal a project key
        assert ph["ParentKey"] == ph["ProjectKey"] or phases[ph["ParentKey"]]["ProjectKey"] == ph["ProjectKey"]
        assert ph["PhaseKey"] not in projects
    assert any(r.get("VendorKey") for r in a["Resources"]) and any(r.get("EmployeeKey") for r in a["Resources"])
    for r in a["Resources"]:
        assert r["PhaseKey"] in phases
        if r.get("EmployeeKey"):
            assert r["EmployeeKey"] in employees and r["Units"] > 0 and r["ActualStartDate"]
        else:
            assert vendors[r["VendorKey"]]["VendorTypeIsConsultant"] and r["ActivityType"] == "Consultant"
    for sheet in a["Timesheets"]:
        assert sheet["EmployeeKey"] in employees and date.fromisoformat(sheet["TimesheetDate"]).weekday() == 0
        for row in sheet["Project"]["Detail"]:
            assert row["Project Key"] in projects and phases[row["Phase Key"]]["ProjectKey"] == row["Project Key"]
            assert sum(row[f"D{n} Regular"] for n in range(1, 8)) > 0

    firms = {f["ClientID"]: f for f in c["firm"]}
    contact_ids = {r["ContactID"]: r for r in c["contact"]}
    codes = {e["Employee"] for e in c["employee"]}
    wbs = {p["WBS1"] for p in c["project"]}
    for contact in c["contact"]:
        assert contact["ClientID"] in firms
    for p in c["project"]:
        assert p["ClientID"] == "" or firms[p["ClientID"]]["ClientInd"] == "Y"
        assert p["ContactID"] == "" or contact_ids[p["ContactID"]]["ClientID"] == p["ClientID"]
        assert p["ProjMgr"] == "" or p["ProjMgr"] in codes
        assert p["Principal"] == "" or p["Principal"] in codes
    assert c["firmClient"] and c["projectEmployee"]
    for row in c["firmClient"]:
        assert row["WBS1"] in wbs and row["ClientID"] in firms
        assert firms[row["ClientID"]]["VendorInd"] == row["VendorInd"]
    for row in c["projectEmployee"]:
        assert row["WBS1"] in wbs and row["Employee"] in codes


def test_paired_records_link_to_paired_partners(world: World) -> None:
    """A contact in both systems sits in firms that are themselves a planted pair (so the sync can link it)."""
    notes = planted(world)
    firm_pairs = {p["ajera"]: p["crm"] for k in ("exact", "case_only", "near_miss") for p in notes["firms"][k]}
    a_contacts = {r["ContactKey"]: r for r in world.ajera["Contacts"]}
    c_contacts = {r["ContactID"]: r for r in world.crm["contact"]}
    client_of = {ref["ContactKey"]: client["ClientKey"]
                 for client in world.ajera["Clients"] for ref in client["Contacts"]}
    for pair in notes["contacts"]["exact"]:
        a, c = a_contacts[pair["ajera"]], c_contacts[pair["crm"]]
        assert firm_pairs[client_of[a["ContactKey"]]] == c["ClientID"]


def test_large_world_generates() -> None:
    w = generate(9, Sizes(projects=3000))
    assert len(w.ajera["Projects"]) == 3000 == len(w.crm["project"])
    names = Counter(exact_key(p["Description"]) for p in w.ajera["Projects"])
    assert sum(n > 1 for n in names.values()) == sum(d["side"] == "ajera" for d in planted(w)["projects"]["duplicates"])


def test_real_shapes_with_messy_values(world: World) -> None:
    """The flat Ajera shapes (ajera-records.md): PHONE and ADDR blocks, empty text as "", several invoice groups
    on some projects (with another client on some), mailing address same as primary or not."""
    clients = world.ajera["Clients"]
    assert all(isinstance(c["PrimaryPhoneNumber"], str) and isinstance(c["FaxNumber"], str) for c in clients)
    assert any(c["FaxNumber"] == "" for c in clients) and any(c["FaxNumber"] for c in clients)
    assert any(c["Email"] == "" for c in clients) and any(c["PrimaryAddressLineTwo"] for c in clients)
    same = [c["MailingAddressSameAsPrimary"] for c in clients + world.ajera["Vendors"]]
    assert any(same) and not all(same)
    assert all(not c["MailingAddressSameAsPrimary"] or c["MailingAddressLineOne"] == "" for c in clients)
    groups = Counter(ig["ProjectKey"] for ig in world.ajera["InvoiceGroups"])
    assert any(n > 1 for n in groups.values())
    by_project: dict[int, set[int]] = {}
    for ig in world.ajera["InvoiceGroups"]:
        by_project.setdefault(ig["ProjectKey"], set()).add(ig["ClientKey"])
    assert any(len(keys) > 1 for keys in by_project.values()), "some projects bill a second client"
    assert {p["BillingType"] for p in world.ajera["Projects"]} <= set(BILLING_TYPES)
    assert any(p["EstimatedCompletionDate"] is None for p in world.ajera["Projects"])
    assert any(e["Status"] == "Inactive" and e["DateTerminated"] for e in world.ajera["Employees"])
    assert {e["Status"] for e in world.ajera["Employees"]} <= {"Active", "Inactive"}


@pytest.mark.parametrize("name", ["firm", "contact", "employee", "vendor", "project"])
def test_generator_fills_every_field_the_spec_reads(world: World, name: str) -> None:
    """Derived from the record-type spec: every Ajera path a synced field reads is filled (non-empty) on most
    generated records, and every path is a name the simulator's record shape declares."""
    from include.sync import record_types
    from include.sync.record_types.base import get_path
    from simulators.ajera.records import ENTITIES

    rt = record_types.get(name)
    raws = world.ajera[rt.ajera_entity]
    if name == "contact":  # the firm link is derived from the clients' Contacts[], as the simulator does
        client_of = {ref["ContactKey"]: c["ClientKey"] for c in world.ajera["Clients"] for ref in c["Contacts"]}
        raws = [{**r, "ContactClientKey": client_of.get(r["ContactKey"])} for r in raws]
    if name == "project":
        groups: dict[int, list[dict]] = {}
        for ig in world.ajera["InvoiceGroups"]:
            groups.setdefault(ig["ProjectKey"], []).append(ig)
        raws = [{**r, "InvoiceGroups": groups.get(r["ProjectKey"], [])} for r in raws]
    declared = ENTITIES[rt.ajera_entity].fields
    for f in rt.fields:
        if not f.ajera:
            continue
        top = f.ajera.split(".")[0].split("[")[0]
        assert top in declared or top == "InvoiceGroups", (name, f.ajera)
        filled = sum(1 for r in raws if get_path(r, f.ajera) not in (None, ""))
        assert filled >= len(raws) // 2, (name, f.name, f.ajera, filled, len(raws))
