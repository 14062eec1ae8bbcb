"""Which flagged records a run leaves to the picture because they are held only for a person's review of a
match suggestion (``extract._Wanted``): unmapped, a suggestion still proposed, none accepted or linked, and no
other reason to wait."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from include.sync.db import SyncDatabase
from include.sync.extract import _Wanted
from include.sync.plan_model import HELD_FOR_REVIEW
from include.sync.record_types import CONTACT

NOW = "2026-01-05T12:00:00.000000+00:00"


def _suggest(db: SyncDatabase, ajera_key: str, crm_key: str, status: str = "proposed") -> None:
    db.execute("upsert_suggestion", {"record_type": "contact", "ajera_key": ajera_key, "crm_key": crm_key,
                                     "ajera_name": "A", "crm_name": "C", "score": 95.0, "method": "fuzzy",
                                     "run_id": "r1", "now": NOW})
    if status != "proposed":
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"UPDATE match_suggestion SET status = '{status}' WHERE ajera_key = '{ajera_key}' "
                                 f"AND crm_key = '{crm_key}'")


def _note(db: SyncDatabase, ajera_key: str, message: str) -> None:
    db.execute("insert_pending_note", {"record_type": "contact", "ajera_key": ajera_key, "crm_key": "",
                                       "action": "skipped", "message": message, "run_id": "r1", "now": NOW})


def test_only_a_record_waiting_for_nothing_but_a_review_is_held(sync_db: SyncDatabase) -> None:
    sync_db.execute("insert_mapping", {"record_type": "contact", "ajera_key": "A1", "crm_key": "C1",
                                       "match_method": "suggestion", "ajera_modified": None, "crm_modified": None,
                                       "ajera_hash": None, "crm_hash": None, "ajera_fields": None,
                                       "crm_fields": None, "run_id": "r1", "now": NOW, "synced_at": None})
    _suggest(sync_db, "A1", "C2")  # linked to another: a sibling suggestion left proposed
    _note(sync_db, "A1", "not synced: its firm already has 5 synced contacts")
    _suggest(sync_db, "A2", "C3")  # held
    _note(sync_db, "A2", HELD_FOR_REVIEW)
    _suggest(sync_db, "A3", "C4")  # waits for room under the cap as well
    _note(sync_db, "A3", HELD_FOR_REVIEW)
    _note(sync_db, "A3", "not synced: its firm already has 5 synced contacts")
    _suggest(sync_db, "A4", "C5")  # one of its suggestions was accepted: the next run links it
    _suggest(sync_db, "A4", "C6", status="accepted")
    _suggest(sync_db, "A5", "C7")  # another was rejected: still held by the one left
    _suggest(sync_db, "A5", "C8", status="rejected")

    side: Any = object()
    wants = _Wanted(sync_db, side, CONTACT, "ajera", False, datetime(2026, 1, 5, tzinfo=UTC), None)
    assert wants.held == {"A2", "A5"}
    assert wants.waiting == {"A1", "A3"}
