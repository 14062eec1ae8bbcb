"""The CRM side of the generated projects: each project (paired with its Ajera project or CRM-only) with its
WBS1, client, stage and people, and the firm and employee grids that follow the Ajera resources."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from simulators.datagen.base import CRM_NAME_MAX, Gen
from simulators.datagen.pools import CRM_STAGES, PROJECT_TYPES
from simulators.datagen.project_ajera import project_type_index
from simulators.datagen.slots import Slot
from simulators.vantagepoint.schema import AJERA_PROJECT_FIELDS


@dataclass
class CrmProjects:
    """CRM projects and their grid rows, added one project at a time (``add``) in start-date order."""

    g: Gen
    client_partner: dict[int, str]
    crm_client_firms: list[str]
    employee_partner: dict[int, str]
    crm_codes: list[str]
    vendor_partner: dict[int, str]
    crm_contacts: list[dict]
    templates: list[dict]
    team_rows: list[dict]  # the Ajera projects' resources
    per_year: dict[int, int]  # the Ajera project numbers used per year: CRM-only numbers continue after them
    projects: list[dict] = field(default_factory=list)
    grid_firms: list[dict] = field(default_factory=list)
    grid_emps: list[dict] = field(default_factory=list)
    used_wbs: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.crm_seq = dict(self.per_year)
        self.template_keys = [str(t["ProjectTemplateKey"]) for t in self.templates]
        self.contacts_by_firm: dict[str, list[str]] = {}
        for c in self.crm_contacts:
            if c["ClientID"]:
                self.contacts_by_firm.setdefault(c["ClientID"], []).append(c["ContactID"])
        self.res_by_project: dict[int, list[dict]] = {}
        for r in self.team_rows:
            self.res_by_project.setdefault(r["ProjectKey"], []).append(r)

    def _wbs(self, start: date, s: Slot) -> str:
        """The paired Ajera project's number without its dash when free (70%), else the year's next one."""
        wbs = None
        if s.a_recs and s.profile["same_number"]:
            candidate = s.profile["ids"][0].replace("-", "")
            if candidate not in self.used_wbs:
                wbs = candidate
        while wbs is None or wbs in self.used_wbs:
            self.crm_seq[start.year] = self.crm_seq.get(start.year, 0) + 1
            wbs = f"{start.year}{self.crm_seq[start.year]:03d}.00"
        self.used_wbs.add(wbs)
        return wbs

    def add(self, start: date, s: Slot, name: str) -> None:
        rng = self.g.rng
        paired = bool(s.a_recs)
        wbs = self._wbs(start, s)
        a_rec = s.a_recs[0] if paired else None
        if a_rec and s.profile.get("client") in self.client_partner:
            client_id = self.client_partner[s.profile["client"]]
        else:
            client_id = rng.choice(self.crm_client_firms) if self.crm_client_firms else ""
        firm_contacts = self.contacts_by_firm.get(client_id, [])
        stage, pm_code, pic_code, fee, end, crm_status, sync = self._terms(a_rec)
        template = ""
        if self.template_keys and ((not paired and sync and rng.random() < 0.7) or rng.random() < 0.05):
            template = rng.choice(self.template_keys)
        created, modified = self.g.crm_dates()
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
        self.projects.append(rec)
        self._grids(wbs, s, a_rec, client_id)

    def _terms(self, a_rec: dict | None) -> tuple[str, str, str, float, Any, str, bool]:
        """(stage, manager, principal, fee, end date, status, AjeraSync) from the Ajera project, or drawn."""
        rng = self.g.rng
        codes = self.crm_codes
        if a_rec:
            status = a_rec["Status"]
            stage = "Won" if status not in ("Marketing", "Preliminary") else rng.choice(["Proposal", "Shortlisted"])
            pm_code = self.employee_partner.get((a_rec["ProjectManager"] or {}).get("EmployeeKey"), "")
            pic_code = self.employee_partner.get((a_rec["PrincipalInCharge"] or {}).get("EmployeeKey"), "")
            return (stage, pm_code, pic_code, a_rec["TotalContractAmount"], a_rec["EstimatedCompletionDate"],
                    "I" if status == "Closed" else "A", rng.random() < 0.6)
        stage = rng.choice([st for st, _ in CRM_STAGES])
        pm_code = rng.choice(codes) if codes and rng.random() < 0.8 else ""
        pic_code = rng.choice(codes) if codes and rng.random() < 0.6 else ""
        fee = float(rng.randrange(15, 2500) * 1000)
        crm_status = "D" if stage in ("Lost", "Do Not Pursue") else "A"
        sync = stage not in ("Lost", "Do Not Pursue") and rng.random() < 0.3
        return stage, pm_code, pic_code, fee, None, crm_status, sync

    def _grids(self, wbs: str, s: Slot, a_rec: dict | None, client_id: str) -> None:
        """Sub-grids: the owner and (some) consultants, team members, for a share of the projects."""
        rng = self.g.rng
        if client_id and rng.random() < 0.5:
            self.grid_firms.append({"WBS1": wbs, "ClientID": client_id, "ClientInd": "Y", "VendorInd": "N",
                                    "Role": "sysOwner", "RoleDescription": "Owner", "PrimaryInd": "Y",
                                    "TeamStatus": "Active", "IsSubconsultant": "N"})
        if not a_rec or s.kind == "dup_a":
            return
        for r in self.res_by_project.get(a_rec["ProjectKey"], []):
            if r["Type"] == "Vendor" and r["VendorKey"] in self.vendor_partner and rng.random() < 0.5:
                self.grid_firms.append({"WBS1": wbs, "ClientID": self.vendor_partner[r["VendorKey"]],
                                        "ClientInd": "N", "VendorInd": "Y", "Role": r["Role"], "PrimaryInd": "N",
                                        "TeamStatus": "Active", "IsSubconsultant": "Y"})
            elif (r["Type"] == "Employee" and r["EmployeeKey"] in self.employee_partner and rng.random() < 0.4):
                self.grid_emps.append({"WBS1": wbs, "Employee": self.employee_partner[r["EmployeeKey"]],
                                       "Role": r["Role"], "CRMHours": round(r["Hours"] * rng.uniform(0.3, 1), 1),
                                       "StartDate": r["FirstEntryDate"]})
