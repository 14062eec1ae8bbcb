"""A first sync's Ajera reads for the types that refer to others, done at the run's start.

A contact's extract converts its firm reference through the firm mappings, and a project's its client and
manager, so those extracts wait for the firms and employees to finish. On a first sync that is minutes of CRM
writes (10k firms at size M), while every contact and project is still to be read from Ajera, the scarce
resource (about 9 calls a second). This step reads them meanwhile: the same list calls the extract's sweep
makes and a Get of every listed key, kept in ``extract_read_ahead``. The extract then takes its Ajera answers
from there (``Replay``) and converts them with the mappings as they are by then.

So reading ahead changes when Ajera is asked, never what is staged from an answer. An answer read earlier is
older, and that is safe: the watermark moves to the newest modified date among the records read, so an edit
made after the read is newer and the next run reads it; a write to Ajera sends the record as read as its
baseline, and Ajera refuses it if the record changed since (the write is retried next run, from a new read).
The reads stay one list-then-get sequence, as the extract's own are: a retried step starts over, and the
extract uses the answers only when the whole sequence was kept (``DONE``), else it reads everything itself.

Only a first sync reads ahead: it reads every record in full whatever the sync database holds, so what to read
is known at the start. A later run reads what changed since the watermark plus records chosen by what the
types before it did in the same run (the contacts of a firm linked in this run); its reads are few.
"""

from __future__ import annotations

import builtins
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from include.clients.ajera import DEFAULT_CHUNK, GET_CHUNK
from include.clients.errors import ApiError
from include.clients.http import Rows, chunks
from include.sync import lock
from include.sync.db import SyncDatabase
from include.sync.read_ahead import ReadAhead
from include.sync.record_types import RecordType
from include.sync.staging import is_first_sync
from include.sync.systems import AjeraApi, AjeraSide

log = logging.getLogger(__name__)

DONE = "done"  # the request of the row saying every read of the sequence is kept
KEEP_EVERY = 500  # records per commit: the bookkeeping stays off the rate-limited reads' path


@dataclass(frozen=True)
class AheadResult:
    record_type: str
    listed: int  # keys the sweep listed
    read: int  # records read whole
    kept: bool  # False: nothing for the extract to use (not a first sync, or the reading stopped)
    note: str = ""


def read_ahead(db: SyncDatabase, ajera: AjeraApi, rt: RecordType, run_id: str) -> AheadResult:
    """Read and keep what the type's first-sync extract will ask Ajera. An Ajera refusal or outage stops the
    reading and leaves it all to the extract (logged), so this step never holds the type back."""
    lock.hold(db, run_id)
    if not is_first_sync(db, rt):
        return AheadResult(rt.name, 0, 0, False, "not a first sync: the extract reads what changed")
    forget(db, rt, run_id)  # a retry starts over
    recorder = _Recorder(db, run_id, rt, ajera)
    try:
        swept = AjeraSide(recorder).sweep(rt)  # as the extract's first sweep; its conversions are not used
        keys = list(dict.fromkeys(r.key for r in swept if r.raw is None and not r.problem))
        recorder.read_whole(keys)
    except ApiError as exc:
        log.warning("reading %s ahead stopped (the extract reads them itself): %s", rt.name, exc)
        return AheadResult(rt.name, 0, 0, False, f"stopped: {exc}")
    recorder.keep(DONE, {"": None})
    log.info("read ahead for the %s extract: %d listed, %d read whole", rt.name, len(swept), len(keys))
    return AheadResult(rt.name, len(swept), len(keys), True)


def _list_request(entity: str, filters: dict[str, Any]) -> str:
    return f"List{entity} {json.dumps(filters, sort_keys=True, default=str)}"


class _Recorder:
    """The Ajera client for the reading ahead: its list and get answers are kept as they come."""

    def __init__(self, db: SyncDatabase, run_id: str, rt: RecordType, client: AjeraApi) -> None:
        self.db, self.run_id, self.rt, self.client = db, run_id, rt, client

    @property
    def calls(self) -> int:
        return self.client.calls

    def keep(self, request: str, answers: dict[str, Any]) -> None:
        if answers:
            with self.db.begin() as tx:
                tx.execute("insert_extract_ahead", [
                    {"run_id": self.run_id, "record_type": self.rt.name, "request": request, "record_key": key,
                     "answer": json.dumps(answer, default=str)} for key, answer in answers.items()])

    def list(self, entity: str, **filters: Any) -> Rows:
        rows = self.client.list(entity, **filters)
        self.keep(_list_request(entity, filters), {"": rows})
        return rows

    def get(self, entity: str, keys: Sequence[Any]) -> Rows:
        rows = self.client.get(entity, keys)
        self._keep_records(entity, keys, rows)
        return rows

    def read_whole(self, keys: Sequence[str]) -> None:
        """Get every key, a few calls in flight (an answer takes longer than the limit's spacing)."""
        entity = self.rt.ajera_entity
        size = GET_CHUNK.get(entity, DEFAULT_CHUNK)
        waiting: builtins.list[tuple[Sequence[str], Rows]] = []
        with ReadAhead(lambda chunk: self.client.get(entity, [int(k) for k in chunk]), chunks(keys, size)) as reads:
            for chunk, answer in reads:
                waiting.append((chunk, answer.result()))
                if len(waiting) * size >= KEEP_EVERY:
                    self._keep_all(entity, waiting)
        self._keep_all(entity, waiting)

    def _keep_all(self, entity: str, waiting: builtins.list[tuple[Sequence[str], Rows]]) -> None:
        self._keep_records(entity, [k for chunk, _ in waiting for k in chunk], [r for _, rows in waiting for r in rows])
        waiting.clear()

    def _keep_records(self, entity: str, keys: Iterable[Any], rows: Rows) -> None:
        answers: dict[str, Any] = {str(k): None for k in keys}  # asked for, not returned: gone since the list
        answers.update({str(r.get(self.rt.ajera_key)): r for r in rows})
        self.keep(f"Get{entity}", answers)

    def get_project_templates(self, keys: Iterable[int]) -> Rows:
        return self.client.get_project_templates(keys)

    def update(self, entity: str, updated: Rows, unchanged: Rows, single_transaction: bool = False) -> Any:
        raise TypeError("reading ahead never writes")


def forget(db: SyncDatabase, rt: RecordType, run_id: str) -> None:
    """Drop the type's answers: once the extract staged them (a retried extract reads for itself), and before a
    retried reading starts over."""
    db.execute("clear_extract_ahead", {"run_id": run_id, "record_type": rt.name})


class Replay:
    """The Ajera client for an extract: list and get answered from the reading ahead when the whole sequence
    was kept; anything else (a key not read ahead, any other call) goes to Ajera."""

    def __init__(self, db: SyncDatabase, run_id: str, rt: RecordType, client: AjeraApi) -> None:
        self.client = client
        rows = db.rows("select_extract_ahead", {"run_id": run_id, "record_type": rt.name})
        kept = any(r.request == DONE for r in rows)
        self._answers: dict[tuple[str, str], str] = {(r.request, r.record_key): r.answer for r in rows} if kept else {}

    @property
    def calls(self) -> int:
        return self.client.calls

    def list(self, entity: str, **filters: Any) -> Rows:
        kept = self._answers.pop((_list_request(entity, filters), ""), None)
        return json.loads(kept) if kept is not None else self.client.list(entity, **filters)

    def get(self, entity: str, keys: Sequence[Any]) -> Rows:
        rows: Rows = []
        missing: builtins.list[Any] = []
        for key in keys:
            kept = self._answers.pop((f"Get{entity}", str(key)), None)
            if kept is None:
                missing.append(key)
            elif kept != "null":
                rows.append(json.loads(kept))
        return rows + (self.client.get(entity, missing) if missing else [])

    def get_project_templates(self, keys: Iterable[int]) -> Rows:
        return self.client.get_project_templates(keys)

    def update(self, entity: str, updated: Rows, unchanged: Rows, single_transaction: bool = False) -> Any:
        return self.client.update(entity, updated, unchanged, single_transaction)
