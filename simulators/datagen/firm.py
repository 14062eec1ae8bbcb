"""firm: Ajera clients (flat PHONE and ADDR blocks, contacts listed on the client) and CRM client firms."""

from __future__ import annotations

from typing import Any

from simulators.datagen.base import Gen, Sizes
from simulators.datagen.blocks import address_block, phone_block
from simulators.datagen.pools import CLIENT_TYPES, STREETS
from simulators.datagen.slots import allocate, make_slots, partners, shuffled_keys, slot_notes
from simulators.datagen.variants import near_pair, web_domain


def build(g: Gen, sizes: Sizes, notes: dict[str, Any]
          ) -> tuple[list[dict], list[dict], dict[int, str], dict[int, dict], Any]:
    """(Ajera clients, CRM firms, Ajera key -> partner ClientID, clients by key, the CRM firm-number sequence)."""
    rng = g.rng
    n = sizes.firms
    dups = max(1, round(n * 0.02)) if n >= 10 else 0
    firm_counts = allocate(n, n, 0.40, 0.05, 0.10, (dups + 1) // 2, dups // 2)
    firm_slots = make_slots(
        firm_counts,
        lambda kind: g.firm_name("client"),
        g.case_variant,
        lambda base: near_pair(g, base, ["amp_and", "suffix", "suffix", "the", "punct"]),
    )
    a_keys = shuffled_keys(rng, sum(len(s.a_names) for s in firm_slots))
    clients: list[dict[str, Any]] = []
    firms: list[dict[str, Any]] = []
    client_codes = iter(range(1001, 1001 + 10 * n + 10))
    for s in firm_slots:
        city, state, zip3, area = g.city()
        type_idx = rng.randrange(6)
        address = f"{rng.randint(10, 9999)} {rng.choice(STREETS)}"
        zip_code = f"{zip3}{rng.randint(0, 99):02d}"
        phone = g.phone(area)
        for name in s.a_names:
            web = web_domain(name)
            fax = g.phone(area) if rng.random() < 0.3 else ""
            rec = {
                "ClientKey": a_keys.pop(), "Description": name,
                "Status": "Inactive" if rng.random() < 0.08 else "Active",
                "ClientTypeKey": type_idx + 1, "ClientTypeDescription": CLIENT_TYPES[type_idx],
                "Email": f"info@{web}" if rng.random() < 0.9 else "",
                "Website": f"www.{web}" if rng.random() < 0.8 else "",
                **phone_block(phone, fax), **address_block(address, city, state, zip_code,
                                                  "Suite " + str(rng.randint(100, 900)) if rng.random() < 0.25 else "",
                                                  g.mailing(city, state, zip_code)),
                "Notes": "", "Contacts": [], "LastModifiedDate": g.ajera_mod(),
            }
            s.a_recs.append(rec)
            clients.append(rec)
        for name in s.c_names:
            place = (address, city, state, zip_code)
            rec = _crm_firm(g, name, next(client_codes), CLIENT_TYPES[type_idx], place, phone)
            s.c_recs.append(rec)
            firms.append(rec)
    notes["firms"] = slot_notes(firm_slots, "ClientKey", "ClientID", lambda r: r["Description"], lambda r: r["Name"])
    client_partner: dict[int, str] = partners(firm_slots, "ClientKey", "ClientID")
    clients_by_key = {c["ClientKey"]: c for c in clients}
    return clients, firms, client_partner, clients_by_key, client_codes


def _crm_firm(g: Gen, name: str, code: int, firm_type: str, place: tuple[str, str, str, str], phone: str) -> dict:
    """A CRM client firm; ``place`` is (street address, city, state, zip)."""
    rng = g.rng
    address, city, state, zip_code = place
    web = web_domain(name)
    created, modified = g.crm_dates()
    return {
        "ClientID": g.hex32(), "Client": f"{code:06d}", "Name": name,
        "Status": "I" if rng.random() < 0.08 else "A", "ClientInd": "Y", "VendorInd": "N",
        "Type": firm_type,
        "PrimaryAddress1": address, "PrimaryCity": city, "PrimaryState": state, "PrimaryZip": zip_code,
        "PrimaryPhone": phone if rng.random() < 0.8 else phone.replace("(", "").replace(") ", "-"),
        "PrimaryEmail": f"info@{web}", "WebSite": f"https://www.{web}",
        "AjeraSync": "Y" if rng.random() < 0.3 else "N",
        "CreateDate": created, "CreateUser": "ADMIN", "ModDate": modified, "ModUser": "ADMIN",
    }
