"""Every Ajera call the reference lists, run against the simulator seeded by the generator, with each answer
checked field by field against ``tests/reference/ajera.json`` (the reference's tables, one machine-readable
copy): no name the reference does not list, every name it lists, each value of its JSON type.

Raw HTTP only: the contract is the wire, not our client.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from simulators import datagen
from simulators.harness import PASSWORD, USERNAME, ajera_api_url, start

REF = json.loads((Path(__file__).parents[1] / "reference" / "ajera.json").read_text())
SIZES = datagen.Sizes(firms=20, contacts=30, employees=10, vendors=8, projects=20, templates=2)
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} GMT[+-]\d{2}:\d{2} \([A-Za-z ]+\)$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

pytestmark = pytest.mark.contract


# --- the checker ------------------------------------------------------------------------------------------

def of_type(value: Any, kind: str) -> bool:
    """Whether ``value`` has the reference's JSON type (``a|b`` for either)."""
    if "|" in kind:
        return any(of_type(value, k) for k in kind.split("|"))
    checks = {
        "null": lambda v: v is None,
        "str": lambda v: isinstance(v, str),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "num": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
        "list": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
        "day": lambda v: isinstance(v, str) and bool(DAY.match(v)),
        "stamp": lambda v: isinstance(v, str) and bool(STAMP.match(v)),
        "person": lambda v: isinstance(v, dict) and set(v) == set(REF["records"]["Project"]["person"]),
        "int[]": lambda v: isinstance(v, list) and all(of_type(x, "int") for x in v),
        "str[]": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "bool[]": lambda v: isinstance(v, list) and all(isinstance(x, bool) for x in v),
    }
    return checks[kind](value)


def check(obj: dict[str, Any], fields: dict[str, str], label: str, optional: dict[str, str] | None = None,
          custom: bool = False) -> None:
    """``obj`` holds exactly the listed fields (``optional`` ones may be missing), each of its type."""
    optional = optional or {}
    names = set(obj) - ({n for n in obj if n.startswith("CF_")} if custom else set())
    assert not names - set(fields) - set(optional), f"{label}: names the reference does not list: " \
                                                    f"{sorted(names - set(fields) - set(optional))}"
    assert not set(fields) - names, f"{label}: listed names missing: {sorted(set(fields) - names)}"
    for name, value in obj.items():
        kind = fields.get(name) or optional.get(name)
        if kind is not None:
            assert of_type(value, kind), f"{label}.{name} = {value!r} is not {kind}"


def record_fields(name: str) -> dict[str, str]:
    spec = REF["records"][name]
    out = dict(spec["fields"])
    for block in spec.get("blocks", []):
        out.update(REF["blocks"][block])
    return out


def project_fields() -> dict[str, str]:
    spec = REF["records"]["Project"]
    return {**spec["fields"], **spec["also_present"]}


def phase_fields() -> dict[str, str]:
    project = REF["records"]["Project"]["fields"]
    shared = {k: v for k, v in project.items()
              if k in ("ProjectManager", "PrincipalInCharge", "MarketingContact")
              or ("Date" in k and k != "LastModifiedDate") or "Amount" in k or "Budget" in k or "Construction" in k}
    return {**REF["records"]["Phase"]["fields"], **shared}


# --- the simulator and raw calls --------------------------------------------------------------------------

class Wire:
    def __init__(self, url: str) -> None:
        self.endpoint = ajera_api_url(url)
        self.http = requests.Session()
        self.tokens = {v: self.session(v)["Content"]["SessionToken"] for v in (1, 2)}

    def session(self, version: int) -> dict[str, Any]:
        body = {"Method": "CreateAPISession", "Username": USERNAME, "Password": PASSWORD, "APIVersion": version,
                "UseSessionCookie": False}
        check(body, REF["session"]["request"], "CreateAPISession request")
        answer = self.http.post(self.endpoint, json=body, timeout=10).json()
        self.envelope(answer, "CreateAPISession")
        check(answer["Content"], REF["session"]["content"], "CreateAPISession", REF["session"]["content_optional"])
        return answer

    @staticmethod
    def envelope(answer: dict[str, Any], method: str) -> None:
        check(answer, REF["envelope"], f"{method} envelope")
        for error in answer["Errors"]:
            check(error, REF["error"], f"{method} error")

    def call(self, method: str, version: int | None = None, **arguments: Any) -> dict[str, Any]:
        needs = REF["versions"][method]
        version = version or (2 if needs == "2" else 1)
        response = self.http.post(self.endpoint, json={"Method": method, "SessionToken": self.tokens[version],
                                                       "MethodArguments": arguments}, timeout=10)
        assert response.status_code == 200  # always HTTP 200: the outcome is in the body
        answer = response.json()
        self.envelope(answer, method)
        return answer

    def ok(self, method: str, version: int | None = None, **arguments: Any) -> dict[str, Any]:
        answer = self.call(method, version, **arguments)
        assert answer["ResponseCode"] in REF["success_codes"] and not answer["Errors"], answer
        return answer["Content"]


@pytest.fixture(scope="module")
def world() -> datagen.World:
    return datagen.generate(11, SIZES)


@pytest.fixture(scope="module")
def wire(world: datagen.World) -> Iterator[Wire]:
    server = start("ajera", seed=world.ajera)
    yield Wire(server.url)
    server.stop()


# --- sessions and versions -------------------------------------------------------------------------------

@pytest.mark.parametrize("method", sorted(set(REF["versions"]) - {"EndAPISession"}))
def test_each_method_runs_on_the_version_the_reference_gives_it(wire: Wire, method: str) -> None:
    needs = REF["versions"][method]
    for version in (1, 2):
        answer = wire.call(method, version)
        unauthorized = answer["Message"].startswith("Unauthorized method")
        assert unauthorized == (needs != "both" and int(needs) != version), (method, version, answer["Message"])


# --- lists ------------------------------------------------------------------------------------------------

SAMPLE = {"int[]": [1], "str[]": ["Active"], "bool[]": [True], "str": "a", "bool": True, "day": "2020-01-06",
          "bool[]|bool": [True]}


@pytest.mark.parametrize("method", sorted(REF["list"]))
def test_list_rows_paging_and_filters(wire: Wire, method: str) -> None:
    spec = REF["list"][method]
    content = wire.ok(method)
    assert set(content) == {spec["content"]}
    rows = content[spec["content"]]
    assert rows
    for row in rows:
        check(row, spec["row"], f"{method} row")
    paged = wire.ok(method, PageResults=True)
    check({k: v for k, v in paged.items() if k != spec["content"]}, REF["paging"]["response"], f"{method} paging")
    assert paged["PageSize"] == REF["paging"]["defaults"]["PageSize"] and len(paged[spec["content"]]) <= 10
    filters = spec["filters"] if isinstance(spec["filters"], dict) else REF["list"]["ListProjects"]["filters"]
    for name, kind in filters.items():
        value = {"FilterByEarliestModifiedDate": REF["list_notes"]["date_filter_example"],
                 "FilterByLatestModifiedDate": REF["list_notes"]["date_filter_example"]}.get(name, SAMPLE[kind])
        wire.ok(method, **{name: value})
        if kind.endswith("[]") and "|" not in kind:  # the documented type only: a bare value is refused
            assert wire.call(method, **{name: value[0]})["Errors"], (method, name)
    assert wire.call(method, FilterByEverything=[True])["Errors"]


def test_timesheet_list_and_get(wire: Wire) -> None:
    spec = REF["timesheets"]["ListTimesheets"]
    rows = wire.ok("ListTimesheets")[spec["content"]]
    assert 0 < len(rows) <= spec["row_cap"]
    for row in rows:
        check(row, spec["row"], "ListTimesheets row")
    for name, kind in spec["filters"].items():
        wire.ok("ListTimesheets", **{name: SAMPLE[kind]})
    get = REF["timesheets"]["GetTimesheets"]
    sheets = wire.ok("GetTimesheets", **{get["argument"]: [r["Timesheet Key"] for r in rows[:20]]})[get["content"]]
    assert len(sheets) == 20
    days = {f"D{n} {kind}" for kind in ("Regular", "Overtime") for n in range(1, 8)}
    for sheet in sheets:
        check(sheet, get["record"], "GetTimesheets")
        check(sheet["Project"], get["project"], "GetTimesheets.Project")
        for detail in sheet["Project"]["Detail"]:
            assert set(get["detail_keys"]) <= set(detail) and set(detail) - set(get["detail_keys"]) <= days


# --- gets -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", sorted(REF["get"]))
def test_get_records_field_by_field(wire: Wire, world: datagen.World, method: str) -> None:
    spec = REF["get"][method]
    key = {"Clients": "ClientKey", "Contacts": "ContactKey", "Employees": "EmployeeKey", "Vendors": "VendorKey"}
    table = spec["content"]
    keys = [r[key[table]] for r in world.ajera[table]][: spec.get("max_keys", 500)]
    records = wire.ok(method, **{spec["argument"]: keys})[table]
    assert len(records) == len(keys)
    fields = record_fields(spec["record"])
    lists = REF["records"][spec["record"]].get("lists", {})
    for record in records:
        check(record, fields, f"{method} {record[key[table]]}", custom=spec["record"] == "Vendor")
        for name, block in lists.items():
            for element in record[name]:
                check(element, REF["blocks"][block], f"{method}.{name}")
    if "max_keys" in spec:
        over = wire.call(method, **{spec["argument"]: list(range(1, spec["max_keys"] + 2))})
        assert over["ResponseCode"] == spec["over_limit_code"]


def test_get_projects_v2_bundle(wire: Wire, world: datagen.World) -> None:
    spec = REF["projects"]["GetProjects_v2"]
    keys = [p["ProjectKey"] for p in world.ajera["Projects"]]
    bundle = wire.ok("GetProjects", 2, **{spec["argument"]: keys})
    assert sorted(bundle) == sorted(spec["content"])
    records = REF["records"]
    for project in bundle["Projects"]:
        check(project, project_fields(), f"Project {project['ProjectKey']}", records["Project"]["optional"])
        for role in ("ProjectManager", "PrincipalInCharge", "MarketingContact"):
            if project[role] is not None:
                check(project[role], records["Project"]["person"], f"Project.{role}")
    for group in bundle["InvoiceGroups"]:
        check(group, records["InvoiceGroup"]["fields"], "InvoiceGroup", records["InvoiceGroup"]["optional"])
    for phase in bundle["Phases"]:
        check(phase, phase_fields(), "Phase", records["Phase"]["optional"])
    resource = records["Resource"]
    for row in bundle["Resources"]:
        links = [k for k in resource["link_key_one_of"] if k in row]
        assert len(links) == 1, row
        check({k: v for k, v in row.items() if k not in links}, resource["fields"], "Resource", resource["optional"])
        if "Employee" in row:
            check(row["Employee"], resource["employee"], "Resource.Employee")
    assert any("Employee" in r for r in bundle["Resources"])
    # The client link is on the invoice groups; some projects have several.
    groups = [g["ProjectKey"] for g in bundle["InvoiceGroups"]]
    assert set(groups) == set(keys) and len(groups) > len(keys)


def _check_v1_project(project: dict[str, Any], label: str, key: str = "ProjectKey",
                      phase_adds: dict[str, str] | None = None) -> None:
    spec, records = REF["projects"]["GetProjects_v1"], REF["records"]
    fields = {**project_fields(), **spec["adds"]}
    if key != "ProjectKey":
        fields = {key: "int", **{k: v for k, v in fields.items() if k != "ProjectKey"}}
    check(project, fields, label, custom=True)
    group_fields = {k: v for k, v in records["InvoiceGroup"]["fields"].items()
                    if k not in ("ClientKey", "ClientDescription", "ProjectKey")}
    for group in project["InvoiceGroups"]:
        check(group, {**group_fields, **spec["invoice_group_adds"]}, f"{label}.InvoiceGroups")
        if group["Client"] is not None:
            check(group["Client"], spec["client"], f"{label}.Client")
        stack = list(group["Phases"])
        while stack:
            phase = stack.pop()
            check(phase, {**phase_fields(), "Phases": "list", **(phase_adds or {})}, f"{label}.Phase",
                  records["Phase"]["optional"])
            stack.extend(phase["Phases"])
            for row in phase.get("Resources", []):
                check(row, {**records["Resource"]["fields"], **records["Resource"]["v1_adds"], "PhaseKey": "int"},
                      f"{label}.Resource")


def test_get_projects_v1_nested(wire: Wire, world: datagen.World) -> None:
    keys = [p["ProjectKey"] for p in world.ajera["Projects"]]
    projects = wire.ok("GetProjects", 1, RequestedProjects=keys)["Projects"]
    assert len(projects) == len(keys)
    for project in projects:
        _check_v1_project(project, f"v1 Project {project['ProjectKey']}")


def test_templates_totals_and_resources(wire: Wire, world: datagen.World) -> None:
    spec = REF["projects"]
    templates = wire.ok("ListProjectTemplates")["ProjectTemplates"]
    keys = [t["ProjectTemplateKey"] for t in templates]
    got = wire.ok("GetProjectTemplates", **{spec["GetProjectTemplates"]["argument"]: keys})["ProjectTemplates"]
    assert [t["ProjectTemplateKey"] for t in got] == keys
    for template in got:
        assert "ProjectKey" not in template
        fields = {k: v for k, v in template.items() if k != "ProjectTemplateKey"}
        assert set(fields) <= {*project_fields(), *spec["GetProjects_v1"]["adds"], "CustomFields"}
        assert template["InvoiceGroups"][0]["Phases"]

    totals = spec["GetProjectTotals"]
    billable = [p["ProjectKey"] for p in world.ajera["Projects"] if p["BillingType"] not in ("Overhead", "Nonbillable")]
    answer = wire.ok("GetProjectTotals", **{totals["argument"]: billable[0]})[totals["content"]]
    check({k: v for k, v in answer.items() if k in totals["totals"]}, totals["totals"], "GetProjectTotals totals")
    _check_v1_project({k: v for k, v in answer.items() if k not in totals["totals"]}, "GetProjectTotals")
    assert wire.call("GetProjectTotals", **{totals["argument"]: [billable[0]]})["Errors"]  # one int, not a list

    with_resources = wire.ok("GetProjectsWithResources", RequestedProjects=billable)["Projects"]
    for project in with_resources:
        _check_v1_project(project, "GetProjectsWithResources",
                          phase_adds=spec["GetProjectsWithResources"]["phase_adds"])
    vendors = [r for p in with_resources for g in p["InvoiceGroups"] for ph in g["Phases"]
               for r in ph.get("Resources", []) if r.get("VendorKey")]
    assert vendors, "consultant vendors on projects (the next issue reads them)"


# --- writes -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["UpdateClients", "UpdateContacts", "UpdateEmployees", "UpdateVendors"])
def test_v1_updates_take_the_whole_record_back(wire: Wire, world: datagen.World, method: str) -> None:
    spec = REF["writes"][method]
    table = spec["content"]
    get = REF["get"][f"Get{table}"]
    key = {"Clients": "ClientKey", "Contacts": "ContactKey", "Employees": "EmployeeKey", "Vendors": "VendorKey"}[table]
    base = wire.ok(f"Get{table}", **{get["argument"]: [world.ajera[table][-1][key]]})[table][0]
    edited = {**base, "Notes": "edited through the contract test"}
    content = wire.ok(method, **{spec["updated"]: [edited], spec["unchanged"]: [base], spec["single"]: True})
    assert set(content) == {spec["content"], spec["count"]} and content[spec["count"]] == 1
    saved = content[table][0]
    check(saved, {**record_fields(get["record"]), spec["original_key"]: "int"}, f"{method} answer",
          custom=get["record"] == "Vendor")
    assert saved["Notes"] == "edited through the contract test" and saved[spec["original_key"]] == base[key]


def test_update_and_create_projects(wire: Wire, world: datagen.World) -> None:
    spec = REF["writes"]
    key = world.ajera["Projects"][0]["ProjectKey"]
    bundle = wire.ok("GetProjects", 2, RequestedProjects=[key])
    saved = wire.ok("UpdateProjects", **{spec["UpdateProjects"]["updated"]: [{"ProjectKey": key, "Notes": "x"}],
                                         spec["UpdateProjects"]["unchanged"]: bundle})
    assert sorted(saved) == sorted(spec["UpdateProjects"]["content"]) and saved["Projects"][0]["Notes"] == "x"

    create = spec["CreateProjects"]
    client = world.ajera["Clients"][0]["ClientKey"]
    good = {"CreateType": create["create_type"],
            "Project": {"Description": "Contract Test Project", "BillingType": "FixedFee", "RateTableKey": 1},
            "InvoiceGroups": [{"Description": "Main", "ClientKey": client, "InvoiceFormatKey": 1}],
            "Phases": [{"Description": "Design"}]}
    check(good, create["arguments"], "CreateProjects arguments")
    made = wire.ok("CreateProjects", **good)
    assert sorted(made) == sorted(create["content"]) and made["Projects"][0]["Description"] == "Contract Test Project"
    for part, required in (("Project", create["project_required"]), ("InvoiceGroups", create["invoice_group_required"]),
                           ("Phases", create["phase_required"])):
        for name in required:
            broken = json.loads(json.dumps(good))
            target = broken[part] if part == "Project" else broken[part][0]
            target.pop(name)
            assert wire.call("CreateProjects", **broken)["Errors"], (part, name)
    too_long = {**good, "Project": {**good["Project"], "Description": "x" * (create["description_max"] + 1)}}
    assert wire.call("CreateProjects", **too_long)["Errors"]
