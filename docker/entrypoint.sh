#!/usr/bin/env bash
# Entrypoint of the Airflow services: chooses the executor, then hands over to the image's own entrypoint.
#
# `docker compose --profile celery up` must run tasks on the Celery workers without anyone also setting an
# executor: the scheduler sees the profile's Redis on the compose network and takes CeleryExecutor; without
# the profile there is no Redis and it keeps LocalExecutor. An executor set explicitly wins: the Celery
# workers' own AIRFLOW__CORE__EXECUTOR, or AIRFLOW_EXECUTOR for the whole stack.
set -euo pipefail

if [ -z "${AIRFLOW__CORE__EXECUTOR:-}" ]; then
    if [ -n "${AIRFLOW_EXECUTOR:-}" ]; then
        export AIRFLOW__CORE__EXECUTOR="$AIRFLOW_EXECUTOR"
    elif getent hosts "${AJERA_CRM_CELERY_BROKER_HOST:-redis}" >/dev/null 2>&1; then
        export AIRFLOW__CORE__EXECUTOR=CeleryExecutor
    else
        export AIRFLOW__CORE__EXECUTOR=LocalExecutor
    fi
fi
echo "executor: $AIRFLOW__CORE__EXECUTOR" >&2
exec "${AIRFLOW_IMAGE_ENTRYPOINT:-/entrypoint}" "$@"
