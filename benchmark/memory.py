"""Peak resident memory per measured stretch (Linux: reset the high-water mark, then read it)."""

from __future__ import annotations

import resource
import sys
from pathlib import Path


def reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # resets VmHWM to the current RSS
        return True
    except OSError:
        return False


def status_mib(field_name: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_mib() -> float:
    """VmHWM since the last reset, else the process's lifetime maximum."""
    value = status_mib("VmHWM")
    if value is not None:
        return value
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def rss_mib() -> float:
    return status_mib("VmRSS") or 0.0
