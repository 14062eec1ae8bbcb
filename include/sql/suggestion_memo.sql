-- name: select_suggestion_memo
SELECT digest, suggestions FROM suggestion_memo WHERE record_type = :record_type;

-- name: upsert_suggestion_memo
INSERT INTO suggestion_memo (record_type, digest, suggestions, run_id)
VALUES (:record_type, :digest, :suggestions, :run_id)
ON CONFLICT (record_type) DO UPDATE SET digest = excluded.digest, suggestions = excluded.suggestions,
    run_id = excluded.run_id;
