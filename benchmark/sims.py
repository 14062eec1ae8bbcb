"""Where the benchmark runs from, and both simulators for a pass in one child process (so they share neither
the sync's GIL nor its memory), through the simulator harness."""

from __future__ import annotations

import os
from pathlib import Path

from simulators import harness

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 600.0  # seconds for the simulators to generate their world (L is large) and answer


def pythonpath() -> str:
    return os.pathsep.join([str(ROOT), str(ROOT / "plugins")])


def start_simulators(seed: int, sizes: dict[str, int], workdir: Path, label: str) -> harness.Simulators:
    return harness.spawn(workdir, f"sim-{label}", seed, sizes, timeout=START_TIMEOUT)
