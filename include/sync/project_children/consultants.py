"""Consultants, Ajera -> CRM: the consultant vendors on a mapped Ajera project (its resources with a
``VendorKey`` whose vendor type is a consultant type, from ``GetProjectsWithResources``) onto the CRM
project's firms grid (``firmClient``, written as ``ClendorProjectAssoc`` rows) as vendor firms.

A vendor firm missing in the CRM is created first (after a same-name check, as any create) and mapped.
Each run looks at the projects Ajera changed since the watermark (adding a resource edits the project), so
new consultants flow every run; the back-fill (``backfill``) looks at every mapped project, in batches,
and records each finished project so a re-run after a crash resumes where it stopped. A consultant is
never added twice: the grid is read before writing, and what was added is remembered.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from include.clients.ajera import GET_CHUNK
from include.clients.errors import ApiError
from include.sync import journal
from include.sync.db import utcnow
from include.sync.enums import Direction, LinkMethod, LogAction
from include.sync.model import Record
from include.sync.project_children.context import CONSULTANTS, RETRY_TASK, ChildContext
from include.sync.project_children.since_read import RESOURCES, changed_since_read, mark_resources_read
from include.sync.read_ahead import ReadAhead
from include.sync.record_types import VENDOR
from include.sync.systems import CrmSide

log = logging.getLogger(__name__)

GRID = "firmClient"
GRID_BODY = "ClendorProjectAssoc"


@dataclass(frozen=True)
class ConsultantResult:
    projects: int
    added: int
    firms_created: int
    errors: int


def vendor_keys(project: dict[str, Any]) -> dict[str, int | None]:
    """Vendors among a v1 project's resources, on every phase at any depth, in first-seen order, each with
    the vendor type the resource names (``VendorTypeKey``; None when the vendor has no type)."""
    def walk(phases: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for phase in phases:
            yield from phase.get("Resources") or []
            yield from walk(phase.get("Phases") or [])

    resources = list(project.get("Resources") or [])
    for group in project.get("InvoiceGroups") or []:
        resources.extend(walk(group.get("Phases") or []))
    types: dict[str, int | None] = {}
    for resource in resources:
        if resource.get("VendorKey") is not None:
            types.setdefault(str(resource["VendorKey"]), resource.get("VendorTypeKey"))
    return types


class ConsultantSync:
    def __init__(self, ctx: ChildContext) -> None:
        self.ctx = ctx
        self.projects = ctx.pairs("project")
        self.vendors = ctx.pairs("vendor")
        self.placed = {(r.ajera_project, r.ajera_vendor) for r in ctx.db.rows("select_project_consultants")}
        self.not_consultants: set[str] = set()
        self.unmapped: dict[str, dict[str, Any]] = {}  # whole Ajera records of the chunk's unmapped vendors
        self._consultant_types: set[int] | None = None  # read once, when a vendor not mapped is first seen
        self.result = {"projects": 0, "added": 0, "firms_created": 0, "errors": 0}

    def run(self, ajera_projects: list[str]) -> ConsultantResult:
        mapped = [k for k in ajera_projects if k in self.projects]
        known = [k for k in mapped if k in self.ctx.ajera_projects]  # read ahead of this step
        if known:
            self.chunk([self.ctx.ajera_projects[k] for k in known])
        mapped = [k for k in mapped if k not in self.ctx.ajera_projects]
        size = GET_CHUNK["ProjectsWithResources"]
        chunks = [mapped[start:start + size] for start in range(0, len(mapped), size)]
        # The next chunks' projects are read from Ajera (rate-limited) while this one's grid goes to the CRM.
        read = self.ctx.ajera.get_projects_with_resources
        with ReadAhead(lambda keys: read([int(k) for k in keys]), chunks) as ahead:
            for _, projects in ahead:
                self.chunk(projects.result())
        return ConsultantResult(**self.result)

    def chunk(self, projects: list[dict[str, Any]]) -> None:
        self.ctx.ajera_projects.update({str(p.get("ProjectKey")): p for p in projects})
        mark_resources_read(self.ctx, [str(p.get("ProjectKey")) for p in projects])
        on = {str(p.get("ProjectKey")): vendor_keys(p) for p in projects}
        # A mapped vendor is a consultant (only consultant vendors sync). For the others the resource names
        # the vendor's type, and one ListVendorTypes says which types are consultant types; only an unmapped
        # consultant (new since the vendor step read) is read whole, to create its firm.
        unknown = {v: t for types in on.values() for v, t in types.items()
                   if v not in self.vendors and v not in self.not_consultants}
        consultants = sorted(v for v, t in unknown.items() if t is not None and int(t) in self.consultant_types())
        self.not_consultants.update(v for v in unknown if v not in consultants)
        self.unmapped = {str(r["VendorKey"]): r for r in self.ctx.ajera.get("Vendors", [int(v) for v in consultants])} \
            if consultants else {}
        for key, vendors in on.items():
            if key in self.projects:
                self.result["projects"] += 1
                self.place(key, [v for v in vendors if v not in self.not_consultants])

    def consultant_types(self) -> set[int]:
        if self._consultant_types is None:
            self._consultant_types = {int(t["VendorTypeKey"]) for t in
                                      self.ctx.ajera.list("VendorTypes", FilterByIsConsultant=[True])}
        return self._consultant_types

    def place(self, ajera_project: str, vendors: list[str]) -> None:
        wanted = [v for v in vendors if (ajera_project, v) not in self.placed]
        if not wanted:
            return
        crm_project = self.projects[ajera_project]
        found = {v: self.vendor_firm(v) for v in wanted}
        firms = {v: f for v, f in found.items() if f}
        if not firms:
            return
        def write() -> list[dict[str, str]]:
            on_grid = {r.get("ClientID") for r in self.ctx.crm.grid("project", crm_project, GRID)}
            new = [{"ClientID": f, "VendorInd": "Y", "IsSubconsultant": "Y", "_transType": "I"}
                   for f in dict.fromkeys(firms.values()) if f not in on_grid]
            if new:
                self.ctx.crm.write_grid("project", crm_project, GRID_BODY, new)
            return new

        ok, new = self.ctx.attempt(CONSULTANTS, "consultants: the CRM refused the firms grid rows", write,
                                   ajera_key=ajera_project, crm_key=crm_project)
        if not ok or new is None:
            self.result["errors"] += 1
            return
        with self.ctx.db.begin() as tx:
            for vendor, firm in firms.items():
                tx.execute("insert_project_consultant", {"ajera_project": ajera_project, "ajera_vendor": vendor,
                                                         "crm_project": crm_project, "crm_firm": firm,
                                                         "run_id": self.ctx.run_id})
                self.placed.add((ajera_project, vendor))
            if new:
                added = ", ".join(r["ClientID"] for r in new)
                journal.log(tx, self.ctx.run_id, CONSULTANTS, LogAction.UPDATED,
                            f"consultants from Ajera added to the project's firms: {added}",
                            direction=Direction.AJERA_TO_CRM, ajera_key=ajera_project, crm_key=crm_project)
        self.result["added"] += len(new)
        self.ctx.counts.update({"consultants_added": len(new)})

    def vendor_firm(self, vendor: str) -> str | None:
        """The CRM vendor firm of an Ajera vendor: its mapping, else a same-named unmapped vendor firm
        (linked), else a new one (created and mapped right away, so a retry never creates it twice)."""
        if vendor in self.vendors:
            return self.vendors[vendor]
        raw = self.unmapped.get(vendor)
        if raw is None:
            self.ctx.log(CONSULTANTS, LogAction.ERROR, f"consultants: Ajera vendor {vendor} no longer exists",
                         ajera_key=vendor)
            return None
        record = VENDOR.from_ajera(raw)
        side = CrmSide(self.ctx.crm)
        taken = set(self.vendors.values())
        same = [r for r in side.find_by_name(VENDOR, record.name) if r.key not in taken]
        try:
            if len(same) > 1:
                self.ctx.log(CONSULTANTS, LogAction.AMBIGUOUS, f"consultants: {len(same)} CRM vendor firms are named "
                             f"{record.name!r}; link one by hand", ajera_key=vendor, name=record.name)
                return None
            firm = same[0] if same else side.create(VENDOR, record.fields)
        except RETRY_TASK:
            raise  # a lost create answer: the retry finds the firm by name instead of creating it again
        except ApiError as exc:
            self.result["errors"] += 1
            self.ctx.log(CONSULTANTS, LogAction.ERROR, f"consultants: could not create the vendor firm: {exc}",
                         ajera_key=vendor, name=record.name)
            return None
        self._map_vendor(record, firm, LinkMethod.NAME_EXACT if same else LinkMethod.CREATED_IN_CRM)
        if not same:
            self.result["firms_created"] += 1
        return firm.key

    def _map_vendor(self, ajera: Record, crm: Record, method: LinkMethod) -> None:
        now = utcnow()
        with self.ctx.db.begin() as tx:
            tx.execute("insert_mapping", {
                "record_type": "vendor", "ajera_key": ajera.key, "crm_key": crm.key, "match_method": method.value,
                "run_id": self.ctx.run_id, "now": now, "synced_at": now, "ajera_modified": None,
                "crm_modified": None, "ajera_hash": ajera.content_hash, "crm_hash": None,
                "ajera_fields": None, "crm_fields": None})
            created = method == LinkMethod.CREATED_IN_CRM
            journal.log(tx, self.ctx.run_id, "vendor", LogAction.CREATED if created else LogAction.MAPPED,
                        "vendor firm for a project consultant" + (" created in the CRM" if created
                                                                 else ": same name, linked"),
                        direction=Direction.AJERA_TO_CRM if created else Direction.BOTH,
                        ajera_key=ajera.key, crm_key=crm.key, name=ajera.name)
        self.vendors[ajera.key] = crm.key


def sync_consultants(ctx: ChildContext) -> ConsultantResult:
    """The consultants of the mapped projects Ajera changed since the watermark (staged whole this run)."""
    sync = ConsultantSync(ctx)
    return sync.run(changed_since_read(ctx, sync.projects, RESOURCES))


def backfill(ctx: ChildContext, batch_size: int = 100) -> ConsultantResult:
    """Every consultant already on every mapped project, ``batch_size`` projects at a time; each finished
    batch is recorded under this run, so a retry (or a re-run of this task) resumes after it."""
    sync = ConsultantSync(ctx)
    done = {r.ajera_project for r in ctx.db.rows("backfill_done_projects", {"backfill_id": ctx.run_id})}
    todo = sorted((k for k in sync.projects if k not in done), key=lambda k: (len(k), k))
    for start in range(0, len(todo), batch_size):
        batch = todo[start:start + batch_size]
        sync.run(batch)
        with ctx.db.begin() as tx:
            tx.execute("mark_backfill_done", [{"backfill_id": ctx.run_id, "ajera_project": k, "now": utcnow()}
                                              for k in batch])
        log.info("consultant back-fill: %d of %d projects", start + len(batch), len(todo))
    return ConsultantResult(**sync.result)
