"""The Ajera side of the generated projects: each project as the v2 bundle stores it, its invoice groups (with
their client) and phases, and the resources (employees and consultants) that the CRM's grids and the
timesheets follow. Everything is drawn from the generator's one stream, in a fixed order."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from simulators.datagen.base import Gen
from simulators.datagen.pools import (
    BILLING_TYPES,
    FACILITY_TYPE,
    INVOICE_FORMATS,
    PHASE_KEY_BASE,
    PROJECT_TYPES,
    RATE_TABLES,
    RESOURCE_ROLES,
    STANDARD_PHASES,
)
from simulators.datagen.slots import Slot


def project_type_index(name: str) -> int:
    for word, idx in FACILITY_TYPE.items():
        if word in name:
            return idx
    return 3


def emp_ref(e: dict | None) -> dict | None:
    if e is None:
        return None
    return {k: e[k] for k in ("EmployeeKey", "FirstName", "MiddleName", "LastName")}


@dataclass
class AjeraProjects:
    """Ajera projects and their children, added one project at a time (``add``) in key order."""

    g: Gen
    client_keys: list[int]  # every Ajera client
    paired_clients: list[int]  # clients with a CRM partner
    employees: list[dict]
    consultant_keys: list[int]
    vendor_discipline: dict[int, str]
    templates: list[dict]
    projects: list[dict] = field(default_factory=list)
    igs: list[dict] = field(default_factory=list)
    phases: list[dict] = field(default_factory=list)
    resources: list[dict] = field(default_factory=list)
    team_rows: list[dict] = field(default_factory=list)  # who worked on what, for the CRM's grids and timesheets
    per_year: dict[int, int] = field(default_factory=dict)
    ig_key: int = 0
    res_key: int = 0
    phase_key: int = PHASE_KEY_BASE

    def __post_init__(self) -> None:
        employees = self.employees
        leaders = [e for e in employees if e["Status"] == "Active"
                   and any(t in e["Title"] for t in ("Principal", "Project Manager", "Project Architect"))]
        self.leaders = leaders or list(employees)
        self.staff = [e for e in employees if e["Status"] != "Terminated"] or list(employees)
        self.principals = [e for e in self.leaders if "Principal" in e["Title"]] or self.leaders

    def add(self, pkey: int, start: date, s: Slot, name: str) -> None:
        rec, client_key, pm, pic = self._project(pkey, start, s, name)
        leaf_phases = self._groups_and_phases(pkey, rec, client_key)
        if rec["Status"] in ("Marketing", "Preliminary"):
            return
        self._team(pkey, start, pm, pic, leaf_phases)
        self._consultants(pkey, start, leaf_phases)

    def _project(self, pkey: int, start: date, s: Slot, name: str) -> tuple[dict, int | None, Any, Any]:
        """The project row; returns it with its client key, manager and principal."""
        g, rng = self.g, self.g.rng
        year = start.year
        self.per_year[year] = self.per_year.get(year, 0) + 1
        pid = f"{year}-{self.per_year[year]:03d}.00"
        s.profile.setdefault("ids", []).append(pid)
        if s.c_names and self.paired_clients:
            client_key: int | None = rng.choice(self.paired_clients)
        else:
            client_key = rng.choice(self.client_keys) if self.client_keys else None
        s.profile.setdefault("client", client_key)
        status = rng.choices(["Active", "Closed", "Preliminary", "Hold", "WorkHold", "BillingHold", "Marketing"],
                             [60, 12, 8, 5, 3, 3, 9])[0]
        end = start + timedelta(days=rng.randint(90, 1100))
        fee = float(rng.randrange(15, 2500) * 1000)
        labor = round(fee * rng.uniform(0.55, 0.7), 2)
        consultant = round(fee * rng.uniform(0.1, 0.3), 2)
        pm = rng.choice(self.leaders) if self.leaders else None
        pic = rng.choice(self.principals) if self.principals else None
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
        for name_, value in (("status", status), ("pm", pm), ("pic", pic), ("fee", fee), ("end", estimated_end)):
            s.profile.setdefault(name_, value)
        s.a_recs.append(rec)
        self.projects.append(rec)
        return rec, client_key, pm, pic

    def _groups_and_phases(self, pkey: int, rec: dict, client_key: int | None) -> list[dict]:
        """The project's invoice groups and phases; returns the leaf phases (where resources go)."""
        rng = self.g.rng
        status, billing, rate_key = rec["Status"], rec["BillingType"], rec["RateTableKey"]
        if self.templates and rng.random() < 0.6:
            phase_names = [p["Description"] for p in rng.choice(self.templates)["InvoiceGroups"][0]["Phases"]]
        else:
            lo = rng.randrange(3)
            phase_names = STANDARD_PHASES[lo: rng.randint(lo + 1, len(STANDARD_PHASES))]
        n_groups = rng.choices([1, 2, 3], [75, 20, 5])[0]
        group_names = ["Basic Services", "Additional Services", "Reimbursable Expenses"][:n_groups]
        leaf_phases: list[dict] = []
        seq = 0
        for gi, gname in enumerate(group_names):
            self.ig_key += 1
            bill_to = client_key
            if gi and self.client_keys and rng.random() < 0.3:
                bill_to = rng.choice(self.client_keys)
            fmt_key, fmt_name = INVOICE_FORMATS[0 if gi == 0 else rng.randrange(len(INVOICE_FORMATS))]
            self.igs.append({"InvoiceGroupKey": self.ig_key, "ProjectKey": pkey, "ClientKey": bill_to,
                             "Description": gname, "InvoiceFormatKey": fmt_key, "InvoiceFormatDescription": fmt_name})
            for pname in (phase_names if gi == 0 else [gname]):
                seq += 1
                self.phase_key += 1
                phase = {"PhaseKey": self.phase_key, "ProjectKey": pkey, "InvoiceGroupKey": self.ig_key,
                         "ParentKey": pkey, "ID": f"{seq:02d}", "Description": pname, "Status": status,
                         "BillingType": billing, "RateTableKey": rate_key}
                self.phases.append(phase)
                if pname == "Construction Administration" and rng.random() < 0.3:
                    for k, sub in enumerate(["Submittals & RFIs", "Site Observation", "Closeout"], start=1):
                        self.phase_key += 1
                        child = {"PhaseKey": self.phase_key, "ProjectKey": pkey, "InvoiceGroupKey": self.ig_key,
                                 "ParentKey": phase["PhaseKey"], "ID": f"{seq:02d}.{k:02d}", "Description": sub,
                                 "Status": status, "BillingType": billing, "RateTableKey": rate_key}
                        self.phases.append(child)
                        leaf_phases.append(child)
                else:
                    leaf_phases.append(phase)
        return leaf_phases

    def _team(self, pkey: int, start: date, pm: Any, pic: Any, leaf_phases: list[dict]) -> None:
        """Employee resources: the manager, the principal and a few of the staff."""
        rng = self.g.rng
        team: list[tuple[dict, str]] = []
        if pm:
            team.append((pm, "Project Manager"))
        if pic and pic is not pm:
            team.append((pic, "Principal in Charge"))
        for e in rng.sample(self.staff, min(len(self.staff), rng.randint(0, 4))):
            if all(e is not t[0] for t in team):
                team.append((e, rng.choice(RESOURCE_ROLES)))
        for e, role in team:
            self.res_key += 1
            hours = round(rng.uniform(4, 1200), 1)
            first_entry = start + timedelta(days=rng.randint(0, 120))
            phase_of = rng.choice(leaf_phases)["PhaseKey"]
            self.resources.append({"ResourceKey": self.res_key, "PhaseKey": phase_of, "Description": role,
                                   "ActivityType": "Labor", "EmployeeKey": e["EmployeeKey"], "Units": hours,
                                   "CostRate": 85.0, "CostAmount": round(hours * 85.0, 2),
                                   "ActualStartDate": first_entry.isoformat()})
            self.team_rows.append({"ProjectKey": pkey, "PhaseKey": phase_of, "Type": "Employee",
                                   "EmployeeKey": e["EmployeeKey"], "Role": role, "Hours": hours,
                                   "FirstEntryDate": first_entry.isoformat()})

    def _consultants(self, pkey: int, start: date, leaf_phases: list[dict]) -> None:
        """Consultant resources, on a share of the projects."""
        rng = self.g.rng
        if not (self.consultant_keys and rng.random() < 0.45):
            return
        for vk in rng.sample(self.consultant_keys, min(len(self.consultant_keys), rng.randint(1, 3))):
            self.res_key += 1
            first_entry = start + timedelta(days=rng.randint(0, 200))
            role = f"{self.vendor_discipline.get(vk, 'Consultant')} Consultant"
            amount = float(rng.randrange(5, 200) * 1000)
            phase_of = rng.choice(leaf_phases)["PhaseKey"]
            self.resources.append({"ResourceKey": self.res_key, "PhaseKey": phase_of, "Description": role,
                                   "ActivityType": "Consultant", "VendorKey": vk, "CostAmount": amount,
                                   "FeeAmount": round(amount * 1.1, 2),
                                   "ActualStartDate": first_entry.isoformat() if rng.random() < 0.7 else None})
            self.team_rows.append({"ProjectKey": pkey, "PhaseKey": phase_of, "Type": "Vendor", "VendorKey": vk,
                                   "Role": role, "Hours": 0.0, "FirstEntryDate": self.resources[-1]["ActualStartDate"]})

    def plant_closed_flagged(self, slots: list[Slot]) -> None:
        """Planted: an Ajera-only closed project flagged for the CRM (closed projects sync only when asked)."""
        closed_flagged = [p for p in self.projects if p["Status"] == "Closed" and p["SyncToCRM"]]
        only = [s.a_recs[0] for s in slots if s.a_recs and not s.c_names]
        if only and not any(any(p is r for r in only) for p in closed_flagged):
            pick = only[-1]
            pick.update({"Status": "Closed", "SyncToCRM": True, "CreateInCRM": False,
                         "ActualCompletionDate": pick["EstimatedCompletionDate"] or pick["EstimatedStartDate"]})
