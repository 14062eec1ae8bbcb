"""What the children steps share: the database, both clients, the run, and the mappings they need."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from include.clients.errors import AmbiguousWriteError, ApiError, AuthenticationError, TransientApiError
from include.sync import journal
from include.sync.db import SyncDatabase
from include.sync.enums import Direction, LogAction
from include.sync.plan_model import Note
from include.sync.runs import RunOptions

# Failures the task retry deals with (with back-off; a lost answer is looked up before writing again);
# any other API error is this record's problem: logged, and the rest go on.
RETRY_TASK = (TransientApiError, AuthenticationError, AmbiguousWriteError)
# Each child logs under its own name (with the project's keys), so a project's own log rows stay its own.
ACCOUNTING, TEAM, CONSULTANTS = "project_accounting", "project_team", "project_consultant"
CONTACTS = "project_contact"
T = TypeVar("T")
STEP = "project_children"  # the step's own log rows: 'completed' when it finished (the run summary needs it)


@dataclass
class ChildContext:
    db: SyncDatabase
    ajera: Any  # AjeraClient
    crm: Any  # VantagepointClient
    run_id: str
    options: RunOptions
    counts: Counter[str] = field(default_factory=Counter)
    # Version 1 Ajera projects read by an earlier child this run (Ajera key -> project), so a later child
    # reuses them (their Contacts[]) instead of calling Ajera again.
    ajera_projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    # What waits (a contact or an employee not synced yet), per child: told once, when the child is done.
    waiting: dict[str, list[Note]] = field(default_factory=dict)

    def pairs(self, record_type: str) -> dict[str, str]:
        """Ajera key -> CRM key of a record type's mappings (read fresh: earlier steps add to them)."""
        return {r.ajera_key: r.crm_key for r in self.db.rows("select_mapping_keys", {"record_type": record_type})}

    def ajera_fields(self, record_type: str) -> dict[str, dict[str, Any]]:
        """Ajera key -> the Ajera fields as last synced, of a record type's mappings (only those are parsed)."""
        return {r.ajera_key: json.loads(r.ajera_fields or "{}") or {}
                for r in self.db.rows("select_mapping_ajera_fields", {"record_type": record_type})}

    def log(self, child: str, action: LogAction, message: str, *, ajera_key: str | None = None,
            crm_key: str | None = None, name: str | None = None,
            direction: Direction = Direction.AJERA_TO_CRM) -> None:
        with self.db.begin() as tx:
            journal.log(tx, self.run_id, child, action, message, direction=direction,
                        ajera_key=ajera_key, crm_key=crm_key, name=name)

    def wait(self, child: str, message: str, *, ajera_key: str, crm_key: str) -> None:
        """Note that something of a project waits; :meth:`tell_waiting` logs it unless an earlier run did."""
        self.waiting.setdefault(child, []).append(
            Note(LogAction.SKIPPED, Direction.AJERA_TO_CRM, message, None, ajera_key, crm_key))

    def tell_waiting(self, child: str) -> None:
        """Log what waits that an earlier run has not told, in one transaction (at M a run has thousands): a
        child looks at every project each run, so what it no longer raises has stopped waiting."""
        with self.db.begin() as tx:
            journal.notes(tx, self.run_id, child, self.waiting.pop(child, []), dry_run=False, settle=True)

    def attempt(self, child: str, what: str, call: Callable[[], T], *, ajera_key: str,
                crm_key: str) -> tuple[bool, T | None]:
        """One project's API call: (True, its answer), or (False, None) when the system refused it, which is
        logged as that project's error so the caller goes on with the next one. Failures the task retry deals
        with (``RETRY_TASK``) are raised."""
        try:
            return True, call()
        except RETRY_TASK:
            raise
        except ApiError as exc:
            self.log(child, LogAction.ERROR, f"{what}: {exc}", ajera_key=ajera_key, crm_key=crm_key)
            return False, None
