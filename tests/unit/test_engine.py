"""The order of a run's steps (``engine.steps``) and the in-process runner's walk over it."""

from __future__ import annotations

import threading
import time

import pytest

from include.sync.engine import STEPS, TYPE_STEPS, StepId, StepKind, log_after, steps
from include.sync.project_children import AFTER as CHILDREN_AFTER
from include.sync.record_types import DEPENDS_ON, ORDER
from include.sync.runner import _run_graph


def _respects_order(graph: dict[StepId, tuple[StepId, ...]]) -> None:
    seen: set[StepId] = set()
    for step, after in graph.items():
        assert set(after) <= seen, f"{step} listed before {set(after) - seen}"
        seen.add(step)


def test_every_step_of_every_type_in_dependency_order() -> None:
    _respects_order(STEPS)
    for t in ORDER:
        finishes = tuple(StepId(StepKind.FINISH, d) for d in DEPENDS_ON[t])
        # A type waiting for others reads Ajera ahead from the start; its Ajera extract waits for that too.
        ahead = (StepId(StepKind.READ_AJERA_AHEAD, t),) if finishes else ()
        assert {s.step for s in STEPS if s.record_type == t} == set(TYPE_STEPS) | {s.step for s in ahead}
        assert STEPS[StepId(StepKind.EXTRACT_CRM, t)] == finishes
        assert STEPS[StepId(StepKind.EXTRACT_AJERA, t)] == finishes + ahead
        assert all(STEPS[s] == () for s in ahead)
    assert STEPS[StepId(StepKind.READS_AHEAD)] == (StepId(StepKind.DIFF, "project"),)
    assert set(STEPS[StepId(StepKind.CHILDREN)]) == {StepId(StepKind.FINISH, t) for t in CHILDREN_AFTER}
    assert {str(s) for s in log_after(STEPS)} == {f"{t}.finish" for t in ORDER} | {
        "project_reads_ahead", "project_children", "consultant_backfill"}


def test_a_run_of_some_types_waits_only_for_those() -> None:
    graph = steps(("contact", "firm"))
    _respects_order(graph)
    assert {s.record_type for s in graph} == {"firm", "contact"}  # no project: no children steps
    assert graph[StepId(StepKind.EXTRACT_CRM, "contact")] == (StepId(StepKind.FINISH, "firm"),)
    only_contacts = steps(("contact",))
    assert only_contacts[StepId(StepKind.EXTRACT_CRM, "contact")] == ()  # firm not in the run: nothing to wait for
    assert StepId(StepKind.READ_AJERA_AHEAD, "contact") not in only_contacts  # nor anything to read ahead of
    project = steps(("project",))
    assert project[StepId(StepKind.CHILDREN)] == (StepId(StepKind.FINISH, "project"),)


def test_the_runner_starts_each_step_after_what_it_waits_for_and_runs_independent_ones_together() -> None:
    started: dict[StepId, float] = {}
    ended: dict[StepId, float] = {}
    running, most = [0], [0]
    lock = threading.Lock()

    def perform(step: StepId) -> None:
        with lock:
            started[step] = time.perf_counter()
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.002)
        with lock:
            running[0] -= 1
            ended[step] = time.perf_counter()

    _run_graph(STEPS, perform, set(), workers=len(STEPS))
    assert set(started) == set(STEPS)
    for step, after in STEPS.items():
        assert all(ended[a] <= started[step] for a in after), step
    assert most[0] >= 3  # firm, employee and vendor extracts at once at least


def test_a_failed_type_skips_what_waits_for_it_and_the_rest_goes_on() -> None:
    done: list[StepId] = []
    failed: set[StepId] = set()

    def perform(step: StepId) -> None:
        if step == StepId(StepKind.FINISH, "firm"):
            failed.add(step)  # as the runner does on finish.RecordTypeFailed
            return
        done.append(step)

    _run_graph(STEPS, perform, failed, workers=1)
    assert StepId(StepKind.EXTRACT_AJERA, "contact") in failed and StepId(StepKind.CHILDREN) in failed
    assert StepId(StepKind.FINISH, "employee") in done and StepId(StepKind.FINISH, "vendor") in done
    # Only their reading ahead ran: it starts with the run, before anything could fail.
    assert {s.step for s in done if s.record_type in ("contact", "project")} == {StepKind.READ_AJERA_AHEAD}


def test_the_children_wait_for_every_type_they_read_and_are_skipped_when_one_failed() -> None:
    """As the DAG's trigger rule (none failed): a vendor type that failed skips the children, not the projects."""
    done: list[StepId] = []
    failed: set[StepId] = set()

    def perform(step: StepId) -> None:
        (failed.add if step == StepId(StepKind.FINISH, "vendor") else done.append)(step)

    _run_graph(STEPS, perform, failed, workers=1)
    assert StepId(StepKind.FINISH, "project") in done and StepId(StepKind.READS_AHEAD) in done
    assert {StepId(StepKind.CHILDREN), StepId(StepKind.BACKFILL)} <= failed


def test_an_error_stops_new_steps_and_is_raised() -> None:
    done: list[StepId] = []

    def perform(step: StepId) -> None:
        if step == StepId(StepKind.VALIDATE, "firm"):
            raise RuntimeError("boom")
        done.append(step)

    with pytest.raises(RuntimeError, match="boom"):
        _run_graph(STEPS, perform, set(), workers=1)
    assert StepId(StepKind.MATCH, "firm") not in done
    assert len(done) < len(STEPS) - 1
