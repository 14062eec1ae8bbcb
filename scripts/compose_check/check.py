"""The check in order: lay the compose settings out here, start what the services run, run the DAG once,
report, and always clean up."""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from .airflow_api import AirflowApi, RunWatch
from .common import DAG_ID, STARTED, CheckFailed, say
from .compose_file import argv_of, common_env, load_compose
from .databases import Databases
from .local import localize
from .processes import Processes, wait_until
from .report import print_run, report_sync_log
from .services import Healthchecks, check_executor, run_init, start_runners, start_simulators, wait_ready


def check(args: argparse.Namespace) -> int:
    compose = load_compose()
    services = compose["services"]
    env = common_env(compose)
    say(f"compose: {len(services)} services; default-profile Airflow env has {len(env)} settings; "
        f"entrypoint {' '.join(argv_of(services['airflow-scheduler'], 'entrypoint'))}")
    if env.get("AIRFLOW__CORE__EXECUTOR") or env.get("AIRFLOW_EXECUTOR"):
        raise CheckFailed("the default profile must leave the executor to docker/entrypoint.sh")

    tmp = Path(tempfile.mkdtemp(prefix="compose-check-"))
    procs = Processes(tmp)
    dbs = Databases(args.metadata_db_url, tmp)
    ok = False
    try:
        run(args, compose, env, procs, dbs)
        ok = True
        say("PASS: the compose settings run the sync end to end")
        return 0
    except CheckFailed as exc:
        say(f"FAIL: {exc}")
        procs.tails()
        return 1
    finally:
        procs.stop_all()
        dbs.drop()
        if ok and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            say(f"kept {tmp} (logs, AIRFLOW_HOME)")
        say(f"done in {time.monotonic() - STARTED:.1f}s")


def run(args: argparse.Namespace, compose: dict[str, Any], env: dict[str, str], procs: Processes,
        dbs: Databases) -> None:
    """Everything between the temp dir and the cleanup; raises CheckFailed on the first thing that is wrong."""
    services = compose["services"]
    local = localize(services, env, procs.logs, dbs)
    dbs.create(["airflow", "sync"])
    admin_password = run_init(compose, local)
    ready_file = start_simulators(compose, local, procs)
    start_runners(services, local, procs)
    wait_ready(services, local, procs, ready_file)

    api = AirflowApi(local.api)
    api.login(admin_password)
    wait_until(f"the DAG {DAG_ID} to be parsed", api.dag_parsed, 120, procs)
    say(f"DAG {DAG_ID} parsed, no import errors")
    check_executor(procs)

    health = Healthchecks(services, local)
    health.start()
    # Trigger, then unpause (the compose file pauses new DAGs).
    run_id = api.trigger()
    api.unpause()
    health.finish()

    state = RunWatch(api, run_id, procs, args.wait_retries).wait(args.timeout)
    tis = api.task_instances(run_id)
    others = {rid: st for rid, st in api.run_states().items() if rid != run_id}
    print_run(run_id, state, tis, others)
    report_sync_log(local.airflow_env["SYNC_DATABASE_URL"], run_id)
    if state != "success":
        raise CheckFailed(f"run {run_id} ended {state}")
    if "failed" in others.values():
        raise CheckFailed(f"another run failed: {others}")
