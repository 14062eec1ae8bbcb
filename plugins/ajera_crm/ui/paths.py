"""Where the pages live under the Airflow API server: the plugin mounts them here, and alerts link to them."""

PREFIX = "/ajera-crm"
RUN_LOG = f"{PREFIX}/log/run"  # one run's record actions: ?run_id=<sync run id>
