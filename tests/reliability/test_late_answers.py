"""A create whose answer is lost (the system saved it, the answer came too late) is never made twice,
for names of many words, accents and punctuation.

The simulators hold the answer of the chosen create calls back longer than the client waits: the record
exists, the client sees a timeout (``AmbiguousWriteError``), the apply task fails, and its retry must find
the record by its whole identity before creating anything. Both directions: Ajera -> CRM (a CRM POST per
record) and CRM -> Ajera (one Ajera Update call creating the batch).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from include.clients.ajera import AjeraClient
from include.clients.errors import AmbiguousWriteError
from include.clients.http import RetryPolicy
from include.clients.vantagepoint import VantagepointClient
from include.sync import record_types
from include.sync.names import exact_key, person_name
from include.sync.runner import run_sync
from include.sync.runs import RunOptions
from include.sync.staging import load_refs
from include.sync.systems import AjeraSide, CrmSide
from simulators.harness import AJERA_LOGIN, CRM_LOGIN
from tests.support.engine import Engine
from tests.support.reliability import ImpatientAjera, ImpatientCrm, mapped_pairs, run_until_quiet

pytestmark = pytest.mark.integration

PEOPLE = [
    ("María", "", "de la Cruz"), ("Pieter", "", "van der Berg"), ("João", "", "dos Santos"),
    ("Seán", "", "O'Brien"), ("Zoë", "", "Müller-Łukasz"), ("José", "Luis", "García Márquez"),
    ("Anne-Marie", "", "St. John"), ("Nguyễn", "Thị", "Minh Khai"),
]
FIRMS = ["Müller & Söhne, L.L.C.", "O'Brien-Łukasz Partners", "Café de la Cruz (Lisboa)", "van der Berg & Zoon B.V."]
HANG = {"hang_seconds": 1.5}
QUICK = RetryPolicy(attempts=2, base_delay=0.05)
CONTACT, FIRM = record_types.get("contact"), record_types.get("firm")


def _impatient(engine: Engine) -> tuple[AjeraClient, VantagepointClient]:
    return (ImpatientAjera(engine.ajera_sim.url, *AJERA_LOGIN, retry=QUICK, rate_limit_rps=None, timeout=10),
            ImpatientCrm(engine.crm_sim.url, *CRM_LOGIN, retry=QUICK, timeout=10))


def _retry_until_done(engine: Engine, ajera: Any, crm: Any, run_id: str, hook: Any = None) -> int:
    """Run, and on a lost answer retry the same run (as the apply task's retry does); returns the retries."""
    for retries in range(len(PEOPLE) + len(FIRMS) + 3):
        try:
            run_sync(engine.db, ajera, crm, run_id, RunOptions(record_types=("firm", "contact"), contact_cap=50),
                     on_step=hook if retries == 0 else None)
            return retries
        except AmbiguousWriteError:
            continue
    raise AssertionError("still losing answers")


def _counts(engine: Engine, rt: Any, side: str) -> Counter[str]:
    s = AjeraSide(engine.ajera) if side == "ajera" else CrmSide(engine.crm)
    return Counter(exact_key(r.name) for r in s.sweep(rt))


def test_lost_crm_create_answers_never_duplicate(tiny: Engine) -> None:
    run_until_quiet(tiny)
    firm_key = mapped_pairs(tiny, "firm")[0][0]
    refs = load_refs(tiny.db, CONTACT)
    for first, middle, last in PEOPLE:
        record = CONTACT.to_ajera({"first_name": first, "middle_name": middle, "last_name": last,
                                   "firm": f"A:{firm_key}", "status": "active"}, None, refs)
        result = tiny.ajera.update(CONTACT.ajera_entity, [{**record, CONTACT.ajera_key: -1}], [])
        assert not result.errors, result.errors
    for name in FIRMS:
        record = FIRM.to_ajera({"name": name, "status": "active"}, None, load_refs(tiny.db, FIRM))
        assert not tiny.ajera.update(FIRM.ajera_entity, [{**record, FIRM.ajera_key: -1}], []).errors
    tiny.crm_sim.faults(hang_next=len(PEOPLE) + len(FIRMS), match="POST /api/", **HANG)
    ajera, crm = _impatient(tiny)
    retries = _retry_until_done(tiny, ajera, crm, "late-crm")
    tiny.crm_sim.faults(hang_next=0, match=None)
    run_until_quiet(tiny, contact_cap=50)
    contacts, firms = _counts(tiny, CONTACT, "crm"), _counts(tiny, FIRM, "crm")
    copies = {n: contacts[exact_key(person_name(*p))] for p in PEOPLE for n in [person_name(*p)]}
    copies |= {n: firms[exact_key(n)] for n in FIRMS}
    print(f"\nlate answers on CRM creates: {len(copies)} names, {retries} task retries, "
          f"{sum(c - 1 for c in copies.values() if c > 1)} duplicates")
    assert retries >= 1, "no answer was lost: the fault did not apply"
    assert all(c == 1 for c in copies.values()), {n: c for n, c in copies.items() if c != 1}
    linked = {exact_key(r.record_name) for r in tiny.db.rows("log_for_run", {"run_id": "late-crm"})
              if r.action in ("created", "mapped")}
    assert {exact_key(n) for n in copies} <= linked
    ajera.close()
    crm.close()


def test_lost_ajera_create_answer_never_duplicates(tiny: Engine) -> None:
    run_until_quiet(tiny)
    firm_crm = mapped_pairs(tiny, "firm")[0][1]
    for first, middle, last in PEOPLE:
        tiny.crm.create(CONTACT.crm_hub, {**CONTACT.crm_new_record, "FirstName": first, "MiddleName": middle,
                                          "LastName": last, "ClientID": firm_crm})
    for name in FIRMS:
        tiny.crm.create(FIRM.crm_hub, {**FIRM.crm_new_record, "Name": name})
    ajera, crm = _impatient(tiny)

    def hook(step: str) -> None:  # before a batch: its next Ajera call is the one Update call creating the batch
        if ".apply[" in step:
            tiny.ajera_sim.faults(hang_next=1, match="POST /", **HANG)

    retries = _retry_until_done(tiny, ajera, crm, "late-ajera", hook)
    run_until_quiet(tiny, contact_cap=50)
    contacts, firms = _counts(tiny, CONTACT, "ajera"), _counts(tiny, FIRM, "ajera")
    copies = {person_name(*p): contacts[exact_key(person_name(*p))] for p in PEOPLE}
    copies |= {n: firms[exact_key(n)] for n in FIRMS}
    print(f"\nlate answers on Ajera creates: {len(copies)} names, {retries} task retries, "
          f"{sum(c - 1 for c in copies.values() if c > 1)} duplicates")
    assert retries >= 1
    assert all(c == 1 for c in copies.values()), {n: c for n, c in copies.items() if c != 1}
    ajera.close()
    crm.close()
