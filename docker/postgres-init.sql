-- Runs once, when the postgres service starts on an empty data volume (docker-entrypoint-initdb.d).
-- POSTGRES_DB already created the "airflow" metadata database; the sync keeps its own tables (mappings,
-- watermarks, integration log, quarantine, ...) in a separate database so that `airflow db` commands
-- (migrate, reset, clean) never touch them and each can be backed up and restored on its own.
CREATE DATABASE sync OWNER airflow;
