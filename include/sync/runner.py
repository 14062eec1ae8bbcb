"""Run one sync in-process, without a scheduler: the DAG's steps (``engine.STEPS``) in the DAG's order.

Airflow runs the DAG in production and in the DAG tests. This runner calls the very same step methods
(``engine.RunSteps``) in the same order, for the property tests that need hundreds of runs and for the
benchmark, where Airflow's per-task overhead would hide what the sync itself costs.

As the DAG's tasks do, each step starts as soon as the steps it waits for are done, each on its own thread
(firm, employee and vendor at once; contact and project after firm, ...): the rate-limited Ajera calls of
one type go on while another writes to the CRM. A step waiting for one that failed is skipped, as a task
whose upstream failed. An in-memory SQLite database is one connection per thread, so there the steps run one
after the other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from include.sync import finish, runs
from include.sync.db import SyncDatabase
from include.sync.engine import Clients, RunSteps, StepId, StepKind, SyncEngine, steps
from include.sync.systems import AjeraApi, CrmApi


def run_sync(
    db: SyncDatabase,
    ajera: AjeraApi,
    crm: CrmApi,
    run_id: str,
    options: runs.RunOptions,
    on_step: Callable[[str], None] | None = None,
    one_at_a_time: bool = False,
) -> finish.RunSummary:
    """One whole run; ``on_step`` is told the name of each step (each apply batch) before it starts.
    ``one_at_a_time``: no step beside another, as ``dag.test()`` runs tasks (the benchmark compares the two)."""
    run = SyncEngine(db, Clients.of(ajera, crm)).start(run_id, options)
    graph = steps(options.record_types)
    batches: dict[str, list[int]] = {}
    failed: set[StepId] = set()

    def perform(step: StepId) -> None:
        if on_step and step.step is not StepKind.APPLY:
            on_step(str(step))
        try:
            _perform(run, step, batches, on_step)
        except finish.RecordTypeFailed:
            if step.step is not StepKind.FINISH:
                raise
            failed.add(step)  # logged; the summary reports the type as not completed; what waits is skipped

    try:
        _run_graph(graph, perform, failed, workers=1 if one_at_a_time or not _shared_across_threads(db) else len(graph))
    except Exception:
        # As the DAG's last task does (it runs whatever failed): the summary is written and the lock released.
        run.write_log()
        raise
    return run.write_log()


def _perform(run: RunSteps, step: StepId, batches: dict[str, list[int]],
             on_step: Callable[[str], None] | None) -> None:
    t = step.record_type or ""
    match step.step:
        case StepKind.READ_AJERA_AHEAD:
            run.read_ajera_ahead(t)
        case StepKind.EXTRACT_AJERA | StepKind.EXTRACT_CRM:
            run.extract(t, "ajera" if step.step is StepKind.EXTRACT_AJERA else "crm")
        case StepKind.VALIDATE:
            run.validate(t)
        case StepKind.MATCH:
            run.match(t)
        case StepKind.DIFF:
            batches[t] = run.diff(t).batches
        case StepKind.APPLY:
            for batch_no in batches[t]:
                if on_step:
                    on_step(f"{step}[{batch_no}]")
                run.apply_batch(t, batch_no)
        case StepKind.FINISH:
            run.finish(t)
        case StepKind.READS_AHEAD:
            if not run.children_skip_reason():
                run.read_ahead()
        case StepKind.CHILDREN:
            run.children()
        case StepKind.BACKFILL:
            run.backfill()


def _run_graph(graph: Mapping[StepId, tuple[StepId, ...]], perform: Callable[[StepId], None],
               failed: set[StepId], workers: int) -> None:
    """Each step once every step it waits for is done, up to ``workers`` at a time; a step waiting for a
    failed one fails too, as a DAG task whose upstream failed. The first error stops new steps, lets the
    running ones end, and is raised."""
    todo, done = dict(graph), set[StepId]()
    running: dict[Future[None], StepId] = {}
    error: BaseException | None = None
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync") if workers > 1 else _Inline() as pool:
        while todo or running:
            for step, after in list(todo.items()):
                if error is not None:
                    break
                if failed & set(after):
                    failed.add(step)
                    done.add(step)  # skipped: what only waits for it goes on
                    del todo[step]
                elif all(a in done for a in after) and len(running) < workers:
                    running[pool.submit(perform, step)] = step
                    del todo[step]
            if error is not None:
                todo.clear()
            if not running:
                if todo:
                    raise ValueError(f"steps wait for each other: {', '.join(map(str, todo))}")
                continue
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                done.add(running.pop(future))
                error = error or future.exception()
    if error is not None:
        raise error


class _Inline:
    """Runs each step at once on the calling thread: where threads would not see the same database."""

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, perform: Callable[[StepId], None], step: StepId) -> Future[None]:
        answer: Future[None] = Future()
        try:
            perform(step)
            answer.set_result(None)
        except Exception as exc:
            answer.set_exception(exc)
        return answer


def _shared_across_threads(db: SyncDatabase) -> bool:
    """Whether other threads see the same data: not so for in-memory SQLite (a database per connection)."""
    url = db.engine.url
    return not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))
