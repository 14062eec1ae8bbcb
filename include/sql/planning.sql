-- name: select_picture_columns
-- The run's picture of one system as the planner's columns (include/sync/plan_frames.py SIDE_COLUMNS): all of it,
-- or (unmapped_only set) only the records without a mapping on their side, what matching, suggestions and
-- flagged records are planned from. The picture is what the run staged, and each other record as the sync last
-- saw it; no payloads, streamed in chunks. A quarantined record is a bare key, name, date and flag: it exists
-- (its mapping stays), nothing else of it is used. (SQLite tests the bound values per row and probes the side's
-- key index; PostgreSQL checks each key against a hash of the type's mapped keys.)
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
            AND s.record_type = k.record_type AND s.record_key = k.record_key)) picture
WHERE :unmapped_only = 0
   OR ((:system <> 'ajera' OR NOT EXISTS (SELECT 1 FROM record_mapping m
                                          WHERE m.record_type = :record_type AND m.ajera_key = picture.record_key))
       AND (:system <> 'crm' OR NOT EXISTS (SELECT 1 FROM record_mapping m
                                            WHERE m.record_type = :record_type AND m.crm_key = picture.record_key)));

-- name: select_picture_columns_by_keys
-- The planner's columns of these keys of the run's picture, as select_picture_columns makes them.
SELECT record_key, record_name, modified, CASE WHEN quarantined = 1 THEN NULL ELSE content_hash END AS content_hash,
       CASE WHEN payload IS NOT NULL AND quarantined = 0 THEN 1 ELSE 0 END AS fetched, flagged,
       CASE WHEN quarantined = 1 THEN NULL ELSE record_group END AS record_group, quarantined
FROM staged_record
WHERE run_id = :run_id AND system = :system AND record_type = :record_type AND record_key IN :keys
UNION ALL
SELECT k.record_key, k.record_name, k.modified, NULL, 0, k.flagged,
       CASE WHEN k.quarantined = 1 THEN NULL ELSE k.record_group END, k.quarantined
FROM seen_record k
WHERE k.system = :system AND k.record_type = :record_type AND k.record_key IN :keys AND NOT EXISTS (
    SELECT 1 FROM staged_record s WHERE s.run_id = :run_id AND s.system = k.system AND s.record_type = k.record_type
      AND s.record_key = k.record_key);

-- name: select_plan_mappings
-- The mappings the diff looks at: those with a side read in full this run (only such a pair can have changed)
-- or a side gone from the run's picture (unlinked). Every other pair is an unchanged pair of unchanged records.
-- (staging.stage puts every staged row in seen_record in the same transaction, so a key is gone from the
-- picture when seen_record has no row of it.) One branch per reason, so that each is a join or an anti-join
-- (an OR of them would make PostgreSQL test every mapping against every branch). In the order of
-- select_mappings: the plan lists updates and unlinks in mapping order.
SELECT ajera_key, crm_key, ajera_modified, crm_modified, ajera_hash, crm_hash FROM (
    SELECT m.ajera_key, m.crm_key, m.ajera_modified, m.crm_modified, m.ajera_hash, m.crm_hash
    FROM record_mapping m
    JOIN staged_record s ON s.run_id = :run_id AND s.system = 'ajera' AND s.record_type = m.record_type
                        AND s.record_key = m.ajera_key AND s.payload IS NOT NULL AND s.quarantined = 0
    WHERE m.record_type = :record_type
    UNION
    SELECT m.ajera_key, m.crm_key, m.ajera_modified, m.crm_modified, m.ajera_hash, m.crm_hash
    FROM record_mapping m
    JOIN staged_record s ON s.run_id = :run_id AND s.system = 'crm' AND s.record_type = m.record_type
                        AND s.record_key = m.crm_key AND s.payload IS NOT NULL AND s.quarantined = 0
    WHERE m.record_type = :record_type
    UNION
    SELECT m.ajera_key, m.crm_key, m.ajera_modified, m.crm_modified, m.ajera_hash, m.crm_hash
    FROM record_mapping m
    WHERE m.record_type = :record_type AND NOT EXISTS (
        SELECT 1 FROM seen_record k WHERE k.system = 'ajera' AND k.record_type = m.record_type
                                      AND k.record_key = m.ajera_key)
    UNION
    SELECT m.ajera_key, m.crm_key, m.ajera_modified, m.crm_modified, m.ajera_hash, m.crm_hash
    FROM record_mapping m
    WHERE m.record_type = :record_type AND NOT EXISTS (
        SELECT 1 FROM seen_record k WHERE k.system = 'crm' AND k.record_type = m.record_type
                                      AND k.record_key = m.crm_key)) looked_at
ORDER BY ajera_key;

-- name: count_unplanned_groups
-- For a per-group cap: the synced records per CRM group among the pairs select_plan_mappings leaves out (both
-- sides in the picture, neither read in full this run), by the CRM side's group as the picture has it (none
-- when quarantined). It reads every mapping of the type, in the database: only the counts leave it.
SELECT CASE WHEN s.record_key IS NULL THEN k.record_group ELSE s.record_group END AS record_group, COUNT(*) AS synced
FROM record_mapping m
JOIN seen_record k ON k.system = 'crm' AND k.record_type = m.record_type AND k.record_key = m.crm_key
LEFT JOIN staged_record s ON s.run_id = :run_id AND s.system = 'crm' AND s.record_type = m.record_type
                         AND s.record_key = m.crm_key
WHERE m.record_type = :record_type
  AND (CASE WHEN s.record_key IS NULL THEN k.quarantined ELSE s.quarantined END) = 0
  AND (CASE WHEN s.record_key IS NULL THEN k.record_group ELSE s.record_group END) IS NOT NULL
  AND (s.record_key IS NULL OR s.payload IS NULL)
  AND EXISTS (SELECT 1 FROM seen_record a
              WHERE a.system = 'ajera' AND a.record_type = m.record_type AND a.record_key = m.ajera_key)
  AND NOT EXISTS (SELECT 1 FROM staged_record a
                  WHERE a.run_id = :run_id AND a.system = 'ajera' AND a.record_type = m.record_type
                    AND a.record_key = m.ajera_key AND a.payload IS NOT NULL AND a.quarantined = 0)
GROUP BY CASE WHEN s.record_key IS NULL THEN k.record_group ELSE s.record_group END;

-- name: select_mappings_by_keys
SELECT ajera_key, crm_key, match_method, ajera_modified, crm_modified, ajera_hash, crm_hash, ajera_fields, crm_fields
FROM record_mapping WHERE record_type = :record_type AND ajera_key IN :keys;
