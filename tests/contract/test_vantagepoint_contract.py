"""The Vantagepoint simulator against the reference's tables (tests/reference/vantagepoint.json), over HTTP.

Every call the reference lists for the hubs and grids the sync uses is made, and every answer is checked
field by field: the same field names as the reference (none lost, none invented) with the reference's
types, the status codes, the bare arrays, the error bodies. The JSON is the one machine-readable copy of
the reference's tables; a last test checks that each name in it is in the reference text itself.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests

from simulators.harness import CRM_CLIENT_ID, CRM_CLIENT_SECRET, CRM_DATABASE, PASSWORD, USERNAME, SimulatorHandle
from simulators.vantagepoint.schema import GRIDS, HUBS, SERVER_FIELDS

REF = json.loads((Path(__file__).resolve().parents[1] / "reference" / "vantagepoint.json").read_text())
REFERENCE_TEXT = Path("/work/shared/reference/vantagepoint-records.md")
CONTRACT_DOC = Path(__file__).resolve().parents[2] / "docs" / "simulator-contract.md"
LOGIN = {"Username": USERNAME, "Password": PASSWORD, "grant_type": "password", "Integrated": "N",
         "database": CRM_DATABASE, "Client_Id": CRM_CLIENT_ID, "client_secret": CRM_CLIENT_SECRET}
HEX32 = re.compile(r"^[0-9A-F]{32}$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?$")

# One record of each hub, every writable field given a value of its type (so nothing is checked as null only).
FIRM = {"Client": "2664", "Name": "Acme Engineering", "Status": "A", "ClientInd": "Y", "VendorInd": "N",
        "Vendor": "", "VName": "", "Type": "IP", "PrimaryAddress1": "1 Main St", "PrimaryAddress2": "Suite 5",
        "PrimaryAddress3": "", "PrimaryAddress4": "", "PrimaryCity": "Denver", "PrimaryState": "CO",
        "PrimaryZip": "80202", "PrimaryCountry": "US", "PrimaryPhone": "555-0100", "PrimaryFax": "555-0101",
        "PrimaryEmail": "info@acme.example", "WebSite": "https://acme.example", "Memo": "m", "AjeraSync": "Y"}
EMPLOYEE = {"Employee": "00042", "EmployeeCompany": "01", "HomeCompany": "01", "FirstName": "Pat",
            "MiddleName": "Q", "LastName": "Kim", "PreferredName": "Pat", "Title": "PM", "EMail": "pk@x.example",
            "WorkPhone": "1", "MobilePhone": "2", "Status": "A", "HireDate": "2020-01-06T00:00:00.000",
            "TerminationDate": None}


def _contact(firm: str) -> dict[str, Any]:
    return {"ClientID": firm, "FirstName": "Ann", "MiddleName": "B", "LastName": "Lee", "Salutation": "Ms.",
            "Suffix": "", "PreferredName": "Annie", "Title": "Director", "Email": "ann@acme.example",
            "Phone": "555-0102", "CellPhone": "555-0103", "HomePhone": "", "Fax": "", "Address1": "1 Main St",
            "Address2": "", "Address3": "", "Address4": "", "City": "Denver", "State": "CO", "Zip": "80202",
            "Country": "US", "ContactStatus": "A", "Memo": "", "AjeraSync": "Y"}


def _project(firm: str, contact: str, employee: str) -> dict[str, Any]:
    ajera = {f"Ajera{m}{k}": 1.5 for m in ("Spent", "Cost", "WIP", "Billed", "Received")
             for k in ("Labor", "Reimbursable", "Consultant")}
    return {"WBS1": "2024001.00", "Name": "Bridge", "LongName": "Bridge over the River", "ChargeType": "R",
            "Status": "A", "Stage": "Won", "Probability": 100, "ProjMgr": employee, "Principal": employee,
            "Supervisor": employee, "ClientID": firm, "BillingClientID": firm, "ContactID": contact, "Org": "01",
            "ProjectType": "07", "Fee": 1000.0, "ReimbAllow": 10.0, "ConsultFee": 20.0,
            "StartDate": "2024-01-02T00:00:00.000", "EndDate": "2024-12-31T00:00:00.000",
            "EstCompletionDate": "2024-11-30T00:00:00.000", "ActCompletionDate": None, "AjeraSync": "Y",
            "ProjectTemplate": "1", **ajera}


def check_shape(record: dict[str, Any], fields: dict[str, Any], where: str) -> None:
    """The record has exactly the reference's fields, each of the reference's type."""
    assert set(record) == set(fields), (where, sorted(set(record) - set(fields)), sorted(set(fields) - set(record)))
    for name, kind in fields.items():
        value = record[name]
        if isinstance(kind, list):
            assert value in kind, (where, name, value)
        elif kind == "flag":
            assert value in ("Y", "N"), (where, name, value)
        elif kind == "hex32":
            assert isinstance(value, str) and HEX32.match(value), (where, name, value)
        elif kind == "number":
            assert value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)), (where, name)
        elif kind == "datetime":
            assert value is None or (isinstance(value, str) and DATETIME.match(value)), (where, name, value)
        else:
            assert value is None or isinstance(value, str), (where, name, value)


def check_error(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) <= set(REF["error_body"]) and isinstance(body["Message"], str) and body["Message"]
    return body


class Wire:
    def __init__(self, url: str) -> None:
        self.base = f"{url}/api"
        answer = requests.post(f"{self.base}/token", data=LOGIN, timeout=5)
        assert answer.status_code == 200
        self.token = answer.json()
        self.headers = {"Authorization": f"Bearer {self.token['access_token']}"}

    def call(self, verb: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(verb, f"{self.base}{path}", headers={**self.headers, **kwargs.pop("headers", {})},
                                timeout=5, **kwargs)


@pytest.fixture
def wire(crm_sim: SimulatorHandle) -> Wire:
    return Wire(crm_sim.url)


def test_token_calls(crm_sim: SimulatorHandle) -> None:
    spec = REF["token"]
    assert set(LOGIN) == set(spec["password_form"])
    url = f"{crm_sim.url}/api{spec['path']}"
    first = requests.post(url, data=LOGIN, timeout=5)
    body = first.json()
    assert first.status_code == 200 and set(body) == set(spec["success"])
    assert body["token_type"] == spec["success"]["token_type"] and body["expires_in"] == spec["success"]["expires_in"]
    refresh = {"grant_type": "refresh_token", "refresh_token": body["refresh_token"], "database": CRM_DATABASE,
               "client_id": CRM_CLIENT_ID, "client_secret": CRM_CLIENT_SECRET}
    assert set(refresh) == set(spec["refresh_form"])  # lower-case names, as the reference's Go client sends them
    renewed = requests.post(url, data=refresh, timeout=5)
    assert renewed.status_code == 200 and set(renewed.json()) == set(spec["success"])
    for form, code in (({**LOGIN, "Password": "wrong"}, "invalid_grant"), ({**LOGIN, "grant_type": "x"},
                                                                         "unsupported_grant_type")):
        refused = requests.post(url, data=form, timeout=5)
        assert refused.status_code != 200 and set(refused.json()) == set(spec["error"])
        assert refused.json()["error"] == code
    no_token = requests.get(f"{crm_sim.url}/api/firm", timeout=5)
    assert no_token.status_code == REF["status"]["no_token"] and no_token.json() == REF["unauthorized_body"]


def test_every_hub_call_and_shape(wire: Wire) -> None:
    status = REF["status"]
    created: dict[str, dict[str, Any]] = {}
    for hub in ("firm", "employee", "contact", "project"):
        spec = REF["hubs"][hub]
        if hub == "firm":
            body = FIRM
        elif hub == "employee":
            body = EMPLOYEE
        elif hub == "contact":
            body = _contact(created["firm"]["ClientID"])
        else:
            body = _project(created["firm"]["ClientID"], created["contact"]["ContactID"],
                            created["employee"]["Employee"])
        posted = wire.call("POST", spec["path"], json=body)
        assert posted.status_code == status["POST"], posted.text
        record = posted.json()
        check_shape(record, spec["fields"], f"POST {hub}")
        key = record[spec["key"]]
        assert posted.headers["Location"].endswith(f"/api{spec['path']}/{key}")
        # Every value sent comes back as sent (nothing dropped on the way in).
        assert {k: record[k] for k in body if k not in (spec["key"],)} == {k: v for k, v in body.items()
                                                                          if k != spec["key"]}
        created[hub] = record

        listed = wire.call("GET", spec["path"])
        assert listed.status_code == status["GET"] and isinstance(listed.json(), list)  # a bare array
        for row in listed.json():
            check_shape(row, spec["fields"], f"GET {hub} list")
        one = wire.call("GET", f"{spec['path']}/{key}")
        assert one.status_code == status["GET"] and one.json() == [record]  # an array of one

        field = next(n for n, kind in spec["fields"].items() if kind == "text" and n not in spec.get("read_only", ())
                     and n not in SERVER_FIELDS and n != spec["key"] and n not in ("WBS2", "WBS3", "ClientID",
                                                                                  "ContactID", "ProjMgr"))
        put = wire.call("PUT", f"{spec['path']}/{key}", json={field: "Changed"})
        assert put.status_code == status["PUT"], put.text
        check_shape(put.json(), spec["fields"], f"PUT {hub}")
        assert put.json()[field] == "Changed" and put.json()["ModDate"] > record["ModDate"]

        check_error(wire.call("GET", f"{spec['path']}/{'F' * 32 if spec['key_type'] == 'hex32' else 'NOPE'}"),
                    status["not_found"])
        check_error(wire.call("POST", spec["path"], json={**body, "NotAField": 1}), status["bad_request"])

    project = created["project"]
    for name, grid in REF["grids"].items():
        path = grid["path"].replace("{WBS1}", project["WBS1"])
        row_key = {"ClientID": created["firm"]["ClientID"], "ContactID": created["contact"]["ContactID"],
                   "Employee": created["employee"]["Employee"]}[grid["row_key"]]
        written = wire.call("PUT", f"/project/{project['WBS1']}", json={grid["write_property"]: [
            {grid["row_key"]: row_key, "Role": "sysOwner" if name == "firmClient" else "PM", "_transType": "I"}]})
        assert written.status_code == status["PUT"], written.text
        rows = wire.call("GET", path)
        assert rows.status_code == status["GET"]
        # The mixed team also shows the employee row written above (its key is Employee, not ContactID).
        assert [r[grid["row_key"]] for r in rows.json()].count(row_key) == 1
        for row in rows.json():
            assert set(row) == set(grid["fields"]), (name, row)
        check_shape(next(r for r in rows.json() if r[grid["row_key"]] == row_key), grid["fields"], f"GET {name}")

    for hub in ("project", "contact", "employee", "firm"):
        spec = REF["hubs"][hub]
        key = created[hub][spec["key"]]
        assert wire.call("DELETE", f"{spec['path']}/{key}").status_code == status["DELETE"]
        check_error(wire.call("DELETE", f"{spec['path']}/{key}"), status["not_found"])


def test_list_parameters(wire: Wire) -> None:
    for i in range(5):
        assert wire.call("POST", "/firm", json={"Name": f"Firm {i}", "AjeraSync": "Y" if i % 2 else "N"}).ok
    get = lambda **params: wire.call("GET", "/firm", params=params)  # noqa: E731
    names = lambda answer: [r["Name"] for r in answer.json()]  # noqa: E731
    assert set(REF["list_params"]) >= {"limit", "pageSize", "page", "offset", "fieldFilter", "order"}
    assert names(get(page=2, pageSize=2)) == ["Firm 2", "Firm 3"]
    assert names(get(page=1, limit=3)) == ["Firm 0", "Firm 1", "Firm 2"]
    assert names(get(offset=4, pageSize=2)) == ["Firm 4"]  # offset is 0-based
    assert get(fieldFilter="Name").json()[0] == {"ClientID": get().json()[0]["ClientID"], "Name": "Firm 0"}
    assert names(get(order=f"Name{REF['order_descending_suffix']}"))[0] == "Firm 4"
    form = {"filterHash[0][name]": "AjeraSync", "filterHash[0][opp]": "=", "filterHash[0][value]": "Y",
            "filterHash[0][type]": "dropdown", "filterHash[0][condition]": "AND", "filterHash[0][seq]": "0",
            "filterHash[0][tablename]": "CL", "filterHash[0][searchlevel]": "1"}
    assert {k.split("[")[2].rstrip("]") for k in form} == set(REF["filter_hash_keys"])
    assert names(wire.call("GET", "/firm", params=form)) == ["Firm 1", "Firm 3"]
    posted = wire.call("POST", "/firm", data=form, headers={REF["post_as_get_header"]: "true"})
    assert posted.status_code == 200 and names(posted) == ["Firm 1", "Firm 3"]
    since = get().json()[2]["ModDate"]
    for opp, expected in (("=", ["Firm 2"]), ("==", ["Firm 2"]), ("!=", ["Firm 0", "Firm 1", "Firm 3", "Firm 4"]),
                          (">=", ["Firm 2", "Firm 3", "Firm 4"]), ("<", ["Firm 0", "Firm 1"])):
        window = {"filterHash[0][name]": "ModDate", "filterHash[0][opp]": opp, "filterHash[0][value]": since,
                  "filterHash[0][type]": "datetime"}
        assert names(wire.call("GET", "/firm", params=window)) == expected, opp
    like = {"filterHash[0][name]": "Name", "filterHash[0][opp]": "like", "filterHash[0][value]": "%m 4"}
    assert names(wire.call("GET", "/firm", params=like)) == ["Firm 4"]
    assert {"=", "!=", ">=", "<", "like", "=="} == set(REF["filter_opps"])


def test_wbstype_levels(wire: Wire) -> None:
    assert wire.call("POST", "/project", json={"WBS1": "P1", "Name": "Bridge"}).status_code == 201
    assert wire.call("POST", "/project", json={"WBS1": "P1", "WBS2": "01", "Name": "Design"}).status_code == 201
    assert wire.call("POST", "/project", json={"WBS1": "P1", "WBS2": "01", "WBS3": "A", "Name": "Task"}).ok
    assert len(wire.call("GET", "/project").json()) == 3
    for level, name in zip(REF["wbstype"], ("Bridge", "Design", "Task")):
        rows = wire.call("GET", "/project", params={"wbstype": level}).json()
        assert [r["Name"] for r in rows] == [name]
        check_shape(rows[0], REF["hubs"]["project"]["fields"], f"project {level}")


def test_simulator_schema_is_the_reference_copy() -> None:
    """The simulator holds exactly the fields of the JSON copy: adding one means adding it to the copy."""
    for hub, spec in HUBS.items():
        assert set(spec.all_fields()) == set(REF["hubs"][hub]["fields"]), hub
        assert spec.key == REF["hubs"][hub]["key"]
    for grid in GRIDS.values():
        ref = REF["grids"][grid.name]
        held = {grid.row_key, grid.row_id, "WBS1", *grid.fields, *grid.derived, *(["ModDate"] if grid.stamped else [])}
        assert held == set(ref["fields"]), grid.name
        assert grid.body_name.lower() == ref["write_property"].lower()


def test_chosen_names_are_written_down() -> None:
    doc = CONTRACT_DOC.read_text()
    for table in (*REF["hubs"].values(), *REF["grids"].values()):
        for name in table.get("chosen", {}):
            assert f"`{name}`" in doc, f"{name} is a choice the reference leaves open: say why in {CONTRACT_DOC.name}"


def _listed(name: str, text: str) -> bool:
    if re.search(rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])", text):
        return True
    if name.startswith("Cust") and "`Cust<Name>`" in text:  # a tenant's own fields, as the reference shows them
        return True
    ranged = re.match(r"^(.*?)(\d)$", name)  # "PrimaryAddress3" is listed as "PrimaryAddress1..4"
    if ranged and f"{ranged.group(1)}1..4" in text:
        return True
    measure = re.match(r"^Ajera(Spent|Cost|WIP|Billed|Received)(Labor|Reimbursable|Consultant)$", name)
    return bool(measure) and "AjeraSpent`/`AjeraCost`/`AjeraWIP`/`AjeraBilled`/`AjeraReceived` × `Labor`/" \
        "`Reimbursable`/`Consultant`" in text


@pytest.mark.skipif(not REFERENCE_TEXT.exists(), reason="the reference text is not on this machine")
def test_every_name_in_the_copy_is_in_the_reference() -> None:
    text = REFERENCE_TEXT.read_text()
    names = {REF["post_as_get_header"], *REF["list_params"], *REF["error_body"], *REF["token"]["success"],
             *REF["token"]["password_form"], *REF["token"]["error"]}
    for table in (*REF["hubs"].values(), *REF["grids"].values()):
        names |= set(table["fields"]) | set(table.get("not_simulated", ())) | {table["path"].split("/")[-1]}
    missing = sorted(n for n in names if not _listed(n, text) and not _listed(n.lower(), text.lower()))
    assert missing == [], f"names in tests/reference/vantagepoint.json that the reference does not list: {missing}"
