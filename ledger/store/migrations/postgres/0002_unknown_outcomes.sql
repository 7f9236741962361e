-- Version 2 on PostgreSQL (the SQLite 0002_unknown_outcomes.sql in this dialect).

CREATE TABLE IF NOT EXISTS boss_calls (
    reference TEXT PRIMARY KEY,
    answer TEXT NOT NULL,
    first_at TEXT NOT NULL,
    asked_at TEXT NOT NULL,
    tries INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE IF NOT EXISTS line_commands (
    msisdn TEXT NOT NULL,
    digest TEXT NOT NULL,
    first_at TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (msisdn, digest, first_at)
);

ALTER TABLE agents ADD COLUMN IF NOT EXISTS credentials_at TEXT;
