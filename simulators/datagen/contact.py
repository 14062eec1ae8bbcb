"""contact: Ajera contacts (linked through their client's Contacts[]) and CRM contacts, with the contact cap."""

from __future__ import annotations

from typing import Any

from simulators.datagen.base import CONTACTS_SYNC_CAP, Gen, Sizes
from simulators.datagen.blocks import phone_block
from simulators.datagen.pools import CITIES, CONTACT_TITLES
from simulators.datagen.slots import allocate, make_slots, shuffled_keys, slot_notes
from simulators.datagen.variants import email_for, person_case, person_feature, person_full, person_near, web_domain


def build(g: Gen, sizes: Sizes, notes: dict[str, Any], client_partner: dict[int, str],
          clients_by_key: dict[int, dict], firms: list[dict]) -> tuple[list[dict], list[dict], str | None, list[str]]:
    """(Ajera contacts, CRM contacts, the firm planted at the contact cap, CRM client firm keys)."""
    rng = g.rng
    nc = sizes.contacts
    con_counts = allocate(nc, nc, 0.35, 0.05, 0.05, 0, max(1, round(nc * 0.01)) if nc >= 10 else 0)
    con_slots = make_slots(con_counts, lambda kind: g.person(person_feature(rng, kind)), lambda p: person_case(g, p),
                       lambda p: person_near(g, p))
    c_keys = shuffled_keys(rng, sum(len(s.a_names) for s in con_slots))
    paired_clients = sorted(client_partner)
    a_client_keys = sorted(clients_by_key)
    crm_client_firms = [f["ClientID"] for f in firms if f["ClientInd"] == "Y"]
    contacts: list[dict[str, Any]] = []
    crm_contacts: list[dict[str, Any]] = []
    sync_per_firm: dict[str, int] = {}
    # one firm is given enough flagged contacts to reach the cap exactly (the sync must respect it)
    cap_firm: str | None = None
    if paired_clients and nc >= 20:
        cap_client = rng.choice(paired_clients)
        cap_firm = client_partner[cap_client]
    for idx, s in enumerate(con_slots):
        title = rng.choice(CONTACT_TITLES)
        a_client: int | None = None
        c_firm: str | None = None
        if s.a_names and s.c_names and paired_clients:
            a_client = rng.choice(paired_clients)
            c_firm = client_partner[a_client]
            if cap_firm and idx < 8:
                a_client, c_firm = cap_client, cap_firm
        elif s.a_names and a_client_keys and rng.random() > 0.05:
            a_client = rng.choice(a_client_keys)
        if s.c_names and c_firm is None and crm_client_firms:
            c_firm = rng.choice(crm_client_firms)
        company = clients_by_key[a_client]["Description"] if a_client is not None else ""
        domain = web_domain(company) if company else "gmail.com"
        area = rng.choice(CITIES)[3]
        phone = g.phone(area)
        for person in s.a_names:
            rec = _ajera_contact(g, c_keys.pop(), person, title, (phone, area), company, domain)
            if a_client is not None:  # the link lives on the client's Contacts[]
                holder = clients_by_key[a_client]["Contacts"]
                holder.append({"ContactKey": rec["ContactKey"], "Order": len(holder) + 1, "Text": ""})
            s.a_recs.append(rec)
            contacts.append(rec)
        for j, person in enumerate(s.c_names):
            firm = c_firm if j == 0 or not crm_client_firms else rng.choice(crm_client_firms)
            want_sync = (cap_firm is not None and firm == cap_firm) or rng.random() < 0.3
            flagged = want_sync and firm is not None and sync_per_firm.get(firm, 0) < CONTACTS_SYNC_CAP
            if flagged:
                sync_per_firm[firm] = sync_per_firm.get(firm, 0) + 1
            rec = _crm_contact(g, person, firm, title, domain, phone, flagged)
            s.c_recs.append(rec)
            crm_contacts.append(rec)
    notes["contacts"] = slot_notes(con_slots, "ContactKey", "ContactID", person_full, person_full)
    return contacts, crm_contacts, cap_firm, crm_client_firms


def _ajera_contact(g: Gen, key: int, person: tuple[str, str, str], title: str, phone: tuple[str, str],
                   company: str, domain: str) -> dict[str, Any]:
    """An Ajera contact; ``phone`` is (number, area code)."""
    rng = g.rng
    first, middle, last = person
    number, area = phone
    return {
        "ContactKey": key, "FirstName": first, "MiddleName": middle, "LastName": last,
        "Title": title, "Email": email_for(first, last, domain) if rng.random() < 0.9 else "",
        **phone_block(number, secondary=g.phone(area) if rng.random() < 0.3 else ""),
        # Company is free text in Ajera: usually the firm's name, sometimes typed differently.
        "Company": company.upper() if company and rng.random() < 0.1 else company,
        "Status": "Inactive" if rng.random() < 0.07 else "Active", "LastModifiedDate": g.ajera_mod(),
    }


def _crm_contact(g: Gen, person: tuple[str, str, str], firm: str | None, title: str, domain: str, phone: str,
                 flagged: bool) -> dict[str, Any]:
    first, middle, last = person
    created, modified = g.crm_dates()
    return {
        "ContactID": g.hex32(), "ClientID": firm, "FirstName": first, "MiddleName": middle,
        "LastName": last, "Title": title, "Email": email_for(first, last, domain), "Phone": phone,
        "ContactStatus": "I" if g.rng.random() < 0.07 else "A", "AjeraSync": "Y" if flagged else "N",
        "CreateDate": created, "CreateUser": "ADMIN", "ModDate": modified, "ModUser": "ADMIN",
    }
