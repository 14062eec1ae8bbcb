"""scripts/benchmark.py runs end to end on a tiny world and writes its figures.

Only that the figures exist and are positive is checked: speed is reported by the benchmark, never
asserted in a test (no timed tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_quick_writes_positive_figures(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "plugins")]))
    env.pop("SYNC_DATABASE_URL", None)
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "benchmark.py"), "--quick", "--json", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    assert "sync/bare" in done.stdout and "linearity" in done.stdout

    figures = json.loads(out.read_text())
    runs = figures["runs"]
    assert [r["run"] for r in runs] == ["run 1 first-time", "run 2 incremental", "run 3 quiet"]
    for run in runs:
        assert run["records"] > 0 and run["records"] == run["records_ajera"] + run["records_crm"]
        assert run["records_per_second"] > 0
        assert run["calls_per_record"] > 0
        assert run["calls_ajera"] > 0 and run["calls_crm"] > 0
        # the clients' own counts agree with what the simulators counted
        assert (run["calls_ajera"], run["calls_crm"]) == (run["sim_calls_ajera"], run["sim_calls_crm"])
        assert run["ru_maxrss_mib"] > 0
        assert run["peak_rss_mib"] is None or run["peak_rss_mib"] > 0
        assert run["bare_seconds"] > 0 and run["bare_ratio"] > 0
        assert run["replay_calls"] == run["calls"]
