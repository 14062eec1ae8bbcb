"""The command line: ``python scripts/check_compose.py [options]`` or ``python -m scripts.compose_check``."""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType

from . import __doc__ as package_doc
from .check import check
from .common import DEFAULT_PG, ROOT, CheckFailed, say


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(package_doc or "").split("\n\n")[0])
    parser.add_argument("--metadata-db-url", default=DEFAULT_PG,
                        help="local PostgreSQL server (throw-away compose_check_* databases are created on it) "
                             f"or a SQLite URL for the metadata DB (default {DEFAULT_PG})")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the DAG run (default 300)")
    parser.add_argument("--wait-retries", action="store_true",
                        help="wait through task retries instead of failing at the first one")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, AIRFLOW_HOME) on success")
    return parser


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Unwinds through check()'s cleanup, which stops the Airflow components it started in their own sessions:
    # a caller that gives up on the check (a test's timeout) leaves no scheduler or API server behind.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the cleanup short
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    if str(ROOT) not in sys.path:  # the simulators and the sync database's code are imported from the project
        sys.path.insert(0, str(ROOT))
    try:
        return check(args)
    except CheckFailed as exc:  # before anything started
        say(f"FAIL: {exc}")
        return 1
