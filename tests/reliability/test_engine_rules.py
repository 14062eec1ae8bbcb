"""The other reliability rules, each against both simulators: future dates, a first sync that crashed,
a replayed Ajera update that had saved, the failure threshold of a record type, dropped references."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from include.clients.http import RetryPolicy
from include.sync import record_types
from include.sync.apply import BatchApplier
from include.sync.db import parse_ts
from include.sync.runner import run_sync
from include.sync.runs import RunOptions
from simulators import datagen
from simulators.harness import AJERA_LOGIN
from tests.support.engine import Engine, start_engine, stop_engine
from tests.support.reliability import (
    TINY,
    ImpatientAjera,
    ajera_record,
    edit_crm,
    fresh_value,
    mapped_pairs,
    run_until_quiet,
)

pytestmark = pytest.mark.integration
FIRM = record_types.get("firm")


def _seeded(sync_db_url: str, change: Any) -> tuple[Engine, list[Any]]:
    world = copy.deepcopy(datagen.generate(seed=11, sizes=TINY))
    change(world)
    return start_engine(sync_db_url, world)


def test_a_future_date_is_quarantined_synced_and_never_carries_the_watermark(sync_db_url: str) -> None:
    def future(world: datagen.World) -> None:
        world.ajera["Clients"][0].update(LastModifiedDate="2031-06-01 12:00:00.000 GMT+0000")

    engine, parts = _seeded(sync_db_url, future)
    try:
        started = datetime.now(UTC)
        engine.sync()
        key = str(engine.world.ajera["Clients"][0]["ClientKey"])
        reasons = [r.reason for r in engine.db.rows("quarantine_keys_reasons", {"record_key": key})]
        assert any("in the future" in r for r in reasons), reasons
        assert key in {m.ajera_key for m in engine.mappings("firm")}, "the future-dated firm was not synced"
        mark = parse_ts(engine.db.scalar("get_watermark", {"system": "ajera", "record_type": "firm"}))
        assert mark is not None and mark <= datetime.now(UTC) + timedelta(seconds=120)
        assert mark >= started - timedelta(days=3650)
        mapping = next(m for m in engine.mappings("firm") if m.ajera_key == key)
        assert parse_ts(mapping.ajera_modified) <= datetime.now(UTC) + timedelta(seconds=120)
    finally:
        stop_engine(parts)


def _unflagged() -> datagen.World:
    """No project flagged on either side (every Ajera firm is): only first-time matching links them."""
    world = copy.deepcopy(datagen.generate(seed=11, sizes=TINY))
    for project in world.ajera["Projects"]:
        project.update(SyncToCRM=False, CreateInCRM=False)
    for project in world.crm["project"]:
        project["AjeraSync"] = "N"
    return world


def test_a_first_sync_that_crashed_is_still_a_first_sync(sync_db_url: str) -> None:
    clean, clean_parts = start_engine("sqlite://", _unflagged())
    engine, parts = start_engine(sync_db_url, _unflagged())
    try:
        run_until_quiet(clean)
        real = BatchApplier._write_crm
        calls: list[str] = []

        def crash_on_second(self: Any, step: Any) -> Any:
            calls.append(step.kind) if self.rt.name == "project" else None
            if len(calls) == 2:
                raise RuntimeError("the worker died")  # the apply task fails and is not retried
            return real(self, step)

        BatchApplier._write_crm = crash_on_second  # type: ignore[method-assign]
        try:
            with pytest.raises(RuntimeError):
                engine.sync(record_types=("firm", "employee", "project"))
        finally:
            BatchApplier._write_crm = real  # type: ignore[method-assign]
        assert engine.mappings("project"), "the crashed run linked nothing: the test needs some links"
        run_until_quiet(engine)
        clean_links = {(m.ajera_key, m.crm_key) for m in clean.mappings("project")}
        links = {(m.ajera_key, m.crm_key) for m in engine.mappings("project")}
        assert len(clean_links) >= 2 and links == clean_links, clean_links - links
        conflicts = engine.db.rows("conflicts_of_type", {"record_type": "project"})
        assert not conflicts, f"false conflicts after the crash: {conflicts}"
    finally:
        stop_engine(parts)
        stop_engine(clean_parts)


def test_a_replayed_ajera_update_that_saved_is_not_an_error(tiny: Engine) -> None:
    run_until_quiet(tiny)
    pair = mapped_pairs(tiny, "firm")[0]
    value = fresh_value("phone")
    edit_crm(tiny, "firm", pair[1], "phone", value)
    ajera = ImpatientAjera(tiny.ajera_sim.url, *AJERA_LOGIN,
                           retry=RetryPolicy(attempts=3, base_delay=0.05), rate_limit_rps=None, timeout=10)

    def lose_the_answer(step: str) -> None:  # before a batch: its next Ajera call is its Update
        if ".apply[" in step:
            tiny.ajera_sim.faults(hang_next=1, match="POST /", hang_seconds=1.5)

    summary = run_sync(tiny.db, ajera, tiny.crm, "replayed", RunOptions(record_types=("firm",)),
                       on_step=lose_the_answer)
    ajera.close()
    errors = [r.message for r in tiny.log("replayed") if r.action == "error"]
    assert not errors, errors
    assert summary.completed
    assert ajera_record(tiny, "firm", pair[0]).fields["phone"] == value  # type: ignore[union-attr]
    assert any(r.action == "updated" and r.ajera_key == pair[0] for r in tiny.log("replayed"))
    tiny.runs = 0
    run_until_quiet(tiny, max_runs=2)


def test_a_type_fails_only_past_the_threshold_of_bad_records(sync_db_url: str) -> None:
    def bad_employees(world: datagen.World) -> None:
        base = world.ajera["Employees"][0]
        for n in range(8):
            world.ajera["Employees"].append({**base, "EmployeeKey": 700 + n, "LastName": ["not", "a", "name", n]})

    engine, parts = _seeded(sync_db_url, bad_employees)
    try:
        summary = engine.sync()
        assert not summary.completed
        assert any("employee did not complete" in f for f in summary.failed_tasks)
        assert any("more than the threshold" in r.message for r in engine.log("test-run-001") if r.action == "error")
        assert engine.db.scalar("get_watermark", {"system": "ajera", "record_type": "employee"}) is None
        assert engine.mappings("firm") and engine.mappings("contact"), "types not depending on it went on"
        # Under the threshold (or with it raised) the same data syncs, the bad rows quarantined.
        assert engine.sync(max_failed_percent=100.0).completed
    finally:
        stop_engine(parts)


def test_every_dropped_reference_is_logged_with_the_record_the_field_and_why(sync_db_url: str) -> None:
    def bad_refs(world: datagen.World) -> None:
        world.crm["contact"].append({**world.crm["contact"][0], "ContactID": "refless", "FirstName": "Refless",
                                     "LastName": "Contact", "ClientID": "NOPE", "AjeraSync": "Y"})
        project = world.ajera["Projects"][0]
        project.update(SyncToCRM=True, Status="Active",
                       ProjectManager={**project["ProjectManager"], "EmployeeKey": 987656})
        for group in world.ajera["InvoiceGroups"]:
            if group["ProjectKey"] == project["ProjectKey"]:
                group["ClientKey"] = 987655
        vendor_only = next(f["ClientID"] for f in world.crm["firm"] if f.get("ClientInd") != "Y")
        world.crm["project"].append({**world.crm["project"][0], "WBS1": "2097001.00", "Name": "Vendor Client Project",
                                     "LongName": "Vendor Client Project", "ClientID": vendor_only, "AjeraSync": "Y",
                                     "Status": "A",
                                     "ProjectTemplate": str(world.ajera["ProjectTemplates"][0]["ProjectTemplateKey"])})

    engine, parts = _seeded(sync_db_url, bad_refs)
    try:
        engine.sync(contact_cap=100)
        rows = [r for r in engine.log("test-run-001") if r.action == "reference_dropped"]
        text = "\n".join(f"{r.record_type} {r.ajera_key} {r.crm_key} {r.record_name}: {r.message}" for r in rows)
        contact_key = "refless"
        project_key = str(engine.world.ajera["Projects"][0]["ProjectKey"])
        assert any(r.record_type == "contact" and r.crm_key == contact_key and "firm" in r.message
                   and "NOPE does not exist" in r.message for r in rows), text
        assert any(r.record_type == "project" and r.ajera_key == project_key and "987655 does not exist" in r.message
                   for r in rows), text
        assert any(r.record_type == "project" and "manager" in r.message and "employee 987656 does not exist"
                   in r.message for r in rows), text
        text += "\n" + "\n".join(f"{r.action} {r.message}" for r in engine.log("test-run-001")
                                 if r.crm_key == "2097001.00")
        assert any(r.record_type == "project" and "is a vendor, not a firm" in r.message for r in rows), text
    finally:
        stop_engine(parts)
