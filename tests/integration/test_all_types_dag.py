"""Every record type through Airflow: the trigger-form options (dry run, one-way) and a quiet re-run."""

from __future__ import annotations

import pytest

from include.sync.record_types import ORDER
from tests.support.backends import LAST
from tests.support.engine import Harness

pytestmark = pytest.mark.integration

WRITES = ("POST", "PUT", "DELETE")


def _state(dag_run: object) -> str:
    return str(getattr(dag_run, "state", "")).lower().rsplit(".", 1)[-1]


def _crm_writes(harness: Harness) -> int:
    return sum(n for name, n in harness.crm_sim.stats().items() if name.split(" ")[0] in WRITES
               and not name.startswith("POST /api/token") and "dvp" not in name)


def _ajera_writes(harness: Harness) -> int:
    stats = harness.ajera_sim.stats()
    return sum(n for name, n in stats.items() if name.startswith(("Update", "Create")) and name != "CreateAPISession")


# One of the longest Airflow runs of the suite: on the last backend only (tests/support/backends.py); every
# step's SQL runs on both backends in the other DAG tests.
@pytest.mark.parametrize("sync_db_url", LAST, indirect=True)
def test_dry_run_then_one_way_then_two_way_then_quiet(harness: Harness) -> None:
    # Dry run: the full plan in the log, nothing written anywhere.
    dry = harness.run(dry_run=True)
    assert _state(dry) == "success"
    assert _crm_writes(harness) == 0 and _ajera_writes(harness) == 0
    assert all(not harness.mappings(t) for t in ORDER)
    planned = [r for r in harness.log(dry.run_id) if r.action == "planned"]
    assert {r.record_type for r in planned} == set(ORDER), "every record type has planned actions"
    assert harness.db.scalar("get_watermark", {"system": "ajera", "record_type": "firm"}) is None

    # One-way (CRM -> Ajera import, as before Ajera 8.09): Ajera is written, the CRM never is.
    harness.crm_sim.reset_stats()
    one_way = harness.run(mode="one_way")
    assert _state(one_way) == "success"
    assert _crm_writes(harness) == 0
    counts = harness.counts(one_way.run_id)
    assert counts.get(("firm", "crm_to_ajera", "created"), 0) > 0
    assert not [k for k in counts if k[1] == "ajera_to_crm"], "one-way mode must not write to the CRM"

    # Two-way: the rest goes to the CRM, for every record type.
    two_way = harness.run()
    assert _state(two_way) == "success"
    counts = harness.counts(two_way.run_id)
    for record_type in ("firm", "contact", "employee", "vendor", "project"):
        assert counts.get((record_type, "ajera_to_crm", "created"), 0) > 0, record_type
    summary = next(r.message for r in harness.log(two_way.run_id) if r.action == "summary")
    assert summary.endswith("Sync Completed")

    # Nothing changed since: a quiet run.
    harness.crm_sim.reset_stats()
    harness.ajera_sim.reset_stats()
    quiet = harness.run()
    assert _state(quiet) == "success"
    assert not [k for k in harness.counts(quiet.run_id) if k[2] in ("created", "updated", "mapped", "conflict")]
    assert _crm_writes(harness) == 0 and _ajera_writes(harness) == 0
