"""Where the reading ahead keeps its answers for the children step (``ajera_read_ahead``), and how that step
takes them while the reading goes on: each part (timesheets, resources, totals) is marked done when read, and
the step waits for a part, or an answer, only while the reading makes progress."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import Any, cast

from include.sync.db import SyncDatabase
from include.sync.project_children.context import ChildContext

TOTALS = "GetProjectTotals"
RESOURCES = "GetProjectsWithResources"
# Rows of method DONE say a part of the reading is over (its key names the part), so the children step,
# which runs meanwhile, knows when to stop waiting for it.
DONE = "done"
TIMESHEETS = "timesheets"
PATIENCE_S = 30.0  # the children stop waiting for the reading ahead when it stored nothing for this long
POLL_S = 0.5


def stored(db: SyncDatabase, run_id: str, method: str) -> dict[str, list[dict[str, Any]]]:
    """The answers read ahead in this run: Ajera project key -> the answer's rows for it."""
    return {r.ajera_key: json.loads(r.answer) for r in db.rows("select_read_ahead",
                                                                {"run_id": run_id, "method": method})}


def keep(ctx: ChildContext, method: str, answers: dict[str, list[dict[str, Any]]]) -> None:
    """Keep answers read ahead (and empties the dict): one transaction."""
    if answers:
        with ctx.db.begin() as tx:
            tx.execute("insert_read_ahead", [{"run_id": ctx.run_id, "method": method, "ajera_key": key,
                                              "answer": json.dumps(rows)} for key, rows in answers.items()])
        answers.clear()


class Arrivals:
    """The children step's view of the reading ahead, while it goes on: wait for a part, or for one answer."""

    def __init__(self, db: SyncDatabase, run_id: str, patience_s: float = PATIENCE_S) -> None:
        self.db, self.run_id, self.patience_s = db, run_id, patience_s
        self._seen, self._since = -1, time.monotonic()

    def wait_for(self, part: str) -> bool:
        """True once ``part`` is read; False when the reading ahead stored nothing for the patience (it is not
        running, or stopped): the caller then reads for itself."""
        while part not in stored(self.db, self.run_id, DONE):
            if not self._progressing():
                return False
            time.sleep(POLL_S)
        return True

    def answer(self, method: str, key: str) -> list[dict[str, Any]] | None:
        """The answer kept for ``key``, waiting while it may still come; None when it will not."""
        while True:
            found = self.db.scalar("read_ahead_answer", {"run_id": self.run_id, "method": method, "ajera_key": key})
            if found is not None:
                return cast(list[dict[str, Any]], json.loads(found))
            if method in stored(self.db, self.run_id, DONE) or not self._progressing():
                return None
            time.sleep(POLL_S)

    def _progressing(self) -> bool:
        count = int(self.db.scalar("count_read_ahead", {"run_id": self.run_id}) or 0)
        now = time.monotonic()
        if count != self._seen:
            self._seen, self._since = count, now
        return now - self._since < self.patience_s


class Streamed:
    """``(key, answer)`` for each key in order, as ``ReadAhead`` gives them, from what the reading ahead keeps
    (waiting for it while it goes on) or, for a key it will not keep, from ``read``. The database is only
    touched on the caller's thread (an in-memory SQLite database is one per thread)."""

    def __init__(self, arrivals: Arrivals, method: str, keys: Iterable[str],
                 read: Callable[[str], list[dict[str, Any]]]) -> None:
        self.arrivals, self.method, self.keys, self.read = arrivals, method, keys, read

    def __enter__(self) -> Streamed:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __iter__(self) -> Iterator[tuple[str, Future[list[dict[str, Any]]]]]:
        for key in self.keys:
            answer: Future[list[dict[str, Any]]] = Future()
            try:
                kept = self.arrivals.answer(self.method, key)
                answer.set_result(kept if kept is not None else self.read(key))
            except Exception as exc:  # raised where the answer is taken, as ReadAhead does
                answer.set_exception(exc)
            yield key, answer
