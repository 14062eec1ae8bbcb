"""Review findings: each test shows one bug in the sync engine (they fail until the bug is fixed)."""

from __future__ import annotations

from typing import Any

import pytest

from include.sync import apply, extract, finish, plan_step, record_types, validate
from include.sync.runs import RunOptions, start_run
from include.sync.staging import load_refs
from include.sync.systems import AjeraSide, CrmSide
from tests.support.engine import Engine
from tests.support.record_sync import a_create, pairs, sync

pytestmark = pytest.mark.integration


def _sides(engine: Engine, t: str) -> tuple[AjeraSide, CrmSide]:
    refs = load_refs(engine.db, record_types.get(t))
    return AjeraSide(engine.ajera, refs), CrmSide(engine.crm, refs)


def _plan(engine: Engine, t: str, run_id: str, options: RunOptions) -> list[int]:
    """extract, validate, match and diff of one record type (the tasks before apply)."""
    rt = record_types.get(t)
    a, c = _sides(engine, t)
    extract.extract(engine.db, a, rt, run_id, options)
    extract.extract(engine.db, c, rt, run_id, options)
    for system in ("ajera", "crm"):
        validate.validate(engine.db, rt, system, run_id)  # type: ignore[arg-type]
    plan_step.match(engine.db, rt, run_id, options)
    return plan_step.diff(engine.db, rt, run_id, options).batches


def test_rerun_diff_after_apply_unlinks_the_records_just_created(engine: Engine) -> None:
    """Airflow 'clear' of the diff task after apply ran: the staged snapshot does not hold the records apply
    created, so the re-run diff sees their new mappings as orphans and deletes them (plan_step.diff ->
    planner._plan_mapped -> delete_mapping), logging 'the CRM record no longer exists'."""
    sync(engine, "firm")
    made = a_create(engine, "firm", {"Description": "Quillfeather Acoustics Studio",
                                     "PrimaryPhoneNumber": "(555) 100-0001"})
    options = RunOptions(record_types=("firm",))
    run_id = "review-rediff"
    start_run(engine.db, run_id, options)
    rt = record_types.get("firm")
    a, c = _sides(engine, "firm")
    for batch in _plan(engine, "firm", run_id, options):
        apply.apply_batch(engine.db, rt, run_id, batch, options, a, c)
    after_apply = pairs(engine, "firm")
    assert str(made["ClientKey"]) in {k for k, _ in after_apply}

    plan_step.diff(engine.db, rt, run_id, options)  # the diff task cleared and re-run

    assert pairs(engine, "firm") == after_apply
    unlinked = [r for r in engine.log(run_id) if r.action == "unlinked"]
    assert unlinked == []


def test_firm_linked_in_a_firm_only_run_never_reaches_mapped_contacts(engine: Engine) -> None:
    """extract.py:64-65 re-reads mapped contacts only when a firm was linked *in this run*
    (count_linked_in_run). A firm linked by a run that did not sync contacts (record_types=["firm"], or a run
    whose contact tasks failed after the firm tasks) changes the contacts' firm reference without moving
    their modified date, so no later run ever reads them again: the reference never reaches the CRM.
    overlap_minutes=0 stands for 'the next contact run comes more than the overlap window later'."""
    fast: dict[str, Any] = {"overlap_minutes": 0}
    from tests.support.record_sync import a_link_contact

    contacts_only: dict[str, Any] = {"record_types": ("contact",), **fast}
    sync(engine, "contact", **fast)
    firm = a_create(engine, "firm", {"Description": "Zebulon Orrery Works"})
    contact = a_create(engine, "contact", {"FirstName": "Zinnia", "LastName": "Quorumbright"})
    a_link_contact(engine, contact["ContactKey"], firm["ClientKey"])
    crm_contact = engine.crm.create("contact", {"FirstName": "Zinnia", "LastName": "Quorumbright",
                                                "ClientID": "", "AjeraSync": "Y", "ContactStatus": "A"})
    engine.sync(**contacts_only)  # links the two contacts by name; their firm is not synced yet
    assert (str(contact["ContactKey"]), crm_contact["ContactID"]) in pairs(engine, "contact")

    # Later activity moves the contact watermarks past the new contact's modified date.
    other = sorted(pairs(engine, "contact"))[0]
    base = engine.ajera.get("Contacts", [int(other[0])])[0]
    assert not engine.ajera.update("Contacts", [{**base, "Title": "Moved On"}], [base]).errors
    engine.sync(**contacts_only)

    # The firm is created in the CRM by a firms-only run.
    engine.sync(record_types=("firm",), **fast)
    firm_c = dict(pairs(engine, "firm").keys())[str(firm["ClientKey"])]

    sync(engine, "contact", **fast)
    sync(engine, "contact", **fast)
    assert engine.crm.get("contact", crm_contact["ContactID"])["ClientID"] == firm_c


def test_contact_cap_is_bypassed_by_a_same_name_link(engine: Engine) -> None:
    """planner._plan_flagged: a flagged contact linked to a same-named record ('name_recheck') never goes
    through _Caps.take and is not counted, so a firm already at the cap (5 synced contacts) gets a 6th."""
    from tests.support.record_sync import quiet_firm

    sync(engine, "contact")
    firm_a, firm_c = quiet_firm(engine)
    for first in ("Abel", "Bianca", "Cosmo", "Delphine", "Eamon"):
        engine.crm.create("contact", {"FirstName": first, "LastName": "Capwell", "ClientID": firm_c,
                                      "AjeraSync": "Y", "Title": "Reviewer"})
    sync(engine, "contact")
    in_firm = lambda: [c for (a, c) in pairs(engine, "contact")  # noqa: E731
                       if engine.crm.get("contact", c).get("ClientID") == firm_c]
    assert len(in_firm()) == 5

    from tests.support.record_sync import a_link_contact

    gus = a_create(engine, "contact", {"FirstName": "Gus", "LastName": "Capwell"})
    a_link_contact(engine, gus["ContactKey"], firm_a)
    engine.crm.create("contact", {"FirstName": "Gus", "LastName": "Capwell", "ClientID": firm_c,
                                  "AjeraSync": "N", "Title": "Reviewer"})
    sync(engine, "contact")
    assert len(in_firm()) <= 5, "contact_cap=5 but the firm now has more synced contacts"


def test_retry_after_kill_before_ledger_flush_loses_the_updated_log_row(engine: Engine,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """apply.Ledger defers the bookkeeping of updates; a worker killed after the Ajera Update call but before
    the flush leaves it unrecorded. The retry (apply.py:132-134 drops what already matches) finds nothing to
    send and _record takes the 'update with nothing to send' branch (apply.py:208-211): mapping state and
    status only, no 'updated' integration-log row, no clear_failure. The Ajera write that happened in this
    run is missing from the log and the run summary, unlike the same run without the kill."""
    from tests.support.record_sync import usable_pairs

    sync(engine, "firm")
    (a1, c1), (a2, _c2) = usable_pairs(engine, "firm")[:2]
    engine.crm.update("firm", c1, {"PrimaryPhone": "(555) 020-2222"})  # goes to Ajera
    base = engine.ajera.get("Clients", [int(a2)])[0]
    assert not engine.ajera.update("Clients", [{**base, "PrimaryPhoneNumber": "(555) 010-1111"}], [base]).errors

    options = RunOptions(record_types=("firm",))
    run_id = "review-ledger"
    start_run(engine.db, run_id, options)
    rt = record_types.get("firm")
    a, c = _sides(engine, "firm")
    batches = _plan(engine, "firm", run_id, options)

    class Killed(BaseException):
        pass

    def killed(*args: Any, **kwargs: Any) -> Any:
        raise Killed("worker killed (SIGKILL) during the CRM writes")

    with monkeypatch.context() as m:
        m.setattr(apply.Ledger, "flush", lambda self: None)  # a SIGKILL runs no finally block
        m.setattr(CrmSide, "update", killed)
        with pytest.raises(Killed):
            apply.apply_batch(engine.db, rt, run_id, batches[0], options, a, c)
    assert engine.ajera.get("Clients", [int(a1)])[0]["PrimaryPhoneNumber"] == "(555) 020-2222"  # Ajera was written

    a, c = _sides(engine, "firm")
    apply.apply_batch(engine.db, rt, run_id, batches[0], options, a, c)  # the task retry
    finish.advance_watermarks(engine.db, rt, run_id, options)
    updated = {r.ajera_key for r in engine.log(run_id) if r.action == "updated"}
    assert updated == {a1, a2}
