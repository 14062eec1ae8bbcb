"""Deterministic seed data for both simulators: an architecture/engineering practice's Ajera database and
its Vantagepoint CRM, overlapping messily.

``generate(seed, sizes)`` returns a ``World`` whose ``ajera`` and ``crm`` dicts are the ``seed`` arguments of
the two apps' ``create_app`` (shapes in ``docs/simulator-contract.md``). The same seed and sizes always give
byte-identical output: everything comes from one ``random.Random(seed)`` and fixed base dates.

What is planted, per record type (firms, contacts, employees, vendors, projects), and recorded in
``World.notes`` (also returned by ``planted(world)``) with the keys on both sides:

- ``exact``: the same name in both systems.
- ``case_only``: names equal under ``str.casefold`` but not byte-equal ("ACME SUPPLIES" / "Acme Supplies").
- ``near_miss``: names that differ under casefold but are equal under ``normalize_name`` (``&``/``and``,
  legal suffixes, punctuation, accents, a leading "The"); the sync may only *suggest* these.
- ``duplicates``: one name twice on one side (and once on the other): ambiguous, never auto-linked.
- ``ajera_only`` / ``crm_only``: no partner under any rule.
- projects also list ``long_names``: pairs whose Ajera Description is over 40 characters; the CRM side has
  the name cut to 40 characters in ``Name`` and the full name in ``LongName``.

One module per record type (``firm``, ``contact``, ``employee``, ``vendor``, ``project``, mirroring
``include/sync/record_types``) builds both systems' records of that type; ``base`` holds what they share
(sizes, the world, the random generator), ``names`` and ``variants`` the names and their variants, ``slots``
the planted overlap slots, ``blocks`` the flat Ajera blocks, and ``pools`` the words.

Apart from the planted groups, every name is unique under ``normalize_name`` across its record type (firms
and vendors share one name space, as the CRM keeps both as firms; contacts and employees share another).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from simulators.datagen import contact, employee, firm, project, project_contacts, vendor
from simulators.datagen.base import CONTACTS_SYNC_CAP, Gen, Sizes, World
from simulators.datagen.names import normalize_name, person_name
from simulators.datagen.pools import BILLING_TYPES
from simulators.datagen.slots import count_by

__all__ = [
    "BILLING_TYPES",
    "CONTACTS_SYNC_CAP",
    "Sizes",
    "World",
    "describe",
    "generate",
    "normalize_name",
    "person_name",
    "planted",
    "planted_counts",
]


def generate(seed: int = 42, sizes: Sizes | None = None) -> World:
    """Build both systems' seed data. Deterministic in (seed, sizes)."""
    sizes = sizes or Sizes()
    g = Gen(seed, sizes)
    ajera: dict[str, list[dict[str, Any]]] = {}
    crm: dict[str, list[dict[str, Any]]] = {}
    notes: dict[str, Any] = {"seed": seed, "sizes": asdict(sizes)}

    # One generator per record type, in this order: they share one random stream.
    templates = project.templates(sizes)
    ajera["ProjectTemplates"] = templates
    clients, firms, client_partner, clients_by_key, client_codes = firm.build(g, sizes, notes)
    vendors, vendor_discipline, vendor_partner, consultant_keys = vendor.build(g, sizes, notes, firms, client_codes)
    employees, crm_employees, employee_partner = employee.build(g, sizes, notes)
    contacts, crm_contacts, cap_firm, crm_client_firms = contact.build(g, sizes, notes, client_partner,
                                                                       clients_by_key, firms)
    a_projects, c_projects, igs, phases, resources, grid_firms, grid_emps, timesheets = project.build(
        g, sizes, notes, clients_by_key, client_partner, crm_client_firms, employees, employee_partner,
        crm_employees, consultant_keys, vendor_discipline, vendor_partner, crm_contacts, templates,
    )

    ajera.update({
        "Clients": sorted(clients, key=lambda r: r["ClientKey"]),
        "Contacts": sorted(contacts, key=lambda r: r["ContactKey"]),
        "Employees": sorted(employees, key=lambda r: r["EmployeeKey"]),
        "Vendors": sorted(vendors, key=lambda r: r["VendorKey"]),
        "Projects": a_projects, "InvoiceGroups": igs, "Phases": phases, "Resources": resources,
        "Timesheets": timesheets,
    })
    # Last: drawing these after everything else leaves the rest of the world as it was.
    ajera["ProjectContacts"] = project_contacts.build(g, a_projects, igs, ajera["Clients"], ajera["Contacts"])
    ajera["ProjectTemplates"] = ajera.pop("ProjectTemplates")
    crm.update({
        "firm": sorted(firms, key=lambda r: r["ClientID"]),
        "contact": sorted(crm_contacts, key=lambda r: r["ContactID"]),
        "employee": sorted(crm_employees, key=lambda r: r["Employee"]),
        "project": c_projects, "firmClient": grid_firms, "projectEmployee": grid_emps,
    })
    notes["flags"] = {
        "crm_firms_ajera_sync": sum(f["AjeraSync"] == "Y" for f in firms),
        "crm_contacts_ajera_sync": sum(c["AjeraSync"] == "Y" for c in crm_contacts),
        "crm_projects_ajera_sync": sum(p["AjeraSync"] == "Y" for p in c_projects),
        "crm_projects_with_template": sum(bool(p["ProjectTemplate"]) for p in c_projects),
        "ajera_projects_with_several_invoice_groups": sum(
            1 for n in count_by(igs, "ProjectKey").values() if n > 1),
        "ajera_projects_sync_to_crm": sum(p["SyncToCRM"] for p in a_projects),
        "ajera_projects_create_in_crm": sum(p["CreateInCRM"] for p in a_projects),
        "ajera_projects_closed": sum(p["Status"] == "Closed" for p in a_projects),
        "contact_cap_firm": cap_firm,
        "ajera_projects_with_contacts": len(ajera["ProjectContacts"]),
        "ajera_projects_over_contact_cap": sum(len(r["Contacts"]) > 5 for r in ajera["ProjectContacts"]),
    }
    return World(ajera=ajera, crm=crm, notes=notes)


# -------------------------------------------------------------------------------------------- summaries


def describe(world: World) -> dict[str, int]:
    """Record counts, e.g. ``{"ajera.Clients": 200, ..., "crm.firm": 227, ...}``."""
    out = {f"ajera.{k}": len(v) for k, v in world.ajera.items()}
    out.update({f"crm.{k}": len(v) for k, v in world.crm.items()})
    return out


def planted(world: World) -> dict[str, Any]:
    """What overlap was planted, per record type (see the module docstring), plus flag counts."""
    return world.notes


def planted_counts(world: World) -> dict[str, dict[str, int]]:
    """``planted`` reduced to counts per record type and kind."""
    out: dict[str, dict[str, int]] = {}
    for kind in ("firms", "vendors", "employees", "contacts", "projects"):
        out[kind] = {k: len(v) for k, v in world.notes[kind].items()}
    return out
