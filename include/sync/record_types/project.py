"""project: Ajera Project <-> CRM Project, both ways, on the core fields.

Matching follows Deltek's 40-character rule: an Ajera Description of up to 40 characters matches the CRM
short Name, a longer one the LongName. Ajera owns the project ID (it becomes the CRM WBS1 and is never
written back) and the accounting fields (the fee); the CRM owns business development (stage,
probability, template), which Ajera does not hold. A CRM project flagged Sync to Ajera is created in Ajera
from its Ajera Project Template (the template's phases prefill the new project); an Ajera project flagged
SyncToCRM or CreateInCRM is created in the CRM, which needs a project ID and a description.
"""

from __future__ import annotations

from typing import Any

from include.sync.model import Record, name_text, parse_flag, text
from include.sync.record_types.base import BOTH, Fields, Raw, RecordType
from include.sync.refs import Refs

SHORT_NAME = 40
_HOLD = ("Hold", "WorkHold", "BillingHold")
_OPEN = ("Active", "Preliminary", "Marketing")


def crm_name(raw: Raw) -> str:
    long_name = name_text(raw.get("LongName"))
    return long_name if len(long_name) > SHORT_NAME else name_text(raw.get("Name"))


def _day(value: Any) -> str:
    return text(value)[:10]


def _money(value: Any) -> str:
    if value in (None, ""):
        return ""
    return f"{float(value):.2f}"


def _ajera_status(status: str) -> str:
    if status == "Closed":
        return "closed"
    return "inactive" if status in _HOLD else "active"


def ajera_fields(raw: Raw, refs: Refs) -> Fields:
    manager = raw.get("ProjectManager") or {}
    return {
        "description": text(raw.get("Description")),
        "status": _ajera_status(text(raw.get("Status"))),
        "firm": refs.from_ajera("firm", raw.get("ClientKey")),
        "manager": refs.from_ajera("employee", manager.get("EmployeeKey")),
        "start_date": _day(raw.get("StartDate")),
        "end_date": _day(raw.get("EndDate")),
        "fee": _money(raw.get("TotalContractAmount")),
        "id": text(raw.get("ID")),  # Ajera's own: used for the CRM WBS1 on create, never synced back
    }


def crm_fields(raw: Raw, refs: Refs) -> Fields:
    status = text(raw.get("Status")).upper()
    return {
        "description": crm_name(raw),  # the 40-character rule, as for matching: a short Name edit counts
        "status": {"D": "closed", "I": "inactive"}.get(status, "active"),
        "firm": refs.from_crm("firm", raw.get("ClientID")),
        "manager": refs.from_crm("employee", raw.get("ProjMgr")),
        "start_date": _day(raw.get("StartDate")),
        "end_date": _day(raw.get("EndDate")),
        "fee": _money(raw.get("Fee")),
        "template": text(raw.get("ProjectTemplate")),  # the CRM's own: which Ajera template to create from
        "id": text(raw.get("WBS1")),
    }


def to_ajera(fields: Fields, baseline: Raw | None, refs: Refs) -> Raw:
    record = {k: v for k, v in (baseline or {}).items() if k not in ("InvoiceGroups", "Phases", "Resources")}
    if "description" in fields:
        record["Description"] = fields["description"]
    if "status" in fields:
        current = record.get("Status")
        wanted = fields["status"]
        # Keep Ajera's finer status when it already says the same thing (Preliminary is "active" too).
        if _ajera_status(text(current)) != wanted:
            record["Status"] = {"closed": "Closed", "inactive": "Hold"}.get(wanted, "Active")
    if "firm" in fields:
        key = refs.ajera_key("firm", fields["firm"])
        record["ClientKey"] = int(key) if key else None
    if "manager" in fields:
        key = refs.ajera_key("employee", fields["manager"])
        record["ProjectManager"] = {"EmployeeKey": int(key)} if key else None
    for name, field_name in (("start_date", "StartDate"), ("end_date", "EndDate")):
        if name in fields:
            record[field_name] = fields[name] or None
    if "fee" in fields:
        record["TotalContractAmount"] = float(fields["fee"]) if fields["fee"] else 0.0
    return record


def to_crm(fields: Fields, refs: Refs) -> Raw:
    body: Raw = {}
    if "description" in fields:
        body["Name"] = fields["description"][:SHORT_NAME]
        body["LongName"] = fields["description"]
    if "status" in fields:
        body["Status"] = {"closed": "D", "inactive": "I"}.get(fields["status"], "A")
    if "firm" in fields:
        body["ClientID"] = refs.crm_key("firm", fields["firm"]) or ""
    if "manager" in fields:
        body["ProjMgr"] = refs.crm_key("employee", fields["manager"]) or ""
    for name, field_name in (("start_date", "StartDate"), ("end_date", "EndDate")):
        if name in fields:
            body[field_name] = fields[name] or None
    if "fee" in fields:
        body["Fee"] = float(fields["fee"]) if fields["fee"] else None
    if fields.get("id"):
        body["WBS1"] = fields["id"]  # only a create sends the ID: Ajera's project ID becomes the WBS1
    return body


def create_problem(record: Record) -> str | None:
    if record.system == "ajera":
        missing = [name for name, field in (("a project ID", "id"), ("a description", "description"))
                   if not record.fields.get(field)]
        return f"cannot create in the CRM without {' and '.join(missing)}" if missing else None
    if not record.fields.get("template"):
        return "cannot create in Ajera: the CRM project has no Ajera Project Template"
    return None


def create_in_ajera(side: Any, fields: Fields, source: Raw | None, refs: Refs) -> Raw:
    """CreateProjects from the template the CRM project names: its phases prefill the new project."""
    template_key = text(fields.get("template"))
    templates = {text(t.get("ProjectTemplateKey")): t for t in side.project_templates()}
    template = templates.get(template_key)
    if template is None:
        raise LookupError(f"Ajera Project Template {template_key!r} does not exist in Ajera")
    project = to_ajera({k: v for k, v in fields.items() if k != "template"}, None, refs)
    project.update({"ID": fields.get("id") or None, "BillingType": template.get("BillingType") or "Hourly",
                    "SyncToCRM": True})
    project = {k: v for k, v in project.items() if v is not None}
    groups = [{"Description": "Default", "ClientKey": project.get("ClientKey")}]
    phases = [{"ID": p.get("ID"), "Description": p.get("Description")} for p in template.get("Phases") or []]
    return side.client.create_project(project, groups, phases)


PROJECT = RecordType(
    name="project",
    ajera_entity="Projects",
    ajera_key="ProjectKey",
    crm_hub="project",
    crm_key="WBS1",
    synced=("description", "status", "firm", "manager", "start_date", "end_date", "fee"),
    directions=BOTH,
    ajera_name=lambda raw: name_text(raw.get("Description")),
    crm_name=crm_name,
    ajera_fields=ajera_fields,
    crm_fields=crm_fields,
    to_ajera=to_ajera,
    to_crm=to_crm,
    ajera_flag=lambda raw: parse_flag(raw.get("SyncToCRM")) or parse_flag(raw.get("CreateInCRM")),
    crm_name_fields=("Name", "LongName"),
    crm_name_search=lambda name: [("Name", "=", name[:SHORT_NAME])],
    crm_new_record={"AjeraSync": "Y"},
    ajera_name_filter="FilterByDescriptionEquals",
    references=("firm", "employee"),
    ownership={"fee": "ajera"},
    name_max_length=80,
    crm_name_max_length=255,
    closed=lambda fields: fields.get("status") == "closed",
    create_problem=create_problem,
    ajera_create=create_in_ajera,
)
