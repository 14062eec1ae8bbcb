#!/usr/bin/env python
"""Check docker-compose.yaml without Docker: run the same Airflow components, locally, with its settings.

The command of the ``scripts/compose_check`` package (its docstring says what the check does):
    python scripts/check_compose.py [--metadata-db-url postgresql://postgres@127.0.0.1:5432/ | sqlite:///F]
                                    [--timeout 300] [--wait-retries] [--keep]
Exit status 0 only when the run succeeded.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main() -> int:
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:  # run as a script, only scripts/ is on the path
        sys.path.insert(0, root)
    from scripts.compose_check.cli import main as check_compose

    return check_compose()


if __name__ == "__main__":
    sys.exit(main())
