"""Helpers of the record-type tests: run a type with its dependencies, read and edit each side by canonical
field, build new records, and check what the sync created."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from include.sync import record_types
from include.sync.names import exact_key
from include.sync.refs import NO_REFS, Refs
from tests.support.engine import Engine

TYPES = ("firm", "contact", "employee", "vendor", "project")
TWO_WAY = ("firm", "contact", "project")
DEPS = {
    "firm": ("firm",),
    "contact": ("firm", "contact"),
    "employee": ("employee",),
    "vendor": ("vendor",),
    "project": ("firm", "employee", "project"),
}
NOTES = {"firm": "firms", "contact": "contacts", "employee": "employees", "vendor": "vendors",
         "project": "projects"}
CRM_FILTERS = {"firm": [("ClientInd", "=", "Y")], "vendor": [("VendorInd", "=", "Y")]}
WRITES = ("created", "updated", "mapped")

# One synced field per type, edited on either side in the update / conflict tests (its canonical name; the
# record type's spec gives each system's field).
EDIT_FIELD = {"firm": "phone", "contact": "title", "employee": "title", "vendor": "phone", "project": "end_date"}
EDIT = {t: (record_types.get(t).field(f).ajera, record_types.get(t).field(f).crm, f) for t, f in EDIT_FIELD.items()}
# Distinct values for the edits (dates for projects).
VALUES = {
    "ajera": {"phone": "(555) 010-1111", "title": "Ajera Side Title", "end_date": "2031-01-15"},
    "crm": {"phone": "(555) 020-2222", "title": "CRM Side Title", "end_date": "2032-02-16"},
    "ajera2": {"phone": "(555) 030-3333", "title": "Second Ajera Title", "end_date": "2033-03-17"},
}


# ------------------------------------------------------------------------------------------ helpers


def rt_of(t: str) -> Any:
    return record_types.get(t)


def sync(engine: Engine, t: str, **options: Any) -> Any:
    """One sync of record type ``t`` and the types it depends on."""
    summary = engine.sync(record_types=DEPS[t], **options)
    assert summary.completed, summary.lines()
    return summary


def query(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.db.engine.begin() as conn:
        return list(conn.execute(text(sql), params).all())


def pairs(engine: Engine, t: str) -> dict[tuple[str, str], str]:
    """(Ajera key, CRM key) -> match_method."""
    return {(m.ajera_key, m.crm_key): m.match_method for m in engine.mappings(t)}


def log_rows(engine: Engine, run_id: str, t: str | None = None, action: str | None = None) -> list[Any]:
    return [r for r in engine.log(run_id)
            if (t is None or r.record_type == t) and (action is None or r.action == action)]


def write_rows(engine: Engine, run_id: str) -> list[Any]:
    return [r for r in engine.log(run_id) if r.action in WRITES]


def suggestions(engine: Engine, t: str) -> dict[tuple[str, str], str]:
    rows = query(engine, "SELECT ajera_key, crm_key, status FROM match_suggestion WHERE record_type = :t", t=t)
    return {(r.ajera_key, r.crm_key): r.status for r in rows}


def conflicts(engine: Engine, run_id: str, t: str) -> list[Any]:
    return query(engine, "SELECT ajera_key, crm_key, field_name, ajera_value, crm_value, resolution, reason "
                         "FROM sync_conflict WHERE run_id = :r AND record_type = :t", r=run_id, t=t)


def a_entity(t: str) -> str:
    return rt_of(t).ajera_entity


def a_get(engine: Engine, t: str, key: Any) -> dict[str, Any] | None:
    found = engine.ajera.get(a_entity(t), [int(key)])
    return found[0] if found else None


def a_list(engine: Engine, t: str) -> list[dict[str, Any]]:
    return engine.ajera.list(a_entity(t))


def a_update(engine: Engine, t: str, key: Any, **changes: Any) -> dict[str, Any]:
    base = a_get(engine, t, key)
    assert base is not None, (t, key)
    result = engine.ajera.update(a_entity(t), [{**base, **changes}], [base])
    assert not result.errors, result.errors
    return result.saved[0]


def a_create(engine: Engine, t: str, record: dict[str, Any]) -> dict[str, Any]:
    result = engine.ajera.update(a_entity(t), [{rt_of(t).ajera_key: -1, **record}], [])
    assert not result.errors and result.saved, result.errors
    return result.saved[0]


def c_hub(t: str) -> str:
    return rt_of(t).crm_hub


def c_get(engine: Engine, t: str, key: str) -> dict[str, Any] | None:
    return engine.crm.get(c_hub(t), key)


def c_list(engine: Engine, t: str) -> list[dict[str, Any]]:
    return engine.crm.list(c_hub(t), filters=CRM_FILTERS.get(t))


def a_names(engine: Engine, t: str) -> list[str]:
    return [exact_key(rt_of(t).ajera_name(r)) for r in a_list(engine, t)]


def c_names(engine: Engine, t: str) -> list[str]:
    return [exact_key(rt_of(t).crm_name(r)) for r in c_list(engine, t)]


def crm_snapshot(engine: Engine) -> dict[str, dict[str, str]]:
    """Every CRM record's ModDate, per hub."""
    out = {}
    for hub, key in (("firm", "ClientID"), ("contact", "ContactID"), ("employee", "Employee"), ("project", "WBS1")):
        out[hub] = {r[key]: r["ModDate"] for r in engine.crm.list(hub, fields=[key, "ModDate"])}
    return out


def crm_writes(stats: dict[str, int]) -> dict[str, int]:
    return {k: n for k, n in stats.items()
            if n and k.split(" ")[0] in ("POST", "PUT", "DELETE", "PATCH") and k != "POST /api/token"}


def ajera_writes(stats: dict[str, int]) -> dict[str, int]:
    return {k: n for k, n in stats.items() if n and (k.startswith("Update") or k.startswith("Create"))}


def planted(engine: Engine, t: str, group: str) -> list[dict[str, Any]]:
    return engine.world.notes[NOTES[t]][group]


def a_value(t: str, raw: dict[str, Any]) -> Any:
    return rt_of(t).field(EDIT_FIELD[t]).from_ajera(raw, NO_REFS)


def c_value(t: str, raw: dict[str, Any]) -> Any:
    return rt_of(t).field(EDIT_FIELD[t]).from_crm(raw, NO_REFS)


def refs(engine: Engine) -> Refs:
    """Every mapping, as the conversions see them."""
    return Refs({t: list(pairs(engine, t)) for t in TYPES})


def same_fields(engine: Engine, t: str, ajera: dict[str, Any], crm: dict[str, Any]) -> None:
    """Every synced field of the type's spec holds the same value on both sides, none of them lost."""
    rt, mapped = rt_of(t), refs(engine)
    a_fields, c_fields = rt.ajera_fields(ajera, mapped), rt.crm_fields(crm, mapped)
    assert {f: a_fields[f] for f in rt.synced} == {f: c_fields[f] for f in rt.synced}


def usable_pairs(engine: Engine, t: str) -> list[tuple[str, str]]:
    """Planted exact pairs that are mapped after the first sync (open projects only: closed ones are left alone)."""
    mapped = pairs(engine, t)
    out = []
    for p in planted(engine, t, "exact"):
        key = (str(p["ajera"]), p["crm"])
        if key not in mapped:
            continue
        if t == "project" and a_get(engine, t, p["ajera"])["Status"] == "Closed":
            continue
        out.append(key)
    assert len(out) >= 2, (t, out)
    return out


def quiet_firm(engine: Engine) -> tuple[str, str]:
    """A mapped firm pair that has no contacts on either side (so the contact cap starts at zero)."""
    contact_keys = [c["ContactKey"] for c in a_list(engine, "contact")]
    used_a = {str(c.get("ContactClientKey")) for c in engine.ajera.get("Contacts", contact_keys)}
    used_c = {c.get("ClientID") for c in engine.crm.list("contact", fields=["ContactID", "ClientID"])}
    for (a, c), method in sorted(pairs(engine, "firm").items()):
        if method == "name_exact" and a not in used_a and c not in used_c:
            return a, c
    raise AssertionError("no mapped firm without contacts")


def mapped_employee(engine: Engine) -> tuple[str, str]:
    return sorted(pairs(engine, "employee"))[0]


# ------------------------------------------------------------- record makers for the create tests

NEW_NAMES = {
    # (created in Ajera -> expected in the CRM, created in the CRM -> expected in Ajera)
    "firm": ("Quillfeather Acoustics Studio", "Brightwater Geotechnical Partners"),
    "contact": ("Ottoline Vandersloot", "Percival Amundsen"),
    "employee": ("Ignatius Moorcroft", "Wilhelmina Stroud"),
    "vendor": ("Halvorsen Acoustic Consultants", "Tamsin Lighting Collective"),
    "project": ("Quillfeather Regional Aquatic Center - Natatorium Envelope & HVAC Renewal",
                "Brightwater Library Annex"),
}


def make_ajera(engine: Engine, t: str, firm: tuple[str, str]) -> dict[str, Any]:
    name = NEW_NAMES[t][0]
    if t == "firm":
        return a_create(engine, t, {"Description": name, "PrimaryPhoneNumber": "(555) 100-0001",
                                    "Email": "info@quillfeather.example", "Website": "https://quillfeather.example",
                                    "PrimaryAddressLineOne": "1 Quill Way", "PrimaryAddressCity": "Boise",
                                    "PrimaryAddressState": "ID", "PrimaryAddressZip": "83702"})
    if t == "contact":
        firm_a, _ = firm
        first, last = name.split()
        made = a_create(engine, t, {"FirstName": first, "LastName": last, "Title": "Owner's Rep",
                                    "Email": "ottoline@example.com", "PrimaryPhoneNumber": "(555) 100-0002"})
        a_link_contact(engine, made["ContactKey"], firm_a)
        return a_get(engine, t, made["ContactKey"])
    if t == "employee":
        first, last = name.split()
        return a_create(engine, t, {"FirstName": first, "LastName": last, "Title": "Acoustician",
                                    "Email": "ignatius.moorcroft@northbeam-ae.com", "Status": "Active"})
    if t == "vendor":
        return a_create(engine, t, {"Name": name, "VendorTypeKey": 1, "VendorTypeIsConsultant": True,
                                    "Email": "ap@halvorsen.example", "PrimaryPhoneNumber": "(555) 100-0004"})
    firm_a, _ = sorted(pairs(engine, "firm"))[0]
    emp_a, _ = mapped_employee(engine)
    return engine.ajera.create_project(
        {"ID": "2099-001.00", "Description": name, "BillingType": "TimeAndExpense", "RateTableKey": 1,
         "Status": "Active", "SyncToCRM": False, "CreateInCRM": True, "ProjectManager": {"EmployeeKey": int(emp_a)},
         "EstimatedStartDate": "2026-01-05", "EstimatedCompletionDate": "2027-06-30",
         "TotalContractAmount": 123456.0},
        [{"Description": "Default", "ClientKey": int(firm_a), "InvoiceFormatKey": 1}],
        [{"ID": "01", "Description": "Design"}])


def a_link_contact(engine: Engine, contact_key: Any, client_key: Any) -> None:
    """Ajera links a contact to a client through the client's Contacts[] (not ContactClientKey)."""
    base = a_get(engine, "firm", client_key)
    refs_ = [*base["Contacts"], {"ContactKey": int(contact_key), "Order": len(base["Contacts"]) + 1, "Text": ""}]
    result = engine.ajera.update("Clients", [{**base, "Contacts": refs_}], [base])
    assert not result.errors, result.errors


def make_crm(engine: Engine, t: str, firm: tuple[str, str]) -> dict[str, Any]:
    name = NEW_NAMES[t][1]
    if t == "firm":
        return engine.crm.create("firm", {"Name": name, "ClientInd": "Y", "VendorInd": "N", "AjeraSync": "Y",
                                          "PrimaryPhone": "(555) 200-0001",
                                          "PrimaryEmail": "hello@brightwater.example",
                                          "WebSite": "https://brightwater.example", "PrimaryAddress1": "9 Brook Rd",
                                          "PrimaryCity": "Eugene", "PrimaryState": "OR", "PrimaryZip": "97401"})
    if t == "contact":
        _, firm_c = firm
        first, last = name.split()
        return engine.crm.create("contact", {"FirstName": first, "LastName": last, "Title": "Facilities Director",
                                             "Email": "percival@example.com", "Phone": "(555) 200-0002",
                                             "ClientID": firm_c, "AjeraSync": "Y", "ContactStatus": "A"})
    if t == "employee":
        first, last = name.split()
        return engine.crm.create("employee", {"FirstName": first, "LastName": last, "Title": "Marketing Lead",
                                              "EMail": "w.stroud@northbeam-ae.com", "Status": "A"})
    if t == "vendor":
        return engine.crm.create("firm", {"Name": name, "ClientInd": "N", "VendorInd": "Y", "AjeraSync": "N",
                                          "PrimaryPhone": "(555) 200-0004"})
    _, firm_c = sorted(pairs(engine, "firm"))[0]
    _, emp_c = mapped_employee(engine)
    return engine.crm.create("project", {
        "WBS1": "2099101.00", "Name": name, "LongName": name, "ChargeType": "R", "Status": "A",
        "ClientID": firm_c, "ProjMgr": emp_c, "Fee": 98765.0, "StartDate": "2026-02-02", "EndDate": "2026-12-31",
        "AjeraSync": "Y", "ProjectTemplate": "1", "Stage": "Won", "Probability": 100})


def check_created_in_crm(engine: Engine, t: str, source: dict[str, Any], crm: dict[str, Any]) -> None:
    """The CRM record made from the Ajera ``source`` carries every synced field of the type's spec."""
    same_fields(engine, t, source, crm)
    if t == "firm":
        assert (crm["PrimaryAddress1"], crm["PrimaryCity"], crm["PrimaryState"], crm["PrimaryZip"]) == (
            "1 Quill Way", "Boise", "ID", "83702")
        assert crm["ClientInd"] == "Y"
    elif t == "contact":
        assert crm["ClientID"] == dict(pairs(engine, "firm").keys())[str(source["ContactClientKey"])]
        assert crm["Phone"] == "(555) 100-0002"
    elif t == "vendor":
        assert (crm["VendorInd"], crm["ClientInd"], crm["PrimaryPhone"]) == ("Y", "N", "(555) 100-0004")
    elif t == "project":
        firm_c = dict(pairs(engine, "firm").keys())[str(source["InvoiceGroups"][0]["ClientKey"])]
        description = source["Description"]
        assert len(description) > 40
        assert crm["WBS1"] == source["ID"]
        assert crm["Name"] == description[:40] and len(crm["Name"]) <= 40
        assert crm["LongName"] == description
        assert (crm["ClientID"], float(crm["Fee"])) == (firm_c, 123456.0)
        assert (crm["StartDate"][:10], crm["EndDate"][:10]) == ("2026-01-05", "2027-06-30")


def check_created_in_ajera(engine: Engine, t: str, source: dict[str, Any], ajera: dict[str, Any]) -> None:
    if t in TWO_WAY:
        same_fields(engine, t, ajera, source)
    if t == "firm":
        assert (ajera["PrimaryAddressLineOne"], ajera["PrimaryAddressCity"]) == ("9 Brook Rd", "Eugene")
    elif t == "contact":
        firm_a = {c: a for a, c in pairs(engine, "firm")}[source["ClientID"]]
        assert str(ajera["ContactClientKey"]) == firm_a
        client = a_get(engine, "firm", firm_a)
        assert ajera["ContactKey"] in {c["ContactKey"] for c in client["Contacts"]}
    elif t == "project":
        firm_a = {c: a for a, c in pairs(engine, "firm")}[source["ClientID"]]
        assert ajera["ID"] == source["WBS1"]
        assert [str(g["ClientKey"]) for g in ajera["InvoiceGroups"]] == [firm_a]
        template = engine.ajera.get_project_templates([1])[0]
        assert (ajera["BillingType"], ajera["RateTableKey"]) == (template["BillingType"], template["RateTableKey"])
        # GetProjects bundle: the template's phases prefill the new project.
        phases = sorted((p["ID"], p["Description"]) for p in ajera["Phases"])
        assert phases == sorted((p["ID"], p["Description"]) for g in template["InvoiceGroups"] for p in g["Phases"])
