"""One sync run in a child process, optionally killed (SIGKILL, by itself) at its N-th API write.

``python -m tests.reliability.sync_child '<json spec>'``: spec has the sync database URL, both simulator
URLs, the run id, ``kill_at`` (0: never) and ``kill_when`` ("before": the write is never sent; "after":
it is done but nothing after it is), and run options. Prints ``{"writes": n, "completed": bool}`` at the end.
A write is any call that changes a system: an Ajera Update/Create call, a CRM POST or PUT.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from include.clients.ajera import AjeraClient
from include.clients.http import RetryPolicy
from include.clients.vantagepoint import VantagepointClient
from include.sync.db import SyncDatabase
from include.sync.runner import run_sync
from include.sync.runs import RunOptions
from simulators.harness import AJERA_LOGIN, CRM_LOGIN

WRITES = [(AjeraClient, "update"), (AjeraClient, "create_project"), (VantagepointClient, "create"),
          (VantagepointClient, "update")]


def main(spec: dict[str, Any]) -> None:
    count = 0
    numbering = threading.Lock()
    kill_at, kill_when = int(spec["kill_at"]), spec["kill_when"]
    points: list[str] = []

    def counted(method: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            nonlocal count
            with numbering:  # the runner writes from several threads: each write keeps its own number
                count += 1
                mine = count
            target = args[1] if len(args) > 1 and isinstance(args[1], str) else "Projects"
            points.append(f"{'Ajera' if isinstance(args[0], AjeraClient) else 'CRM'} {method.__name__} {target}")
            if mine == kill_at and kill_when == "before":
                os.kill(os.getpid(), signal.SIGKILL)
            result = method(*args, **kwargs)
            if mine == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return result
        return wrapper

    for cls, name in WRITES:
        setattr(cls, name, counted(getattr(cls, name)))
    if os.environ.get("SYNC_CHILD_FAST_VALIDATION") == "1":
        from include.sync import expectations
        from tests.support.reliability import passing_suite

        expectations.check_records = passing_suite  # type: ignore[assignment]
    quick = RetryPolicy(attempts=3, base_delay=0.05)
    ajera = AjeraClient(spec["ajera_url"], *AJERA_LOGIN, retry=quick, rate_limit_rps=None, timeout=5)
    crm = VantagepointClient(spec["crm_url"], *CRM_LOGIN, retry=quick, timeout=5)
    db = SyncDatabase(spec["db_url"])
    options = spec.get("options") or {}
    if "record_types" in options:
        options["record_types"] = tuple(options["record_types"])
    summary = run_sync(db, ajera, crm, spec["run_id"], RunOptions(**options))
    print(json.dumps({"writes": count, "points": points, "completed": summary.completed}))
    ajera.close()
    crm.close()
    db.dispose()


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
