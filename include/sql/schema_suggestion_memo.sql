-- The match suggestions last made for each record type, and a digest of what they were made from (the
-- unmatched names of both sides and the pairs a person decided): a run whose digest is the same takes them
-- from here instead of making them again (include/sync/suggestion_memo.py). A cache: dropping it costs one run.
CREATE TABLE IF NOT EXISTS suggestion_memo (
    record_type  TEXT PRIMARY KEY,
    digest       TEXT NOT NULL,
    suggestions  TEXT NOT NULL,               -- JSON: [[ajera_key, crm_key, ajera_name, crm_name, score, method]]
    run_id       TEXT NOT NULL
);
