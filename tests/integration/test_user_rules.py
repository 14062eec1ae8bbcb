"""Rules a user hit while trying the sync, each driven through the real steps (include.sync.runner) against
both simulators over HTTP, and checked in the simulators, the mapping table and the integration log.

Records are read and edited through the record types' canonical fields (``from_ajera`` / ``to_ajera``), not
raw Ajera field names, so these tests hold whatever shape the Ajera records take. Only the sync flags
(Ajera ``SyncToCRM``, CRM ``AjeraSync``) and CRM fields are named directly.
"""

from __future__ import annotations

from typing import Any

import pytest

from include.sync import record_types
from include.sync.systems import AjeraSide
from tests.support.engine import Engine

pytestmark = pytest.mark.integration

PENDING = "still pending (logged before)"
CONTACTS = ("firm", "contact")
PROJECTS = ("firm", "employee", "project")


# ------------------------------------------------------------------------------------------ helpers


def sync(engine: Engine, types: tuple[str, ...], **options: Any) -> Any:
    summary = engine.sync(record_types=types, **options)
    assert summary.completed, summary.lines()
    return summary


def pairs(engine: Engine, t: str) -> dict[str, str]:
    """Ajera key -> CRM key."""
    return {m.ajera_key: m.crm_key for m in engine.mappings(t)}


def rows(engine: Engine, run_id: str, t: str, *, action: str | None = None, key: str | None = None) -> list[Any]:
    return [r for r in engine.log(run_id) if r.record_type == t and (action is None or r.action == action)
            and (key is None or key in (r.ajera_key, r.crm_key))]


def notes(engine: Engine, run_id: str, t: str, key: str) -> list[Any]:
    """The log rows that tell about a record being held (the kind told once, then counted as pending)."""
    return [r for r in rows(engine, run_id, t, key=key) if r.action in ("skipped", "error", "ambiguous")]


def ajera_raw(engine: Engine, t: str, key: str) -> dict[str, Any]:
    rt = record_types.get(t)
    [raw] = engine.ajera.get(rt.ajera_entity, [int(key)])
    return raw


def ajera_fields(engine: Engine, t: str, key: str) -> dict[str, Any]:
    """The canonical fields of an Ajera record; references read as ``a:<Ajera key>``."""
    return record_types.get(t).from_ajera(ajera_raw(engine, t, key)).fields


def ajera_edit(engine: Engine, t: str, key: str, **fields: Any) -> None:
    """Edit canonical fields in Ajera as a person would, through the engine's Ajera adapter (which knows how
    Ajera takes each field, e.g. a contact's firm)."""
    outcome = AjeraSide(engine.ajera).write(record_types.get(t), {}, {key: (fields, ajera_raw(engine, t, key))})
    assert not outcome.errors, outcome.errors


def ajera_create(engine: Engine, t: str, **fields: Any) -> str:
    outcome = AjeraSide(engine.ajera).write(record_types.get(t), {"-1": (fields, None)}, {})
    assert not outcome.errors, outcome.errors
    return outcome.saved["-1"].key


def pending(summary: Any, t: str) -> int:
    return summary.counts.get(t, {}).get(PENDING, 0)


def contact_in_a_firm(engine: Engine, avoid: str | None = None) -> tuple[str, str, str]:
    """(Ajera key, CRM key, Ajera firm key) of a synced contact, flagged on a side, whose firm is synced too."""
    rt = record_types.get("contact")
    firms = pairs(engine, "firm")
    for a_key, c_key in sorted(pairs(engine, "contact").items()):
        record = rt.from_ajera(ajera_raw(engine, "contact", a_key))
        firm = record.fields["firm"]
        flagged = record.flagged or rt.from_crm(engine.crm.get("contact", c_key)).flagged
        if flagged and firm.startswith("a:") and firm[2:] in firms and firm[2:] != avoid:
            return a_key, c_key, firm[2:]
    raise AssertionError("no synced contact in a synced firm")


def new_crm_firm(engine: Engine, name: str, flagged: bool) -> str:
    return engine.crm.create("firm", {"Name": name, "ClientInd": "Y", "VendorInd": "N",
                                      "AjeraSync": "Y" if flagged else "N"})["ClientID"]


# ------------------------------------------------------------------------- flags off on both sides


def test_a_pair_flagged_off_on_both_sides_stops_syncing_and_says_so_once(engine: Engine) -> None:
    sync(engine, PROJECTS)
    rt = record_types.get("project")
    # A synced, open project that Ajera does not flag for the CRM; the CRM's Sync to Ajera is then turned off.
    a_key, c_key = next((a, c) for a, c in sorted(pairs(engine, "project").items())
                        if not rt.from_ajera(ajera_raw(engine, "project", a)).flagged
                        and ajera_fields(engine, "project", a)["status"] != "closed")
    engine.crm.update("project", c_key, {"AjeraSync": "N"})
    before = ajera_fields(engine, "project", a_key)["end_date"]

    engine.crm.update("project", c_key, {"EndDate": "2031-07-15"})
    run = sync(engine, PROJECTS).run_id
    assert ajera_fields(engine, "project", a_key)["end_date"] == before  # not carried
    [row] = notes(engine, run, "project", c_key)
    assert row.action == "skipped" and (row.ajera_key, row.crm_key) == (a_key, c_key)
    assert "sync on neither side" in row.message

    again = sync(engine, PROJECTS)
    assert not notes(engine, again.run_id, "project", c_key)  # told once, not every run
    assert pending(again, "project") >= 1
    assert pairs(engine, "project")[a_key] == c_key  # still linked: flag it again and it syncs

    engine.crm.update("project", c_key, {"AjeraSync": "Y"})
    back = sync(engine, PROJECTS).run_id
    assert ajera_fields(engine, "project", a_key)["end_date"] == "2031-07-15"
    assert rows(engine, back, "project", action="updated", key=c_key)


# ------------------------------------------------------------------- a contact moved into a full firm


@pytest.mark.parametrize("moved_in", ["crm", "ajera"])
def test_a_contact_moved_into_a_firm_with_five_synced_contacts_is_held_back(engine: Engine, moved_in: str) -> None:
    sync(engine, CONTACTS)
    full_c = new_crm_firm(engine, "Fivefold Engineering Collaborative", flagged=True)
    for first in ("Abel", "Bianca", "Cosmo", "Delphine", "Eamon"):
        engine.crm.create("contact", {"FirstName": first, "LastName": "Quintfold", "ClientID": full_c,
                                      "AjeraSync": "Y"})
    sync(engine, CONTACTS)
    full_a = {c: a for a, c in pairs(engine, "firm").items()}[full_c]
    assert sum(ajera_fields(engine, "contact", a)["firm"] == f"a:{full_a}" for a in pairs(engine, "contact")) == 5

    a_key, c_key, old_firm_a = contact_in_a_firm(engine, avoid=full_a)
    old_firm_c = pairs(engine, "firm")[old_firm_a]
    if moved_in == "crm":
        engine.crm.update("contact", c_key, {"ClientID": full_c, "Title": "Moved Along"})
    else:
        ajera_edit(engine, "contact", a_key, firm=f"a:{full_a}", title="Moved Along")

    run = sync(engine, CONTACTS)
    [row] = notes(engine, run.run_id, "contact", c_key)
    assert row.action == "skipped" and "held back" in row.message and "5 synced contacts" in row.message
    # The other side still has the contact in its old firm (and nothing else of the move's edit).
    if moved_in == "crm":
        assert ajera_fields(engine, "contact", a_key)["firm"] == f"a:{old_firm_a}"
        assert ajera_fields(engine, "contact", a_key)["title"] != "Moved Along"
    else:
        assert engine.crm.get("contact", c_key)["ClientID"] == old_firm_c
    again = sync(engine, CONTACTS)
    assert not notes(engine, again.run_id, "contact", c_key) and pending(again, "contact") >= 1

    # Room under a higher cap: the move goes through.
    sync(engine, CONTACTS, contact_cap=6)
    assert ajera_fields(engine, "contact", a_key)["firm"] == f"a:{full_a}"
    assert engine.crm.get("contact", c_key)["ClientID"] == full_c


# ------------------------------------------------------- a contact moved in Ajera to a firm not synced


def test_a_contact_moved_in_ajera_to_an_unsynced_firm_is_logged_not_left_at_the_old_firm(engine: Engine) -> None:
    sync(engine, CONTACTS)
    a_key, c_key, _ = contact_in_a_firm(engine)
    # A firm that cannot be synced yet: its name matches two CRM firms, so it is ambiguous (never linked).
    name = "Umberholt Land Trust"
    twins = [new_crm_firm(engine, name, flagged=False) for _ in range(2)]
    unsynced = ajera_create(engine, "firm", name=name, status="active")
    ajera_edit(engine, "contact", a_key, firm=f"a:{unsynced}")

    run = sync(engine, CONTACTS).run_id
    assert unsynced not in pairs(engine, "firm")
    assert engine.crm.get("contact", c_key)["ClientID"] == ""  # not left pointing at the old firm
    [note] = rows(engine, run, "contact", action="skipped", key=c_key)
    assert "not synced to the CRM" in note.message and unsynced in note.message

    # Once the firm is synced (the duplicate resolved), the contact follows it.
    assert engine.crm.delete("firm", twins[1])
    sync(engine, CONTACTS, deletion_sweep_hours=0)  # the sweep that sees the twin gone, due at every run
    assert pairs(engine, "firm")[unsynced] == twins[0]
    assert engine.crm.get("contact", c_key)["ClientID"] == twins[0]


# ----------------------------------------------------- a flagged CRM contact whose firm is not synced


def test_a_flagged_crm_contact_waits_for_its_firm(engine: Engine) -> None:
    sync(engine, CONTACTS)
    firm_c = new_crm_firm(engine, "Waitwell Heritage Builders", flagged=False)
    contact_c = engine.crm.create("contact", {"FirstName": "Philippa", "LastName": "Waitwell", "ClientID": firm_c,
                                              "AjeraSync": "Y"})["ContactID"]

    first = sync(engine, CONTACTS)
    assert contact_c not in pairs(engine, "contact").values()  # not created in Ajera with no firm
    [row] = notes(engine, first.run_id, "contact", contact_c)
    assert row.action == "skipped" and "waiting for its firm" in row.message
    again = sync(engine, CONTACTS)
    assert not notes(engine, again.run_id, "contact", contact_c) and pending(again, "contact") >= 1

    engine.crm.update("firm", firm_c, {"AjeraSync": "Y"})
    sync(engine, CONTACTS)
    firm_a = {c: a for a, c in pairs(engine, "firm").items()}[firm_c]
    contact_a = {c: a for a, c in pairs(engine, "contact").items()}[contact_c]
    assert ajera_fields(engine, "contact", contact_a)["firm"] == f"a:{firm_a}"


# ------------------------------------------------------------------ long-named projects and Ajera's 80


def _long_named_project(engine: Engine) -> tuple[str, str, dict[str, Any]]:
    for a_key, c_key in sorted(pairs(engine, "project").items()):
        crm = engine.crm.get("project", c_key)
        if len(crm["LongName"] or "") > 40:
            return a_key, c_key, crm
    raise AssertionError("no synced project with a long name")


def test_an_edit_of_a_long_named_projects_short_name_is_logged_not_dropped(engine: Engine) -> None:
    sync(engine, PROJECTS)
    a_key, c_key, crm = _long_named_project(engine)
    engine.crm.update("project", c_key, {"Name": "Riverside Short Title"})

    run = sync(engine, PROJECTS).run_id
    [row] = notes(engine, run, "project", c_key)
    assert row.action == "skipped" and "'Riverside Short Title'" in row.message and "LongName" in row.message
    assert ajera_fields(engine, "project", a_key)["description"] == crm["LongName"]
    again = sync(engine, PROJECTS)
    assert not notes(engine, again.run_id, "project", c_key) and pending(again, "project") >= 1


def _crm_project(engine: Engine, wbs1: str, long_name: str, template: str) -> None:
    firm_c = sorted(pairs(engine, "firm").values())[0]
    engine.crm.create("project", {"WBS1": wbs1, "Name": long_name[:40], "LongName": long_name, "ClientID": firm_c,
                                  "AjeraSync": "Y", "ProjectTemplate": template, "StartDate": "2026-03-02"})


def test_a_crm_long_name_over_80_is_quarantined_once_not_retried(engine: Engine) -> None:
    sync(engine, PROJECTS)
    template = str(engine.ajera.list_project_templates()[0]["ProjectTemplateKey"])
    long_name = "Northgate Regional Transit Hub - Platform Canopies, Concourse Retrofit & Wayfinding Phase II"
    assert len(long_name) > 80
    _crm_project(engine, "2026900.00", long_name, template)

    first = sync(engine, PROJECTS)
    quarantined = [q for q in engine.db.rows("quarantine_for_run", {"run_id": first.run_id})
                   if q.record_key == "2026900.00"]
    assert len(quarantined) == 1 and "over Ajera's limit of 80" in quarantined[0].reason
    assert "2026900.00" not in pairs(engine, "project").values()
    assert not [r for r in rows(engine, first.run_id, "project", key="2026900.00") if r.action != "error"]
    rt = record_types.get("project")
    assert all(long_name[:40] not in rt.ajera_name(p) for p in engine.ajera.list(rt.ajera_entity))

    again = sync(engine, PROJECTS)
    assert not engine.db.rows("quarantine_for_run", {"run_id": again.run_id})  # not again, nor retried
    assert not notes(engine, again.run_id, "project", "2026900.00") and pending(again, "project") >= 1

    engine.crm.update("project", "2026900.00", {"LongName": long_name[:80].rstrip()})
    sync(engine, PROJECTS)
    assert "2026900.00" in pairs(engine, "project").values()


def test_a_repeating_non_write_error_is_reported_once_then_pending(engine: Engine) -> None:
    sync(engine, PROJECTS)
    _crm_project(engine, "2026901.00", "Templateless Pavilion", template="")

    first = sync(engine, PROJECTS)
    [row] = notes(engine, first.run_id, "project", "2026901.00")
    assert row.action == "error" and "no Ajera Project Template" in row.message
    for _ in range(2):
        again = sync(engine, PROJECTS)
        assert not notes(engine, again.run_id, "project", "2026901.00")
        assert pending(again, "project") >= 1 and again.counts["project"].get("in error", 0) == 0

    template = str(engine.ajera.list_project_templates()[0]["ProjectTemplateKey"])
    engine.crm.update("project", "2026901.00", {"ProjectTemplate": template})
    fixed = sync(engine, PROJECTS)
    assert "2026901.00" in pairs(engine, "project").values()
    assert rows(engine, fixed.run_id, "project", action="created", key="2026901.00")
    assert all(n.crm_key != "2026901.00" for n in engine.db.rows("select_pending_notes", {"record_type": "project"}))
