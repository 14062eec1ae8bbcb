"""project: Ajera projects as the v2 bundle stores them (projects, invoice groups with their client, phases,
resources with their v1 keys), templates, weekly timesheets, and CRM projects with their grids."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from simulators.datagen.base import CRM_NAME_MAX, Gen, Sizes
from simulators.datagen.pools import (
    BILLING_TYPES,
    CRM_STAGES,
    FACILITY_TYPE,
    INVOICE_FORMATS,
    PHASE_KEY_BASE,
    PROJECT_TYPES,
    RATE_TABLES,
    RESOURCE_ROLES,
    STANDARD_PHASES,
    TEMPLATE_DEFS,
)
from simulators.datagen.slots import Slot, allocate, dedupe_rows, make_slots, slot_notes
from simulators.datagen.variants import near_pair
from simulators.vantagepoint.schema import AJERA_PROJECT_FIELDS


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


def project_type_index(name: str) -> int:
    for word, idx in FACILITY_TYPE.items():
        if word in name:
            return idx
    return 3


def _build_projects(g: Gen, slots: list[Slot], clients_by_key: dict[int, dict], client_partner: dict[int, str],
                    crm_client_firms: list[str], employees: list[dict], employee_partner: dict[int, str],
                    crm_employees: list[dict], consultant_keys: list[int], vendor_discipline: dict[int, str],
                    vendor_partner: dict[int, str], crm_contacts: list[dict], templates: list[dict]):
    rng = g.rng
    a_client_keys = sorted(clients_by_key)
    paired_clients = sorted(client_partner)
    leaders = [e for e in employees if e["Status"] == "Active"
               and any(t in e["Title"] for t in ("Principal", "Project Manager", "Project Architect"))]
    if not leaders:
        leaders = list(employees)
    staff = [e for e in employees if e["Status"] != "Terminated"] or list(employees)
    principals = [e for e in leaders if "Principal" in e["Title"]] or leaders
    crm_codes = [e["Employee"] for e in crm_employees]
    contacts_by_firm: dict[str, list[str]] = {}
    for c in crm_contacts:
        if c["ClientID"]:
            contacts_by_firm.setdefault(c["ClientID"], []).append(c["ContactID"])

    def emp_ref(e: dict | None) -> dict | None:
        if e is None:
            return None
        return {k: e[k] for k in ("EmployeeKey", "FirstName", "MiddleName", "LastName")}

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

    a_projects: list[dict] = []
    igs: list[dict] = []
    phases: list[dict] = []
    resources: list[dict] = []
    per_year: dict[int, int] = {}
    ig_key = res_key = 0
    phase_key = PHASE_KEY_BASE
    team_rows: list[dict] = []  # who worked on what, for the CRM's grids and the timesheets
    for pkey, (start, _, s, name) in enumerate(a_specs, start=1):
        year = start.year
        per_year[year] = per_year.get(year, 0) + 1
        pid = f"{year}-{per_year[year]:03d}.00"
        s.profile.setdefault("ids", []).append(pid)
        if s.c_names and paired_clients:
            client_key: int | None = rng.choice(paired_clients)
        else:
            client_key = rng.choice(a_client_keys) if a_client_keys else None
        s.profile.setdefault("client", client_key)
        status = rng.choices(["Active", "Closed", "Preliminary", "Hold", "WorkHold", "BillingHold", "Marketing"],
                             [60, 12, 8, 5, 3, 3, 9])[0]
        end = start + timedelta(days=rng.randint(90, 1100))
        fee = float(rng.randrange(15, 2500) * 1000)
        labor = round(fee * rng.uniform(0.55, 0.7), 2)
        consultant = round(fee * rng.uniform(0.1, 0.3), 2)
        pm = rng.choice(leaders) if leaders else None
        pic = rng.choice(principals) if principals else None
        only_ajera = not s.c_names
        sync = rng.random() < (0.6 if not only_ajera else 0.3)
        create = only_ajera and status not in ("Closed",) and rng.random() < 0.25
        city, state, _, _ = g.city()
        started = status not in ("Marketing", "Preliminary")
        estimated_end = end.isoformat() if status == "Closed" or rng.random() < 0.6 else None
        rate_key, rate_name = RATE_TABLES[rng.randrange(len(RATE_TABLES))]
        type_idx = project_type_index(name)
        billing = rng.choice(BILLING_TYPES)
        rec = {
            "ProjectKey": pkey, "ID": pid, "Description": name, "Status": status,
            "SyncToCRM": sync or create, "CreateInCRM": create,
            "CRMFinalSync": status == "Closed" and rng.random() < 0.5, "CompanyKey": 1,
            "ProjectTypeKey": type_idx + 1, "ProjectTypeDescription": PROJECT_TYPES[type_idx],
            "ProjectManager": emp_ref(pm), "PrincipalInCharge": emp_ref(pic), "Location": f"{city}, {state}",
            "EstimatedStartDate": start.isoformat(), "EstimatedCompletionDate": estimated_end,
            "ActualStartDate": (start + timedelta(days=rng.randint(0, 30))).isoformat() if started else None,
            "ActualCompletionDate": end.isoformat() if status == "Closed" else None,
            "BillingType": billing, "RateTableKey": rate_key, "RateTableDescription": rate_name,
            "TotalContractAmount": fee, "LaborContractAmount": labor, "ConsultantContractAmount": consultant,
            "LaborCostBudget": round(labor * 0.4, 2), "ExpenseCostBudget": round(fee * 0.03, 2),
            "ConsultantCostBudget": round(consultant * 0.9, 2), "HoursCostBudget": round(labor / 150, 1),
            "LastModifiedDate": g.ajera_mod(),
        }
        s.profile.setdefault("status", status)
        s.profile.setdefault("pm", pm)
        s.profile.setdefault("pic", pic)
        s.profile.setdefault("fee", fee)
        s.profile.setdefault("end", estimated_end)
        s.a_recs.append(rec)
        a_projects.append(rec)

        # invoice groups, phases, resources
        if templates and rng.random() < 0.6:
            phase_names = [p["Description"] for p in rng.choice(templates)["InvoiceGroups"][0]["Phases"]]
        else:
            lo = rng.randrange(3)
            phase_names = STANDARD_PHASES[lo: rng.randint(lo + 1, len(STANDARD_PHASES))]
        n_groups = rng.choices([1, 2, 3], [75, 20, 5])[0]
        group_names = ["Basic Services", "Additional Services", "Reimbursable Expenses"][:n_groups]
        leaf_phases: list[dict] = []
        seq = 0
        for gi, gname in enumerate(group_names):
            ig_key += 1
            bill_to = client_key
            if gi and a_client_keys and rng.random() < 0.3:
                bill_to = rng.choice(a_client_keys)
            fmt_key, fmt_name = INVOICE_FORMATS[0 if gi == 0 else rng.randrange(len(INVOICE_FORMATS))]
            igs.append({"InvoiceGroupKey": ig_key, "ProjectKey": pkey, "ClientKey": bill_to, "Description": gname,
                        "InvoiceFormatKey": fmt_key, "InvoiceFormatDescription": fmt_name})
            for pname in (phase_names if gi == 0 else [gname]):
                seq += 1
                phase_key += 1
                phase = {"PhaseKey": phase_key, "ProjectKey": pkey, "InvoiceGroupKey": ig_key, "ParentKey": pkey,
                         "ID": f"{seq:02d}", "Description": pname, "Status": status, "BillingType": billing,
                         "RateTableKey": rate_key}
                phases.append(phase)
                if pname == "Construction Administration" and rng.random() < 0.3:
                    for k, sub in enumerate(["Submittals & RFIs", "Site Observation", "Closeout"], start=1):
                        phase_key += 1
                        child = {"PhaseKey": phase_key, "ProjectKey": pkey, "InvoiceGroupKey": ig_key,
                                 "ParentKey": phase["PhaseKey"], "ID": f"{seq:02d}.{k:02d}", "Description": sub,
                                 "Status": status, "BillingType": billing, "RateTableKey": rate_key}
                        phases.append(child)
                        leaf_phases.append(child)
                else:
                    leaf_phases.append(phase)
        if status in ("Marketing", "Preliminary"):
            continue
        team: list[tuple[dict, str]] = []
        if pm:
            team.append((pm, "Project Manager"))
        if pic and pic is not pm:
            team.append((pic, "Principal in Charge"))
        for e in rng.sample(staff, min(len(staff), rng.randint(0, 4))):
            if all(e is not t[0] for t in team):
                team.append((e, rng.choice(RESOURCE_ROLES)))
        for e, role in team:
            res_key += 1
            hours = round(rng.uniform(4, 1200), 1)
            first_entry = start + timedelta(days=rng.randint(0, 120))
            phase_of = rng.choice(leaf_phases)["PhaseKey"]
            resources.append({"ResourceKey": res_key, "PhaseKey": phase_of, "Description": role,
                              "ActivityType": "Labor", "EmployeeKey": e["EmployeeKey"], "Units": hours,
                              "CostRate": 85.0, "CostAmount": round(hours * 85.0, 2),
                              "ActualStartDate": first_entry.isoformat()})
            team_rows.append({"ProjectKey": pkey, "PhaseKey": phase_of, "Type": "Employee",
                              "EmployeeKey": e["EmployeeKey"], "Role": role, "Hours": hours,
                              "FirstEntryDate": first_entry.isoformat()})
        if consultant_keys and rng.random() < 0.45:
            for vk in rng.sample(consultant_keys, min(len(consultant_keys), rng.randint(1, 3))):
                res_key += 1
                first_entry = start + timedelta(days=rng.randint(0, 200))
                role = f"{vendor_discipline.get(vk, 'Consultant')} Consultant"
                amount = float(rng.randrange(5, 200) * 1000)
                phase_of = rng.choice(leaf_phases)["PhaseKey"]
                resources.append({"ResourceKey": res_key, "PhaseKey": phase_of, "Description": role,
                                  "ActivityType": "Consultant", "VendorKey": vk, "CostAmount": amount,
                                  "FeeAmount": round(amount * 1.1, 2),
                                  "ActualStartDate": first_entry.isoformat() if rng.random() < 0.7 else None})
                team_rows.append({"ProjectKey": pkey, "PhaseKey": phase_of, "Type": "Vendor", "VendorKey": vk,
                                  "Role": role, "Hours": 0.0,
                                  "FirstEntryDate": resources[-1]["ActualStartDate"]})

    # Planted: an Ajera-only closed project flagged for the CRM (closed projects sync only when asked).
    closed_flagged = [p for p in a_projects if p["Status"] == "Closed" and p["SyncToCRM"]]
    only = [s.a_recs[0] for s in slots if s.a_recs and not s.c_names]
    if only and not any(any(p is r for r in only) for p in closed_flagged):
        pick = only[-1]
        pick.update({"Status": "Closed", "SyncToCRM": True, "CreateInCRM": False,
                     "ActualCompletionDate": pick["EstimatedCompletionDate"] or pick["EstimatedStartDate"]})

    # CRM side
    res_by_project: dict[int, list[dict]] = {}
    for r in team_rows:
        res_by_project.setdefault(r["ProjectKey"], []).append(r)
    c_specs.sort(key=lambda t: (t[0], t[1]))
    used_wbs: set[str] = set()
    crm_seq = dict(per_year)
    c_projects: list[dict] = []
    grid_firms: list[dict] = []
    grid_emps: list[dict] = []
    template_keys = [str(t["ProjectTemplateKey"]) for t in templates]
    for start, _, s, name in c_specs:
        paired = bool(s.a_recs)
        wbs = None
        if paired and s.profile["same_number"]:
            candidate = s.profile["ids"][0].replace("-", "")
            if candidate not in used_wbs:
                wbs = candidate
        while wbs is None or wbs in used_wbs:
            crm_seq[start.year] = crm_seq.get(start.year, 0) + 1
            wbs = f"{start.year}{crm_seq[start.year]:03d}.00"
        used_wbs.add(wbs)
        a_rec = s.a_recs[0] if paired else None
        if a_rec and s.profile.get("client") in client_partner:
            client_id = client_partner[s.profile["client"]]
        else:
            client_id = rng.choice(crm_client_firms) if crm_client_firms else ""
        firm_contacts = contacts_by_firm.get(client_id, [])
        if a_rec:
            status = a_rec["Status"]
            stage = "Won" if status not in ("Marketing", "Preliminary") else rng.choice(["Proposal", "Shortlisted"])
            pm_code = employee_partner.get((a_rec["ProjectManager"] or {}).get("EmployeeKey"), "")
            pic_code = employee_partner.get((a_rec["PrincipalInCharge"] or {}).get("EmployeeKey"), "")
            fee = a_rec["TotalContractAmount"]
            end = a_rec["EstimatedCompletionDate"]
            crm_status = "I" if status == "Closed" else "A"
            sync = rng.random() < 0.6
        else:
            status = ""
            stage = rng.choice([st for st, _ in CRM_STAGES])
            pm_code = rng.choice(crm_codes) if crm_codes and rng.random() < 0.8 else ""
            pic_code = rng.choice(crm_codes) if crm_codes and rng.random() < 0.6 else ""
            fee = float(rng.randrange(15, 2500) * 1000)
            end = None
            crm_status = "D" if stage in ("Lost", "Do Not Pursue") else "A"
            sync = stage not in ("Lost", "Do Not Pursue") and rng.random() < 0.3
        template = ""
        if template_keys and ((not paired and sync and rng.random() < 0.7) or rng.random() < 0.05):
            template = rng.choice(template_keys)
        created, modified = g.crm_dates()
        rec = {
            "WBS1": wbs, "Name": name[:CRM_NAME_MAX].rstrip(), "LongName": name,
            "ChargeType": "P" if stage not in ("Won",) else "R", "Status": crm_status, "Stage": stage,
            "Probability": dict(CRM_STAGES)[stage], "ProjMgr": pm_code, "Principal": pic_code,
            "ClientID": client_id, "ContactID": rng.choice(firm_contacts) if firm_contacts and rng.random() < 0.6
            else "", "Fee": fee, "StartDate": start.isoformat(), "EndDate": end,
            "ProjectType": PROJECT_TYPES[project_type_index(name)], "AjeraSync": "Y" if sync else "N",
            "ProjectTemplate": template, **dict.fromkeys(AJERA_PROJECT_FIELDS, 0.0),
            "CreateDate": created, "CreateUser": "ADMIN", "ModDate": modified, "ModUser": "ADMIN",
        }
        s.c_recs.append(rec)
        c_projects.append(rec)
        # sub-grids: owner and (some) consultants, team members, for a share of the projects
        if client_id and rng.random() < 0.5:
            grid_firms.append({"WBS1": wbs, "ClientID": client_id, "ClientInd": "Y", "VendorInd": "N",
                               "Role": "sysOwner", "RoleDescription": "Owner", "PrimaryInd": "Y",
                               "TeamStatus": "Active", "IsSubconsultant": "N"})
        if a_rec and s.kind != "dup_a":
            for r in res_by_project.get(a_rec["ProjectKey"], []):
                if r["Type"] == "Vendor" and r["VendorKey"] in vendor_partner and rng.random() < 0.5:
                    grid_firms.append({"WBS1": wbs, "ClientID": vendor_partner[r["VendorKey"]], "ClientInd": "N",
                                       "VendorInd": "Y", "Role": r["Role"], "PrimaryInd": "N",
                                       "TeamStatus": "Active", "IsSubconsultant": "Y"})
                elif (r["Type"] == "Employee" and r["EmployeeKey"] in employee_partner and rng.random() < 0.4):
                    grid_emps.append({"WBS1": wbs, "Employee": employee_partner[r["EmployeeKey"]],
                                      "Role": r["Role"], "CRMHours": round(r["Hours"] * rng.uniform(0.3, 1), 1),
                                      "StartDate": r["FirstEntryDate"]})
    c_projects.sort(key=lambda r: r["WBS1"])
    grid_firms = dedupe_rows(grid_firms, "ClientID")
    grid_emps = dedupe_rows(grid_emps, "Employee")
    return a_projects, c_projects, igs, phases, resources, grid_firms, grid_emps, weekly_timesheets(g, team_rows)


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
