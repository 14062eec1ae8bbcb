"""vendor: Ajera vendors (consultants and suppliers) and CRM vendor firms."""

from __future__ import annotations

from typing import Any

from simulators.datagen.base import Gen, Sizes
from simulators.datagen.blocks import address_block, phone_block
from simulators.datagen.pools import CONSULTANT_DISCIPLINES, STREETS, VENDOR_TYPES
from simulators.datagen.slots import Slot, allocate, make_slots, partners, shuffled_keys, slot_notes
from simulators.datagen.variants import near_pair, web_domain


def build(g: Gen, sizes: Sizes, notes: dict[str, Any], firms: list[dict], client_codes: Any,
          ) -> tuple[list[dict], dict[int, str], dict[int, str], list[int]]:
    """(Ajera vendors, discipline by VendorKey, partner ClientID by VendorKey, consultant keys); the CRM
    vendor firms are added to ``firms``."""
    rng = g.rng
    nv = sizes.vendors
    n_consult = round(nv * 0.75)
    n_supply = nv - n_consult
    vendor_counts = allocate(n_consult, round(n_consult * 0.9), 0.45, 0.08, 0.12, 0,
                              1 if n_consult >= 10 else 0)
    vendor_slots = make_slots(
        vendor_counts,
        lambda kind: g.firm_name("consultant"),
        g.case_variant,
        lambda base: near_pair(g, base, ["amp_and", "suffix", "punct"]),
    )
    for _ in range(n_supply):
        vendor_slots.append(Slot("ajera_only", [g.firm_name("supplier")], [], profile={"supplier": True}))
    v_keys = shuffled_keys(rng, sum(len(s.a_names) for s in vendor_slots))
    vendors: list[dict[str, Any]] = []
    vendor_discipline: dict[int, str] = {}
    for s in vendor_slots:
        city, state, zip3, area = g.city()
        phone = g.phone(area)
        supplier = s.profile.get("supplier", False)
        discipline = "Supplier"
        for disc_name, disc in CONSULTANT_DISCIPLINES:
            if disc_name in (s.a_names or s.c_names)[0]:
                discipline = disc
        for name in s.a_names:
            type_key, type_name, consultant = VENDOR_TYPES[
                2 if supplier else (0 if discipline in ("MEP", "Structural", "Civil") else 1)]
            zip_code = f"{zip3}{rng.randint(0, 99):02d}"
            rec = {
                "VendorKey": v_keys.pop(), "Name": name,
                "Status": "Inactive" if rng.random() < 0.05 else "Active",
                "VendorTypeKey": type_key, "VendorTypeDescription": type_name, "VendorTypeIsConsultant": consultant,
                "VendorTypeIsCreditCard": False, "Email": f"accounts@{web_domain(name)}" if rng.random() < 0.85 else "",
                **phone_block(phone),
                **address_block(f"{rng.randint(10, 9999)} {rng.choice(STREETS)}", city, state, zip_code,
                                mailing=g.mailing(city, state, zip_code)),
                "Receives1099Form": not supplier and rng.random() < 0.5, "LastModifiedDate": g.ajera_mod(),
            }
            vendor_discipline[rec["VendorKey"]] = discipline
            s.a_recs.append(rec)
            vendors.append(rec)
        for name in s.c_names:
            rec = _crm_vendor(g, name, next(client_codes), (city, state, zip3), phone)
            s.c_recs.append(rec)
            firms.append(rec)
    notes["vendors"] = slot_notes(vendor_slots, "VendorKey", "ClientID", lambda r: r["Name"], lambda r: r["Name"])
    notes["vendors"]["suppliers"] = [s.a_recs[0]["VendorKey"] for s in vendor_slots if s.profile.get("supplier")]
    vendor_partner: dict[int, str] = partners(vendor_slots, "VendorKey", "ClientID")
    consultant_keys = sorted(v["VendorKey"] for v in vendors if v["VendorTypeIsConsultant"])
    return vendors, vendor_discipline, vendor_partner, consultant_keys


def _crm_vendor(g: Gen, name: str, code: int, place: tuple[str, str, str], phone: str) -> dict:
    """A CRM vendor firm (a consultant); ``place`` is (city, state, the zip's first three digits)."""
    rng = g.rng
    city, state, zip3 = place
    created, modified = g.crm_dates()
    web = web_domain(name)
    return {
        "ClientID": g.hex32(), "Client": f"{code:06d}", "Name": name, "Status": "A",
        "ClientInd": "N", "VendorInd": "Y", "Type": "Consultant",
        "PrimaryAddress1": f"{rng.randint(10, 9999)} {rng.choice(STREETS)}", "PrimaryCity": city,
        "PrimaryState": state, "PrimaryZip": f"{zip3}{rng.randint(0, 99):02d}", "PrimaryPhone": phone,
        "PrimaryEmail": f"info@{web}",
        "WebSite": f"https://www.{web}", "AjeraSync": "N",
        "CreateDate": created, "CreateUser": "ADMIN", "ModDate": modified, "ModUser": "ADMIN",
    }
