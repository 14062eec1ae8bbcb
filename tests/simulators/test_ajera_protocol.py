"""The Ajera simulator's wire protocol, exercised with raw ``requests`` (no client library)."""

from __future__ import annotations

import base64
import re
import time
import uuid
from typing import Any

import pytest
import requests

from simulators.ajera.app import create_app
from simulators.server import start_in_thread

API_ID = base64.b64encode(b"ajera-sim:1").decode()
OLD = "2020-01-01 00:00:00.000 GMT+0000"
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} GMT\+0000$")


def make_seed() -> dict[str, list[dict[str, Any]]]:
    clients = [
        {
            "ClientKey": k,
            "Description": f"Firm {k:02d}" if k != 3 else "ACME Supplies",
            "Status": "Active" if k % 4 else "Inactive",
            "ClientTypeKey": 1,
            "Email": None,
            "Phone": None,
            "Website": None,
            "Address": {"Line1": "1 Main St", "City": "Town", "State": "CA", "Zip": "90000"},
            "SyncToCRM": k % 2 == 0,
            "LastModifiedDate": f"2020-01-{k:02d} 10:00:00.000 GMT+0000",
        }
        for k in range(1, 13)
    ]
    contacts = [
        {
            "ContactKey": k,
            "FirstName": f"Ann{k}",
            "MiddleName": None,
            "LastName": "Lee",
            "Title": None,
            "Email": None,
            "Phone": None,
            "ClientKey": 1 if k <= 3 else 2,
            "Status": "Active",
            "SyncToCRM": True,
            "LastModifiedDate": OLD,
        }
        for k in range(1, 6)
    ]
    employees = [
        {
            "EmployeeKey": k,
            "FirstName": f"Emp{k}",
            "MiddleName": None,
            "LastName": "Smith",
            "Title": None,
            "Email": None,
            "Status": "Terminated" if k == 60 else "Active",
            "LastModifiedDate": OLD,
        }
        for k in range(1, 61)
    ]
    vendors = [
        {
            "VendorKey": 1,
            "Name": "Struct Eng LLC",
            "Status": "Active",
            "VendorTypeKey": 2,
            "VendorTypeIsConsultant": True,
            "Email": None,
            "Phone": None,
            "LastModifiedDate": OLD,
        }
    ]
    projects = [
        {
            "ProjectKey": 1,
            "ID": "00001",
            "Description": "Library Renovation",
            "Status": "Active",
            "SyncToCRM": True,
            "CreateInCRM": False,
            "CRMFinalSync": False,
            "ClientKey": 1,
            "ProjectManager": {"EmployeeKey": 2, "FirstName": "stale", "MiddleName": None, "LastName": "x"},
            "PrincipalInCharge": None,
            "Location": "Town",
            "BillingType": "Hourly",
            "StartDate": "2020-01-01",
            "EndDate": None,
            "TotalContractAmount": 1000.0,
            "LaborBudget": 500.0,
            "ExpenseBudget": 100.0,
            "ConsultantBudget": 0.0,
            "ProjectTypeKey": None,
            "LastModifiedDate": OLD,
        }
    ]
    return {
        "Clients": clients,
        "Contacts": contacts,
        "Employees": employees,
        "Vendors": vendors,
        "Projects": projects,
        "InvoiceGroups": [{"InvoiceGroupKey": 1, "ProjectKey": 1, "ClientKey": 1, "Description": "Main"}],
        "Phases": [
            {"PhaseKey": 1, "ProjectKey": 1, "InvoiceGroupKey": 1, "ParentKey": None, "ID": "01", "Description": "Design"}
        ],
        "Resources": [
            {"ResourceKey": 1, "PhaseKey": 1, "ProjectKey": 1, "Type": "Employee", "EmployeeKey": 2, "Role": "PM",
             "Hours": 10.0, "FirstEntryDate": "2020-01-02"},
            {"ResourceKey": 2, "PhaseKey": 1, "ProjectKey": 1, "Type": "Vendor", "VendorKey": 1, "Role": "Consultant",
             "Hours": 2.0, "FirstEntryDate": "2020-01-03"},
        ],
        "ProjectTemplates": [
            {"ProjectTemplateKey": 1, "Description": "Standard", "BillingType": "Hourly",
             "Phases": [{"ID": "01", "Description": "Design"}]}
        ],
    }


SEEDED = {"seed": make_seed()}


class Api:
    """Raw protocol helper: logs in and posts method calls."""

    def __init__(self, url: str, version: int = 2, api_id: str = API_ID) -> None:
        self.endpoint = f"{url}/AjeraAPI.ashx?{api_id}"
        self.http = requests.Session()
        self.token = self.login(version=version)["Content"].get("SessionToken")

    def post(self, payload: dict[str, Any], timeout: float = 5) -> requests.Response:
        return self.http.post(self.endpoint, json=payload, timeout=timeout)

    def login(self, username: str = "sync", password: str = "sync-password", version: int = 2) -> dict[str, Any]:
        return self.post(
            {"Method": "CreateAPISession", "Username": username, "Password": password, "APIVersion": version,
             "UseSessionCookie": True}
        ).json()

    def call(self, method: str, token: str | None = None, **arguments: Any) -> dict[str, Any]:
        response = self.post({"Method": method, "SessionToken": token or self.token, "MethodArguments": arguments})
        assert response.status_code == 200, response.text
        return response.json()


def ok(envelope: dict[str, Any]) -> dict[str, Any]:
    assert envelope["ResponseCode"] == 200, envelope
    return envelope["Content"]


def messages(envelope: dict[str, Any]) -> list[str]:
    return [e["ErrorMessage"] for e in envelope["Errors"]]


# --- sessions and envelope --------------------------------------------------------------------------


def test_auth_and_envelope(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    env = api.login()
    assert set(env) == {"ResponseCode", "Message", "Errors", "Content", "UsageKey"}
    assert env["ResponseCode"] == 200 and env["Message"] == "Success" and env["Errors"] == []
    uuid.UUID(env["UsageKey"])
    assert {"SessionToken", "CompanyName", "AjeraVersion", "SessionExpiration"} <= set(env["Content"])

    bad = api.login(password="wrong")
    assert (bad["ResponseCode"], bad["Message"]) == (401, "Unable to authenticate user")
    assert "SessionToken" not in bad["Content"]

    assert ok(api.call("EndAPISession")) == {}
    gone = api.call("ListClients")
    assert (gone["ResponseCode"], gone["Message"]) == (401, "Invalid Session")
    assert api.call("ListClients", token="not-a-token")["Message"] == "Invalid Session"


def test_invalid_api_id(ajera_sim) -> None:
    response = requests.post(
        f"{ajera_sim.url}/AjeraAPI.ashx?{base64.b64encode(b'other:9').decode()}",
        json={"Method": "CreateAPISession", "Username": "sync", "Password": "sync-password", "APIVersion": 2},
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
def test_v1_session_refused_for_project_methods(ajera_sim) -> None:
    v1 = Api(ajera_sim.url, version=1)
    ok(v1.call("ListClients"))
    for method in ("ListProjects", "GetProjects", "UpdateProjects", "CreateProjects", "ListProjectTemplates",
                   "GetProjectTotals"):
        env = v1.call(method, RequestedProjects=[1])
        assert env["ResponseCode"] == 400 and env["Message"].startswith(f"Unauthorized method: {method}")
    assert ok(Api(ajera_sim.url, version=2).call("ListProjects"))["Projects"][0]["ProjectKey"] == 1


def test_unknown_method_and_bad_body(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    assert api.call("FrobnicateClients")["ResponseCode"] == 400
    response = api.http.post(api.endpoint, data=b"not json", timeout=5)
    assert response.status_code == 200 and response.json()["ResponseCode"] == 400


# --- lists ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_paging_and_list_items(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    everything = ok(api.call("ListClients"))
    assert "PageCount" not in everything and len(everything["Clients"]) == 12
    assert set(everything["Clients"][0]) == {"ClientKey", "Description", "LastModifiedDate"}
    pages = [ok(api.call("ListClients", PageResults=True, PageSize=5, PageNumber=n)) for n in (1, 2, 3, 4)]
    assert [p["PageCount"] for p in pages] == [3, 3, 3, 3]
    assert [len(p["Clients"]) for p in pages] == [5, 5, 2, 0]
    keys = [c["ClientKey"] for p in pages for c in p["Clients"]]
    assert keys == list(range(1, 13))
    contacts = ok(api.call("ListContacts"))["Contacts"]
    assert set(contacts[0]) == {"ContactKey", "FirstName", "MiddleName", "LastName", "Company", "LastModifiedDate"}
    assert contacts[0]["Company"] == "Firm 01"
    bad = api.call("ListClients", PageResults=True, PageSize=0, PageNumber=1)
    assert bad["ResponseCode"] == 400 and "PageSize" in messages(bad)[0]


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_list_filters(ajera_sim) -> None:
    api = Api(ajera_sim.url)

    def keys(method: str, entity: str, **filters: Any) -> list[int]:
        key = {"Clients": "ClientKey", "Contacts": "ContactKey", "Employees": "EmployeeKey"}[entity]
        return [r[key] for r in ok(api.call(method, **filters))[entity]]

    assert keys("ListClients", "Clients", FilterByStatus=["Inactive"]) == [4, 8, 12]
    assert keys("ListEmployees", "Employees", FilterByStatus=["Terminated"]) == [60]
    assert keys("ListClients", "Clients", FilterBySyncToCRM=True) == [2, 4, 6, 8, 10, 12]
    assert keys("ListClients", "Clients", FilterByNameLike="acme") == [3]
    assert keys("ListClients", "Clients", FilterByNameLike="FIRM 1") == [10, 11, 12]
    assert keys("ListClients", "Clients", FilterByDescriptionEquals="acme supplies") == [3]
    assert keys("ListClients", "Clients", FilterByNameEquals="ACME") == []
    assert keys("ListContacts", "Contacts", FilterByCompany=2) == [4, 5]
    assert keys("ListContacts", "Contacts", FilterByNameLike="ann2 lee") == [2]
    assert keys("ListEmployees", "Employees", FilterByNameEquals="emp7 smith") == [7]
    combined = keys("ListClients", "Clients", FilterByStatus=["Active"], FilterBySyncToCRM=True)
    assert combined == [2, 6, 10]

    bad = api.call("ListClients", FilterByStatus=["Bogus"])
    assert bad["ResponseCode"] == 400 and bad["Message"] == "One or more properties contain invalid data"
    unsupported = api.call("ListEmployees", FilterBySyncToCRM=True)
    assert unsupported["ResponseCode"] == 400 and "FilterBySyncToCRM" in messages(unsupported)[0]


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_modified_date_window(ajera_sim) -> None:
    api = Api(ajera_sim.url)

    def window(**filters: Any) -> list[int]:
        return [c["ClientKey"] for c in ok(api.call("ListClients", **filters))["Clients"]]

    assert window(FilterByEarliestModifiedDate="2020-01-03 10:00:00.000 GMT-0000",
                  FilterByLatestModifiedDate="2020-01-05 10:00:00.000 GMT-0000") == [3, 4]
    # A GMT-0700 bound is the same instant as seven hours later in UTC.
    assert window(FilterByEarliestModifiedDate="2020-01-11 03:00:00.000 GMT-0700") == [11, 12]
    assert window(FilterByLatestModifiedDate="2020-01-02 10:00:00.001 GMT+0000") == [1, 2]
    assert api.call("ListClients", FilterByEarliestModifiedDate="yesterday")["ResponseCode"] == 400


# --- gets -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_get_records_and_unknown_keys(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    env = api.call("GetClients", RequestedClients=[2, 999])
    assert env["ResponseCode"] == 200 and env["Message"] == "Success with errors"
    assert [c["ClientKey"] for c in env["Content"]["Clients"]] == [2]
    assert messages(env) == ["Client 999: not found"]
    client = env["Content"]["Clients"][0]
    assert set(client) == {"ClientKey", "Description", "Status", "ClientTypeKey", "Email", "Phone", "Website",
                           "Address", "SyncToCRM", "LastModifiedDate"}
    assert ok(api.call("GetContacts", RequestedContacts=[4]))["Contacts"][0]["Company"] == "Firm 02"
    assert api.call("GetClients", RequestedClients="1")["ResponseCode"] == 400


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_get_employees_limit(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    assert len(ok(api.call("GetEmployees", RequestedEmployees=list(range(1, 51))))["Employees"]) == 50
    env = api.call("GetEmployees", RequestedEmployees=list(range(1, 52)))
    assert env["ResponseCode"] == -100


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_get_projects_v2_bundle_and_totals(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    content = ok(api.call("GetProjects", RequestedProjects=[1]))
    assert set(content) == {"Projects", "InvoiceGroups", "Phases", "Resources"}
    project = content["Projects"][0]
    assert project["ProjectManager"] == {"EmployeeKey": 2, "FirstName": "Emp2", "MiddleName": None,
                                         "LastName": "Smith"}
    assert [p["PhaseKey"] for p in content["Phases"]] == [1]
    assert [r["ResourceKey"] for r in content["Resources"]] == [1, 2]
    totals = api.call("GetProjectTotals", RequestedProjects=[1, 77])
    assert messages(totals) == ["Project 77: not found"]
    row = totals["Content"]["Projects"][0]
    assert set(row) == {"ProjectKey", "Cost Labor", "Cost Expense", "Cost Consultant", "Billed Labor",
                        "Billed Expense", "Billed Consultant", "Received", "WIP"}
    assert row["Cost Labor"] > 0 and row["Cost Consultant"] > 0
    templates = ok(api.call("ListProjectTemplates"))["ProjectTemplates"]
    assert templates[0]["Phases"] == [{"ID": "01", "Description": "Design"}]


# --- writes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_create_with_negative_keys(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    env = api.call(
        "UpdateClients",
        UpdatedClients=[{"ClientKey": -1, "Description": "New One"}, {"ClientKey": -2, "Description": "New Two"}],
        UnchangedClients=[],
    )
    content = ok(env)
    assert content["NumberOfClientsUpdated"] == 2
    assert [(c["OriginalClientKey"], c["ClientKey"]) for c in content["Clients"]] == [(-1, 13), (-2, 14)]
    assert content["Clients"][0]["Status"] == "Active" and STAMP.match(content["Clients"][0]["LastModifiedDate"])
    dup = api.call("UpdateClients", UpdatedClients=[{"ClientKey": -1, "Description": "A"},
                                                    {"ClientKey": -1, "Description": "B"}])
    assert dup["Message"] == "Success with errors" and "appears twice" in messages(dup)[0]


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_update_baseline_stale_and_noop(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    base = ok(api.call("GetClients", RequestedClients=[5]))["Clients"][0]
    edited = {**base, "Phone": "555-0100"}
    saved = ok(api.call("UpdateClients", UpdatedClients=[edited], UnchangedClients=[base]))["Clients"][0]
    assert saved["Phone"] == "555-0100" and saved["OriginalClientKey"] == 5
    assert saved["LastModifiedDate"] > base["LastModifiedDate"]

    stale = api.call("UpdateClients", UpdatedClients=[{**base, "Phone": "x"}], UnchangedClients=[base])
    assert stale["ResponseCode"] == 200 and stale["Content"]["NumberOfClientsUpdated"] == 0
    assert messages(stale) == ["Client 5: Record has been modified since it was read"]

    fresh = ok(api.call("GetClients", RequestedClients=[5]))["Clients"][0]
    noop = api.call("UpdateClients", UpdatedClients=[dict(fresh)], UnchangedClients=[fresh])
    assert messages(noop) == ["Client 5: No changes"]
    missing = api.call("UpdateClients", UpdatedClients=[{**fresh, "Phone": "1"}], UnchangedClients=[])
    assert "no baseline" in messages(missing)[0]


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_validation_names_key_and_field(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    base = ok(api.call("GetClients", RequestedClients=[6]))["Clients"][0]
    env = api.call(
        "UpdateClients",
        UpdatedClients=[
            {**base, "Description": "D" * 81},
            {"ClientKey": -1, "Description": "", "Status": "Gone"},
            {"ClientKey": -2, "Description": "ok", "SyncToCRM": "yes"},
        ],
        UnchangedClients=[base],
    )
    errors = messages(env)
    assert "Client 6: Description must be at most 80 characters (got 81)" in errors
    assert "Client -1: Description is required" in errors
    assert any(e.startswith("Client -1: Status must be one of Active, Inactive") for e in errors)
    assert "Client -2: SyncToCRM must be true or false" in errors
    emp = api.call("UpdateEmployees", UpdatedEmployees=[{"EmployeeKey": -1, "LastName": "Only"}])
    assert messages(emp) == ["Employee -1: FirstName is required"]
    ref = api.call("UpdateContacts", UpdatedContacts=[{"ContactKey": -1, "LastName": "Z", "ClientKey": 999}])
    assert messages(ref) == ["Contact -1: ClientKey refers to unknown Client 999"]


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_single_transaction(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    a, b = ok(api.call("GetClients", RequestedClients=[7, 9]))["Clients"]
    batch = dict(UpdatedClients=[{**a, "Phone": "1"}, {**b, "Description": ""}], UnchangedClients=[a, b])
    refused = api.call("UpdateClients", UseSingleTransaction=True, **batch)
    assert refused["ResponseCode"] == 400 and messages(refused) == ["Client 9: Description is required"]
    assert ok(api.call("GetClients", RequestedClients=[7]))["Clients"][0] == a  # nothing saved

    partial = api.call("UpdateClients", UseSingleTransaction=False, **batch)
    assert (partial["ResponseCode"], partial["Message"]) == (200, "Success with errors")
    assert [c["ClientKey"] for c in partial["Content"]["Clients"]] == [7]


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_contact_names_unique(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    clash = api.call("UpdateContacts", UpdatedContacts=[{"ContactKey": -1, "FirstName": "ANN1", "LastName": "lee"}])
    assert clash["Content"]["NumberOfContactsUpdated"] == 0
    assert "already exists (ContactKey 1)" in messages(clash)[0]
    twice = api.call(
        "UpdateContacts",
        UpdatedContacts=[
            {"ContactKey": -1, "FirstName": "Bo", "LastName": "Diaz", "ClientKey": 3},
            {"ContactKey": -2, "FirstName": "Bo", "LastName": "Diaz"},
        ],
    )
    assert twice["Content"]["NumberOfContactsUpdated"] == 1 and "Contact -2" in messages(twice)[0]
    assert twice["Content"]["Contacts"][0]["Company"] == "ACME Supplies"
    # Renaming frees the old name.
    base = ok(api.call("GetContacts", RequestedContacts=[1]))["Contacts"][0]
    ok(api.call("UpdateContacts", UpdatedContacts=[{**base, "FirstName": "Annie"}], UnchangedContacts=[base]))
    ok(api.call("UpdateContacts", UpdatedContacts=[{"ContactKey": -1, "FirstName": "Ann1", "LastName": "Lee"}]))


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_last_modified_strictly_increasing(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    created = ok(api.call("UpdateVendors", UpdatedVendors=[{"VendorKey": -k, "Name": f"V{k}"} for k in range(1, 21)]))
    stamps = [v["LastModifiedDate"] for v in created["Vendors"]]
    assert all(STAMP.match(s) for s in stamps)
    assert stamps == sorted(stamps) and len(set(stamps)) == 20
    assert stamps[0] > OLD
    listed = ok(api.call("ListVendors", FilterByEarliestModifiedDate=stamps[10]))["Vendors"]
    assert [v["Name"] for v in listed] == [f"V{k}" for k in range(11, 21)]


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_create_and_update_projects(ajera_sim) -> None:
    api = Api(ajera_sim.url)
    project = {"Description": "New Hall", "BillingType": "Fixed", "ClientKey": 2, "Status": "Preliminary",
               "StartDate": "2024-05-01", "ProjectManager": {"EmployeeKey": 3}}
    missing = api.call("CreateProjects", CreateType="Project", Project=project, InvoiceGroups=[], Phases=[])
    assert missing["ResponseCode"] == 400
    assert any("InvoiceGroups" in m for m in messages(missing)) and any("Phases" in m for m in messages(missing))

    content = ok(api.call("CreateProjects", CreateType="Project", Project=project,
                          InvoiceGroups=[{"Description": "Main"}], Phases=[{"ID": "01", "Description": "SD"}]))
    key = content["ProjectKey"]
    assert key == 2 and content["Projects"][0]["ID"] == "00002"
    assert content["Projects"][0]["ProjectManager"]["FirstName"] == "Emp3"
    bundle = ok(api.call("GetProjects", RequestedProjects=[key]))
    assert bundle["InvoiceGroups"][0]["ClientKey"] == 2
    assert bundle["Phases"][0]["InvoiceGroupKey"] == bundle["InvoiceGroups"][0]["InvoiceGroupKey"]

    base = bundle["Projects"][0]
    saved = ok(api.call("UpdateProjects", UpdatedProjects=[{**base, "Status": "Active"}], UnchangedProjects=[base]))
    assert saved["Projects"][0]["Status"] == "Active" and saved["NumberOfProjectsUpdated"] == 1
    bad = api.call("UpdateProjects", UpdatedProjects=[{**base, "Status": "Done"}], UnchangedProjects=[base])
    assert "stale" not in messages(bad)[0] and "modified since" in messages(bad)[0]
    neg = api.call("UpdateProjects", UpdatedProjects=[{"ProjectKey": -1, "Description": "x"}])
    assert "CreateProjects" in messages(neg)[0]


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
        api.post({"Method": "ListClients", "SessionToken": api.token}, timeout=0.2)
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


def test_seed_loads_once_and_state_persists(tmp_path) -> None:
    db_file = str(tmp_path / "ajera.sqlite")
    server = start_in_thread(create_app(db_path=db_file, seed=make_seed()))
    try:
        api = Api(server.url)
        assert len(ok(api.call("ListEmployees"))["Employees"]) == 60
        created = ok(api.call("UpdateClients", UpdatedClients=[{"ClientKey": -1, "Description": "Kept"}]))
        stamp = created["Clients"][0]["LastModifiedDate"]
    finally:
        server.stop()
    # Restart on the same file with a different seed: the stored data wins, sessions do not survive.
    server = start_in_thread(create_app(db_path=db_file, seed={"Clients": [{"ClientKey": 1, "Description": "X"}]}))
    try:
        api2 = Api(server.url)
        assert api2.call("ListClients", token=api.token)["Message"] == "Invalid Session"
        clients = ok(api2.call("ListClients"))["Clients"]
        assert len(clients) == 13 and clients[-1] == {"ClientKey": 13, "Description": "Kept", "LastModifiedDate": stamp}
        again = ok(api2.call("UpdateClients", UpdatedClients=[{"ClientKey": -1, "Description": "Later"}]))
        assert again["Clients"][0]["ClientKey"] == 14 and again["Clients"][0]["LastModifiedDate"] > stamp
    finally:
        server.stop()
