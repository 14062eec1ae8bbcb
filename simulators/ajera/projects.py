"""Projects, templates, totals and timesheets of the simulated Ajera API.

Stored rows are flat (a project, its invoice groups, phases and resources, as the v2 bundle has them); the
v1 methods nest them on read. Resources are stored with their v1 keys (``EmployeeKey``, ``VendorKey``),
which only ``GetProjectsWithResources`` shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simulators.ajera.envelope import answer, invalid
from simulators.ajera.fields import (
    Record,
    is_int,
    render_contact_refs,
    unknown_fields,
    v_contact_refs,
    with_defaults,
)
from simulators.ajera.project_records import (
    INVOICE_GROUP_FIELDS,
    PHASE_FIELDS,
    PROJECT_FIELDS,
    RESOURCE_FIELDS,
    RESOURCE_V1_ONLY,
)
from simulators.ajera.project_writes import ProjectWrites
from simulators.ajera.records import ENTITIES
from simulators.ajera.timesheets import Timesheets, hours

if TYPE_CHECKING:
    from simulators.ajera.service import AjeraService

PROJECTS = ENTITIES["Projects"]
CHILD_FIELDS = {"InvoiceGroups": INVOICE_GROUP_FIELDS, "Phases": PHASE_FIELDS, "Resources": RESOURCE_FIELDS}
CHILD_KEYS = {"InvoiceGroups": "InvoiceGroupKey", "Phases": "PhaseKey", "Resources": "ResourceKey"}
PEOPLE = ("ProjectManager", "PrincipalInCharge", "MarketingContact")
NO_TOTALS_BILLING = ("Overhead", "Nonbillable")  # "Returns nothing for overhead/non-billable projects"
# GetProjectTotals has no ledger behind it: it is a deterministic function of what the simulator holds.
LABOR_COST_PER_HOUR = 85.0
EXPENSE_SHARE_OF_BUDGET = 0.35
BILLING_MULTIPLIER = 1.25
RECEIPT_SHARE = 0.8
WIP_SHARE = 0.1


def seed_child(table: str, row: Record) -> Record:
    """A seeded child row with every listed field (unknown names refused, as on a write)."""
    if table in CHILD_FIELDS:
        fields = CHILD_FIELDS[table]
        bad = unknown_fields(fields, CHILD_KEYS[table], row)
        if bad:
            raise ValueError(f"seed {table} {row.get(CHILD_KEYS[table])}: fields the reference does not list: {bad}")
        return with_defaults(fields, row)
    if table == "ProjectTemplates":
        return with_defaults(PROJECT_FIELDS, row)
    if table == "ProjectContacts":
        return project_contacts_row(row.get("ProjectKey"), row.get("Contacts"))
    return row


def project_contacts_row(project_key: Any, refs: Any) -> Record:
    """A project's stored Contacts[]: only what a write keeps (ContactKey, Order, Text); names are read."""
    problem = v_contact_refs(refs) if refs is not None else "is required"
    if not is_int(project_key) or problem:
        raise ValueError(f"project {project_key} Contacts {problem or ''}: give ProjectKey and Contacts "
                         "[{ContactKey, Order, Text}]")
    refs = [refs] if isinstance(refs, dict) else refs
    return {"ProjectKey": project_key,
            "Contacts": [{"ContactKey": r["ContactKey"], "Order": r.get("Order", i + 1), "Text": r.get("Text", "")}
                         for i, r in enumerate(refs)]}


class ProjectStore(Timesheets, ProjectWrites):
    """A project's reads (the v2 bundle and the v1 nested shape, templates, totals); timesheets and writes are
    mixed in from their own modules."""

    def __init__(self, service: AjeraService) -> None:
        self.s = service

    @property
    def t(self) -> dict[str, Any]:
        return self.s.tables

    # --- rendering ---------------------------------------------------------------------------------

    # Lookups every project read makes, kept until the next write to their table (a scan per call grows with
    # the tenant). Read only.
    def people(self) -> dict[int, Record]:
        return self.t["Employees"].derived("by key", lambda rows: {r["EmployeeKey"]: r for r in rows})

    def client_names(self) -> dict[int, str]:
        return self.t["Clients"].derived("names", lambda rows: {r["ClientKey"]: r.get("Description", "") for r in rows})

    @staticmethod
    def _person(ref: Any, people: dict[int, Record]) -> Any:
        if not isinstance(ref, dict):
            return ref
        emp = people.get(ref.get("EmployeeKey"), {})
        return {"EmployeeKey": ref.get("EmployeeKey"), "FirstName": emp.get("FirstName", ""),
                "MiddleName": emp.get("MiddleName", ""), "LastName": emp.get("LastName", "")}

    def render_project(self, row: Record, people: dict[int, Record]) -> Record:
        out = dict(row)
        for role in PEOPLE:
            out[role] = self._person(row.get(role), people)
        if "LastModifiedDate" in out:
            out["LastModifiedDate"] = self.s.render_date(row.get("LastModifiedDate"))
        if not out.get("CustomFields"):
            out.pop("CustomFields", None)  # omitted when there are none
        return out

    def _children(self, keys: set[int]) -> dict[str, list[Record]]:
        def of(table: str, field: str, values: set[Any], order: str) -> list[Record]:
            return sorted((r for v in values for r in self.t[table].where(field, v)), key=lambda r: r[order])

        groups = of("InvoiceGroups", "ProjectKey", keys, "InvoiceGroupKey")
        phases = of("Phases", "ProjectKey", keys, "PhaseKey")
        resources = of("Resources", "PhaseKey", {p["PhaseKey"] for p in phases}, "ResourceKey")
        return {"InvoiceGroups": groups, "Phases": phases, "Resources": resources}

    def bundle(self, rows: list[Record]) -> dict[str, list[Record]]:
        """The v2 GetProjects Content for these stored project rows."""
        people = self.people()
        clients = self.client_names()
        children = self._children({r["ProjectKey"] for r in rows})
        groups = [{**g, "ClientDescription": clients.get(g.get("ClientKey"))} for g in children["InvoiceGroups"]]
        phases = [{**p, **{role: self._person(p.get(role), people) for role in PEOPLE}} for p in children["Phases"]]
        for phase in phases:
            if not phase.get("CustomFields"):
                phase.pop("CustomFields", None)
        resources = []
        for res in children["Resources"]:
            out = {k: v for k, v in res.items() if k not in RESOURCE_V1_ONLY}
            if res.get("EmployeeKey") is not None:
                emp = people.get(res["EmployeeKey"], {})
                out["Employee"] = {k: emp.get(k, "") for k in ("FirstName", "MiddleName", "LastName")}
            resources.append(out)
        return {"Projects": [self.render_project(r, people) for r in rows], "InvoiceGroups": groups,
                "Phases": phases, "Resources": resources}

    def nested(self, rows: list[Record], key_field: str = "ProjectKey", with_resources: bool = False) -> list[Record]:
        """The v1 shape: each project with its invoice groups, each group with its phase tree."""
        people = self.people()
        clients = self.client_names()
        children = self._children({r.get("ProjectKey") for r in rows if r.get("ProjectKey") is not None})
        resources_of: dict[int, list[Record]] = {}
        vendor_types = self.t["Vendors"].derived("types", lambda rows: {r["VendorKey"]: r.get("VendorTypeKey")
                                                                           for r in rows})
        for res in children["Resources"]:
            # The resource's vendor type is the vendor's own, as of this read (Ajera joins it; it is not stored).
            typed = {"VendorTypeKey": vendor_types.get(res["VendorKey"])} if res.get("VendorKey") is not None else {}
            resources_of.setdefault(res["PhaseKey"], []).append({**res, **typed})
        contacts = self.t["Contacts"].derived("by key", lambda rows: {r["ContactKey"]: r for r in rows})
        out = []
        for row in rows:
            project = self.render_project(row, people)
            custom = project.pop("CustomFields", None) or {}
            project.update({f"CF_{name}": value for name, value in custom.items()})
            if "InvoiceGroups" not in row:  # a project (templates are stored nested, Contacts included)
                held = self.t["ProjectContacts"].peek(row.get(key_field)) or {}
                project["Contacts"] = render_contact_refs(held.get("Contacts") or [], contacts)
            project.setdefault("Contacts", [])
            project.setdefault("Resources", [])
            if "InvoiceGroups" in row:  # templates are stored nested already
                out.append(project)
                continue
            key = row.get(key_field)
            phases = [p for p in children["Phases"] if p["ProjectKey"] == key]
            by_key = {p["PhaseKey"]: p for p in phases}

            def tree(parent: int, group: int, top: bool) -> list[Record]:
                found = []
                for phase in phases:
                    is_top = phase.get("ParentKey") == key and phase.get("ParentKey") not in by_key
                    if (phase["InvoiceGroupKey"] != group or (top != is_top)
                            or (not top and phase["ParentKey"] != parent)):
                        continue
                    node = {k: v for k, v in phase.items() if k not in ("CustomFields",)}
                    for role in PEOPLE:
                        node[role] = self._person(phase.get(role), people)
                    node["Phases"] = tree(phase["PhaseKey"], group, False)
                    if with_resources:
                        node["Resources"] = resources_of.get(phase["PhaseKey"], [])
                    found.append(node)
                return found

            project["InvoiceGroups"] = [
                {**{k: v for k, v in g.items() if k not in ("ClientKey", "ClientDescription", "ProjectKey")},
                 "Client": {"ClientKey": g.get("ClientKey"), "Description": clients.get(g.get("ClientKey"), "")},
                 "Phases": tree(key, g["InvoiceGroupKey"], True)}
                for g in children["InvoiceGroups"] if g["ProjectKey"] == key
            ]
            out.append(project)
        return out

    # --- reads -------------------------------------------------------------------------------------

    def _rows(self, arg: str, args: dict[str, Any]) -> tuple[list[Record], list[str]]:
        keys = self.s.requested(arg, args, "ProjectKey")
        rows, errors = [], []
        for key in keys:
            row = self.t["Projects"].get(key)
            if row is None:
                errors.append(f"Project {key}: not found")
            else:
                rows.append(row)
        return rows, errors

    def get_v2(self, args: dict[str, Any]) -> Any:
        rows, errors = self._rows("RequestedProjects", args)
        return answer(errors, self.bundle(rows))

    def get_v1(self, args: dict[str, Any]) -> Any:
        rows, errors = self._rows("RequestedProjects", args)
        return answer(errors, {"Projects": self.nested(rows)})

    def get_with_resources(self, args: dict[str, Any]) -> Any:
        rows, errors = self._rows("RequestedProjects", args)
        return answer(errors, {"Projects": self.nested(rows, with_resources=True)})

    def list_templates(self, args: dict[str, Any]) -> Any:
        problems = self.s.filter_problems("ListProjectTemplates", PROJECTS.filters, args)
        if problems:
            raise invalid(problems)
        spec = ENTITIES["Projects"]
        rows = [{**r, "ProjectKey": r["ProjectTemplateKey"]} for r in self.t["ProjectTemplates"].all()]
        rows = self.s.list_rows(spec, rows, args, "ListProjectTemplates")
        rows, paging = self.s.page(rows, args)
        items = [{"ProjectTemplateKey": r["ProjectTemplateKey"], "ID": r.get("ID", ""),
                  "Description": r.get("Description", "")} for r in rows]
        return answer([], {"ProjectTemplates": items, **paging})

    def get_templates(self, args: dict[str, Any]) -> Any:
        keys = self.s.requested("RequestedProjects", args, "ProjectTemplateKey")
        found, errors = [], []
        for key in keys:
            row = self.t["ProjectTemplates"].get(key)
            if row is None:
                errors.append(f"ProjectTemplate {key}: not found")
            else:
                found.append(self.nested([row])[0])
        return answer(errors, {"ProjectTemplates": found})

    def totals(self, args: dict[str, Any]) -> Any:
        key = args.get("RequestedProjectTotals")
        if not is_int(key):
            raise invalid([f"RequestedProjectTotals must be one integer ProjectKey (got {key!r})"])
        row = self.t["Projects"].get(key)
        if row is None:
            return answer([f"Project {key}: not found"], {})
        if row.get("BillingType") in NO_TOTALS_BILLING:
            return answer([], {})
        worked = self.t["Timesheets"].derived("hours by project", _hours_by_project).get(key, 0.0)
        resources = self._children({key})["Resources"]
        resource_hours = sum(float(r.get("Units") or 0) for r in resources)
        consultant = sum(float(r.get("CostAmount") or 0) for r in resources if r.get("VendorKey") is not None)
        cost_labor = round(worked * LABOR_COST_PER_HOUR, 2)
        cost = round(cost_labor + consultant + float(row.get("ExpenseCostBudget") or 0) * EXPENSE_SHARE_OF_BUDGET, 2)
        billed = round(cost * BILLING_MULTIPLIER, 2)
        receipts = round(billed * RECEIPT_SHARE, 2)
        totals = {
            "Billed": billed, "Spent": cost, "Cost": cost, "Billed Labor": round(cost_labor * BILLING_MULTIPLIER, 2),
            "Spent Labor": cost_labor, "Cost Labor": cost_labor, "Written off": 0.0, "Receipts": receipts,
            "WIP": round(cost * WIP_SHARE, 2), "Receivable Balance": round(billed - receipts, 2),
            "Hours Worked": round(worked, 2), "Resource Hours": round(resource_hours, 2),
        }
        return answer([], {"ProjectTotals": {**self.nested([row])[0], **totals}})


def _hours_by_project(sheets: list[Record]) -> dict[Any, float]:
    """Hours worked per project key over every timesheet line (GetProjectTotals' "Hours Worked")."""
    worked: dict[Any, float] = {}
    for sheet in sheets:
        for detail in (sheet.get("Project") or {}).get("Detail") or []:
            key = detail.get("Project Key")
            worked[key] = worked.get(key, 0.0) + hours(detail)
    return worked
