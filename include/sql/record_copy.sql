-- name: select_copies
SELECT record_key, modified, raw FROM record_copy
WHERE record_type = :record_type AND system = :system AND record_key IN :keys;

-- name: upsert_copy
INSERT INTO record_copy (record_type, system, record_key, modified, raw, read_run_id)
VALUES (:record_type, :system, :record_key, :modified, :raw, :read_run_id)
ON CONFLICT (record_type, system, record_key) DO UPDATE SET
    modified = excluded.modified, raw = excluded.raw, read_run_id = excluded.read_run_id;

-- name: delete_copy
DELETE FROM record_copy WHERE record_type = :record_type AND system = :system AND record_key = :record_key;
