"""The decisions behind the rules users hit, as pure functions (planner, record-type notices, validation)
and as the journal's once-only logging on a real sync database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from include.sync import journal
from include.sync.enums import Direction, LogAction
from include.sync.model import Record
from include.sync.planner import MappingState, Note, default_options, plan_record_type
from include.sync.record_types import CONTACT, FIRM, PROJECT
from include.sync.validate import problems

UTC = UTC
T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
LATER = T0 + timedelta(hours=1)


def contact(system: str, key: str, firm: str, *, flagged: bool = True, modified: datetime = T0,
            title: str = "PM", full: bool = True, last: str | None = None) -> Record:
    last = last or f"Lee{key}"
    fields = {"first_name": "Ann", "middle_name": "", "last_name": last, "title": title, "email": "",
              "phone": "", "status": "active", "firm": firm}
    return Record(system, key, f"Ann {last}", modified, flagged, fields if full else {},  # type: ignore[arg-type]
                  raw=dict(fields) if full else None, content_hash=CONTACT.synced_hash(fields) if full else None,
                  group=firm or None)


def synced_pair(a: Record, c: Record) -> MappingState:
    return MappingState(a.key, c.key, a.modified, c.modified, a.content_hash, c.content_hash, dict(a.fields),
                        dict(c.fields))


def by_key(*records: Record) -> dict[str, Record]:
    return {r.key: r for r in records}


def notes(plan: Any, action: str | None = None) -> list[Note]:
    return [n for n in plan.notes if action is None or n.action == action]


# --- flags off on both sides --------------------------------------------------------------------------


def test_a_change_to_a_pair_flagged_on_neither_side_is_not_carried_and_is_told():
    a, c = contact("ajera", "1", "A:F", flagged=False), contact("crm", "C1", "A:F", flagged=False)
    mapping = synced_pair(a, c)
    edited = contact("ajera", "1", "A:F", flagged=False, title="Principal", modified=LATER)
    _, changes = plan_record_type(CONTACT, [mapping], by_key(edited), by_key(c))
    assert changes.actions == []
    [note] = notes(changes)
    assert note.action == "skipped" and "neither side" in note.message and (note.ajera_key, note.crm_key) == ("1", "C1")
    # Either flag on is enough.
    for a_flag, c_flag in ((True, False), (False, True)):
        a2 = contact("ajera", "1", "A:F", flagged=a_flag, title="Principal", modified=LATER)
        c2 = contact("crm", "C1", "A:F", flagged=c_flag)
        _, changes = plan_record_type(CONTACT, [mapping], by_key(a2), by_key(c2))
        assert [x.to_crm for x in changes.actions] == [{"title": "Principal"}]


def test_an_unchanged_pair_flagged_on_neither_side_says_nothing():
    a, c = contact("ajera", "1", "A:F", flagged=False), contact("crm", "C1", "A:F", flagged=False)
    _, changes = plan_record_type(CONTACT, [synced_pair(a, c)], by_key(a), by_key(c))
    assert changes.actions == [] and changes.notes == []


# --- the contact cap on moves -------------------------------------------------------------------------


def _firm_with(n: int, firm: str) -> tuple[list[MappingState], list[Record], list[Record]]:
    a_list = [contact("ajera", str(10 + i), firm) for i in range(n)]
    c_list = [contact("crm", f"C{10 + i}", firm) for i in range(n)]
    return [synced_pair(a, c) for a, c in zip(a_list, c_list)], a_list, c_list


def test_a_contact_moved_into_a_full_firm_is_held_back_whichever_side_moved_it():
    full, full_a, full_c = _firm_with(2, "A:FULL")
    a, c = contact("ajera", "1", "A:OLD"), contact("crm", "C1", "A:OLD")
    mapping = synced_pair(a, c)
    for moved_a, moved_c in ((contact("ajera", "1", "A:FULL", modified=LATER, title="x"), c),
                             (a, contact("crm", "C1", "A:FULL", modified=LATER, title="x"))):
        _, changes = plan_record_type(CONTACT, [*full, mapping], by_key(moved_a, *full_a), by_key(moved_c, *full_c),
                                      default_options(cap=2))
        assert changes.actions == []  # nothing of that record goes across while it is held
        [note] = notes(changes)
        assert note.action == "skipped" and note.message.startswith("held back") and note.crm_key == "C1"
        # With room, the move is carried.
        _, changes = plan_record_type(CONTACT, [*full, mapping], by_key(moved_a, *full_a), by_key(moved_c, *full_c),
                                      default_options(cap=3))
        [update] = changes.actions
        assert "firm" in {**update.to_crm, **update.to_ajera}


def test_moves_take_the_free_places_in_key_order_and_count_against_new_creates():
    full, full_a, full_c = _firm_with(1, "A:F")
    movers = []
    for key in ("2", "3"):
        a, c = contact("ajera", key, "A:OLD"), contact("crm", f"C{key}", "A:OLD")
        movers.append((synced_pair(a, c), contact("ajera", key, "A:F", modified=LATER), c))
    newcomer = contact("crm", "CNEW", "A:F")  # flagged, unmapped: would be created in Ajera
    ajera = by_key(*full_a, *(m[1] for m in movers))
    crm = by_key(*full_c, *(m[2] for m in movers), newcomer)
    _, changes = plan_record_type(CONTACT, [*full, *(m[0] for m in movers)], ajera, crm, default_options(cap=2))
    assert [(x.kind, x.ajera_key) for x in changes.actions] == [("update", "2")]
    held = [n.ajera_key for n in notes(changes) if n.message.startswith("held back")]
    assert held == ["3"]
    assert [n.crm_key for n in notes(changes, "skipped") if "synced contacts" in n.message
            and not n.message.startswith("held back")] == ["CNEW"]


# --- references to records not synced -----------------------------------------------------------------


def test_a_contact_moved_to_an_unsynced_firm_is_cleared_on_the_other_side_and_told():
    a, c = contact("ajera", "1", "A:OLD"), contact("crm", "C1", "A:OLD")
    mapping = synced_pair(a, c)
    moved = contact("ajera", "1", "a:77", modified=LATER)
    unread = Record("crm", "C1", "Ann LeeC1", T0, True)  # the CRM side was not read this run
    for other in (c, unread):
        _, changes = plan_record_type(CONTACT, [mapping], by_key(moved), by_key(other))
        [update] = changes.actions
        assert update.to_crm == {"firm": ""}
        [note] = notes(changes)
        assert "not synced to the CRM (77)" in note.message and "cleared" in note.message


def test_a_reference_the_other_side_keeps_to_its_own_unsynced_record_is_left_alone():
    a, c = contact("ajera", "1", "A:OLD"), contact("crm", "C1", "c:OWN")
    mapping = synced_pair(a, c)
    moved = contact("ajera", "1", "a:77", modified=LATER)
    _, changes = plan_record_type(CONTACT, [mapping], by_key(moved), by_key(c))
    assert all("firm" not in x.to_crm for x in changes.actions) and notes(changes) == []


def test_a_flagged_crm_contact_waits_for_its_firm_but_an_ajera_one_goes_across():
    crm_side = contact("crm", "C1", "c:UNSYNCED", last="Waitwell")
    ajera_side = contact("ajera", "1", "a:UNSYNCED", last="Goforth")
    other_mapping = synced_pair(contact("ajera", "9", "A:F"), contact("crm", "C9", "A:F"))
    _, changes = plan_record_type(CONTACT, [other_mapping], by_key(ajera_side, contact("ajera", "9", "A:F")),
                                  by_key(crm_side, contact("crm", "C9", "A:F")))
    assert [(x.kind, x.ajera_key, x.crm_key) for x in changes.actions] == [("create_in_crm", "1", None)]
    [note] = notes(changes)
    assert note.crm_key == "C1" and "waiting for its firm" in note.message and "UNSYNCED" in note.message


# --- long names -----------------------------------------------------------------------------------------


def _crm_project(name: str, long_name: str) -> Record:
    return PROJECT.from_crm({"WBS1": "P1", "Name": name, "LongName": long_name, "ModDate": "2026-01-10T12:00:00.000"})


def test_a_short_name_edit_of_a_long_named_project_is_noticed():
    long_name = "Riverside Community Center Expansion and Renovation Phase Two"
    assert PROJECT.notice(_crm_project(long_name[:40], long_name)) is None  # as the sync writes it
    assert PROJECT.notice(_crm_project(long_name[:40].strip() + " ", long_name)) is None
    notice = PROJECT.notice(_crm_project("Riverside CC", long_name))
    assert notice and "'Riverside CC'" in notice and "LongName" in notice
    assert PROJECT.notice(_crm_project("Anything", "Short Long Name")) is None  # short: Name is what matches


def test_the_short_name_notice_is_raised_for_a_read_pair_even_without_a_synced_change():
    long_name = "Riverside Community Center Expansion and Renovation Phase Two"
    a = PROJECT.from_ajera({"ProjectKey": 1, "Description": long_name, "SyncToCRM": True,
                            "LastModifiedDate": "2026-01-10 12:00:00.000 GMT+0000"})
    c = _crm_project(long_name[:40], long_name)
    mapping = synced_pair(a, c)
    edited = _crm_project("Riverside CC", long_name)
    _, changes = plan_record_type(PROJECT, [mapping], by_key(a), by_key(edited))
    assert changes.actions == [] and [n.crm_key for n in notes(changes, "skipped")] == ["P1"]


def test_a_crm_name_ajera_cannot_hold_is_a_problem_once_it_would_go_to_ajera():
    long_name = "N" * 90
    flagged = PROJECT.from_crm({"WBS1": "P1", "Name": "N" * 40, "LongName": long_name, "AjeraSync": "Y",
                                "ModDate": "2026-01-10T12:00:00.000"})
    [reason] = problems(PROJECT, flagged)
    assert "90 characters, over Ajera's limit of 80" in reason
    unflagged = PROJECT.from_crm({**flagged.raw, "AjeraSync": "N"})  # type: ignore[dict-item]
    assert problems(PROJECT, unflagged) == []
    assert problems(PROJECT, unflagged, mapped=True) == [reason]
    firm = FIRM.from_crm({"ClientID": "X", "Name": "F" * 85, "AjeraSync": "Y", "ModDate": "2026-01-10T12:00:00"})
    assert "over Ajera's limit of 80" in problems(FIRM, firm)[0]


# --- told once, then pending (journal on a real database) -----------------------------------------------


def _note(message: str = "waiting for its firm: ...", crm_key: str = "C1") -> Note:
    return Note(LogAction.SKIPPED, Direction.CRM_TO_AJERA, message, "Ann Lee", None, crm_key)


def _logged(db: Any, run_id: str) -> list[str]:
    return [r.message for r in db.rows("log_for_run", {"run_id": run_id})]


def _pending(db: Any, run_id: str) -> dict[str, int]:
    return dict(db.rows("pending_counts", {"run_id": run_id}))


def test_a_note_is_logged_once_then_counted_as_pending(sync_db: Any) -> None:
    def raise_notes(run_id: str, raised: list[Note], dry_run: bool = False, settle: bool = True) -> None:
        with sync_db.begin() as tx:
            journal.notes(tx, run_id, "contact", raised, dry_run, settle)

    raise_notes("r1", [_note()])
    assert _logged(sync_db, "r1") == ["waiting for its firm: ..."] and _pending(sync_db, "r1") == {}
    raise_notes("r1", [_note()])  # a retried task in the same run: not logged twice
    assert len(_logged(sync_db, "r1")) == 1
    raise_notes("r2", [_note(), _note("another reason", "C2")])
    assert _logged(sync_db, "r2") == ["another reason"] and _pending(sync_db, "r2") == {"contact": 1}
    raise_notes("r3", [_note("the reason changed")])  # a new reason is told; C2's note is gone
    assert _logged(sync_db, "r3") == ["the reason changed"]
    raise_notes("r4", [_note("another reason", "C2")])
    assert _logged(sync_db, "r4") == ["another reason"]  # it came back: told again
    raise_notes("r5", [_note("another reason", "C2")], dry_run=True)  # a dry run shows everything, keeps nothing
    assert _logged(sync_db, "r5") == ["another reason"]
    raise_notes("r6", [_note("another reason", "C2")])
    assert _logged(sync_db, "r6") == [] and _pending(sync_db, "r6") == {"contact": 1}
    # A note the first step of a run raised is not dropped by the last step, which does not raise it.
    raise_notes("r7", [_note("from matching", "C3")], settle=False)
    raise_notes("r7", [_note("another reason", "C2")])
    raise_notes("r8", [_note("from matching", "C3")], settle=False)
    assert _logged(sync_db, "r8") == []


def test_what_is_said_beside_a_held_record_s_note_is_told_with_it_once(sync_db: Any) -> None:
    beside = replace(_note("firm left out of the write to Ajera: CRM firm F1 does not exist"),
                     action=LogAction.REFERENCE_DROPPED, beside_held=True)
    for run_id in ("r1", "r2"):
        with sync_db.begin() as tx:
            journal.notes(tx, run_id, "contact", [_note(), beside], False, True)
    assert _logged(sync_db, "r1") == ["waiting for its firm: ...", beside.message] and _logged(sync_db, "r2") == []
    with sync_db.begin() as tx:  # the holding note changed: told again, with what is said beside it
        journal.notes(tx, "r3", "contact", [_note("the reason changed"), beside], False, True)
    assert _logged(sync_db, "r3") == ["the reason changed", beside.message]


def test_the_same_quarantine_is_reported_once(sync_db: Any) -> None:
    record = contact("crm", "C1", "A:F")
    for run_id in ("r1", "r2"):
        with sync_db.begin() as tx:
            journal.quarantine(tx, run_id, "contact", record, "the name is empty", "crm")
    assert len(sync_db.rows("quarantine_for_run", {"run_id": "r1"})) == 1
    assert sync_db.rows("quarantine_for_run", {"run_id": "r2"}) == [] and _logged(sync_db, "r2") == []
    with sync_db.begin() as tx:
        journal.quarantine(tx, "r3", "contact", record, "another problem", "crm")
    assert len(sync_db.rows("quarantine_for_run", {"run_id": "r3"})) == 1
