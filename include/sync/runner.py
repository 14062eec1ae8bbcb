"""Run one sync in-process, step by step in the DAG's order, without a scheduler.

Airflow runs the DAG in production and in the DAG tests. This runner calls the very same step functions
in the same order, for the property tests that need hundreds of runs and for the benchmark, where
Airflow's per-task overhead would hide what the sync itself costs.

As the DAG's parallel task groups do, a record type starts as soon as the types it refers to are done
(firm, employee and vendor at once; contact and project after firm, ...), each on its own thread: the
rate-limited Ajera calls of one type go on while another writes to the CRM. The project children wait for
every type they read: projects, employees (team members), vendors (consultant firms, which they would
otherwise create too) and contacts (project contacts); their Ajera reads start earlier, once projects are
planned, beside the project batches (``project_children.ahead``), as the DAG's ``project_reads_ahead`` task,
and go on beside the children.
An in-memory SQLite database is one connection per thread, so there the types run one after the other.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from functools import partial
from typing import NamedTuple

from include.sync import apply, extract, finish, plan_step, project_children, record_types, runs, validate
from include.sync.db import SyncDatabase
from include.sync.project_children import ahead
from include.sync.project_children import step as children
from include.sync.staging import load_refs
from include.sync.systems import AjeraApi, AjeraSide, CrmApi, CrmSide

CHILDREN = "project_children"
AHEAD = "project_reads_ahead"


def run_sync(
    db: SyncDatabase,
    ajera: AjeraApi,
    crm: CrmApi,
    run_id: str,
    options: runs.RunOptions,
    on_step: Callable[[str], None] | None = None,
) -> finish.RunSummary:
    db.create_schema()
    runs.start_run(db, run_id, options)
    failed: set[str] = set()

    batches: dict[str, list[int]] = {}

    def plan_type(name: str) -> None:
        if on_step:
            on_step(_planned(name))
        batches[name] = _plan_type(db, ajera, crm, run_id, options, record_types.get(name))

    def apply_type(name: str) -> None:
        _apply_type(db, ajera, crm, run_id, options, record_types.get(name), batches[name], on_step, failed)

    def read_ahead() -> None:
        if on_step:
            on_step(AHEAD)
        if not children.applies(options):
            ahead.read_ahead(db, ajera, run_id, options)

    def sync_children() -> None:
        if on_step:
            on_step(CHILDREN)
        children.sync_children(db, ajera, crm, run_id, options)
        children.consultant_backfill(db, ajera, crm, run_id, options)

    jobs: dict[str, Job] = {}
    for name in options.record_types:
        upstream = record_types.DEPENDS_ON[name]
        jobs[_planned(name)] = Job(upstream, upstream, partial(plan_type, name))
        jobs[name] = Job((_planned(name),), (_planned(name),), partial(apply_type, name))
    if "project" in options.record_types:
        # As in the DAG: the children's Ajera reads start once projects are planned, and the children, once
        # every type they read is done, take what is read as it comes; they are skipped if projects failed.
        jobs[AHEAD] = Job((_planned("project"),), (_planned("project"),), read_ahead)
        jobs[CHILDREN] = Job(project_children.AFTER, ("project",), sync_children)
    try:
        _run_jobs(jobs, failed, workers=max(1, len(jobs)) if _shared_across_threads(db) else 1)
    except Exception:
        # As the DAG's last task does (it runs whatever failed): the summary is written and the lock released.
        finish.finish_run(db, run_id, options)
        raise
    return finish.finish_run(db, run_id, options)


class Job(NamedTuple):
    after: tuple[str, ...]  # jobs (of this run) it starts after
    needs: tuple[str, ...]  # of those, the ones whose failure skips it
    run: Callable[[], None]


def _run_jobs(jobs: dict[str, Job], failed: set[str], workers: int) -> None:
    """Each job once every job it waits for (among ``jobs``) is done, up to ``workers`` at a time; a job
    needing a failed one fails too, as a DAG task whose upstream failed. The first error stops new jobs,
    lets the running ones end, and is raised."""
    todo, done = dict(jobs), set[str]()
    running: dict[Future[None], str] = {}
    error: BaseException | None = None
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync") if workers > 1 else _Inline() as pool:
        while todo or running:
            for name, job in list(todo.items()):
                if error is not None:
                    break
                if failed & set(job.needs):
                    failed.add(name)
                    done.add(name)  # skipped: what only waits for it goes on
                    del todo[name]
                elif all(a in done for a in job.after if a in jobs) and len(running) < workers:
                    running[pool.submit(job.run)] = name
                    del todo[name]
            if error is not None:
                todo.clear()
            if not running:
                if todo:
                    raise ValueError(f"jobs wait for each other: {', '.join(todo)}")
                continue
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                done.add(running.pop(future))
                error = error or future.exception()
    if error is not None:
        raise error


class _Inline:
    """Runs each job at once on the calling thread: where threads would not see the same database."""

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, job: Callable[[], None]) -> Future[None]:
        answer: Future[None] = Future()
        try:
            job()
            answer.set_result(None)
        except Exception as exc:
            answer.set_exception(exc)
        return answer


def _shared_across_threads(db: SyncDatabase) -> bool:
    """Whether other threads see the same data: not so for in-memory SQLite (a database per connection)."""
    url = db.engine.url
    return not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))


def _planned(name: str) -> str:
    return f"{name}.plan"


def _plan_type(db: SyncDatabase, ajera: AjeraApi, crm: CrmApi, run_id: str, options: runs.RunOptions,
               rt: record_types.RecordType) -> list[int]:
    """Extract, validate, match and diff one record type; its batches are returned."""
    refs = load_refs(db, rt)
    extract.extract(db, AjeraSide(ajera, refs), rt, run_id, options)
    extract.extract(db, CrmSide(crm, refs), rt, run_id, options)
    for system in ("ajera", "crm"):
        validate.validate(db, rt, system, run_id)
    plan_step.match(db, rt, run_id, options)
    return list(plan_step.diff(db, rt, run_id, options).batches)


def _apply_type(db: SyncDatabase, ajera: AjeraApi, crm: CrmApi, run_id: str, options: runs.RunOptions,
                rt: record_types.RecordType, batches: list[int], on_step: Callable[[str], None] | None,
                failed: set[str]) -> None:
    refs = load_refs(db, rt)
    ajera_side, crm_side = AjeraSide(ajera, refs), CrmSide(crm, refs)
    for batch_no in batches:
        if on_step:
            on_step(f"{rt.name}.apply[{batch_no}]")
        apply.apply_batch(db, rt, run_id, batch_no, options, ajera_side, crm_side)
    try:
        finish.advance_watermarks(db, rt, run_id, options)
    except finish.RecordTypeFailed:
        failed.add(rt.name)  # logged; the summary reports the type as not completed
