"""Property: records generated from each record type's spec, created on one side, reach the other side through
the sync with every synced field intact: none lost, none invented (hypothesis).

Each example creates a firm, a contact in it, a project for it (and, from Ajera, an employee and a consultant
vendor) in one system, runs the sync in-process against both simulators over HTTP, and compares the partner
field by field through the spec's own paths.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from include.sync import record_types
from include.sync.record_types import Kind, RecordType
from include.sync.refs import Refs
from simulators import datagen
from tests.support.engine import Engine, start_engine, stop_engine

pytestmark = [pytest.mark.contract, pytest.mark.integration]

TINY = datagen.Sizes(firms=6, contacts=6, employees=4, vendors=2, projects=4, templates=1)
EXAMPLES = int(os.environ.get("ROUND_TRIP_EXAMPLES", "6"))
_serial = itertools.count(1)

words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789&-.,' ", min_size=0,
                max_size=24).map(str.strip)
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2032, 12, 31)).map(date.isoformat)


def value_strategy(rt: RecordType, name: str) -> st.SearchStrategy[Any]:
    """A value for one synced field, by the field's kind in the spec (references are chosen by the test)."""
    field = rt.field(name)
    if field.kind is Kind.STATUS:
        return st.sampled_from([v for v, codes in field.vocabulary.ajera.items() if codes])  # type: ignore[union-attr]
    if field.kind is Kind.DAY:
        return st.one_of(st.just(""), days)
    if field.kind is Kind.MONEY:
        return st.integers(0, 5_000_000).map(lambda n: f"{n:.2f}")
    if name == "email":
        return st.one_of(st.just(""), st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.example", fullmatch=True))
    return words


def fields_strategy(type_name: str) -> st.SearchStrategy[dict[str, Any]]:
    rt = record_types.get(type_name)
    names = [n for n in rt.synced if rt.field(n).kind is not Kind.REF]
    return st.fixed_dictionaries({n: value_strategy(rt, n) for n in names})


def named(type_name: str, fields: dict[str, Any], serial: int) -> dict[str, Any]:
    """Names made unique (no example may match an existing record by name)."""
    tag = f"Zq{serial:04d}"
    if type_name in ("firm", "vendor"):
        return {**fields, "name": f"{tag} {fields['name']}".strip()}
    if type_name == "project":
        return {**fields, "description": f"{tag} {fields['description']}".strip()}
    person = {**fields, "last_name": f"{tag}{fields['last_name']}".replace(" ", "")}
    if type_name == "employee" and not person["first_name"]:
        person["first_name"] = "Pat"  # both systems require an employee's first name
    return person


examples = st.fixed_dictionaries({t: fields_strategy(t) for t in ("firm", "contact", "employee", "vendor", "project")})


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory(prefix="round-trip-") as tmp:
        engine, parts = start_engine(f"sqlite:///{Path(tmp) / 'sync.db'}", datagen.generate(seed=3, sizes=TINY))
        try:
            assert engine.sync(sync_closed_projects=True).completed
            yield engine
        finally:
            stop_engine(parts)


def refs(engine: Engine) -> Refs:
    return Refs({t: [(m.ajera_key, m.crm_key) for m in engine.mappings(t)] for t in record_types.ORDER})


def partner(engine: Engine, type_name: str, system: str, key: str) -> str:
    for m in engine.mappings(type_name):
        if (m.ajera_key if system == "ajera" else m.crm_key) == key:
            return m.crm_key if system == "ajera" else m.ajera_key
    raise AssertionError(f"{type_name} {system} {key} has no partner after the sync")


def ajera_record(engine: Engine, type_name: str, key: str) -> dict[str, Any]:
    return engine.ajera.get(record_types.get(type_name).ajera_entity, [int(key)])[0]


def crm_record(engine: Engine, type_name: str, key: str) -> dict[str, Any]:
    found = engine.crm.get(record_types.get(type_name).crm_hub, key)
    assert found is not None
    return found


def assert_same(engine: Engine, type_name: str, wanted: dict[str, Any], ajera: dict[str, Any],
                crm: dict[str, Any]) -> None:
    rt, mapped = record_types.get(type_name), refs(engine)
    a_fields, c_fields = rt.ajera_fields(ajera, mapped), rt.crm_fields(crm, mapped)
    lost = {n: (wanted[n], a_fields[n], c_fields[n]) for n in rt.synced
            if not (wanted[n] == a_fields[n] == c_fields[n])}
    assert not lost, f"{type_name}: (generated, Ajera, CRM) differ: {lost}"


def ajera_create(engine: Engine, entity: str, record: dict[str, Any]) -> dict[str, Any]:
    result = engine.ajera.update(entity, [record], [])
    assert not result.errors and result.saved, result.errors
    return result.saved[0]


def mapped_employee(engine: Engine) -> tuple[str, str]:
    return sorted((m.ajera_key, m.crm_key) for m in engine.mappings("employee"))[0]


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(example=examples)
def test_records_made_in_ajera_reach_the_crm_whole(engine: Engine, example: dict[str, dict[str, Any]]) -> None:
    serial = next(_serial)
    f = {t: named(t, v, serial) for t, v in example.items()}
    ajera = engine.ajera
    firm_rt, contact_rt = record_types.get("firm"), record_types.get("contact")
    firm = ajera_create(engine, "Clients", {**firm_rt.to_ajera(f["firm"], None), "ClientKey": -1})
    contact = ajera_create(engine, "Contacts", {**contact_rt.to_ajera(f["contact"], None), "ContactKey": -1})
    client = ajera.get("Clients", [firm["ClientKey"]])[0]
    assert not ajera.update("Clients", [{**client, "Contacts": [{"ContactKey": contact["ContactKey"], "Order": 1}]}],
                            [client]).errors
    employee = ajera_create(engine, "Employees", {**record_types.get("employee").to_ajera(
        {**f["employee"], "status": "active"}, None), "EmployeeKey": -1})
    vendor = ajera_create(engine, "Vendors", {**record_types.get("vendor").to_ajera(f["vendor"], None),
                                              "VendorKey": -1, "VendorTypeIsConsultant": True})
    project_fields = record_types.get("project").to_ajera(f["project"], None)
    project = ajera.create_project(
        {**project_fields, "ID": f"ZQ-{serial:04d}", "BillingType": "FixedFee", "RateTableKey": 1, "SyncToCRM": True,
         "ProjectManager": {"EmployeeKey": employee["EmployeeKey"]}},
        [{"Description": "Main", "ClientKey": firm["ClientKey"], "InvoiceFormatKey": 1}], [{"Description": "Design"}])

    summary = engine.sync(sync_closed_projects=True)
    assert summary.completed, summary.lines()

    made = {"firm": str(firm["ClientKey"]), "contact": str(contact["ContactKey"]),
            "employee": str(employee["EmployeeKey"]), "vendor": str(vendor["VendorKey"]),
            "project": str(project["ProjectKey"])}
    wanted = dict(f)
    wanted["employee"] = {**f["employee"], "status": "active"}
    wanted["contact"] = {**f["contact"], "firm": f"A:{made['firm']}"}
    wanted["project"] = {**f["project"], "firm": f"A:{made['firm']}", "manager": f"A:{made['employee']}"}
    for type_name, key in made.items():
        crm_key = partner(engine, type_name, "ajera", key)
        assert_same(engine, type_name, wanted[type_name], ajera_record(engine, type_name, key),
                    crm_record(engine, type_name, crm_key))


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(example=examples)
def test_records_made_in_the_crm_reach_ajera_whole(engine: Engine, example: dict[str, dict[str, Any]]) -> None:
    serial = next(_serial)
    f = {t: named(t, v, serial) for t, v in example.items() if t in ("firm", "contact", "project")}
    crm, mapped = engine.crm, refs(engine)
    firm_rt, contact_rt, project_rt = (record_types.get(t) for t in ("firm", "contact", "project"))
    firm = crm.create("firm", {**firm_rt.crm_new_record, **firm_rt.to_crm(f["firm"], mapped)})
    contact = crm.create("contact", {**contact_rt.crm_new_record, **contact_rt.to_crm(f["contact"], mapped),
                                     "ClientID": firm["ClientID"]})
    emp_a, emp_c = mapped_employee(engine)
    project = crm.create("project", {**project_rt.crm_new_record, **project_rt.to_crm(f["project"], mapped),
                                     "WBS1": f"ZQ{serial:04d}.00", "ClientID": firm["ClientID"], "ProjMgr": emp_c,
                                     "ProjectTemplate": "1"})

    summary = engine.sync(sync_closed_projects=True)
    assert summary.completed, summary.lines()

    firm_a = partner(engine, "firm", "crm", firm["ClientID"])
    wanted = {"firm": f["firm"], "contact": {**f["contact"], "firm": f"A:{firm_a}"},
              "project": {**f["project"], "firm": f"A:{firm_a}", "manager": f"A:{emp_a}"}}
    made = {"firm": firm["ClientID"], "contact": contact["ContactID"], "project": project["WBS1"]}
    for type_name, key in made.items():
        ajera_key = partner(engine, type_name, "crm", key)
        assert_same(engine, type_name, wanted[type_name], ajera_record(engine, type_name, ajera_key),
                    crm_record(engine, type_name, key))
