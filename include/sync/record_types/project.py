"""project: Ajera Project <-> CRM Project, both ways, on the core fields.

Matching follows Deltek's 40-character rule: an Ajera Description of up to 40 characters matches the CRM
short Name, a longer one the LongName. Ajera owns the project ID (it becomes the CRM WBS1 and is never
written back), the accounting fields (the fee) and the project's client: Ajera keeps the client on the
project's invoice groups (``InvoiceGroups[].ClientKey``; a project may have several), the sync reads the
first one, and Ajera takes it only when the project is created. The CRM owns business development (stage,
probability, template), which Ajera does not hold. A CRM project flagged Sync to Ajera is created in Ajera
from its Ajera Project Template (the template's phases prefill the new project); an Ajera project flagged
SyncToCRM or CreateInCRM is created in the CRM, which needs a project ID and a description.
"""

from __future__ import annotations

from typing import Any

from include.sync.model import Record, name_text, parse_flag, text
from include.sync.record_types.base import (
    BOTH,
    AjeraWrite,
    ChildGrid,
    Field,
    Fields,
    Kind,
    Raw,
    RecordType,
    Vocabulary,
    get_path,
)
from include.sync.refs import Refs

SHORT_NAME = 40
STATUS = Vocabulary(
    {"active": ("Active", "Preliminary", "Marketing"), "inactive": ("Hold", "WorkHold", "BillingHold"),
     "closed": ("Closed",)},
    {"active": "A", "inactive": "I", "closed": "D"},
)


def crm_name(raw: Raw, refs: Refs | None = None) -> str:
    long_name = name_text(raw.get("LongName"))
    return long_name if len(long_name) > SHORT_NAME else name_text(raw.get("Name"))


def write_crm_name(value: Any, body: Raw, refs: Refs) -> None:
    body["Name"] = text(value)[:SHORT_NAME]
    body["LongName"] = text(value)


FIELDS = (
    # the 40-character rule, as for matching: a short Name edit counts
    Field("description", "Description", "LongName", read_crm=crm_name, write_crm=write_crm_name),
    Field("status", "Status", "Status", Kind.STATUS, vocabulary=STATUS),
    Field("firm", "InvoiceGroups[0].ClientKey", "ClientID", Kind.REF, ref="firm", owner="ajera",
          ajera_write=AjeraWrite.CREATE),
    Field("manager", "ProjectManager.EmployeeKey", "ProjMgr", Kind.REF, ref="employee"),
    Field("start_date", "EstimatedStartDate", "StartDate", Kind.DAY),
    Field("end_date", "EstimatedCompletionDate", "EndDate", Kind.DAY),
    Field("fee", "TotalContractAmount", "Fee", Kind.MONEY, owner="ajera"),
    Field("id", "ID", "WBS1", synced=False),  # Ajera's own: the CRM WBS1 on create, never synced back
    Field("template", None, "ProjectTemplate", synced=False),  # the CRM's own: which template to create from
)

# The rows under a project that the next pieces of work sync (Ajera -> CRM).
GRIDS = (
    ChildGrid("team", Field("employee", "EmployeeKey", "Employee", Kind.REF, ref="employee"),
              ajera_source="GetProjectsWithResources: InvoiceGroups[].Phases[].Resources[] with EmployeeKey; "
                           "hours and first entry date from ListTimesheets/GetTimesheets",
              crm_grid="employee"),
    ChildGrid("consultants", Field("vendor", "VendorKey", "ClientID", Kind.REF, ref="vendor"),
              ajera_source="GetProjectsWithResources: Resources[] with VendorKey",
              crm_grid="firmClient"),
    ChildGrid("contacts", Field("contact", "ContactKey", "ContactID", Kind.REF, ref="contact"),
              ajera_source="version 1 projects (GetProjectsWithResources, read for the consultants): "
                           "Contacts[], by Order", crm_grid="teammember"),
)


def create_problem(record: Record) -> str | None:
    if record.system == "ajera":
        missing = [name for name, field in (("a project ID", "id"), ("a description", "description"))
                   if not record.fields.get(field)]
        return f"cannot create in the CRM without {' and '.join(missing)}" if missing else None
    if not record.fields.get("template"):
        return "cannot create in Ajera: the CRM project has no Ajera Project Template"
    if not str(record.fields.get("firm") or "").startswith("A:"):
        return "cannot create in Ajera: its firm is not synced to Ajera yet (an Ajera project needs a client)"
    return None


def short_name_notice(record: Record) -> str | None:
    """A long-named CRM project whose short Name is not the start of its LongName had its Name edited on its
    own: Ajera keeps one Description (the LongName), so that edit cannot reach Ajera. Say so, not drop it."""
    if record.system != "crm" or record.raw is None:
        return None
    long_name, name = text(record.raw.get("LongName")), text(record.raw.get("Name"))
    if len(long_name) <= SHORT_NAME or name == long_name[:SHORT_NAME].strip():
        return None
    return (f"the CRM short Name {name!r} is not carried to Ajera: Ajera keeps one description, and for a name "
            f"over {SHORT_NAME} characters that is the LongName; edit the LongName to rename the project in Ajera")


def create_in_ajera(side: Any, fields: Fields, source: Raw | None, refs: Refs) -> Raw:
    """CreateProjects from the template the CRM project names: its billing type, rate table, invoice
    format and phases prefill the new project; the client goes on its one invoice group."""
    template_key = text(fields.get("template"))
    template = side.project_template(template_key)
    if template is None:
        raise LookupError(f"Ajera Project Template {template_key!r} does not exist in Ajera")
    client = refs.ajera_key("firm", fields.get("firm") or "")
    project = PROJECT.to_ajera({k: v for k, v in fields.items() if k not in ("template", "firm")}, None, refs)
    project.update({"BillingType": template.get("BillingType") or "TimeAndExpense",
                    "RateTableKey": template.get("RateTableKey"), "SyncToCRM": True})
    if fields.get("id"):
        project["ID"] = fields["id"]
    if template.get("CompanyKey") is not None:
        project["CompanyKey"] = template["CompanyKey"]
    template_groups = template.get("InvoiceGroups") or []
    first = template_groups[0] if template_groups else {}
    groups = [{"Description": text(first.get("Description")) or "Basic Services",
               "ClientKey": int(client) if client else None,
               "InvoiceFormatKey": first.get("InvoiceFormatKey")}]
    phases = [{"ID": p.get("ID"), "Description": p.get("Description")}
              for group in template_groups for p in group.get("Phases") or []]
    created: Raw = side.client.create_project({k: v for k, v in project.items() if v is not None}, groups, phases)
    return created


PROJECT = RecordType(
    name="project",
    ajera_entity="Projects",
    ajera_key="ProjectKey",
    crm_hub="project",
    crm_key="WBS1",
    fields=FIELDS,
    directions=BOTH,
    ajera_name=lambda raw: name_text(raw.get("Description")),
    crm_name=crm_name,
    ajera_flag=lambda raw: parse_flag(raw.get("SyncToCRM")) or parse_flag(raw.get("CreateInCRM")),
    crm_name_fields=("Name", "LongName"),
    crm_name_search=lambda name: [("Name", "=", name[:SHORT_NAME])],
    crm_new_record={"AjeraSync": "Y"},
    ajera_new_record={"Status": "Active"},
    ajera_name_filter="FilterByDescriptionEquals",
    ajera_sync_filter=True,
    name_max_length=80,
    crm_name_max_length=255,
    closed=lambda fields: fields.get("status") == "closed",
    create_problem=create_problem,
    notice=short_name_notice,
    ajera_create=create_in_ajera,
    grids=GRIDS,
)

__all__ = ["PROJECT", "SHORT_NAME", "STATUS", "crm_name", "get_path"]
