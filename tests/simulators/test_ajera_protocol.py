"""The Ajera simulator's wire protocol, exercised with raw ``requests`` (no client library).

Shapes field by field are checked against the reference's tables in ``tests/contract/``; this module checks
behaviour: sessions and versions, the envelope, paging, filters, reads and the write rules.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from typing import Any

import pytest
import requests

from simulators.ajera.app import create_app
from simulators.harness import AJERA_API_ID, PASSWORD, USERNAME, start

OLD = "2020-01-01 00:00:00.000 GMT+0000"
# Ajera's own form, in the simulator's default zone.
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} GMT-05:00 \(Eastern Standard Time\)$")


def make_seed() -> dict[str, list[dict[str, Any]]]:
    """A small tenant in the real shapes; fields left out get the simulator's defaults ("" for text)."""
    clients = [
        {"ClientKey": k, "Description": f"Firm {k:02d}" if k != 3 else "ACME Supplies",
         "Status": "Active" if k % 4 else "Inactive", "ClientTypeKey": 1 if k % 2 else 2,
         "PrimaryAddressLineOne": "1 Main St", "PrimaryAddressCity": "Town",
         "LastModifiedDate": f"2020-01-{k:02d} 10:00:00.000 GMT+0000"}
        for k in range(1, 13)
    ]
    clients[0]["Contacts"] = [{"ContactKey": 1, "Order": 1}, {"ContactKey": 2, "Order": 2},
                              {"ContactKey": 3, "Order": 3}]
    clients[1]["Contacts"] = [{"ContactKey": 4, "Order": 1}, {"ContactKey": 5, "Order": 2}]
    contacts = [{"ContactKey": k, "FirstName": f"Ann{k}", "LastName": "Lee", "Company": "typed by hand",
                 "LastModifiedDate": OLD} for k in range(1, 7)]
    employees = [{"EmployeeKey": k, "FirstName": f"Emp{k}", "LastName": "Smith", "Status": "Active",
                  "DepartmentKey": 1 + k % 2, "LastModifiedDate": OLD} for k in range(1, 61)]
    employees[-1].update({"Status": "Inactive", "DateTerminated": "2019-12-31"})
    vendors = [{"VendorKey": 1, "Name": "Struct Eng LLC", "VendorTypeKey": 2, "VendorTypeIsConsultant": True,
                "LastModifiedDate": OLD}]
    projects = [{"ProjectKey": 1, "ID": "00001", "Description": "Library Renovation", "Status": "Active",
                 "SyncToCRM": True, "ProjectManager": {"EmployeeKey": 2}, "BillingType": "TimeAndExpense",
                 "RateTableKey": 1, "EstimatedStartDate": "2020-01-01", "TotalContractAmount": 1000.0,
                 "ExpenseCostBudget": 100.0, "LastModifiedDate": OLD},
                {"ProjectKey": 2, "ID": "00002", "Description": "Overhead", "Status": "Active",
                 "BillingType": "Overhead", "RateTableKey": 1, "LastModifiedDate": OLD}]
    return {
        "Clients": clients, "Contacts": contacts, "Employees": employees, "Vendors": vendors, "Projects": projects,
        "InvoiceGroups": [{"InvoiceGroupKey": 1, "ProjectKey": 1, "ClientKey": 1, "Description": "Main",
                           "InvoiceFormatKey": 1},
                          {"InvoiceGroupKey": 2, "ProjectKey": 1, "ClientKey": 2, "Description": "Extra",
                           "InvoiceFormatKey": 1},
                          {"InvoiceGroupKey": 3, "ProjectKey": 2, "ClientKey": 1, "Description": "OH",
                           "InvoiceFormatKey": 1}],
        "Phases": [{"PhaseKey": 101, "ProjectKey": 1, "InvoiceGroupKey": 1, "ParentKey": 1, "ID": "01",
                    "Description": "Design"},
                   {"PhaseKey": 102, "ProjectKey": 1, "InvoiceGroupKey": 1, "ParentKey": 101, "ID": "01.01",
                    "Description": "Schematics"},
                   {"PhaseKey": 103, "ProjectKey": 2, "InvoiceGroupKey": 3, "ParentKey": 2, "ID": "01",
                    "Description": "OH"}],
        "Resources": [{"ResourceKey": 1, "PhaseKey": 102, "EmployeeKey": 2, "Description": "PM", "Units": 10.0},
                      {"ResourceKey": 2, "PhaseKey": 101, "VendorKey": 1, "ActivityType": "Consultant",
                       "Description": "Structural", "CostAmount": 500.0}],
        "ProjectTemplates": [{"ProjectTemplateKey": 1, "ID": "T1", "Description": "Standard",
                              "BillingType": "FixedFee", "RateTableKey": 1,
                              "InvoiceGroups": [{"Description": "Basic", "InvoiceFormatKey": 1,
                                                 "Phases": [{"ID": "01", "Description": "Design", "Phases": []}]}]}],
        "Timesheets": [
            {"TimesheetKey": k, "TimesheetDate": f"2020-01-{6 + 7 * (k % 3):02d}", "EmployeeKey": 1 + k % 4,
             "Submitted": k % 2 == 0,
             "Project": {"Detail": [{"Project Key": 1, "Phase Key": 102, "Activity Key": 1, "D1 Regular": 8.0,
                                     "D2 Regular": 4.0 if k % 5 else 0.0}]}}
            for k in range(1, 601)
        ],
    }


SEEDED = {"seed": make_seed()}


class Api:
    """Raw protocol helper: logs in and posts method calls."""

    def __init__(self, url: str, version: int = 1, api_id: str = AJERA_API_ID) -> None:
        self.endpoint = f"{url}/AjeraAPI.ashx?{api_id}"
        self.http = requests.Session()
        self.token = self.login(version=version)["Content"].get("SessionToken")

    def post(self, payload: dict[str, Any], timeout: float = 5) -> requests.Response:
        return self.http.post(self.endpoint, json=payload, timeout=timeout)

    def login(self, username: str = USERNAME, password: str = PASSWORD, version: int = 1) -> dict[str, Any]:
        return self.post({"Method": "CreateAPISession", "Username": username, "Password": password,
                          "APIVersion": version, "UseSessionCookie": False}).json()

    def call(self, method: str, token: str | None = None, **arguments: Any) -> dict[str, Any]:
        response = self.post({"Method": method, "SessionToken": token or self.token, "MethodArguments": arguments})
        assert response.status_code == 200, response.text
        return response.json()


def ok(envelope: dict[str, Any], code: int = 200) -> dict[str, Any]:
    assert envelope["ResponseCode"] == code and envelope["Errors"] == [], envelope
    return envelope["Content"]


def messages(envelope: dict[str, Any]) -> list[str]:
    return [e["ErrorMessage"] for e in envelope["Errors"]]


def refused(envelope: dict[str, Any], text: str) -> None:
    assert envelope["Errors"] and any(text in m for m in messages(envelope)), envelope


# --- sessions and envelope --------------------------------------------------------------------------


def test_auth_and_envelope(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    env = api.login()
    assert set(env) == {"ResponseCode", "Message", "Errors", "Content", "UsageKey"}
    assert env["ResponseCode"] == 200 and env["Message"] == "Success" and env["Errors"] == []
    uuid.UUID(env["UsageKey"])
    assert {"SessionToken", "SessionExpiration", "CompanyName", "AjeraVersion", "APIURL",
            "UsingICRMobile"} == set(env["Content"])
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}-05:00$", env["Content"]["SessionExpiration"])

    bad = api.login(password="wrong")
    assert bad["Message"] == "Unable to authenticate user" and bad["Errors"] and "SessionToken" not in bad["Content"]

    assert ok(api.call("EndAPISession")) == {}
    gone = api.call("ListClients")
    assert gone["Message"] == "Invalid Session" and gone["Errors"]
    assert api.call("ListClients", token="not-a-token")["Message"] == "Invalid Session"
    no_args = api.post({"Method": "ListClients", "SessionToken": Api(ajera_sim.url).token}).json()
    refused(no_args, "MethodArguments is required")


@pytest.mark.parametrize("ajera_sim", [{"seed": make_seed(), "settings": {"success_code": 0}}], indirect=True)
def test_success_code_zero_setting(ajera_sim) -> None:
    """Live tenants answer 0 on success (sbo-inc/ajera 0.5.0); the session call still answers 200."""
    api = Api(ajera_sim.url)
    assert api.login()["ResponseCode"] == 200
    assert len(ok(api.call("ListClients"), code=0)["Clients"]) == 12
    partial = api.call("GetClients", RequestedClients=[1, 99])
    assert partial["ResponseCode"] == 0 and messages(partial) == ["Client 99: not found"]
    assert api.call("ListClients", FilterByNope=1)["ResponseCode"] == 400


def test_invalid_api_id(ajera_sim) -> None:
    response = requests.post(
        f"{ajera_sim.url}/AjeraAPI.ashx?{base64.b64encode(b'other:9').decode()}",
        json={"Method": "CreateAPISession", "Username": USERNAME, "Password": PASSWORD, "APIVersion": 2},
        timeout=5,
    )
    assert response.status_code == 200
    assert (response.json()["ResponseCode"], response.json()["Message"]) == (404, "Invalid API URL")


@pytest.mark.parametrize("ajera_sim", [{"settings": {"session_seconds": 0.3}}], indirect=True)
def test_session_expires(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    ok(api.call("ListClients"))
    time.sleep(0.4)
    assert api.call("ListClients")["Message"] == "Invalid Session"


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_each_method_needs_its_session_version(ajera_sim) -> None:
    """The reference's table: clients, contacts, vendors, employees, templates, totals on v1; creates,
    project updates and timesheets on v2; ListProjects and GetProjects on both (in their own shapes)."""
    v1, v2 = Api(ajera_sim.url, version=1), Api(ajera_sim.url, version=2)
    for method in ("ListClients", "ListContacts", "ListVendors", "ListEmployees", "ListProjectTemplates"):
        ok(v1.call(method))
        env = v2.call(method)
        assert env["ResponseCode"] == 400 and env["Message"] == (
            f"Unauthorized method {method} for api version 2 but is supported with api version 1")
    for method in ("CreateProjects", "UpdateProjects", "ListTimesheets", "GetTimesheets"):
        env = v1.call(method)
        assert env["Message"] == f"Unauthorized method {method} for api version 1 but is supported with api version 2"
    assert ok(v1.call("ListProjects")) == ok(v2.call("ListProjects"))
    bundle = {"Projects", "InvoiceGroups", "Phases", "Resources"}
    assert set(ok(v2.call("GetProjects", RequestedProjects=[1]))) == bundle
    assert set(ok(v1.call("GetProjects", RequestedProjects=[1]))) == {"Projects"}


def test_unknown_method_and_bad_body(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    assert api.call("GetEmployee")["Message"] == "Unauthorized method: GetEmployee"
    response = api.http.post(api.endpoint, data=b"not json", timeout=5)
    assert response.status_code == 200 and response.json()["ResponseCode"] == 400


# --- lists ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_paging_and_list_rows(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    everything = ok(api.call("ListClients"))
    assert set(everything) == {"Clients"} and len(everything["Clients"]) == 12
    assert set(everything["Clients"][0]) == {"ClientKey", "Description"}  # no modified date on list rows
    default = ok(api.call("ListClients", PageResults=True))
    assert (default["PageSize"], default["PageNumber"], default["PageCount"], len(default["Clients"])) == (10, 1, 2, 10)
    pages = [ok(api.call("ListClients", PageResults=True, PageSize=5, PageNumber=n)) for n in (1, 2, 3, 4)]
    assert [p["PageCount"] for p in pages] == [3, 3, 3, 3]
    assert [len(p["Clients"]) for p in pages] == [5, 5, 2, 0]
    assert [c["ClientKey"] for p in pages for c in p["Clients"]] == list(range(1, 13))
    contacts = ok(api.call("ListContacts"))["Contacts"]
    assert set(contacts[0]) == {"ContactKey", "FirstName", "MiddleName", "LastName", "Company"}
    assert contacts[0]["Company"] == "typed by hand" and contacts[0]["MiddleName"] == ""  # free text, "" not null
    bad = api.call("ListClients", PageResults=True, PageSize=0, PageNumber=1)
    refused(bad, "PageSize")


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_list_filters_are_the_documented_ones_with_their_types(ajera_sim) -> None:
    api, v2 = Api(ajera_sim.url), Api(ajera_sim.url, version=2)

    def keys(method: str, entity: str, key: str, api_: Api = api, **filters: Any) -> list[int]:
        return [r[key] for r in ok(api_.call(method, **filters))[entity]]

    assert keys("ListClients", "Clients", "ClientKey", FilterByStatus=["Inactive"]) == [4, 8, 12]
    assert keys("ListClients", "Clients", "ClientKey", FilterByStatus=["inactive"]) == [4, 8, 12]  # any case
    assert keys("ListClients", "Clients", "ClientKey", FilterByClientType=[2]) == [2, 4, 6, 8, 10, 12]
    assert keys("ListClients", "Clients", "ClientKey", FilterByNameLike="acme") == [3]
    assert keys("ListClients", "Clients", "ClientKey", FilterByNameEquals="acme supplies") == [3]
    assert keys("ListClients", "Clients", "ClientKey", FilterByCompany=[1]) == list(range(1, 13))
    assert keys("ListClients", "Clients", "ClientKey", FilterByCompany=[2]) == []
    assert keys("ListContacts", "Contacts", "ContactKey", FilterByText="ann2 lee") == [2]
    assert keys("ListEmployees", "Employees", "EmployeeKey", FilterByDepartment=[1], FilterByNameLike="emp1") == \
        [10, 12, 14, 16, 18]
    assert keys("ListProjects", "Projects", "ProjectKey", v2, FilterBySyncToCRM=[True]) == [1]
    assert keys("ListProjects", "Projects", "ProjectKey", v2, FilterByDescriptionEquals="LIBRARY renovation") == [1]
    assert keys("ListProjects", "Projects", "ProjectKey", v2, FilterByNameLike="00002") == [2]  # ID too
    assert keys("ListProjects", "Projects", "ProjectKey", v2, FilterByIDLike="0001") == [1]
    # Only the documented filters, with their documented JSON types.
    for method, args, text in (
        ("ListClients", {"FilterBySyncToCRM": [True]}, "FilterBySyncToCRM is not a filter of ListClients"),
        ("ListContacts", {"FilterByNameEquals": "x"}, "FilterByNameEquals is not a filter of ListContacts"),
        ("ListClients", {"FilterByDescriptionEquals": "x"}, "is not a filter of ListClients"),
        ("ListVendors", {"FilterBySyncToCRM": [True]}, "is not a filter of ListVendors"),
        ("ListClients", {"FilterByCompany": 1}, "FilterByCompany must be int[]"),
        ("ListClients", {"FilterByStatus": "Active"}, "FilterByStatus must be str[]"),
        ("ListClients", {"FilterByStatus": ["Bogus"]}, "FilterByStatus values must be"),
        ("ListClients", {"FilterByEarliestModifiedDate": "yesterday"}, "FilterByEarliestModifiedDate must be a date"),
    ):
        env = api.call(method, **args)
        assert env["ResponseCode"] == 400 and env["Message"] == "One or more properties contain invalid data"
        refused(env, text)
    refused(v2.call("ListProjects", FilterBySyncToCRM=True), "FilterBySyncToCRM must be bool[]")


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_modified_date_window(ajera_sim) -> None:
    api = Api(ajera_sim.url)

    def window(**filters: Any) -> list[int]:
        return [c["ClientKey"] for c in ok(api.call("ListClients", **filters))["Clients"]]

    assert window(FilterByEarliestModifiedDate="2020-01-03 10:00:00.000 GMT-0000",
                  FilterByLatestModifiedDate="2020-01-05 10:00:00.000 GMT-0000") == [3, 4]
    # Offsets are honoured: 03:00 at GMT-0700 is 10:00 UTC; Ajera's own form is accepted too.
    assert window(FilterByEarliestModifiedDate="2020-01-11 03:00:00.000 GMT-0700") == [11, 12]
    assert window(FilterByEarliestModifiedDate="2020-01-11 05:00:00.000 GMT-05:00 (Eastern Standard Time)") == [11, 12]
    assert window(FilterByLatestModifiedDate="2020-01-02 10:00:00.001 GMT+0000") == [1, 2]


# --- gets -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_get_records_flat_with_empty_text_and_ajera_dates(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    env = api.call("GetClients", RequestedClients=[1, 99])
    assert env["ResponseCode"] == 200 and messages(env) == ["Client 99: not found"]
    client = env["Content"]["Clients"][0]
    assert STAMP.match(client["LastModifiedDate"]) and client["LastModifiedDate"].startswith("2020-01-01 05:00:00.000")
    assert client["PrimaryAddressLineOne"] == "1 Main St" and client["PrimaryPhoneNumber"] == ""
    assert client["MailingAddressSameAsPrimary"] is True and client["DateEstablished"] is None
    assert not any(isinstance(v, dict) for v in client.values())  # flat: no nested Address or Phone
    assert [(c["ContactKey"], c["FirstName"]) for c in client["Contacts"]] == [(1, "Ann1"), (2, "Ann2"), (3, "Ann3")]
    contacts = {c["ContactKey"]: c for c in ok(api.call("GetContacts", RequestedContacts=[1, 4, 6]))["Contacts"]}
    assert (contacts[1]["ContactClientKey"], contacts[1]["ContactClientDescription"]) == (1, "Firm 01")
    assert contacts[4]["ContactClientKey"] == 2 and contacts[6]["ContactClientKey"] is None
    assert "ClientKey" not in contacts[1] and contacts[1]["Company"] == "typed by hand"


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_get_employees_limit(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    assert len(ok(api.call("GetEmployees", RequestedEmployees=list(range(1, 51))))["Employees"]) == 50
    env = api.call("GetEmployees", RequestedEmployees=list(range(1, 52)))
    assert env["ResponseCode"] == -100 and env["Errors"]


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_projects_v2_bundle_v1_nested_templates_totals_resources(ajera_sim) -> None:
    v1, v2 = Api(ajera_sim.url, version=1), Api(ajera_sim.url, version=2)
    bundle = ok(v2.call("GetProjects", RequestedProjects=[1]))
    project = bundle["Projects"][0]
    assert "ClientKey" not in project and "StartDate" not in project and "CustomFields" not in project
    assert project["ProjectManager"] == {"EmployeeKey": 2, "FirstName": "Emp2", "MiddleName": "", "LastName": "Smith"}
    assert [(g["InvoiceGroupKey"], g["ClientKey"], g["ClientDescription"]) for g in bundle["InvoiceGroups"]] == [
        (1, 1, "Firm 01"), (2, 2, "Firm 02")]
    assert [(p["PhaseKey"], p["ParentKey"]) for p in bundle["Phases"]] == [(101, 1), (102, 101)]
    resources = {r["ResourceKey"]: r for r in bundle["Resources"]}
    assert resources[1]["Employee"] == {"FirstName": "Emp2", "MiddleName": "", "LastName": "Smith"}
    assert "EmployeeKey" not in resources[1] and "VendorKey" not in resources[2]

    nested = ok(v1.call("GetProjects", RequestedProjects=[1]))["Projects"][0]
    groups = nested["InvoiceGroups"]
    assert [g["Client"] for g in groups] == [{"ClientKey": 1, "Description": "Firm 01"},
                                             {"ClientKey": 2, "Description": "Firm 02"}]
    assert groups[0]["Phases"][0]["ID"] == "01" and groups[0]["Phases"][0]["Phases"][0]["ID"] == "01.01"
    assert nested["Contacts"] == [] and nested["Resources"] == []

    with_resources = ok(v1.call("GetProjectsWithResources", RequestedProjects=[1]))["Projects"][0]
    design = with_resources["InvoiceGroups"][0]["Phases"][0]
    assert [r["VendorKey"] for r in design["Resources"]] == [1]
    assert [r["EmployeeKey"] for r in design["Phases"][0]["Resources"]] == [2]

    assert ok(v1.call("ListProjectTemplates"))["ProjectTemplates"] == [
        {"ProjectTemplateKey": 1, "ID": "T1", "Description": "Standard"}]
    template = ok(v1.call("GetProjectTemplates", RequestedProjects=[1]))["ProjectTemplates"][0]
    assert template["ProjectTemplateKey"] == 1 and "ProjectKey" not in template
    assert template["InvoiceGroups"][0]["Phases"][0]["Description"] == "Design"

    totals = ok(v1.call("GetProjectTotals", RequestedProjectTotals=1))["ProjectTotals"]
    assert totals["ProjectKey"] == 1 and totals["InvoiceGroups"]  # the v1 project, plus the spaced totals
    assert {"Billed", "Spent", "Cost", "Billed Labor", "Spent Labor", "Cost Labor", "Written off", "Receipts",
            "WIP", "Receivable Balance", "Hours Worked", "Resource Hours"} <= set(totals)
    assert totals["Resource Hours"] == 10.0 and totals["Hours Worked"] > 0
    refused(v1.call("GetProjectTotals", RequestedProjectTotals=[1]), "one integer ProjectKey")
    assert ok(v1.call("GetProjectTotals", RequestedProjectTotals=2)) == {}  # overhead: nothing


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_timesheets_week_windows_and_500_row_cap(ajera_sim) -> None:
    v2 = Api(ajera_sim.url, version=2)
    every = ok(v2.call("ListTimesheets"))["Timesheets"]
    assert len(every) == 500  # 600 stored: the list stops at 500 without saying so
    row = every[0]
    assert set(row) == {"Timesheet Key", "Employee Key", "Employee", "First Name", "Last Name", "Timesheet Date",
                        "Timesheet Total", "Submitted"}
    week = ok(v2.call("ListTimesheets", FilterByEarliestTimesheetDate="2020-01-13",
                      FilterByLatestTimesheetDate="2020-01-19"))["Timesheets"]
    assert week and {r["Timesheet Date"] for r in week} == {"2020-01-13"} and len(week) == 200
    assert {r["Employee Key"] for r in ok(v2.call("ListTimesheets", FilterByEmployee=[2]))["Timesheets"]} == {2}
    assert all(r["Submitted"] for r in ok(v2.call("ListTimesheets", FilterBySubmitted=True))["Timesheets"])
    refused(v2.call("ListTimesheets", FilterByProject=[1]), "FilterByProject is not a filter of ListTimesheets")
    refused(v2.call("ListTimesheets", FilterByEarliestTimesheetDate="13/01/2020"), 'must be a date "YYYY-MM-DD"')
    sheet = ok(v2.call("GetTimesheets", RequestedTimesheets=[week[0]["Timesheet Key"]]))["Timesheets"][0]
    assert set(sheet) == {"TimesheetKey", "TimesheetDate", "EmployeeKey", "Project"}
    detail = sheet["Project"]["Detail"][0]
    assert (detail["Project Key"], detail["Phase Key"], detail["D1 Regular"]) == (1, 102, 8.0)


# --- writes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_update_with_the_baseline_exactly_as_get_returned_it(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    base = ok(api.call("GetClients", RequestedClients=[5]))["Clients"][0]
    # The whole record as read goes back, every listed field accepted; a no-op is refused.
    noop = api.call("UpdateClients", UpdatedClients=[base], UnchangedClients=[base])
    assert noop["Message"] == "Success with errors" and messages(noop) == ["Client 5: No changes"]
    saved = ok(api.call("UpdateClients", UpdatedClients=[{**base, "PrimaryPhoneNumber": "555-0100"}],
                        UnchangedClients=[base]))
    assert saved["NumberOfClientsUpdated"] == 1 and saved["Clients"][0]["OriginalClientKey"] == 5
    assert saved["Clients"][0]["LastModifiedDate"] > base["LastModifiedDate"]
    # The old baseline is stale now; an edited baseline is stale too.
    stale = api.call("UpdateClients", UpdatedClients=[{**base, "Email": "x@y.z"}], UnchangedClients=[base])
    assert messages(stale) == ["Client 5: Record has been modified since it was read"]
    fresh = saved["Clients"][0]
    fresh.pop("OriginalClientKey")
    doctored = api.call("UpdateClients", UpdatedClients=[{**fresh, "Email": "x@y.z"}],
                        UnchangedClients=[{**fresh, "Notes": "not what Get said"}])
    refused(doctored, "modified since it was read")
    unknown = api.call("UpdateClients", UpdatedClients=[{**fresh, "Phone": "555"}], UnchangedClients=[fresh])
    refused(unknown, "Client 5: unknown fields Phone")
    no_base = api.call("UpdateClients", UpdatedClients=[{**fresh, "Email": "x@y.z"}])
    refused(no_base, "no baseline")


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_create_with_negative_distinct_keys(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    made = ok(api.call("UpdateClients", UpdatedClients=[{"ClientKey": -1, "Description": "New A"},
                                                        {"ClientKey": -2, "Description": "New B"}]))
    assert [(c["OriginalClientKey"], c["ClientKey"]) for c in made["Clients"]] == [(-1, 13), (-2, 14)]
    assert made["Clients"][0]["PrimaryPhoneNumber"] == "" and made["Clients"][0]["Status"] == "Active"
    twice = api.call("UpdateClients", UpdatedClients=[{"ClientKey": -3, "Description": "C"},
                                                      {"ClientKey": -3, "Description": "D"}])
    refused(twice, "Client -3: appears twice in UpdatedClients")
    long = api.call("UpdateClients", UpdatedClients=[{"ClientKey": -4, "Description": "x" * 81}])
    refused(long, "Client -4: Description must be at most 80 characters (got 81)")
    typed = api.call("UpdateClients", UpdatedClients=[{"ClientKey": -5, "Description": "ok", "SendStatements": "yes"}])
    refused(typed, "Client -5: SendStatements must be true or false")
    single = api.call("UpdateClients", UseSingleTransaction=True,
                      UpdatedClients=[{"ClientKey": -6, "Description": "fine"}, {"ClientKey": -7, "Description": ""}])
    assert single["ResponseCode"] == 400 and "Client -7: Description is required" in messages(single)
    assert "fine" not in [c["Description"] for c in ok(api.call("ListClients"))["Clients"]]


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_contact_firm_is_written_through_the_clients_contacts(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    contact = ok(api.call("GetContacts", RequestedContacts=[6]))["Contacts"][0]
    direct = api.call("UpdateContacts", UpdatedContacts=[{**contact, "ContactClientKey": 3}],
                      UnchangedContacts=[contact])
    refused(direct, "Contact 6: ContactClientKey cannot be written; list the contact in the client's Contacts")
    client = ok(api.call("GetClients", RequestedClients=[3]))["Clients"][0]
    ok(api.call("UpdateClients", UpdatedClients=[{**client, "Contacts": [{"ContactKey": 6, "Order": 1}]}],
                UnchangedClients=[client]))
    moved = ok(api.call("GetContacts", RequestedContacts=[6]))["Contacts"][0]
    assert moved["ContactClientKey"] == 3
    assert moved["LastModifiedDate"] > contact["LastModifiedDate"]  # a new link is a change of the contact
    # Listing it on another client moves it there (one client per contact).
    other = ok(api.call("GetClients", RequestedClients=[4]))["Clients"][0]
    ok(api.call("UpdateClients", UpdatedClients=[{**other, "Contacts": [{"ContactKey": 6, "Order": 1}]}],
                UnchangedClients=[other]))
    assert ok(api.call("GetContacts", RequestedContacts=[6]))["Contacts"][0]["ContactClientKey"] == 4
    assert ok(api.call("GetClients", RequestedClients=[3]))["Clients"][0]["Contacts"] == []
    # Two clients of one call listing it: the later one in the call holds it, the earlier one not.
    both = ok(api.call("GetClients", RequestedClients=[3, 5]))["Clients"]
    ok(api.call("UpdateClients", UpdatedClients=[{**c, "Contacts": [{"ContactKey": 6, "Order": 1}]} for c in both],
                UnchangedClients=both))
    assert ok(api.call("GetContacts", RequestedContacts=[6]))["Contacts"][0]["ContactClientKey"] == 5
    assert [c["Contacts"] for c in ok(api.call("GetClients", RequestedClients=[3, 4]))["Clients"]] == [[], []]
    unknown = api.call("UpdateClients", UpdatedClients=[{"ClientKey": -1, "Description": "Z",
                                                         "Contacts": [{"ContactKey": 999}]}])
    refused(unknown, "Contacts refers to unknown Contact 999")
    # Contact names are unique database-wide.
    twin = api.call("UpdateContacts", UpdatedContacts=[{"ContactKey": -1, "FirstName": "ann1", "LastName": "LEE"}])
    refused(twin, "already exists (ContactKey 1)")


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_update_projects_takes_the_whole_bundle_as_baseline(ajera_sim) -> None:
    v2 = Api(ajera_sim.url, version=2)
    bundle = ok(v2.call("GetProjects", RequestedProjects=[1]))
    saved = ok(v2.call("UpdateProjects", UpdatedProjects=[{"ProjectKey": 1, "Description": "Library Renewal",
                                                           "EstimatedCompletionDate": "2030-06-30"}],
                       UnchangedProjects=bundle))
    assert set(saved) == {"Projects", "InvoiceGroups", "Phases", "Resources"}
    assert saved["Projects"][0]["Description"] == "Library Renewal" and len(saved["InvoiceGroups"]) == 2
    stale = v2.call("UpdateProjects", UpdatedProjects=[{"ProjectKey": 1, "Notes": "x"}], UnchangedProjects=bundle)
    refused(stale, "Project 1: Record has been modified since it was read")
    noop = v2.call("UpdateProjects", UpdatedProjects=[{"ProjectKey": 1, "Description": "Library Renewal"}],
                   UnchangedProjects=saved)
    refused(noop, "Project 1: No changes")
    flat = v2.call("UpdateProjects", UpdatedProjects=[{"ProjectKey": 1, "Notes": "x"}],
                   UnchangedProjects=saved["Projects"])
    refused(flat, "UnchangedProjects must be the GetProjects (version 2) Content")
    for changes, text in (({"ClientKey": 2}, "unknown fields ClientKey"),
                          ({"StartDate": "2020-01-01"}, "unknown fields"),
                          ({"BillingType": "Hourly"}, "BillingType must be one of"),
                          ({"ProjectManager": {"EmployeeKey": 999}}, "ProjectManager refers to unknown Employee 999")):
        refused(v2.call("UpdateProjects", UpdatedProjects=[{"ProjectKey": 1, **changes}],
                        UnchangedProjects=saved), text)
    refused(v2.call("UpdateProjects", UpdatedProjects=[{"ProjectKey": -1, "Description": "x"}],
                    UnchangedProjects=saved), "CreateProjects")


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_create_projects_with_its_required_fields(ajera_sim) -> None:
    v2 = Api(ajera_sim.url, version=2)
    good = {"CreateType": "Project",
            "Project": {"Description": "Fire Station", "BillingType": "FixedFee", "RateTableKey": 1,
                        "ProjectManager": {"EmployeeKey": 3}, "EstimatedStartDate": "2026-01-05"},
            "InvoiceGroups": [{"Description": "Main", "ClientKey": 4, "InvoiceFormatKey": 1}],
            "Phases": [{"Description": "Design"}, {"ID": "02", "Description": "Build"}]}
    made = ok(v2.call("CreateProjects", **good))
    project = made["Projects"][0]
    assert (project["ProjectKey"], project["ID"], project["Status"]) == (3, "00003", "Active")
    assert [(g["ClientKey"], g["ProjectKey"]) for g in made["InvoiceGroups"]] == [(4, 3)]
    assert [(p["ID"], p["ParentKey"]) for p in made["Phases"]] == [("01", 3), ("02", 3)]
    assert all(p["PhaseKey"] != 3 for p in made["Phases"])
    for broken, text in (
        ({**good, "InvoiceGroups": []}, "InvoiceGroups must list at least one"),
        ({**good, "Phases": []}, "Phases must list at least one"),
        ({**good, "Project": {**good["Project"], "RateTableKey": None}}, "RateTableKey is required"),
        ({**good, "Project": {**good["Project"], "Description": "x" * 81}}, "Description must be at most 80"),
        ({**good, "InvoiceGroups": [{"Description": "Main", "InvoiceFormatKey": 1}]}, "ClientKey is required"),
        ({**good, "InvoiceGroups": [{"Description": "Main", "ClientKey": 4}]}, "InvoiceFormatKey is required"),
        ({**good, "Project": {**good["Project"], "ClientKey": 4}}, "unknown fields ClientKey"),
        ({**good, "CreateType": "Phase"}, 'CreateType must be "Project"'),
    ):
        refused(v2.call("CreateProjects", **broken), text)


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_last_modified_strictly_increasing(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    stamps = []
    for n in range(5):
        made = ok(api.call("UpdateVendors", UpdatedVendors=[{"VendorKey": -1, "Name": f"V{n}"}]))
        stamps.append(made["Vendors"][0]["LastModifiedDate"])
    assert stamps == sorted(stamps) and len(set(stamps)) == 5
    listed = ok(api.call("ListVendors", FilterByEarliestModifiedDate=stamps[2]))["Vendors"]
    assert [v["Name"] for v in listed] == ["V2", "V3", "V4"]


# --- faults -----------------------------------------------------------------------------------------


def test_fault_injection(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    ajera_sim.reset_stats()
    ajera_sim.faults(fail_next=2)
    assert api.post({"Method": "ListClients", "SessionToken": api.token}).status_code == 503
    assert api.post({"Method": "ListClients", "SessionToken": api.token}).status_code == 503
    ok(api.call("ListClients"))
    stats = ajera_sim.stats()
    assert stats["_injected_5xx"] == 2 and stats["ListClients"] == 1 and stats["_total"] == 1

    ajera_sim.faults(throttle_rps=2)
    codes = [api.post({"Method": "ListClients", "SessionToken": api.token}) for _ in range(5)]
    throttled = [r for r in codes if r.status_code == 429]
    assert throttled and float(throttled[0].headers["Retry-After"]) > 0
    assert ajera_sim.stats()["_throttled"] == len(throttled)
    ajera_sim.faults(throttle_rps=None)

    ajera_sim.faults(hang_next=1, hang_seconds=0.5)
    with pytest.raises(requests.ReadTimeout):
        api.post({"Method": "ListClients", "SessionToken": api.token, "MethodArguments": {}}, timeout=0.2)
    ok(api.call("ListClients"))

    ajera_sim.faults(latency_ms=150)
    started = time.monotonic()
    ok(api.call("ListClients"))
    assert time.monotonic() - started >= 0.15
    ajera_sim.faults(latency_ms=0)

    assert ajera_sim.expire_sessions() >= 1
    assert api.call("ListClients")["Message"] == "Invalid Session"
    assert requests.get(f"{ajera_sim.url}/_sim/faults", timeout=5).json()["hang_seconds"] == 0.5


# --- seed and persistence ---------------------------------------------------------------------------


def test_seed_refuses_names_the_reference_does_not_list() -> None:
    with pytest.raises(ValueError, match=r"fields the reference does not list: \['Phone'\]"):
        create_app(seed={"Clients": [{"ClientKey": 1, "Description": "X", "Phone": "555"}]})


def test_seed_loads_once_and_state_persists(tmp_path) -> None:
    db_file = str(tmp_path / "ajera.sqlite")
    server = start("ajera", db_path=db_file, seed=make_seed())
    try:
        api = Api(server.url)
        assert len(ok(api.call("ListEmployees"))["Employees"]) == 60
        created = ok(api.call("UpdateClients", UpdatedClients=[{"ClientKey": -1, "Description": "Kept"}]))
        stamp = created["Clients"][0]["LastModifiedDate"]
    finally:
        server.stop()
    # Restart on the same file with a different seed: the stored data wins, sessions do not survive.
    server = start("ajera", db_path=db_file, seed={"Clients": [{"ClientKey": 1, "Description": "X"}]})
    try:
        api2 = Api(server.url)
        assert api2.call("ListClients", token=api.token)["Message"] == "Invalid Session"
        clients = ok(api2.call("ListClients"))["Clients"]
        assert len(clients) == 13 and clients[-1] == {"ClientKey": 13, "Description": "Kept"}
        again = ok(api2.call("UpdateClients", UpdatedClients=[{"ClientKey": -1, "Description": "Later"}]))
        assert again["Clients"][0]["ClientKey"] == 14 and again["Clients"][0]["LastModifiedDate"] > stamp
    finally:
        server.stop()


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_project_contacts_on_v1_projects_and_set_through_the_admin_call(ajera_sim) -> None:
    v1, v2 = Api(ajera_sim.url, version=1), Api(ajera_sim.url, version=2)
    before = ok(v2.call("GetProjects", RequestedProjects=[1]))["Projects"][0]["LastModifiedDate"]
    listed = [{"ContactKey": 5, "Order": 2, "Text": "billing"}, {"ContactKey": 1, "Order": 1}]
    answer = requests.post(f"{ajera_sim.url}/_sim/project_contacts", timeout=5,
                           json={"ProjectKey": 1, "Contacts": listed})
    assert answer.ok, answer.text
    for method in ("GetProjects", "GetProjectsWithResources"):
        contacts = ok(v1.call(method, RequestedProjects=[1]))["Projects"][0]["Contacts"]
        # As entered (not sorted by Order), each a CONTACTREF with the contact's names.
        assert contacts == [
            {"ContactKey": 5, "Order": 2, "Text": "billing", "FirstName": "Ann5", "MiddleName": "", "LastName": "Lee",
             "Title": "", "Company": "typed by hand"},
            {"ContactKey": 1, "Order": 1, "Text": "", "FirstName": "Ann1", "MiddleName": "", "LastName": "Lee",
             "Title": "", "Company": "typed by hand"}]
    assert [c["ContactKey"] for c in ok(v1.call("GetProjectTotals", RequestedProjectTotals=1))["ProjectTotals"]
            ["Contacts"]] == [5, 1]
    after = ok(v2.call("GetProjects", RequestedProjects=[1]))["Projects"][0]
    assert "Contacts" not in after  # not in the v2 shape (unknown there)
    assert after["LastModifiedDate"] != before  # editing the project's contacts edits the project
    assert ok(v1.call("GetProjects", RequestedProjects=[2]))["Projects"][0]["Contacts"] == []
    for bad in ({"ProjectKey": 1, "Contacts": [{"ContactKey": 99}]}, {"ProjectKey": 99, "Contacts": []},
                {"ProjectKey": 1, "Contacts": [{"Order": 1}]}):
        assert requests.post(f"{ajera_sim.url}/_sim/project_contacts", timeout=5, json=bad).status_code == 400
