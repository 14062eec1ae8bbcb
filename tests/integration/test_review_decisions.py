"""Review decisions taken on the Sync Details page, honoured by the next runs of every two-way record type
(the sync's steps in-process against both simulators, on SQLite and PostgreSQL). The browser tests walk the
same decisions through the pages and Airflow."""

from __future__ import annotations

import pytest

from include.sync import review
from include.sync.record_types import FIRM
from tests.support.engine import Engine
from tests.support.record_sync import (
    EDIT,
    TWO_WAY,
    VALUES,
    a_get,
    a_update,
    a_value,
    c_get,
    c_hub,
    c_value,
    conflicts,
    log_rows,
    query,
    sync,
    usable_pairs,
)

pytestmark = pytest.mark.integration
A_PHONE, C_PHONE = FIRM.field("phone").ajera, FIRM.field("phone").crm


@pytest.mark.parametrize("t, take", [(t, take) for t in TWO_WAY for take in ("ajera", "crm")])
def test_decided_conflict_is_written_across_and_does_not_come_back(engine: Engine, t: str, take: str) -> None:
    sync(engine, t)
    a1, c1 = usable_pairs(engine, t)[0]
    a_field, c_field, canonical = EDIT[t]
    a_val, c_val = VALUES["ajera"][canonical], VALUES["crm"][canonical]
    a_update(engine, t, a1, **{a_field: a_val})
    engine.crm.update(c_hub(t), c1, {c_field: c_val})
    run = sync(engine, t, clock_skew_seconds=3600).run_id
    [open_conflict] = [c for c in review.open_conflicts(engine.db, t).rows if (c.ajera_key, c.crm_key) == (a1, c1)]
    assert open_conflict.field_name == canonical and open_conflict.run_id == run

    review.resolve_conflict(engine.db, open_conflict.id, take, "reviewer")  # type: ignore[arg-type]
    applied = sync(engine, t, clock_skew_seconds=3600).run_id
    winner = a_val if take == "ajera" else c_val
    assert a_value(t, a_get(engine, t, a1)) == winner and c_value(t, c_get(engine, t, c1)) == winner
    resolved = [r for r in log_rows(engine, applied, t, "resolved") if (r.ajera_key, r.crm_key) == (a1, c1)]
    assert len(resolved) == 1 and canonical in resolved[0].message
    assert query(engine, "SELECT applied_run_id FROM conflict_decision")[0].applied_run_id == applied
    assert conflicts(engine, applied, t) == []

    # It does not come back in the next run: both sides are recorded as synced with the same value.
    quiet = sync(engine, t, clock_skew_seconds=3600).run_id
    assert conflicts(engine, quiet, t) == [] and review.open_conflicts(engine.db, t).total == 0
    assert not [r for r in log_rows(engine, quiet, t) if r.action in ("updated", "resolved")
                and (r.ajera_key, r.crm_key) == (a1, c1)]


def test_a_decision_is_not_carried_out_by_a_dry_run(engine: Engine) -> None:
    t = "firm"
    sync(engine, t)
    a1, c1 = usable_pairs(engine, t)[0]
    a_update(engine, t, a1, **{A_PHONE: VALUES["ajera"]["phone"]})
    engine.crm.update("firm", c1, {C_PHONE: VALUES["crm"]["phone"]})
    sync(engine, t, clock_skew_seconds=3600)
    [c] = review.open_conflicts(engine.db, t).rows
    review.resolve_conflict(engine.db, c.id, "crm", "reviewer")
    sync(engine, t, dry_run=True)
    assert a_get(engine, t, a1)[A_PHONE] == VALUES["ajera"]["phone"]
    assert review.pending_decisions(engine.db, t) == {(a1, c1): {"phone": "crm"}}
    sync(engine, t)
    assert a_get(engine, t, a1)[A_PHONE] == VALUES["crm"]["phone"] and review.pending_decisions(engine.db, t) == {}


def test_retried_poison_record_is_read_again_and_counted_afresh(engine: Engine) -> None:
    t = "firm"
    sync(engine, t)
    a1, _c1 = usable_pairs(engine, t)[0]
    # A phone the CRM refuses (over its 50 characters): the write fails in two runs in a row, so poison.
    a_update(engine, t, a1, **{A_PHONE: "5" * 60})
    for _ in range(2):
        sync(engine, t, poison_after=2)
    assert [p.record_key for p in review.poison(engine.db, t).rows if p.system == "ajera"] == [a1]
    set_aside = sync(engine, t, poison_after=2).run_id  # set aside: not tried again
    assert not [r for r in log_rows(engine, set_aside, t) if r.ajera_key == a1]

    review.retry_poison(engine.db, t, "ajera", a1, "reviewer")
    retried = sync(engine, t, poison_after=2).run_id
    staged = query(engine, "SELECT payload FROM staged_record WHERE run_id = :r AND system = 'ajera' "
                           "AND record_key = :k", r=retried, k=a1)
    assert staged[0].payload is not None  # read in full again
    assert [r.ajera_key for r in log_rows(engine, retried, t, "error") if r.ajera_key == a1] == [a1]  # tried again
    [failed] = query(engine, "SELECT attempts, poison FROM failed_record WHERE system = 'ajera' AND record_key = :k",
                     k=a1)
    assert (failed.attempts, failed.poison) == (1, 0)  # counted afresh, not poison yet
    assert review.pending_retries(engine.db, t, "ajera") == set()
