"""The canonical record: date formats of both APIs, the synced-fields hash, and the firm field mapping."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone

import pytest

from include.sync.model import (
    fields_hash,
    format_ajera_date,
    format_crm_date,
    other,
    parse_ajera_date,
    parse_crm_date,
    text,
)
from include.sync.record_types import FIRM, get
from include.sync.refs import NO_REFS

UTC = UTC


# --- Ajera dates: "2023-09-27 09:57:49.607 GMT-04:00 (Eastern Daylight Time)", and the docs' filter form --


@pytest.mark.parametrize(("value", "expected"), [
    # Ajera's own LastModifiedDate (ajera-records.md §5): offset with a colon, the zone's name in brackets
    ("2023-09-27 09:57:49.607 GMT-04:00 (Eastern Daylight Time)", datetime(2023, 9, 27, 13, 57, 49, 607000, UTC)),
    ("2023-01-05 23:59:59.001 GMT-05:00 (Eastern Standard Time)", datetime(2023, 1, 6, 4, 59, 59, 1000, UTC)),
    ("2023-09-27 09:57:49.607 GMT+05:30 (India Standard Time)", datetime(2023, 9, 27, 4, 27, 49, 607000, UTC)),
    ("2023-09-27 09:57:49.6070000 GMT-07:00", datetime(2023, 9, 27, 16, 57, 49, 607000, UTC)),
    ("2015-03-11 16:22:54.229 GMT-0700", datetime(2015, 3, 11, 23, 22, 54, 229000, UTC)),
    ("2015-03-11 16:22:54.229 GMT+0000", datetime(2015, 3, 11, 16, 22, 54, 229000, UTC)),
    ("2015-03-11 16:22:54 GMT-0700", datetime(2015, 3, 11, 23, 22, 54, tzinfo=UTC)),
    ("2015-03-11 22:30:00.000 GMT+0530", datetime(2015, 3, 11, 17, 0, tzinfo=UTC)),
    ("2015-12-31 20:00:00.500 GMT-0500", datetime(2016, 1, 1, 1, 0, 0, 500000, UTC)),  # crosses the year
    ("  2015-03-11 16:22:54.229 GMT-0700  ", datetime(2015, 3, 11, 23, 22, 54, 229000, UTC)),
])
def test_parse_ajera_date(value: str, expected: datetime):
    parsed = parse_ajera_date(value)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("value", [None, ""])
def test_parse_ajera_date_empty(value):
    assert parse_ajera_date(value) is None


@pytest.mark.parametrize("value", ["2015-03-11T16:22:54Z", "2015-03-11 16:22:54 PST", "yesterday",
                                   "2015-03-11 16:22:54.229 GMT-7", "2023-09-27 09:57:49.607 (Eastern Time)",
                                   "2023-09-27 09:57:49.607 GMT-04:00 Eastern Daylight Time"])
def test_parse_ajera_date_rejects_other_formats(value: str):
    with pytest.raises(ValueError):
        parse_ajera_date(value)


def test_format_ajera_date_is_utc_with_milliseconds():
    local = datetime(2015, 3, 11, 16, 22, 54, 229999, timezone(timedelta(hours=-7)))
    assert format_ajera_date(local) == "2015-03-11 23:22:54.229 GMT+0000"


@pytest.mark.parametrize("value", [
    datetime(2026, 1, 31, 12, 0, tzinfo=UTC),
    datetime(2026, 6, 30, 23, 59, 59, 999000, UTC),
    datetime(2015, 3, 11, 16, 22, 54, 229000, timezone(timedelta(hours=-7))),
])
def test_ajera_date_round_trip(value: datetime):
    assert parse_ajera_date(format_ajera_date(value)) == value
    text_form = format_ajera_date(value)
    assert format_ajera_date(parse_ajera_date(text_form)) == text_form


def test_ajera_offset_string_round_trips_to_the_same_instant():
    original = "2015-03-11 16:22:54.229 GMT-0700"
    again = format_ajera_date(parse_ajera_date(original))
    assert again == "2015-03-11 23:22:54.229 GMT+0000"
    assert parse_ajera_date(again) == parse_ajera_date(original)


# --- CRM dates: "2026-01-31T12:00:00.123", no zone (taken as UTC) ----------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-01-31T12:00:00.123", datetime(2026, 1, 31, 12, 0, 0, 123000, UTC)),
    ("2026-01-31T12:00:00", datetime(2026, 1, 31, 12, 0, tzinfo=UTC)),
    ("2026-01-31T12:00:00Z", datetime(2026, 1, 31, 12, 0, tzinfo=UTC)),
    ("2026-01-31T05:00:00-07:00", datetime(2026, 1, 31, 12, 0, tzinfo=UTC)),
])
def test_parse_crm_date(value: str, expected: datetime):
    parsed = parse_crm_date(value)
    assert parsed == expected
    assert parsed.tzinfo is not None


def test_parse_crm_date_empty():
    assert parse_crm_date(None) is None and parse_crm_date("") is None


@pytest.mark.parametrize("value", [
    datetime(2026, 1, 31, 12, 0, tzinfo=UTC),
    datetime(2026, 1, 31, 12, 0, 0, 123000, UTC),
    datetime(2026, 1, 31, 5, 0, 0, 7000, timezone(timedelta(hours=-7))),
])
def test_crm_date_round_trip(value: datetime):
    formatted = format_crm_date(value)
    assert "+" not in formatted and not formatted.endswith("Z")
    assert parse_crm_date(formatted) == value
    assert format_crm_date(parse_crm_date(formatted)) == formatted


def test_same_instant_in_both_formats_compares_equal():
    assert parse_ajera_date("2026-01-31 05:00:00.000 GMT-0700") == parse_crm_date("2026-01-31T12:00:00.000")


# --- fields hash -------------------------------------------------------------------------------------


def test_fields_hash_is_stable_and_order_independent():
    fields = {"name": "Acme", "phone": "555", "n": 1, "none": None}
    reordered = dict(reversed(list(fields.items())))
    assert fields_hash(fields) == fields_hash(reordered) == fields_hash(copy.deepcopy(fields))
    # Pinned: stored hashes in the mapping table must still match after an upgrade, or every record echoes.
    assert fields_hash(fields) == "92ab544feb9e2b1a6562"
    assert fields_hash({}) == "44136fa355b3678a1146"
    assert len(fields_hash(fields)) == 20 and int(fields_hash(fields), 16) >= 0


def test_fields_hash_changes_with_any_value_or_key():
    base = {"name": "Acme", "phone": "555"}
    assert fields_hash(base) != fields_hash({**base, "phone": "556"})
    assert fields_hash(base) != fields_hash({**base, "email": ""})
    assert fields_hash(base) != fields_hash({"name": "Acme", "fax": "555"})
    assert fields_hash({"n": 1}) != fields_hash({"n": "1"})


def test_content_hash_only_for_fetched_records():
    record = FIRM.from_ajera(AJERA_CLIENT)
    assert record.content_hash == fields_hash(record.fields)
    assert FIRM.from_ajera(AJERA_CLIENT, full=False).content_hash is None


def test_text_and_other():
    assert text(None) == "" and text("  x ") == "x" and text(5) == "5"
    assert other("ajera") == "crm" and other("crm") == "ajera"


# --- the firm record type ----------------------------------------------------------------------------

AJERA_CLIENT = {  # the flat shape of GetClients (ajera-records.md §5), empty text as ""
    "ClientKey": 42,
    "Description": " Acme Engineering ",
    "Status": "Active",
    "PrimaryPhoneNumber": "555-0100",
    "PrimaryPhoneDescription": "Main",
    "FaxNumber": "",
    "Email": "info@acme.example",
    "Website": "acme.example",
    "PrimaryAddressLineOne": "1 Main St",
    "PrimaryAddressLineTwo": "Suite 5",
    "PrimaryAddressCity": "Denver",
    "PrimaryAddressState": "CO",
    "PrimaryAddressZip": "80202",
    "MailingAddressSameAsPrimary": False,
    "MailingAddressLineOne": "PO Box 9",
    "LastModifiedDate": "2026-01-31 07:00:00.000 GMT-05:00 (Eastern Standard Time)",
    "Notes": "not synced",
    "ClientTypeKey": 3,
    "Contacts": [{"ContactKey": 5, "Order": 1, "Text": "", "FirstName": "Ann", "MiddleName": "", "LastName": "Lee",
                  "Title": "", "Company": ""}],
}

CRM_FIRM = {
    "ClientID": "0A1B2C",
    "Name": "Acme Engineering",
    "Status": "A",
    "PrimaryPhone": "555-0100",
    "PrimaryEmail": "info@acme.example",
    "WebSite": "acme.example",
    "PrimaryAddress1": "1 Main St",
    "PrimaryCity": "Denver",
    "PrimaryState": "CO",
    "PrimaryZip": "80202",
    "ClientInd": "Y",
    "AjeraSync": "Y",
    "ModDate": "2026-01-31T12:00:00.000",
}

CANONICAL = {"name": "Acme Engineering", "status": "active", "phone": "555-0100", "email": "info@acme.example",
             "website": "acme.example", "address": "1 Main St", "city": "Denver", "state": "CO", "zip": "80202"}


def test_firm_from_ajera():
    record = FIRM.from_ajera(AJERA_CLIENT)
    # Ajera keeps no sync flag on a client: every client is eligible.
    assert (record.system, record.key, record.name, record.flagged) == ("ajera", "42", "Acme Engineering", True)
    assert record.modified == datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
    assert record.fields == CANONICAL
    assert record.raw is AJERA_CLIENT
    swept = FIRM.from_ajera({"ClientKey": 42, "Description": "Acme"}, full=False)
    assert (swept.fields, swept.raw, swept.modified) == ({}, None, None)


def test_firm_from_crm():
    record = FIRM.from_crm(CRM_FIRM)
    assert (record.system, record.key, record.name, record.flagged) == ("crm", "0A1B2C", "Acme Engineering", True)
    assert record.modified == datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
    assert record.fields == CANONICAL
    # The same firm read from both systems has the same canonical fields: no spurious difference.
    assert record.fields == FIRM.from_ajera(AJERA_CLIENT).fields


@pytest.mark.parametrize(("flag", "expected"), [("Y", True), ("y", True), (" Y ", True), ("N", False),
                                                ("", False), (None, False)])
def test_firm_crm_flag(flag, expected):
    assert FIRM.from_crm({**CRM_FIRM, "AjeraSync": flag}).flagged is expected


@pytest.mark.parametrize(("ajera_status", "crm_status", "expected"), [
    ("Active", "A", "active"), ("Inactive", "I", "inactive"), ("", "", "active"), (None, None, "active")])
def test_firm_status_mapping(ajera_status, crm_status, expected):
    assert FIRM.from_ajera({**AJERA_CLIENT, "Status": ajera_status}).fields["status"] == expected
    assert FIRM.from_crm({**CRM_FIRM, "Status": crm_status}).fields["status"] == expected


def test_firm_to_ajera_round_trip_keeps_baseline_fields():
    baseline = copy.deepcopy(AJERA_CLIENT)
    changed = {**CANONICAL, "name": "Acme Engineering Group", "status": "inactive", "city": "Boulder",
               "phone": "555-0199"}
    record = FIRM.to_ajera(changed, baseline, NO_REFS)
    assert FIRM.from_ajera(record).fields == changed
    # What the sync does not own travels back untouched (Ajera updates send the whole record).
    assert record["ClientKey"] == 42 and record["Notes"] == "not synced" and record["ClientTypeKey"] == 3
    assert record["PrimaryAddressLineTwo"] == "Suite 5" and record["Contacts"] == AJERA_CLIENT["Contacts"]
    assert record["MailingAddressLineOne"] == "PO Box 9" and record["Status"] == "Inactive"
    # The baseline itself is not modified (it is sent as the unchanged copy).
    assert baseline == AJERA_CLIENT


def test_firm_to_ajera_partial_update_changes_only_those_fields():
    record = FIRM.to_ajera({"phone": "555-0111"}, copy.deepcopy(AJERA_CLIENT), NO_REFS)
    assert record == {**AJERA_CLIENT, "PrimaryPhoneNumber": "555-0111"}


def test_firm_to_ajera_create_has_no_baseline():
    record = FIRM.to_ajera(CANONICAL, None, NO_REFS)
    assert record["Status"] == "Active" and "SyncToCRM" not in record
    assert FIRM.from_ajera({**record, "ClientKey": -1}).fields == CANONICAL


def test_firm_to_crm_round_trip():
    body = FIRM.to_crm(CANONICAL, NO_REFS)
    assert body["Name"] == "Acme Engineering" and body["WebSite"] == "acme.example" and body["Status"] == "A"
    assert FIRM.from_crm({"ClientID": "X", **body}).fields == CANONICAL
    inactive = {**CANONICAL, "status": "inactive"}
    assert FIRM.from_crm({"ClientID": "X", **FIRM.to_crm(inactive, NO_REFS)}).fields == inactive
    assert FIRM.to_crm({"city": "Boulder"}, NO_REFS) == {"PrimaryCity": "Boulder"}


def test_cross_system_round_trip():
    """Ajera record -> canonical -> CRM body -> canonical: nothing lost or renamed on the way."""
    fields = FIRM.from_ajera(AJERA_CLIENT).fields
    assert FIRM.from_crm({"ClientID": "X", **FIRM.to_crm(fields, NO_REFS)}).fields == fields
    crm_fields = FIRM.from_crm(CRM_FIRM).fields
    assert FIRM.from_ajera({"ClientKey": 1, **FIRM.to_ajera(crm_fields, None, NO_REFS)}).fields == crm_fields


def test_record_type_registry():
    assert get("firm") is FIRM
    with pytest.raises(ValueError, match="unknown record type"):
        get("spaceship")
    assert FIRM.owner("phone") == "shared"
    assert FIRM.crm_sweep_fields[0] == "ClientID"


def test_bad_api_data_never_raises_and_is_named_as_a_problem():
    from include.sync.record_types import FIRM, PROJECT
    from include.sync.validate import problems

    bad_date = {"ClientKey": 7, "Description": "Acme", "LastModifiedDate": "yesterday-ish"}
    record = FIRM.from_ajera(bad_date)
    assert record.modified is None and "'yesterday-ish' is not a date" in record.problem
    assert any("is not a date" in p for p in problems(FIRM, record))

    no_key = FIRM.from_crm({"Name": "Acme", "ModDate": "2026-01-01T00:00:00.000"})
    assert no_key.key == "" and "has no ClientID" in no_key.problem

    bad_fee = {"WBS1": "1", "Name": "Tower", "Fee": "a lot", "ModDate": "2026-01-01T00:00:00.000"}
    project = PROJECT.from_crm(bad_fee)
    assert project.fields == {} and "could not be read" in project.problem
    assert any("could not be read" in p for p in problems(PROJECT, project))


def test_crm_project_description_follows_the_40_character_rule():
    from include.sync.record_types import PROJECT

    long_name = "Harbor Point Mixed-Use Tower Phase 2 Structural Retrofit"
    long_named = PROJECT.from_crm({"WBS1": "1", "Name": long_name[:40], "LongName": long_name})
    assert long_named.fields["description"] == long_name
    # A short project whose Name was edited in the CRM (LongName still the old copy): the Name counts.
    edited = PROJECT.from_crm({"WBS1": "2", "Name": "Riverside School", "LongName": "Riverside Elementary"})
    assert edited.fields["description"] == "Riverside School"


def test_project_reads_the_real_shape():
    """Client on the first invoice group, manager as an object, Estimated dates, Ajera's finer statuses."""
    from include.sync.record_types import PROJECT
    from include.sync.refs import Refs

    refs = Refs({"firm": [("7", "F7")], "employee": [("3", "E3")]})
    raw = {"ProjectKey": 1, "ID": "2024-001.00", "Description": "Tower", "Status": "WorkHold",
           "ProjectManager": {"EmployeeKey": 3, "FirstName": "Ann", "MiddleName": "", "LastName": "Lee"},
           "EstimatedStartDate": "2024-01-02", "EstimatedCompletionDate": None, "ActualStartDate": "2024-02-01",
           "TotalContractAmount": 1000, "LastModifiedDate": "2026-01-31 07:00:00.000 GMT-05:00 (Eastern Standard Time)",
           "InvoiceGroups": [{"InvoiceGroupKey": 1, "ClientKey": 7}, {"InvoiceGroupKey": 2, "ClientKey": 9}]}
    fields = PROJECT.from_ajera(raw, refs).fields
    assert fields == {"description": "Tower", "status": "inactive", "firm": "A:7", "manager": "A:3",
                      "start_date": "2024-01-02", "end_date": "", "fee": "1000.00", "id": "2024-001.00"}
    # Writing back: the manager is the key alone, the status keeps Ajera's finer value when it means the same.
    record = PROJECT.to_ajera({"manager": "A:3", "status": "inactive", "end_date": "2025-06-30"}, raw, refs)
    assert record["ProjectManager"] == {"EmployeeKey": 3} and record["Status"] == "WorkHold"
    assert record["EstimatedCompletionDate"] == "2025-06-30"
    # The client is Ajera's to set at create only: an update never touches the invoice groups.
    assert PROJECT.to_ajera({"firm": "A:9"}, raw, refs)["InvoiceGroups"] == raw["InvoiceGroups"]
    assert not PROJECT.ajera_updatable("firm") and PROJECT.ajera_updatable("manager")


def test_employee_inactive_with_a_termination_date_is_terminated():
    from include.sync.record_types import EMPLOYEE

    raw = {"EmployeeKey": 1, "FirstName": "A", "LastName": "B", "Status": "Inactive", "DateTerminated": "2024-01-01"}
    assert EMPLOYEE.from_ajera(raw).fields["status"] == "terminated"
    assert EMPLOYEE.from_ajera({**raw, "DateTerminated": None}).fields["status"] == "inactive"
    assert EMPLOYEE.to_crm({"status": "terminated"}) == {"Status": "T"}


def test_contact_firm_is_read_from_contact_client_key_and_written_through_the_client():
    from include.sync.record_types import CONTACT, AjeraWrite
    from include.sync.refs import Refs

    refs = Refs({"firm": [("7", "F7")]})
    raw = {"ContactKey": 5, "FirstName": "Ann", "LastName": "Lee", "ContactClientKey": 7, "Company": "free text"}
    assert CONTACT.from_ajera(raw, refs).fields["firm"] == "A:7"
    assert [f.name for f in CONTACT.ajera_writes(AjeraWrite.PARENT)] == ["firm"]
    # The record itself never carries a new firm: the adapter writes it through the client's Contacts[].
    assert CONTACT.to_ajera({"firm": ""}, raw, refs)["ContactClientKey"] == 7


def test_dependency_order_derives_from_reference_fields():
    from include.sync.record_types import DEPENDS_ON, ORDER, RECORD_TYPES

    for name, rt in RECORD_TYPES.items():
        assert DEPENDS_ON[name] == rt.references
        assert all(ORDER.index(ref) < ORDER.index(name) for ref in rt.references)
    assert DEPENDS_ON["project"] == ("firm", "employee") and DEPENDS_ON["contact"] == ("firm",)


def test_a_new_synced_field_is_one_line():
    """The example of docs/simulator-contract.md: one Field line gives the conversions both ways, the synced list
    and the hash."""
    import dataclasses

    from include.sync.record_types import CONTACT, Field

    with_fax = dataclasses.replace(CONTACT, fields=(*CONTACT.fields, Field("fax", "FaxNumber", "Fax")))
    assert with_fax.synced == (*CONTACT.synced, "fax")
    ajera = {"ContactKey": 1, "LastName": "Lee", "FaxNumber": "555-0100"}
    assert with_fax.from_ajera(ajera).fields["fax"] == "555-0100"
    assert with_fax.to_crm({"fax": "555-0100"}) == {"Fax": "555-0100"}
    assert with_fax.to_ajera({"fax": "555-0199"}, ajera)["FaxNumber"] == "555-0199"
    assert with_fax.from_ajera(ajera).content_hash != with_fax.from_ajera({**ajera, "FaxNumber": "x"}).content_hash


def test_a_status_ajera_has_no_code_for_is_a_clear_error_not_a_crash():
    from include.sync.record_types import get

    employee = get("employee")
    with pytest.raises(ValueError, match="status 'terminated' has no Ajera status code"):
        employee.to_ajera({"status": "terminated"}, {"EmployeeKey": 1, "Status": "Active"}, NO_REFS)
    inactive = employee.to_ajera({"status": "inactive"}, {"EmployeeKey": 1, "Status": "Active"}, NO_REFS)
    assert inactive["Status"] == "Inactive"
