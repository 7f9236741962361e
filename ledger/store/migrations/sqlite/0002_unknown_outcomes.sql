-- Version 2 (b74c665): unknown billing outcomes stay pending, one-line commands deduplicated.

-- What BOSS last said about a reference whose outcome is not confirmed yet (ledger/boss_calls.py):
-- a row exists only while the outcome is unknown.
CREATE TABLE IF NOT EXISTS boss_calls (
    reference TEXT PRIMARY KEY,
    answer TEXT NOT NULL,
    first_at TEXT NOT NULL,
    asked_at TEXT NOT NULL,
    tries INTEGER NOT NULL DEFAULT 1
) STRICT, WITHOUT ROWID;

-- The idempotency key of a one-line money command, by its first copy in a sliding window
-- (smsmenu/states/steps.py line_key).
CREATE TABLE IF NOT EXISTS line_commands (
    msisdn TEXT NOT NULL,
    digest TEXT NOT NULL,
    first_at TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (msisdn, digest, first_at)
) STRICT, WITHOUT ROWID;

-- A database older than version 1 may lack this column, which the code at version 1 added on
-- open: added here if missing (the runner skips an ADD COLUMN whose column exists).
ALTER TABLE agents ADD COLUMN credentials_at TEXT;
