"""A first sync's Ajera reads made ahead for the types that wait for others (``include.sync.extract_ahead``):
what the extract takes from them, and when it reads for itself. The edits made between the reading and the
extract are in tests/reliability/test_concurrent_edits.py."""

from __future__ import annotations

import pytest

from include.sync import record_types
from include.sync.engine import Clients, RunSteps, SyncEngine
from include.sync.runs import RunOptions
from include.sync.systems import AjeraSide
from tests.support.engine import Engine

pytestmark = pytest.mark.integration
CONTACT = record_types.get("contact")


def _start(engine: Engine, run_id: str) -> RunSteps:
    return SyncEngine(engine.db, Clients.of(engine.ajera, engine.crm)).start(run_id, RunOptions())


def _kept(engine: Engine, run_id: str) -> int:
    return len(engine.db.rows("select_extract_ahead", {"run_id": run_id, "record_type": "contact"}))


def test_the_extract_takes_every_ajera_answer_from_the_reading_ahead(engine: Engine) -> None:
    run = _start(engine, "ahead-1")
    first = run.read_ajera_ahead("contact")
    again = run.read_ajera_ahead("contact")  # a retried task starts over, and keeps one copy of each answer
    contacts = AjeraSide(engine.ajera).sweep(CONTACT)
    assert first.kept and again.kept and again.listed == first.listed == len(contacts) > 0
    assert again.read == len(contacts)  # every contact read whole: a first sync compares them all
    before = engine.ajera.calls
    result = run.extract("contact", "ajera")
    assert engine.ajera.calls == before, "the extract asked Ajera what was read ahead"
    assert result.swept == len(contacts) and result.fetched == len(contacts)
    assert _kept(engine, "ahead-1") == 0  # staged: the answers are dropped


def test_a_reading_stopped_by_ajera_leaves_the_whole_extract_to_itself(engine: Engine) -> None:
    run = _start(engine, "ahead-2")
    engine.ajera_sim.faults(fail_next=20)  # more than the client's retries
    try:
        stopped = run.read_ajera_ahead("contact")
    finally:
        engine.ajera_sim.faults(fail_next=0)
    assert not stopped.kept and "stopped" in stopped.note
    before = engine.ajera.calls
    result = run.extract("contact", "ajera")
    assert engine.ajera.calls > before  # read for itself: nothing half-read is used
    assert result.fetched == result.swept == len(AjeraSide(engine.ajera).sweep(CONTACT)) > 0


def test_only_a_first_sync_reads_ahead(engine: Engine) -> None:
    summary = engine.sync(record_types=("firm", "contact"))
    assert summary.completed, summary.lines()
    run = _start(engine, "ahead-3")
    before = engine.ajera.calls
    result = run.read_ajera_ahead("contact")
    assert not result.kept and engine.ajera.calls == before and _kept(engine, "ahead-3") == 0
