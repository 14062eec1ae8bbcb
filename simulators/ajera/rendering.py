"""How the simulated Ajera API shows a stored row: dates in the tenant's zone, contact references with their
names, a contact's client and vendor; what a write compares (``comparable``) and the stamps it writes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from simulators.ajera.fields import Record, render_contact_refs
from simulators.ajera.records import ENTITIES, EntitySpec
from simulators.ajera.stamps import canonical_stamp, render_stamp, stored_stamp
from simulators.store import Table

if TYPE_CHECKING:
    from simulators.ajera.projects import ProjectStore

# Entities whose records hold a Contacts[] list (CONTACTREF rows).
CONTACT_HOLDERS = ("Clients", "Employees", "Vendors")


class Rendering:
    """The rendering part of ``AjeraService``."""

    settings: dict[str, Any]
    tables: dict[str, Table]
    projects: ProjectStore
    _last_ms: dict[str, int]

    def render_date(self, stored: str | None) -> str | None:
        return render_stamp(stored, int(self.settings["utc_offset_minutes"]), str(self.settings["zone_name"]))

    def stamp(self, table: str) -> str:
        now_ms = int(time.time() * 1000)
        stamp = max(now_ms, self._last_ms.get(table, 0) + 1)
        self._last_ms[table] = stamp
        return stored_stamp(stamp)

    def contact_links(self) -> dict[str, dict[int, int]]:
        """Contact key -> key of the client (vendor) whose Contacts[] lists it (the lowest, if several). Kept
        until the next write to clients (vendors): every contact a call renders looks it up. Read only."""
        def links_of(key_field: str) -> Callable[[list[Record]], dict[int, int]]:
            def build(rows: list[Record]) -> dict[int, int]:
                found: dict[int, int] = {}
                for row in sorted(rows, key=lambda r: r[key_field]):
                    for ref in row.get("Contacts") or []:
                        found.setdefault(ref.get("ContactKey"), row[key_field])
                return found
            return build

        return {plural: self.tables[plural].derived("contact links", links_of(ENTITIES[plural].key))
                for plural in ("Clients", "Vendors")}

    def renderer(self, spec: EntitySpec) -> Callable[[Record], Record]:
        """A function that turns a stored row into what the API returns (derived fields filled in)."""
        contacts = {r["ContactKey"]: r for r in self.tables["Contacts"].all()} \
            if spec.plural in (*CONTACT_HOLDERS, "Contacts") else {}

        def contact_refs(refs: list[Record]) -> list[Record]:
            return render_contact_refs(refs, contacts)

        if spec.plural == "Contacts":
            links = self.contact_links()
            names = {plural: {r[ENTITIES[plural].key]: ENTITIES[plural].name_of(r) for r in self.tables[plural].all()}
                     for plural in ("Clients", "Vendors")}

            def contact(row: Record) -> Record:
                out = self._dated(row)
                client = links["Clients"].get(row["ContactKey"])
                vendor = links["Vendors"].get(row["ContactKey"])
                out["ContactClientKey"] = client
                out["ContactClientDescription"] = names["Clients"].get(client) if client else None
                out["ContactVendorKey"] = vendor
                out["ContactVendorDescription"] = names["Vendors"].get(vendor) if vendor else None
                return out

            return contact
        if spec.plural == "Projects":
            people = self.projects.people()
            return lambda row: self.projects.render_project(row, people)

        def holder(row: Record) -> Record:
            out = self._dated(row)
            if "Contacts" in spec.fields:
                out["Contacts"] = contact_refs(row.get("Contacts") or [])
            return out

        return holder

    def _dated(self, row: Record) -> Record:
        out = dict(row)
        out["LastModifiedDate"] = self.render_date(row.get("LastModifiedDate"))
        return out

    def comparable(self, spec: EntitySpec | None, record: Record) -> Record:
        """The part of a record that decides staleness and no-ops: derived values left out, references by
        key only, dates in one form."""
        derived = set(spec.derived) if spec else set()
        out = {k: v for k, v in record.items() if k not in derived}
        for name, value in list(out.items()):
            if isinstance(value, dict) and "EmployeeKey" in value:
                out[name] = {"EmployeeKey": value.get("EmployeeKey")}
        if isinstance(out.get("Contacts"), (list, dict)):
            refs = out["Contacts"] if isinstance(out["Contacts"], list) else [out["Contacts"]]
            out["Contacts"] = sorted((r.get("ContactKey"), r.get("Order", 0), r.get("Text", "")) for r in refs)
        if isinstance(out.get("LastModifiedDate"), str):
            out["LastModifiedDate"] = canonical_stamp(out["LastModifiedDate"]) or out["LastModifiedDate"]
        return out
