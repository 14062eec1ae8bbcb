-- name: get_watermark
SELECT modified_through FROM watermark WHERE system = :system AND record_type = :record_type;

-- name: advance_watermark
-- Never moves backwards (a backfill of an old window must not rewind the live watermark), but updated_at
-- always records that this type finished a successful run: references linked after it are re-read.
INSERT INTO watermark (system, record_type, modified_through, run_id, updated_at)
VALUES (:system, :record_type, :modified_through, :run_id, :now)
ON CONFLICT (system, record_type) DO UPDATE
SET modified_through = CASE WHEN excluded.modified_through > watermark.modified_through
                            THEN excluded.modified_through ELSE watermark.modified_through END,
    run_id = excluded.run_id, updated_at = excluded.updated_at;

-- name: touch_watermark
UPDATE watermark SET run_id = :run_id, updated_at = :now WHERE system = :system AND record_type = :record_type;

-- name: watermark_updated_at
SELECT updated_at FROM watermark WHERE system = :system AND record_type = :record_type;
