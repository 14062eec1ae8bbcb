-- name: get_watermark
SELECT modified_through FROM watermark WHERE system = :system AND record_type = :record_type;

-- name: advance_watermark
-- Never moves backwards: a backfill of an old window must not rewind the live watermark.
INSERT INTO watermark (system, record_type, modified_through, run_id, updated_at)
VALUES (:system, :record_type, :modified_through, :run_id, :now)
ON CONFLICT (system, record_type) DO UPDATE
SET modified_through = excluded.modified_through, run_id = excluded.run_id, updated_at = excluded.updated_at
WHERE excluded.modified_through > watermark.modified_through;
