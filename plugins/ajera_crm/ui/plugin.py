"""The plugin Airflow registers: the FastAPI app under ``/ajera-crm`` and its entries in the UI."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from ajera_crm.ui.app import app
from ajera_crm.ui.paths import PREFIX


class AjeraCrmUiPlugin(AirflowPlugin):
    name = "ajera_crm_ui"
    fastapi_apps = [{"app": app, "url_prefix": PREFIX, "name": "Ajera-CRM sync pages"}]
    external_views = [
        {"name": "Integration Log", "href": f"{PREFIX}/log", "url_route": "ajera-crm-log", "destination": "nav",
         "category": "browse"},
        {"name": "Sync Details", "href": f"{PREFIX}/details", "url_route": "ajera-crm-details",
         "destination": "nav", "category": "browse"},
        # A tab on every DAG run page; runs of other DAGs are told that they are not sync runs.
        {"name": "Integration Log", "href": f"{PREFIX}/log/run?run_id={{RUN_ID}}&dag_id={{DAG_ID}}",
         "url_route": "ajera-crm-run-log", "destination": "dag_run"},
    ]
