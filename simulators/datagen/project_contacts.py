"""Contacts on Ajera projects (a project's v1 ``Contacts[]``): about half the projects list a few, mostly
people of the project's client, and every sixth lists six to eight, over the sync's five-per-project cap.
The ``Order`` values are not the list order, so a reader must sort by ``Order``."""

from __future__ import annotations

from simulators.datagen.base import Gen

OVER_CAP_EVERY = 6  # every sixth project lists more contacts than the sync puts on a CRM project


def build(g: Gen, projects: list[dict], invoice_groups: list[dict], clients: list[dict],
          contacts: list[dict]) -> list[dict]:
    """``ProjectContacts`` seed rows: ``{ProjectKey, Contacts: [{ContactKey, Order}]}``."""
    rng = g.rng
    every = sorted(c["ContactKey"] for c in contacts)
    if not every:
        return []
    of_client = {c["ClientKey"]: [r["ContactKey"] for r in c.get("Contacts") or []] for c in clients}
    client_of: dict[int, int] = {}
    for group in sorted(invoice_groups, key=lambda r: r["InvoiceGroupKey"]):
        client_of.setdefault(group["ProjectKey"], group["ClientKey"])
    rows = []
    for index, project in enumerate(sorted(projects, key=lambda r: r["ProjectKey"])):
        over = index % OVER_CAP_EVERY == 2
        if not over and rng.random() < 0.5:
            continue
        wanted = min(rng.randint(6, 8) if over else rng.randint(1, 3), len(every))
        own = list(of_client.get(client_of.get(project["ProjectKey"]), []))
        rng.shuffle(own)
        picked = list(dict.fromkeys(own + rng.sample(every, wanted)))[:wanted]
        orders = rng.sample(range(1, 3 * wanted + 1), wanted)
        rows.append({"ProjectKey": project["ProjectKey"],
                     "Contacts": [{"ContactKey": k, "Order": o} for k, o in zip(picked, orders)]})
    return rows
