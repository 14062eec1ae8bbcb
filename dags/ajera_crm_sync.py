"""
### Ajera ⇄ CRM sync

Links the records of Deltek Ajera and the CRM (Vantagepoint) in mapping tables, creates what is missing on
the other side and carries changes across, record type by record type in dependency order.

For each record type: **extract** both systems (what changed since the watermark, plus flagged records not yet
mapped) → **validate** (bad rows go to quarantine) → **first-time name matching** (only while the type has no
mappings: exact, case-insensitive names; ambiguous names are logged, never linked) → **diff** against the
mapping table (plan creates, updates, unlinks, conflicts) → **apply**, one mapped task per batch of 500
actions → **finish** (advance the watermarks). A type that waits for others (contacts, projects) reads Ajera
ahead on its first sync (`read_ajera_ahead`, at the run's start), and its extract converts those answers.
Once projects are planned, `project_reads_ahead` reads what the project children need from Ajera (timesheets,
resources, totals) while the batches are written; the children (accounting, team, consultants, contacts)
follow every type they read and take those answers as they come. The last task writes the run summary to the
integration log and fails the run (with an alert) if a record type did not finish; otherwise its last line is
`Sync Completed`. Errors on single records do not stop the run: each has a log row with the reason, and failed
writes are retried by the next runs.

Record types run in dependency order: firms, employees and vendors first, then contacts (they need
their firm's mapping) and projects (firm and manager). Trigger with options (the form): record types
(the others are skipped), two-way / one-way, dry run (plan only, writes nothing), batch size, sync closed
projects, contact cap. Backfills (`airflow backfill create`) use each run's data interval as the
modified-date window and leave the live watermarks alone. One sync run at a time: `wait_for_turn` holds a
run (a backfill run too) until the previous one has finished. A failed run sends one alert with links to
the task logs and the Integration Log page; a green run that left record errors, conflicts for review or
quarantined rows over the deployment's thresholds alerts too. The run's note is its one-line summary.
Connections: `ajera_default`, `vantagepoint_default`, optional `ajera_crm_sync_db` and `ajera_crm_alerts`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import CronDataIntervalTimetable, TaskGroup, TriggerRule, dag, task
from ajera_crm import form, steps
from ajera_crm.notifiers import RunAttentionNotifier, RunFailureNotifier, TaskFailureRecorder

from include.sync.engine import STEPS, StepId, StepKind, log_after
from include.sync.record_types import ORDER
from include.sync.settings import Schedule

# The only settings read when this file is parsed: Airflow needs the schedule, the retry delay and the poke
# interval on the objects it builds here. Everything else is read by the tasks when they run.
SCHEDULE = Schedule.from_env()


# Poke mode: a waiting run holds one worker slot. Reschedule mode would free it, but Airflow 3.3's
# scheduler can take a short reschedule's late executor event for an outside change and fail the task.
@task.sensor(poke_interval=SCHEDULE.run_lock_poke_seconds, timeout=timedelta(hours=24), mode="poke")
def wait_for_turn(dag_run=None, ti=None) -> bool:  # type: ignore[no-untyped-def]
    return steps.wait_for_turn(dag_run.run_id, lambda run_id: ti.get_dagrun_state(dag_run.dag_id, run_id))


@task
def start_run(params=None, dag_run=None, data_interval_start=None, data_interval_end=None) -> str:  # type: ignore[no-untyped-def]
    return steps.start_run(dag_run.run_id, dict(params), dag_run.run_type, data_interval_start, data_interval_end)


# At the run's start, beside the types it waits for: a first sync's Ajera reads of a type that refers to others.
@task
def read_ajera_ahead(sync_run: str, record_type: str) -> dict:
    return steps.read_ajera_ahead(sync_run, record_type)


# A record type whose upstream type was skipped (not selected) still runs; one that failed does not.
@task(trigger_rule=TriggerRule.NONE_FAILED)
def extract_ajera(sync_run: str, record_type: str) -> dict:
    return steps.extract_system(sync_run, record_type, "ajera")


@task(trigger_rule=TriggerRule.NONE_FAILED)
def extract_crm(sync_run: str, record_type: str) -> dict:
    return steps.extract_system(sync_run, record_type, "crm")


@task
def validate(sync_run: str, record_type: str) -> dict:
    return steps.validate_staged(sync_run, record_type)


@task
def match_names(sync_run: str, record_type: str) -> int:
    return steps.match_names(sync_run, record_type)


@task
def diff(sync_run: str, record_type: str) -> list[int]:
    return steps.diff(sync_run, record_type)


@task(map_index_template="batch {{ task.op_kwargs['batch_no'] }}", pool="ajera_crm_api")
def apply(sync_run: str, record_type: str, batch_no: int) -> dict:
    return steps.apply_batch(sync_run, record_type, batch_no)


@task(trigger_rule=TriggerRule.NONE_FAILED)
def finish(sync_run: str, record_type: str) -> dict:
    return steps.finish_record_type(sync_run, record_type)


# After every type whose mappings it reads; an unselected (skipped) one does not hold it back.
@task(pool="ajera_crm_api", trigger_rule=TriggerRule.NONE_FAILED)
def project_children(sync_run: str) -> dict:
    return steps.project_children(sync_run)


# Right after the project plan, beside the project batches: the children's Ajera reads.
@task(pool="ajera_crm_api")
def project_reads_ahead(sync_run: str) -> dict:
    return steps.read_ahead_for_children(sync_run)


@task(pool="ajera_crm_api")
def consultant_backfill(sync_run: str) -> dict:
    return steps.project_children(sync_run, backfill=True)


@task(trigger_rule=TriggerRule.ALL_DONE)
def write_run_log(sync_run: str | None, dag_run=None) -> list[str]:  # type: ignore[no-untyped-def]
    # By run id, not the XCom: when the run never started (start_run failed) there is none.
    return steps.write_run_log(dag_run.run_id)


# The task of each step (``include.sync.engine.StepKind``); a record type's apply is mapped over its diff's batches.
TYPE_TASKS = {StepKind.READ_AJERA_AHEAD: read_ajera_ahead, StepKind.EXTRACT_AJERA: extract_ajera,
              StepKind.EXTRACT_CRM: extract_crm, StepKind.VALIDATE: validate, StepKind.MATCH: match_names,
              StepKind.DIFF: diff, StepKind.FINISH: finish}
RUN_TASKS = {StepKind.READS_AHEAD: project_reads_ahead, StepKind.CHILDREN: project_children,
             StepKind.BACKFILL: consultant_backfill}


@dag(
    dag_id="ajera_crm_sync",
    schedule=CronDataIntervalTimetable(SCHEDULE.cron, timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["ajera", "crm", "sync"],
    default_args={
        "retries": 3,
        "retry_delay": timedelta(seconds=SCHEDULE.retry_delay_seconds),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
        "on_failure_callback": [TaskFailureRecorder()],
    },
    on_failure_callback=[RunFailureNotifier()],
    on_success_callback=[RunAttentionNotifier()],
    params=form.params(),
)
def ajera_crm_sync() -> None:
    sync_run = start_run()
    wait_for_turn() >> sync_run
    groups = {t: TaskGroup(group_id=t) for t in ORDER}  # one task group per record type
    tasks: dict[StepId, Any] = {}
    for step, after in STEPS.items():  # each step's task, wired to the steps it waits for (the engine's order)
        if step.record_type is None:
            tasks[step] = RUN_TASKS[step.step](sync_run)
        else:
            with groups[step.record_type]:
                if step.step is StepKind.APPLY:
                    diff_batches = tasks[StepId(StepKind.DIFF, step.record_type)]
                    tasks[step] = apply.partial(sync_run=sync_run, record_type=step.record_type).expand(
                        batch_no=diff_batches)
                    continue  # after its diff already: the batches are the diff's result
                tasks[step] = TYPE_TASKS[step.step](sync_run, step.record_type)
        for upstream in after or [None]:
            (tasks[upstream] if upstream else sync_run) >> tasks[step]
    [tasks[s] for s in log_after(STEPS)] >> write_run_log(sync_run)


ajera_crm_sync()
