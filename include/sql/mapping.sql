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
