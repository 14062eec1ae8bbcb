"""No Ajera name in ``simulators/`` or ``include/`` that the reference does not list: the simulator's record
shapes, methods and filters, the client's methods and the record types' Ajera paths are all checked against
``tests/reference/ajera.json``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from include.clients import ajera as client
from include.sync import record_types
from simulators import datagen
from simulators.ajera import fields, project_records, projects, records

REF = json.loads((Path(__file__).parents[1] / "reference" / "ajera.json").read_text())

pytestmark = pytest.mark.contract


def _names(x: Any, out: set[str]) -> set[str]:
    if isinstance(x, dict):
        for k, v in x.items():
            out.add(k)
            _names(v, out)
    elif isinstance(x, list):
        for v in x:
            _names(v, out)
    elif isinstance(x, str):
        out.add(x)
    return out


LISTED = _names(REF, set())


def record(name: str) -> set[str]:
    spec = REF["records"][name]
    out = set(spec["fields"]) | set(spec.get("also_present", {})) | set(spec.get("optional", {}))
    for block in spec.get("blocks", []):
        out |= set(REF["blocks"][block])
    return out


def test_simulator_record_shapes_are_the_reference_records() -> None:
    project = record("Project")
    phase_shared = {n for n in REF["records"]["Project"]["fields"]
                    if n in ("ProjectManager", "PrincipalInCharge", "MarketingContact")
                    or ("Date" in n and n != "LastModifiedDate") or "Amount" in n or "Budget" in n
                    or "Construction" in n}
    expected = {
        "Clients": record("Client"), "Contacts": record("Contact"), "Employees": record("Employee"),
        "Vendors": record("Vendor"), "Projects": project,
    }
    for plural, spec in records.ENTITIES.items():
        declared = set(spec.fields) | {spec.key, "LastModifiedDate"}
        custom = {"CustomFields"} if plural == "Projects" else set()
        assert declared == expected[plural] - {"CustomFields"} | custom, \
            (plural, sorted(declared ^ expected[plural]))
        assert set(spec.list_fields) == set(REF["list"][f"List{plural}"]["row"]), plural
        assert set(spec.filters) == set(REF["list"][f"List{plural}"]["filters"]), plural
    invoice_group = record("InvoiceGroup") - {"BillingManager"}
    assert set(projects.CHILD_FIELDS["InvoiceGroups"]) | {"InvoiceGroupKey"} == invoice_group
    assert set(projects.CHILD_FIELDS["Phases"]) | {"PhaseKey"} == record("Phase") | phase_shared
    resource = REF["records"]["Resource"]
    assert set(projects.CHILD_FIELDS["Resources"]) | {"ResourceKey"} == \
        set(resource["fields"]) | {"PhaseKey"} | set(resource["v1_adds"])
    assert set(project_records.TIMESHEET_FILTERS) == set(REF["timesheets"]["ListTimesheets"]["filters"])
    assert set(records.VENDOR_TYPE_FILTERS) == set(REF["list"]["ListVendorTypes"]["filters"])
    assert set(fields.BILLING_TYPES) == set(REF["value_sets"]["BillingType"])


def test_methods_are_the_reference_methods() -> None:
    assert set(records.METHOD_VERSIONS) == set(REF["versions"])
    for method, version in records.METHOD_VERSIONS.items():
        assert version == REF["versions"][method], method
    assert {m for m, v in REF["versions"].items() if v in ("2", "both") and
                                 m not in ("EndAPISession",)} == client.V2_METHODS


@pytest.mark.parametrize("name", record_types.ORDER)
def test_record_type_ajera_paths_are_listed_names(name: str) -> None:
    rt = record_types.get(name)
    fields = list(rt.fields) + [g.key for g in rt.grids] + [f for g in rt.grids for f in g.fields]
    for field in fields:
        if field.ajera:
            for part in re.split(r"[.\[\]0-9]+", field.ajera):
                assert not part or part in LISTED, (name, field.name, field.ajera, part)
    assert rt.ajera_key in LISTED and rt.ajera_entity in LISTED
    assert rt.ajera_name_filter is None or rt.ajera_name_filter in REF["list"][f"List{rt.ajera_entity}"]["filters"]
    if rt.ajera_sync_filter:
        assert "FilterBySyncToCRM" in REF["list"][f"List{rt.ajera_entity}"]["filters"]


def test_generated_world_uses_only_listed_names() -> None:
    world = datagen.generate(5, datagen.Sizes(firms=10, contacts=10, employees=5, vendors=4, projects=8, templates=2))
    days = {f"D{n} {kind}" for kind in ("Regular", "Overtime") for n in range(1, 8)}
    for table, rows in world.ajera.items():
        used = set()
        for row in rows:
            used |= _keys(row)
        unknown = {n for n in used - LISTED - days if not n.startswith("CF_")}
        assert not unknown, (table, sorted(unknown))


def _keys(x: Any) -> set[str]:
    out: set[str] = set()
    if isinstance(x, dict):
        for k, v in x.items():
            out.add(k)
            out |= _keys(v)
    elif isinstance(x, list):
        for v in x:
            out |= _keys(v)
    return out
