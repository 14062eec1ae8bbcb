"""Airflow-facing pieces of the Ajera-CRM sync (hooks, task callables, notifiers, listeners).

The sync logic is the ``include`` package at the project root, beside the ``plugins`` and ``dags`` folders.
Airflow puts the plugins and dags folders on ``sys.path`` in every component (scheduler, workers, DAG
processor, API server) but not their parent, so importing this package adds the project root: the
deployment needs no hand-set PYTHONPATH. Every module here imports ``ajera_crm`` before ``include``.
"""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

if (PROJECT_ROOT / "include" / "__init__.py").is_file() and str(PROJECT_ROOT) not in sys.path:
    sys.path.append(str(PROJECT_ROOT))
