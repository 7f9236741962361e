"""The portal's own tables (operators, audit log, sessions, one-time codes, top-ups, rate limits)."""

from __future__ import annotations

# web_operator_logins (each operator's last login) came later as a table, not a column: an older
# database gains it on open through CREATE TABLE IF NOT EXISTS, with no migration.

WEB_DDL = """
CREATE TABLE IF NOT EXISTS web_operators (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('clerk', 'hotline', 'supervisor')),
    salt BLOB NOT NULL,
    pw_hash BLOB NOT NULL,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS web_operator_logins (
    operator_id INTEGER PRIMARY KEY,
    at TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS web_audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    operator_id INTEGER NOT NULL,
    operator TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    outcome TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS web_audit_at ON web_audit(at);

CREATE TRIGGER IF NOT EXISTS web_audit_no_update BEFORE UPDATE ON web_audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS web_audit_no_delete BEFORE DELETE ON web_audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE IF NOT EXISTS web_sessions (
    token_hash BLOB PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('agent', 'operator')),
    subject_id INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS web_codes (
    id INTEGER PRIMARY KEY,
    purpose TEXT NOT NULL CHECK (purpose IN ('login', 'bind')),
    msisdn TEXT NOT NULL,
    agent_id INTEGER NOT NULL,
    code_hash BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    used INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1)),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS web_codes_number ON web_codes(purpose, msisdn);

CREATE TABLE IF NOT EXISTS web_topups (
    order_id TEXT PRIMARY KEY,
    agent_id INTEGER NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    status TEXT NOT NULL CHECK (status IN ('created', 'paid', 'failed')),
    bank_txn TEXT,
    created_at TEXT NOT NULL,
    paid_at TEXT
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS web_rate (
    bucket TEXT NOT NULL,
    at TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS web_rate_bucket ON web_rate(bucket, at);
"""
