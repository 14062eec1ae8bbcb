-- name: count_mappings
SELECT COUNT(*) FROM record_mapping WHERE record_type = :record_type;

-- name: count_linked_since
SELECT COUNT(*) FROM record_mapping WHERE record_type = :record_type AND linked_at > :since;

-- name: select_mappings
SELECT ajera_key, crm_key, match_method, ajera_modified, crm_modified, ajera_hash, crm_hash, ajera_fields, crm_fields
FROM record_mapping WHERE record_type = :record_type
ORDER BY ajera_key;

-- name: select_mapping_keys
-- The pairs without their stored values: what a lookup of who is linked to whom needs.
SELECT ajera_key, crm_key, crm_modified FROM record_mapping WHERE record_type = :record_type
ORDER BY ajera_key;

-- name: select_mapping_ajera_fields
-- Each mapping's Ajera fields as last synced (JSON), without the rest: what the project children read of them.
SELECT ajera_key, ajera_fields FROM record_mapping WHERE record_type = :record_type
ORDER BY ajera_key;

-- name: select_mapping_keys_of
-- As select_mapping_keys, of the mappings whose key on one system is one of these.
SELECT ajera_key, crm_key, crm_modified FROM record_mapping
WHERE record_type = :record_type
  AND ((:system = 'ajera' AND ajera_key IN :keys) OR (:system = 'crm' AND crm_key IN :keys));

-- name: insert_mapping
-- A pair already linked (a retried task) is left as it is: the first write wins.
INSERT INTO record_mapping (record_type, ajera_key, crm_key, match_method, ajera_modified, crm_modified,
                            ajera_hash, crm_hash, ajera_fields, crm_fields, linked_run_id, linked_at, synced_at)
VALUES (:record_type, :ajera_key, :crm_key, :match_method, :ajera_modified, :crm_modified,
        :ajera_hash, :crm_hash, :ajera_fields, :crm_fields, :run_id, :now, :synced_at)
ON CONFLICT DO NOTHING;

-- name: mark_synced
UPDATE record_mapping
SET ajera_modified = :ajera_modified, crm_modified = :crm_modified,
    ajera_hash = :ajera_hash, crm_hash = :crm_hash, ajera_fields = :ajera_fields, crm_fields = :crm_fields,
    synced_at = :now
WHERE record_type = :record_type AND ajera_key = :ajera_key;

-- name: delete_mapping
DELETE FROM record_mapping WHERE record_type = :record_type AND ajera_key = :ajera_key AND crm_key = :crm_key;

-- name: mapping_by_ajera_key
SELECT ajera_key, crm_key FROM record_mapping WHERE record_type = :record_type AND ajera_key = :ajera_key;

-- name: mapping_by_crm_key
SELECT ajera_key, crm_key FROM record_mapping WHERE record_type = :record_type AND crm_key = :crm_key;

-- name: mapping_page
SELECT record_type, ajera_key, crm_key, match_method, ajera_modified, crm_modified, linked_run_id, linked_at, synced_at
FROM record_mapping WHERE (CAST(:record_type AS TEXT) IS NULL OR record_type = :record_type)
ORDER BY record_type, linked_at DESC, ajera_key LIMIT :limit OFFSET :offset;

-- name: refresh_crm_dates
-- A mapped CRM record read whole this run with a later ModDate and the same synced values as the mapping holds
-- (a project whose team or totals the sync wrote, an edit of a field the sync does not carry): the mapping takes
-- that date, so the next runs, whose list rows carry it, leave the record as it is instead of reading it again.
-- Not a date past the latest allowed (now plus the clock skew): a future date must not hide later edits.
UPDATE record_mapping SET crm_modified = (
    SELECT s.modified FROM staged_record s
    WHERE s.run_id = :run_id AND s.system = 'crm' AND s.record_type = record_mapping.record_type
      AND s.record_key = record_mapping.crm_key)
WHERE record_type = :record_type AND EXISTS (
    SELECT 1 FROM staged_record s
    WHERE s.run_id = :run_id AND s.system = 'crm' AND s.record_type = record_mapping.record_type
      AND s.record_key = record_mapping.crm_key AND s.payload IS NOT NULL AND s.quarantined = 0
      AND s.content_hash = record_mapping.crm_hash AND s.modified > record_mapping.crm_modified
      AND s.modified <= :latest);
