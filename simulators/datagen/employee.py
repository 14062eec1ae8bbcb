"""employee: Ajera employees (a terminated one is Inactive with a termination date) and CRM employees."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from simulators.datagen.base import Gen, Sizes
from simulators.datagen.blocks import phone_block
from simulators.datagen.pools import CITIES, EMPLOYEE_TITLES
from simulators.datagen.slots import allocate, make_slots, partners, shuffled_keys, slot_notes
from simulators.datagen.variants import email_for, person_case, person_feature, person_full, person_near


def build(g: Gen, sizes: Sizes, notes: dict[str, Any]) -> tuple[list[dict], list[dict], dict[int, str]]:
    """(Ajera employees, CRM employees, partner employee code by EmployeeKey)."""
    rng = g.rng
    ne = sizes.employees
    emp_counts = allocate(ne, ne, 0.70, 0.05, 0.05, 0, 1 if ne >= 10 else 0)
    emp_slots = make_slots(emp_counts, lambda kind: g.person(person_feature(rng, kind)), lambda p: person_case(g, p),
                       lambda p: person_near(g, p))
    e_keys = shuffled_keys(rng, sum(len(s.a_names) for s in emp_slots))
    e_codes = shuffled_keys(rng, sum(len(s.c_names) for s in emp_slots))
    employees: list[dict[str, Any]] = []
    crm_employees: list[dict[str, Any]] = []
    for s in emp_slots:
        title = rng.choice(EMPLOYEE_TITLES)
        status_idx = 0 if rng.random() < 0.88 else (1 if rng.random() < 0.5 else 2)
        for first, middle, last in s.a_names:
            hired = date(2008, 1, 1) + timedelta(days=rng.randrange(16 * 365))
            # Ajera's documented statuses are Active and Inactive; a terminated employee is Inactive with a
            # termination date (docs/simulator-contract.md).
            terminated = hired + timedelta(days=rng.randint(200, 1500)) if status_idx == 2 else None
            rec = {
                "EmployeeKey": e_keys.pop(), "FirstName": first, "MiddleName": middle, "LastName": last,
                "Title": title, "Email": email_for(first, last, "northbeam-ae.com"),
                "Status": "Active" if status_idx == 0 else "Inactive", "CompanyKey": 1,
                "DepartmentKey": rng.randint(1, 4), "IsPrincipal": "Principal" in title,
                "IsProjectManager": "Project Manager" in title, "DateHired": hired.isoformat(),
                "DateTerminated": terminated.isoformat() if terminated else None,
                **phone_block(g.phone(rng.choice(CITIES)[3]) if rng.random() < 0.7 else ""),
                "LastModifiedDate": g.ajera_mod(),
            }
            s.a_recs.append(rec)
            employees.append(rec)
        for first, middle, last in s.c_names:
            created, modified = g.crm_dates()
            rec = {
                "Employee": f"{e_codes.pop():05d}", "EmployeeCompany": "01", "FirstName": first,
                "MiddleName": middle, "LastName": last, "Title": title,
                "EMail": email_for(first, last, "northbeam-ae.com"), "Status": "AIT"[status_idx],
                "CreateDate": created, "CreateUser": "ADMIN", "ModDate": modified, "ModUser": "ADMIN",
            }
            s.c_recs.append(rec)
            crm_employees.append(rec)
    notes["employees"] = slot_notes(emp_slots, "EmployeeKey", "Employee", person_full, person_full)
    return employees, crm_employees, partners(emp_slots, "EmployeeKey", "Employee")
