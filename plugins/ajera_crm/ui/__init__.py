"""The Airflow UI plugin: Integration Log and Sync Details pages, served by the Airflow API server."""
