"""The Vantagepoint simulator over raw HTTP: the wire protocol the client and the engine rely on."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from simulators.harness import (
    CRM_CLIENT_ID,
    CRM_CLIENT_SECRET,
    CRM_DATABASE,
    PASSWORD,
    USERNAME,
    SimulatorHandle,
    start,
)
from simulators.vantagepoint.app import create_app

CREDENTIALS = {
    "Username": USERNAME,
    "Password": PASSWORD,
    "grant_type": "password",
    "Integrated": "N",
    "database": CRM_DATABASE,
    "Client_Id": CRM_CLIENT_ID,
    "client_secret": CRM_CLIENT_SECRET,
}
A32, B32, C32, D32, E32, F32 = (ch * 32 for ch in "ABCDEF")  # Vantagepoint keys: 32 upper-case hex
SEED: dict[str, list[dict[str, Any]]] = {
    "firm": [
        {"ClientID": A32, "Name": "Acme Engineering", "ClientInd": "Y", "VendorInd": "N", "AjeraSync": "Y",
         "ModDate": "2024-01-01T10:00:00.000"},
        {"ClientID": B32, "Name": "Beta Surveying", "ClientInd": "N", "VendorInd": "Y", "AjeraSync": "N",
         "ModDate": "2024-02-01T10:00:00.000"},
        {"ClientID": C32, "Name": "Gamma Partners", "Status": "I", "ModDate": "2024-03-01T10:00:00.000"},
    ],
    "contact": [{"ContactID": D32, "ClientID": A32, "FirstName": "Ann", "LastName": "Lee"}],
    "employee": [{"Employee": "E001", "FirstName": "Pat", "LastName": "Kim"}],
    "project": [{"WBS1": "2024001", "Name": "Bridge", "ClientID": A32, "ProjMgr": "E001", "Fee": 1000}],
    "firmClient": [{"WBS1": "2024001", "ClientID": A32, "Role": "sysOwner", "RoleDescription": "Owner",
                    "PrimaryInd": "Y", "PKey": "1" * 32}],
    "projectEmployee": [{"WBS1": "2024001", "Employee": "E001", "Role": "PM", "RecordID": "2" * 32}],
}
SEEDED = {"seed": SEED}


def token(url: str, **overrides: str) -> requests.Response:
    return requests.post(f"{url}/api/token", data={**CREDENTIALS, **overrides}, timeout=5)


def auth(url: str) -> dict[str, str]:
    response = token(url)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


class Api:
    """Tiny raw-HTTP helper bound to one simulator and one token."""

    def __init__(self, sim: SimulatorHandle) -> None:
        self.url = sim.url
        self.headers = auth(sim.url)

    def get(self, path: str, **params: Any) -> requests.Response:
        return requests.get(f"{self.url}/api/{path}", params=params, headers=self.headers, timeout=5)

    def post(self, path: str, body: Any) -> requests.Response:
        return requests.post(f"{self.url}/api/{path}", json=body, headers=self.headers, timeout=5)

    def put(self, path: str, body: Any) -> requests.Response:
        return requests.put(f"{self.url}/api/{path}", json=body, headers=self.headers, timeout=5)

    def delete(self, path: str) -> requests.Response:
        return requests.delete(f"{self.url}/api/{path}", headers=self.headers, timeout=5)

    def where(self, hub: str, *filters: tuple[str, str, str], **params: Any) -> list[dict[str, Any]]:
        for i, (name, opp, value) in enumerate(filters):
            params[f"filterHash[{i}][name]"] = name
            params[f"filterHash[{i}][opp]"] = opp
            params[f"filterHash[{i}][value]"] = value
        response = self.get(hub, **params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def api(crm_sim: SimulatorHandle) -> Api:
    return Api(crm_sim)


# --- tokens and sessions --------------------------------------------------------------------------------


def test_token_password_grant(crm_sim: SimulatorHandle) -> None:
    body = token(crm_sim.url).json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 1799
    assert body["access_token"] and body["refresh_token"]


@pytest.mark.parametrize(
    "override, error",
    [
        ({"Password": "wrong"}, "invalid_grant"),
        ({"Username": "nobody"}, "invalid_grant"),
        ({"database": "OTHER"}, "invalid_grant"),
        ({"client_secret": "nope"}, "invalid_client"),
        ({"grant_type": "magic"}, "unsupported_grant_type"),
    ],
)
def test_token_refused(crm_sim: SimulatorHandle, override: dict[str, str], error: str) -> None:
    response = token(crm_sim.url, **override)
    assert response.status_code == 400
    assert response.json()["error"] == error and response.json()["error_description"]


def test_refresh_grant_gives_new_pair_and_is_single_use(crm_sim: SimulatorHandle) -> None:
    first = token(crm_sim.url).json()
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
            "Client_Id": CRM_CLIENT_ID, "client_secret": CRM_CLIENT_SECRET}
    second = requests.post(f"{crm_sim.url}/api/token", data=form, timeout=5)
    assert second.status_code == 200
    assert second.json()["access_token"] != first["access_token"]
    headers = {"Authorization": f"Bearer {second.json()['access_token']}"}
    assert requests.get(f"{crm_sim.url}/api/firm", headers=headers, timeout=5).status_code == 200
    again = requests.post(f"{crm_sim.url}/api/token", data=form, timeout=5)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}])
def test_missing_or_unknown_bearer_is_401(crm_sim: SimulatorHandle, headers: dict[str, str]) -> None:
    response = requests.get(f"{crm_sim.url}/api/firm", headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.json() == {"Message": "Session is invalid or timed out"}


@pytest.mark.parametrize("crm_sim", [{"settings": {"token_seconds": 0.3}}], indirect=True)
def test_token_expires(crm_sim: SimulatorHandle) -> None:
    headers = auth(crm_sim.url)
    assert requests.get(f"{crm_sim.url}/api/firm", headers=headers, timeout=5).status_code == 200
    time.sleep(0.4)
    assert requests.get(f"{crm_sim.url}/api/firm", headers=headers, timeout=5).status_code == 401


def test_expire_sessions_invalidates_every_token(crm_sim: SimulatorHandle) -> None:
    headers = auth(crm_sim.url)
    assert crm_sim.expire_sessions() == 1
    assert requests.get(f"{crm_sim.url}/api/firm", headers=headers, timeout=5).status_code == 401


# --- lists ------------------------------------------------------------------------------------------------


def test_paging_page_size_and_limit(api: Api) -> None:
    for i in range(7):
        assert api.post("firm", {"Name": f"Firm {i:02d}"}).status_code == 201
    pages = [api.where("firm", page=p, pageSize=3) for p in (1, 2, 3)]
    assert [len(p) for p in pages] == [3, 3, 1]
    names = [r["Name"] for p in pages for r in p]
    assert names == [f"Firm {i:02d}" for i in range(7)]
    assert len(api.where("firm", page=2, limit=5)) == 2
    assert len(api.where("firm")) == 7  # default page size 100
    assert api.get("firm", page=0).status_code == 400


@pytest.mark.parametrize("crm_sim", [SEEDED], indirect=True)
def test_field_filter_and_order(api: Api) -> None:
    rows = api.where("firm", fieldFilter="Name,Status", order="Name_D")
    assert rows[0] == {"ClientID": C32, "Name": "Gamma Partners", "Status": "I"}
    assert [r["Name"] for r in rows] == ["Gamma Partners", "Beta Surveying", "Acme Engineering"]
    ascending = api.where("firm", fieldFilter="name,STATUS", order="name")  # names are matched ignoring case
    assert ascending[0] == {"ClientID": A32, "Name": "Acme Engineering", "Status": "A"}
    assert next(r["Name"] for r in api.where("firm", order="Status_D,Name")) == "Gamma Partners"
    for params in ({"fieldFilter": "Name,Bogus"}, {"order": "Bogus_D"}, {"order": "Name desc"}):
        bad = api.get("firm", **params)
        assert (bad.status_code == 400 and "Bogus" in bad.json()["Message"]) or "Name desc" in bad.json()["Message"]


@pytest.mark.parametrize("crm_sim", [SEEDED], indirect=True)
@pytest.mark.parametrize(
    "filters, expected",
    [
        ([("Name", "=", "acme engineering")], ["a"]),  # = on text ignores case
        ([("Status", "!=", "A")], ["c"]),
        ([("Name", "like", "%SURV%")], ["b"]),
        ([("Name", "like", "art")], ["c"]),  # no % means substring
        ([("Name", "like", "A%")], ["a"]),
        ([("ModDate", ">=", "2024-02-01T10:00:00.000")], ["b", "c"]),
        ([("ModDate", "<", "2024-02-01")], ["a"]),
        ([("ModDate", "<", "2024-02-01T10:00:00.001")], ["a", "b"]),
        # A ModDate window, as the incremental sync asks for it; the ANDed filters.
        ([("ModDate", ">=", "2024-01-15T00:00:00.000"), ("ModDate", "<", "2024-02-15T00:00:00.000")], ["b"]),
        ([("AjeraSync", "=", "Y"), ("ClientInd", "=", "Y")], ["a"]),
        ([("ajerasync", "=", "Y"), ("CLIENTIND", "==", "Y")], ["a"]),  # names ignore case; "==" is "="
        ([("ClientID", "=", "a" * 32)], ["a"]),  # keys compare without regard to case
        ([("ModDate", ">=", "2024-02-01T10:00:00.000Z")], ["b", "c"]),  # with or without a Z
    ],
)
def test_filter_hash(api: Api, filters: list[tuple[str, str, str]], expected: list[str]) -> None:
    rows = api.where("firm", *filters)
    assert sorted(r["ClientID"][0].lower() for r in rows) == expected


@pytest.mark.parametrize("crm_sim", [SEEDED], indirect=True)
def test_numeric_filter_and_bad_filters(api: Api) -> None:
    assert [r["WBS1"] for r in api.where("project", ("Fee", ">=", "999.5"))] == ["2024001"]
    assert api.where("project", ("Fee", "<", "10")) == []
    for filters in ([("Nope", "=", "x")], [("Name", "~", "x")], [("Fee", ">", "1")], [("ModDate", ">=", "not-a-date")]):
        params = {}
        for i, (name, opp, value) in enumerate(filters):
            params.update({f"filterHash[{i}][name]": name, f"filterHash[{i}][opp]": opp,
                           f"filterHash[{i}][value]": value})
        response = api.get("project", **params)
        assert response.status_code == 400 and response.json()["Message"]


@pytest.mark.parametrize("crm_sim", [SEEDED], indirect=True)
def test_post_as_get(api: Api) -> None:
    form = {"filterHash[0][name]": "Name", "filterHash[0][opp]": "like", "filterHash[0][value]": "%a%",
            "fieldFilter": "Name", "order": "Name", "pageSize": "2", "page": "1"}
    headers = {**api.headers, "dvp-postAsGet": "true"}
    response = requests.post(f"{api.url}/api/firm", data=form, headers=headers, timeout=5)
    assert response.status_code == 200
    assert [r["Name"] for r in response.json()] == ["Acme Engineering", "Beta Surveying"]


# --- single records -------------------------------------------------------------------------------------


@pytest.mark.parametrize("crm_sim", [SEEDED], indirect=True)
def test_get_one_is_an_array_of_one_and_404(api: Api) -> None:
    response = api.get(f"firm/{A32}")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list) and len(body) == 1 and body[0]["Name"] == "Acme Engineering"
    assert api.get(f"firm/{'a' * 32}").json() == body  # hex keys in either case
    missing = api.get(f"firm/{F32}")
    assert missing.status_code == 404
    assert missing.json() == {"Message": "Record not found", "Detail": f"ClientID {F32}"}
    assert api.get("employee/E001|Company1").json()[0]["LastName"] == "Kim"
    for path in ("nosuchhub", "Firm", f"firm/{A32}/nogrid"):  # unknown paths (casing as the reference)
        unknown = api.get(path)
        assert unknown.status_code == 404 and unknown.json()["Message"] == "Unknown path"
    assert api.delete("firm").status_code == 404  # a verb the path does not take


def test_post_creates_with_server_key_location_and_dates(api: Api) -> None:
    response = api.post("firm", {"Name": "Delta", "AjeraSync": "Y"})
    assert response.status_code == 201
    firm = response.json()
    assert re.fullmatch(r"[0-9A-F]{32}", firm["ClientID"])
    assert response.headers["Location"] == f"{api.url}/api/firm/{firm['ClientID']}"
    assert firm["ModDate"] == firm["CreateDate"] and len(firm["ModDate"]) == 23 and firm["ModDate"][10] == "T"
    assert firm["ModUser"] == firm["CreateUser"] == USERNAME
    assert firm["Status"] == "A" and firm["ClientInd"] == "Y" and firm["VendorInd"] == "N"

    contact = api.post("contact", {"ClientID": firm["ClientID"].lower(), "FirstName": "Jo", "LastName": "Ng"}).json()
    assert re.fullmatch(r"[0-9A-F]{32}", contact["ContactID"]) and contact["ClientID"] == firm["ClientID"]
    assert contact["flName"] == "Jo Ng" and contact["ClientName"] == "Delta"
    given_id = api.post("contact", {"ContactID": "9a" * 16, "LastName": "Given"}).json()
    assert given_id["ContactID"] == "9A" * 16
    numbered = api.post("employee", {"FirstName": "A", "LastName": "B"}).json()
    assert numbered["Employee"] == "00001"
    given = api.post("employee", {"Employee": "JSMITH", "FirstName": "J", "LastName": "Smith"})
    assert given.status_code == 201 and given.json()["Employee"] == "JSMITH"
    duplicate = api.post("employee", {"Employee": "JSMITH", "FirstName": "J", "LastName": "Smith"})
    assert duplicate.status_code == 400 and "already exists" in duplicate.json()["Message"]
    project = api.post("project", {"WBS1": "P-1", "Name": "Road", "ProjMgr": "JSMITH", "AjeraSync": "Y",
                                   "ProjectTemplate": "7", "StartDate": "2024-05-06"})
    assert project.status_code == 201 and project.headers["Location"] == f"{api.url}/api/project/P-1"
    assert project.json()["ProjectTemplate"] == "7" and project.json()["AjeraSync"] == "Y"
    assert project.json()["StartDate"] == "2024-05-06T00:00:00.000"  # dates in the server's one form
    assert api.post("project", {"Name": "Auto"}).json()["WBS1"] == "000001"


def test_put_is_a_partial_update_and_moves_mod_date(api: Api) -> None:
    firm = api.post("firm", {"Name": "Echo", "PrimaryCity": "Boston"}).json()
    time.sleep(0.002)
    response = api.put(f"firm/{firm['ClientID']}", {"PrimaryPhone": "555", "ModDate": "1999-01-01T00:00:00.000"})
    assert response.status_code == 200
    saved = response.json()
    assert saved["PrimaryPhone"] == "555" and saved["PrimaryCity"] == "Boston" and saved["Name"] == "Echo"
    assert saved["ModDate"] > firm["ModDate"] and saved["CreateDate"] == firm["CreateDate"]
    assert api.get(f"firm/{firm['ClientID']}").json()[0]["PrimaryPhone"] == "555"
    assert api.put(f"firm/{F32}", {"PrimaryPhone": "1"}).status_code == 404
    changed_key = api.put(f"firm/{firm['ClientID']}", {"ClientID": E32})
    assert changed_key.status_code == 400


def test_mod_dates_strictly_increase_within_a_table(api: Api) -> None:
    dates = [api.post("firm", {"Name": f"F{i}"}).json()["ModDate"] for i in range(20)]
    assert dates == sorted(dates) and len(set(dates)) == 20


def test_delete(api: Api) -> None:
    firm = api.post("firm", {"Name": "Foxtrot"}).json()
    assert api.delete(f"firm/{firm['ClientID']}").status_code == 200
    assert api.get(f"firm/{firm['ClientID']}").status_code == 404
    assert api.delete(f"firm/{firm['ClientID']}").status_code == 404


@pytest.mark.parametrize("crm_sim", [SEEDED], indirect=True)
@pytest.mark.parametrize(
    "hub, body, field, text",
    [
        ("project", {"WBS1": "X1", "Name": "N" * 41}, "Name", "longer than 40"),
        ("project", {"WBS1": "X1", "LongName": "no name"}, "Name", "Name is required"),
        ("project", {"WBS1": "X1", "Name": "ok", "AjeraSync": "yes"}, "AjeraSync", "Y|N"),
        ("project", {"WBS1": "X1", "Name": "ok", "ProjMgr": "NOBODY"}, "ProjMgr", "does not exist"),
        ("project", {"WBS1": "X1", "Name": "ok", "Fee": "lots"}, "Fee", "number"),
        ("project", {"WBS1": "X1", "Name": "ok", "StartDate": "soon"}, "StartDate", "date"),
        ("firm", {"Name": "V", "VendorInd": "Y", "ClientInd": "N", "AjeraSync": "Y"}, "AjeraSync", "vendor-only"),
        ("firm", {"Name": "V", "Colour": "red"}, "Colour", "Unknown field"),
        ("firm", {"ClientID": "XYZ", "Name": "V"}, "ClientID", "32 hexadecimal"),
        ("firm", {"Name": "V", "Status": "Z"}, "Status", "A|I|D"),
        ("project", {"WBS1": "2024001", "WBS2": "01", "WBS3": "001", "Name": "t"}, "WBS2", "does not exist"),
        ("contact", {"FirstName": "No", "ClientID": A32}, "LastName", "LastName is required"),
        ("employee", {"Employee": "E9", "FirstName": "A", "LastName": "B", "Status": "Z"}, "Status", "A|I|T"),
    ],
)
def test_validation_errors_name_the_field(api: Api, hub: str, body: dict[str, Any], field: str, text: str) -> None:
    response = api.post(hub, body)
    assert response.status_code == 400
    payload = response.json()
    assert set(payload) <= {"Message", "Detail"} and text in payload["Message"]
    assert field in payload["Message"] or field in payload.get("Detail", "")


@pytest.mark.parametrize("crm_sim", [SEEDED], indirect=True)
def test_validation_on_put_names_the_record(api: Api) -> None:
    response = api.put("project/2024001", {"Name": "N" * 41})
    assert response.status_code == 400
    assert "2024001" in response.json()["Message"] and "Name" in response.json()["Message"]
    assert response.json()["Detail"] == "'2024001'"
    vendor = api.put(f"firm/{B32}", {"AjeraSync": "Y"})
    assert vendor.status_code == 400 and "vendor-only" in vendor.json()["Message"]


# --- project sub-grids ----------------------------------------------------------------------------------


@pytest.mark.parametrize("crm_sim", [SEEDED], indirect=True)
def test_sub_grids_read_and_write(api: Api) -> None:
    rows = api.get("project/2024001/firmClient").json()
    assert rows == [{"PKey": "1" * 32, "WBS1": "2024001", "ClientID": A32, "WBS2": "", "WBS3": "",
                     "Role": "sysOwner", "RoleDescription": "Owner", "TeamStatus": "Active", "PrimaryInd": "Y",
                     "ClientInd": "Y", "VendorInd": "N", "IsSubconsultant": "N", "CostAmount": 0,
                     "ClientName": "Acme Engineering"}]
    before = api.get("project/2024001").json()[0]["ModDate"]

    response = api.put("project/2024001", {"ClendorProjectAssoc": [
        {"ClientID": B32.lower(), "Role": "Sub", "IsSubconsultant": "Y", "_transType": "I"},
        {"PKey": "1" * 32, "Role": "Architect", "_originalValues": {"Role": "sysOwner"}, "_transType": "U"},
    ]})
    assert response.status_code == 200 and response.json()["ModDate"] > before
    by_id = {r["ClientID"]: r for r in api.get("project/2024001/firmClient").json()}
    assert by_id[A32]["Role"] == "Architect" and by_id[A32]["PrimaryInd"] == "Y"
    assert by_id[B32]["VendorInd"] == "Y" and by_id[B32]["IsSubconsultant"] == "Y"
    assert re.fullmatch(r"[0-9A-F]{32}", by_id[B32]["PKey"])

    assert api.put("project/2024001", {"ClendorProjectAssoc": [{"ClientID": A32, "_transType": "D"}]}).ok
    assert [r["ClientID"] for r in api.get("project/2024001/firmClient").json()] == [B32]

    api.post("employee", {"Employee": "E002", "FirstName": "Q", "LastName": "R"})
    saved = api.put("project/2024001", {"EMPROJECTASSOC": [
        {"Employee": "E002", "Role": "Engineer", "RoleDescription": "Engineer", "CRMHours": 12.5,
         "StartDate": "2024-03-04", "_transType": "I"},
        {"RecordID": "2" * 32, "_transType": "D"},
    ]})
    assert saved.status_code == 200
    [row] = api.get("project/2024001/employee").json()
    assert re.fullmatch(r"[0-9A-F]{32}", row.pop("RecordID"))
    assert row == {"WBS1": "2024001", "Employee": "E002", "WBS2": "", "WBS3": "", "Role": "Engineer",
                   "RoleDescription": "Engineer", "TeamStatus": "Active", "StartDate": "2024-03-04T00:00:00.000",
                   "EndDate": None,
                   "CRMHours": 12.5, "ModDate": saved.json()["ModDate"]}


@pytest.mark.parametrize("crm_sim", [SEEDED], indirect=True)
def test_contacts_written_as_prcontactassoc_and_read_on_the_mixed_team(api: Api) -> None:
    [employee] = api.get("project/2024001/teammember").json()  # the employee grid's row, as a team member
    assert (employee["RecordType"], employee["Employee"], employee["ContactID"], employee["flName"]) == \
        ("Employee", "E001", None, "Pat Kim")
    saved = api.put("project/2024001", {"PRContactAssoc": [{"ContactID": D32.lower(), "_transType": "I"}]})
    assert saved.status_code == 200, saved.text
    team = api.get("project/2024001/teammember").json()
    contact = next(r for r in team if r["RecordType"] == "Contact")
    assert (contact["ContactID"], contact["flName"], contact["Employee"], contact["PrimaryInd"]) == \
        (D32, "Ann Lee", None, "N")
    assert contact["ModDate"] == saved.json()["ModDate"] and len(team) == 2
    again = api.put("project/2024001", {"PRContactAssoc": [{"ContactID": D32, "_transType": "I"}]})
    assert again.status_code == 400 and "already on the project" in again.json()["Message"]
    unknown = api.put("project/2024001", {"PRContactAssoc": [{"ContactID": F32, "_transType": "I"}]})
    assert unknown.status_code == 400 and "does not exist" in unknown.json()["Message"]
    assert api.get("project/2024001/TeamMember").status_code == 404  # paths are exact
    assert api.put("project/2024001", {"PRContactAssoc": [{"RecordID": contact["RecordID"], "_transType": "D"}]}).ok
    assert [r["RecordType"] for r in api.get("project/2024001/teammember").json()] == ["Employee"]


@pytest.mark.parametrize("crm_sim", [SEEDED], indirect=True)
def test_phase_and_task_rows_come_back_unless_wbstype_asks_for_projects(api: Api) -> None:
    assert api.post("project", {"WBS1": "2024001", "WBS2": "01", "Name": "Design"}).status_code == 201
    assert api.post("project", {"WBS1": "2024001", "WBS2": "01", "WBS3": "001", "Name": "Schematic"}).status_code == 201
    assert api.post("project", {"WBS1": "2024001", "WBS2": "02", "Name": "Construction"}).status_code == 201
    duplicate = api.post("project", {"WBS1": "2024001", "WBS2": "01", "Name": "Again"})
    assert duplicate.status_code == 400 and "already exists" in duplicate.json()["Message"]
    orphan = api.post("project", {"WBS1": "NOPE", "WBS2": "01", "Name": "Orphan"})
    assert orphan.status_code == 404

    levels = [(r["WBS1"], r["WBS2"], r["WBS3"]) for r in api.where("project")]
    assert levels == [("2024001", "", ""), ("2024001", "01", ""), ("2024001", "01", "001"), ("2024001", "02", "")]
    assert [r["Name"] for r in api.where("project", wbstype="wbs1")] == ["Bridge"]
    assert [r["Name"] for r in api.where("project", wbstype="WBS2")] == ["Design", "Construction"]
    assert [r["Name"] for r in api.where("project", wbstype="wbs3")] == ["Schematic"]
    assert api.get("project", wbstype="wbs4").status_code == 400
    assert api.get("firm", wbstype="wbs1").status_code == 400
    # The project row: one row for GET by WBS1, flagged as having sub-levels; a PUT cannot turn it into a phase.
    [project] = api.get("project/2024001").json()
    assert project["Name"] == "Bridge" and project["SubLevel"] == "Y" and project["WBS2"] == ""
    assert api.put("project/2024001", {"WBS2": "03"}).status_code == 400
    assert api.delete("project/2024001").status_code == 200
    assert api.where("project") == []


@pytest.mark.parametrize("crm_sim", [{**SEEDED, "settings": {"denied": ["DELETE firm", "PUT project"]}}],
                         indirect=True)
def test_an_action_the_user_may_not_do_is_403(api: Api) -> None:
    denied = api.delete(f"firm/{A32}")
    assert denied.status_code == 403 and "delete access to firm" in denied.json()["Message"]
    assert api.put("project/2024001", {"Name": "x"}).status_code == 403
    assert api.get(f"firm/{A32}").status_code == 200  # the rest of the hub is still there
    assert api.put(f"firm/{A32}", {"Name": "Acme"}).status_code == 200


def test_seed_with_a_field_the_api_does_not_have_is_refused() -> None:
    with pytest.raises(ValueError, match="Phone"):
        create_app(seed={"firm": [{"Name": "Old shape", "Phone": "555"}]})


@pytest.mark.parametrize("crm_sim", [SEEDED], indirect=True)
def test_bad_grid_writes_change_nothing(api: Api) -> None:
    before = api.get("project/2024001").json()[0]
    cases = [
        [{"ClientID": A32, "_transType": "I"}],  # already on the project
        [{"ClientID": C32, "_transType": "U"}],  # not on the project
        [{"ClientID": F32, "_transType": "I"}],  # no such firm
        [{"ClientID": C32, "_transType": "X"}],
        [{"ClientID": C32, "_transType": "I"}, {"ClientID": C32, "PrimaryInd": "maybe", "_transType": "U"}],
    ]
    for rows in cases:
        response = api.put("project/2024001", {"ClendorProjectAssoc": rows})
        assert response.status_code == 400, rows
        assert "project '2024001'" in response.json()["Message"]
    assert len(api.get("project/2024001/firmClient").json()) == 1
    assert api.get("project/2024001").json()[0]["ModDate"] == before["ModDate"]
    assert api.get("project/NOPE/firmClient").status_code == 404
    assert api.get("project/2024001/nogrid").status_code == 404


# --- faults, stats, seed, persistence -------------------------------------------------------------------


def test_fail_next_gives_503_and_counts(crm_sim: SimulatorHandle, api: Api) -> None:
    crm_sim.reset_stats()
    crm_sim.faults(fail_next=2)
    assert [api.get("firm").status_code for _ in range(3)] == [503, 503, 200]
    stats = crm_sim.stats()
    assert stats["_injected_5xx"] == 2 and stats["GET /api/firm"] == 1


def test_throttle_gives_429_with_retry_after(crm_sim: SimulatorHandle, api: Api) -> None:
    crm_sim.faults(throttle_rps=2)
    statuses = [api.get("firm") for _ in range(6)]
    throttled = [r for r in statuses if r.status_code == 429]
    assert throttled and float(throttled[0].headers["Retry-After"]) > 0
    assert crm_sim.stats()["_throttled"] == len(throttled)


def test_hang_makes_the_read_timeout_fire(crm_sim: SimulatorHandle, api: Api) -> None:
    crm_sim.faults(hang_next=1, hang_seconds=0.6)
    with pytest.raises(requests.ReadTimeout):
        requests.get(f"{api.url}/api/firm", headers=api.headers, timeout=(2, 0.2))
    assert api.get("firm").status_code == 200
    assert crm_sim.stats()["_injected_hang"] == 1


def test_token_calls_are_counted(crm_sim: SimulatorHandle) -> None:
    crm_sim.reset_stats()
    auth(crm_sim.url)
    assert crm_sim.stats()["POST /api/token"] == 1


@pytest.mark.parametrize("crm_sim", [SEEDED], indirect=True)
def test_seed_is_loaded(api: Api) -> None:
    assert len(api.where("firm")) == 3
    contact = api.get(f"contact/{D32}").json()[0]
    assert contact["ContactStatus"] == "A" and contact["AjeraSync"] == "N" and contact["ModDate"]
    assert api.get(f"firm/{A32}").json()[0]["ModDate"] == "2024-01-01T10:00:00.000"


def test_state_persists_across_restart_and_seed_only_fills_an_empty_store(tmp_path: Path) -> None:
    db = str(tmp_path / "vp.sqlite")
    server = start("crm", db_path=db, seed=SEED)
    try:
        headers = auth(server.url)
        created = requests.post(f"{server.url}/api/firm", json={"Name": "Persisted"}, headers=headers, timeout=5)
        last_mod = created.json()["ModDate"]
        requests.put(f"{server.url}/api/project/2024001", headers=headers, timeout=5,
                     json={"EMProjectAssoc": [{"Employee": "E001", "_transType": "D"}]}).raise_for_status()
    finally:
        server.stop()

    server = start("crm", db_path=db, seed={"firm": [{"Name": "Should not load"}]})
    try:
        headers = auth(server.url)  # tokens do not survive a restart; a new login is needed
        names = {r["Name"] for r in requests.get(f"{server.url}/api/firm", headers=headers, timeout=5).json()}
        assert names == {"Acme Engineering", "Beta Surveying", "Gamma Partners", "Persisted"}
        grid = requests.get(f"{server.url}/api/project/2024001/employee", headers=headers, timeout=5).json()
        assert grid == []
        again = requests.post(f"{server.url}/api/firm", json={"Name": "After"}, headers=headers, timeout=5)
        assert again.json()["ModDate"] > last_mod
    finally:
        server.stop()


def test_field_filter_limits_what_post_and_put_echo(api: Api) -> None:
    created = requests.post(f"{api.url}/api/firm", params={"fieldFilter": "Name,ModDate"}, json={"Name": "Kilo"},
                            headers=api.headers, timeout=5)
    assert created.status_code == 201 and set(created.json()) == {"ClientID", "Name", "ModDate"}
    key = created.json()["ClientID"]
    updated = requests.put(f"{api.url}/api/firm/{key}", params={"fieldFilter": "primaryphone"},
                           json={"PrimaryPhone": "555"}, headers=api.headers, timeout=5)
    assert updated.status_code == 200 and updated.json() == {"ClientID": key, "PrimaryPhone": "555"}
    assert api.get(f"firm/{key}").json()[0]["Name"] == "Kilo"  # the whole record was saved
