"""What the check prints about the run: its tasks, the other runs, task errors and the sync database's log."""

from __future__ import annotations

import re
from typing import Any

from .processes import Processes


def print_run(run_id: str, state: str, tis: list[dict[str, Any]], others: dict[str, str]) -> None:
    print(f"\nDAG run {run_id}: {state.upper()}")
    for ti in sorted(tis, key=lambda t: (t["start_date"] or "", t["task_id"], t["map_index"])):
        index = f"[{ti['map_index']}]" if ti["map_index"] >= 0 else ""
        print(f"  {ti['task_id'] + index:45} {ti['state']!s:16} try {ti['try_number']}")
    print()
    for other, other_state in others.items():
        print(f"other run {other}: {other_state}")


def print_task_errors(procs: Processes, limit: int = 3) -> None:
    log = procs.logs / "airflow-scheduler.log"  # LocalExecutor: task output lands in the scheduler's log
    lines = [ln for ln in log.read_text(errors="replace").splitlines() if "Task failed with exception" in ln]
    for line in lines[:limit]:
        match = re.search(r"'exc_type': '([^']*)', 'exc_value': ([\"'])(.*?)\2, 'exc_notes'", line)
        task = re.search(r"task_id=(\S+)", line)
        what = f"{match.group(1)}: {match.group(3)[:600]}" if match else line[:600]
        print(f"task error ({task.group(1) if task else '?'}): {what}")


def report_sync_log(url: str, run_id: str) -> None:
    """The run's integration log summary, read from the sync database the compose file configures."""
    try:
        from include.sync.db import SyncDatabase

        db = SyncDatabase(url)
        try:
            counts = db.rows("log_counts", {"run_id": run_id})
            rows = db.rows("log_for_run", {"run_id": run_id})
        finally:
            db.dispose()
        print("sync database: " + (", ".join(f"{t}/{d}/{a}={n}" for t, d, a, n in counts) or "no log counts"))
        last = [r.message for r in rows if getattr(r, "message", None)][-1:]
        print(f"sync database: last log message: {last[0] if last else '-'}\n")
    except Exception as exc:  # informative only; the run state decides
        print(f"sync database: could not read the log ({exc})\n")
