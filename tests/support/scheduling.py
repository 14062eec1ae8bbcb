"""How ``make test`` spreads tests over its two xdist workers: one at a time for whole Airflow clusters.

Most tests wait on simulators, HTTP and Airflow subprocesses, so two workers nearly halve the wall time on
two cores. The tests below each start a whole Airflow cluster (API server, scheduler, and more); two at once
on two cores starve each other past their waits, so they form one scope that one worker runs in turn while
the other worker takes everything else. (pytest-xdist's own ``xdist_group`` mark does not take effect under
pytest 9: it rewrites a node id attribute that pytest no longer reads.)
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadScopeScheduling

CLUSTER_TESTS = (
    "tests/integration/test_backfill.py::",
    "tests/ui/",
    "tests/test_compose.py::test_the_compose_components_run_the_sync",
)


class ClusterTestsInTurn(LoadScopeScheduling):
    """Every test is its own unit of work (as with ``--dist load``), but the cluster tests are one unit."""

    def _split_scope(self, nodeid: str) -> str:
        return "airflow-cluster" if nodeid.startswith(CLUSTER_TESTS) else nodeid


def make_scheduler(config: Any, log: Any) -> ClusterTestsInTurn:
    return ClusterTestsInTurn(config, log)
