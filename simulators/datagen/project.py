"""project: Ajera projects as the v2 bundle stores them (projects, invoice groups with their client, phases,
resources with their v1 keys), templates, weekly timesheets, and CRM projects with their grids. The names'
overlap, the order and the timesheets are here; each side's records in ``project_ajera`` and ``project_crm``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from simulators.datagen.base import CRM_NAME_MAX, Gen, Sizes
from simulators.datagen.pools import (
    INVOICE_FORMATS,
    PHASE_KEY_BASE,
    RATE_TABLES,
    TEMPLATE_DEFS,
)
from simulators.datagen.project_ajera import AjeraProjects
from simulators.datagen.project_crm import CrmProjects
from simulators.datagen.slots import Slot, allocate, dedupe_rows, make_slots, slot_notes
from simulators.datagen.variants import near_pair


def templates(sizes: Sizes) -> list[dict]:
    """Project templates in the version 1 project shape (invoice groups holding their phase trees)."""
    templates = []
    for i in range(sizes.templates):
        desc, billing, phases = TEMPLATE_DEFS[i % len(TEMPLATE_DEFS)]
        if i >= len(TEMPLATE_DEFS):
            desc = f"{desc} ({i // len(TEMPLATE_DEFS) + 1})"
        rate_key, rate_name = RATE_TABLES[i % len(RATE_TABLES)]
        templates.append({  # the v1 project shape, keyed by ProjectTemplateKey
            "ProjectTemplateKey": i + 1, "ID": f"T{i + 1:02d}", "Description": desc, "BillingType": billing,
            "Status": "Active", "RateTableKey": rate_key, "RateTableDescription": rate_name, "CompanyKey": 1,
            "InvoiceGroups": [{
                "InvoiceGroupKey": i + 1, "Description": "Basic Services", "Client": None,
                "InvoiceFormatKey": INVOICE_FORMATS[0][0], "InvoiceFormatDescription": INVOICE_FORMATS[0][1],
                "Phases": [{"PhaseKey": PHASE_KEY_BASE // 2 + 10 * i + j, "ID": f"{j + 1:02d}", "Description": p,
                            "BillingType": billing, "Phases": []} for j, p in enumerate(phases)],
            }],
        })
    return templates


def build(g: Gen, sizes: Sizes, notes: dict[str, Any], clients_by_key: dict[int, dict], client_partner: dict[int, str],
          crm_client_firms: list[str], employees: list[dict], employee_partner: dict[int, str],
          crm_employees: list[dict], consultant_keys: list[int], vendor_discipline: dict[int, str],
          vendor_partner: dict[int, str], crm_contacts: list[dict], templates: list[dict]) -> tuple[list[dict], ...]:
    """(Ajera projects, CRM projects, invoice groups, phases, resources, CRM firm grid rows, CRM employee grid rows,
    timesheets)."""
    np_ = sizes.projects
    pdups = max(1, round(np_ * 0.015)) if np_ >= 10 else 0
    proj_counts = allocate(np_, np_, 0.40, 0.05, 0.08, (pdups + 1) // 2, pdups // 2)
    first_exact = [True]

    def new_project(kind: str) -> str:
        if kind == "exact" and first_exact[0]:
            first_exact[0] = False
            return g.project_name(long=True)
        return g.project_name(near_miss=kind == "near_miss")

    proj_slots = make_slots(proj_counts, new_project, g.case_variant,
                        lambda base: near_pair(g, base, ["amp_and", "punct", "dash", "dash"]))
    a_projects, c_projects, igs, phases, resources, grid_firms, grid_emps, timesheets = _build_projects(
        g, proj_slots, clients_by_key, client_partner, crm_client_firms, employees, employee_partner,
        crm_employees, consultant_keys, vendor_discipline, vendor_partner, crm_contacts, templates,
    )
    notes["projects"] = slot_notes(proj_slots, "ProjectKey", "WBS1", lambda r: r["Description"],
                                   lambda r: r["LongName"])
    notes["projects"]["long_names"] = [
        {"ajera": s.a_recs[0]["ProjectKey"], "crm": s.c_recs[0]["WBS1"], "description": s.a_recs[0]["Description"],
         "crm_name": s.c_recs[0]["Name"], "crm_long_name": s.c_recs[0]["LongName"], "kind": s.kind}
        for s in proj_slots
        if s.kind in ("exact", "case_only", "near_miss") and len(s.a_recs[0]["Description"]) > CRM_NAME_MAX
        and len(s.c_recs[0]["LongName"]) > CRM_NAME_MAX
    ]
    return a_projects, c_projects, igs, phases, resources, grid_firms, grid_emps, timesheets


def _build_projects(g: Gen, slots: list[Slot], clients_by_key: dict[int, dict], client_partner: dict[int, str],
                    crm_client_firms: list[str], employees: list[dict], employee_partner: dict[int, str],
                    crm_employees: list[dict], consultant_keys: list[int], vendor_discipline: dict[int, str],
                    vendor_partner: dict[int, str], crm_contacts: list[dict],
                    templates: list[dict]) -> tuple[list[dict], ...]:
    rng = g.rng
    # Ajera side first: specs sorted by start date get keys and IDs in that order.
    a_specs: list[tuple[date, int, Slot, str]] = []
    c_specs: list[tuple[date, int, Slot, str]] = []
    for s in slots:
        start = date(2019, 1, 1) + timedelta(days=rng.randrange(7 * 365))
        s.profile["start"] = start
        s.profile["same_number"] = rng.random() < 0.7
        for name in s.a_names:
            a_specs.append((start, len(a_specs), s, name))
        for name in s.c_names:
            c_specs.append((start, len(c_specs), s, name))
    a_specs.sort(key=lambda t: (t[0], t[1]))
    ajera = AjeraProjects(g, sorted(clients_by_key), sorted(client_partner), employees, consultant_keys,
                          vendor_discipline, templates)
    for pkey, (start, _, s, name) in enumerate(a_specs, start=1):
        ajera.add(pkey, start, s, name)
    ajera.plant_closed_flagged(slots)

    c_specs.sort(key=lambda t: (t[0], t[1]))
    crm = CrmProjects(g, client_partner, crm_client_firms, employee_partner, [e["Employee"] for e in crm_employees],
                      vendor_partner, crm_contacts, templates, ajera.team_rows, ajera.per_year)
    for start, _, s, name in c_specs:
        crm.add(start, s, name)
    c_projects = sorted(crm.projects, key=lambda r: r["WBS1"])
    grid_firms = dedupe_rows(crm.grid_firms, "ClientID")
    grid_emps = dedupe_rows(crm.grid_emps, "Employee")
    return (ajera.projects, c_projects, ajera.igs, ajera.phases, ajera.resources, grid_firms, grid_emps,
            weekly_timesheets(g, ajera.team_rows))


def weekly_timesheets(g: Gen, team_rows: list[dict]) -> list[dict]:
    """Weekly timesheets (week starting Monday) for the employee rows: a few weeks of entries from each
    row's first entry date, merged per employee and week, as v2 GetTimesheets returns them."""
    rng = g.rng
    sheets: dict[tuple[int, str], dict] = {}
    for row in team_rows:
        if row["Type"] != "Employee":
            continue
        first = date.fromisoformat(row["FirstEntryDate"])
        monday = first - timedelta(days=first.weekday())
        for week in range(rng.randint(1, 4)):
            start = monday + timedelta(weeks=week * rng.randint(1, 3))
            key = (row["EmployeeKey"], start.isoformat())
            sheet = sheets.setdefault(key, {"EmployeeKey": row["EmployeeKey"], "TimesheetDate": start.isoformat(),
                                            "Submitted": rng.random() < 0.9, "Project": {"Detail": []}})
            detail: dict[str, Any] = {"Project Key": row["ProjectKey"], "Phase Key": row["PhaseKey"],
                                      "Activity Key": 1}
            first_day = first.weekday() + 1 if week == 0 else 1
            for day in range(1, 8):
                worked = day >= first_day and day <= 5 and rng.random() < 0.7
                detail[f"D{day} Regular"] = float(rng.choice([2, 4, 6, 8])) if worked or day == first_day else 0.0
                detail[f"D{day} Overtime"] = 1.0 if worked and rng.random() < 0.05 else 0.0
            sheet["Project"]["Detail"].append(detail)
    out = []
    for key, (_, sheet) in enumerate(sorted(sheets.items(), key=lambda item: (item[0][1], item[0][0])), start=1):
        out.append({"TimesheetKey": key, **sheet})
    return out
