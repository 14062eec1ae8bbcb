-- name: select_picture_columns
-- The run's picture of one system as the planner's columns (include/sync/plan_frames.py SIDE_COLUMNS): what the
-- run staged, and each other record as the sync last saw it; no payloads, streamed in chunks. A quarantined
-- record is a bare key, name, date and flag: it exists (its mapping stays), nothing else of it is used.
SELECT record_key, record_name, modified, CASE WHEN quarantined = 1 THEN NULL ELSE content_hash END AS content_hash,
       CASE WHEN fetched = 1 AND quarantined = 0 THEN 1 ELSE 0 END AS fetched, flagged,
       CASE WHEN quarantined = 1 THEN NULL ELSE record_group END AS record_group, quarantined
FROM (SELECT record_key, record_name, modified, flagged, record_group, content_hash,
             CASE WHEN payload IS NULL THEN 0 ELSE 1 END AS fetched, quarantined
      FROM staged_record WHERE run_id = :run_id AND system = :system AND record_type = :record_type
      UNION ALL
      SELECT k.record_key, k.record_name, k.modified, k.flagged, k.record_group, NULL, 0, k.quarantined
      FROM seen_record k
      WHERE k.system = :system AND k.record_type = :record_type AND NOT EXISTS (
          SELECT 1 FROM staged_record s WHERE s.run_id = :run_id AND s.system = k.system
            AND s.record_type = k.record_type AND s.record_key = k.record_key)) picture;

-- name: select_mapping_columns
-- In the order of select_mappings: the plan lists updates and unlinks in mapping order.
SELECT ajera_key, crm_key, ajera_modified, crm_modified, ajera_hash, crm_hash
FROM record_mapping WHERE record_type = :record_type
ORDER BY ajera_key;

-- name: select_mappings_by_keys
SELECT ajera_key, crm_key, match_method, ajera_modified, crm_modified, ajera_hash, crm_hash, ajera_fields, crm_fields
FROM record_mapping WHERE record_type = :record_type AND ajera_key IN :keys;
