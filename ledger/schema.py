"""The ledger's tables (STRICT), their immutability triggers and the fixed operator accounts."""

from __future__ import annotations

import sqlite3

from ledger import boss_calls

SCHEMA_VERSION = 1

DDL = """
CREATE TABLE IF NOT EXISTS accounts (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    no_overdraft INTEGER NOT NULL CHECK (no_overdraft IN (0, 1)),
    balance INTEGER NOT NULL DEFAULT 0,
    reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    CHECK (no_overdraft = 0 OR balance - reserved >= 0)
) STRICT;

CREATE TABLE IF NOT EXISTS transfers (
    id INTEGER PRIMARY KEY,
    op TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'posted', 'voided')),
    reference TEXT,
    created_at TEXT NOT NULL,
    resolved_at TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS transfers_pending ON transfers(created_at) WHERE state = 'pending';

CREATE TABLE IF NOT EXISTS postings (
    transfer_id INTEGER NOT NULL REFERENCES transfers(id),
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    amount INTEGER NOT NULL CHECK (amount != 0),
    PRIMARY KEY (transfer_id, account_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS postings_account ON postings(account_id);

CREATE TRIGGER IF NOT EXISTS postings_no_update BEFORE UPDATE ON postings
BEGIN SELECT RAISE(ABORT, 'postings are immutable'); END;
CREATE TRIGGER IF NOT EXISTS postings_no_delete BEFORE DELETE ON postings
BEGIN SELECT RAISE(ABORT, 'postings are immutable'); END;
CREATE TRIGGER IF NOT EXISTS transfers_no_delete BEFORE DELETE ON transfers
BEGIN SELECT RAISE(ABORT, 'transfers are immutable'); END;
CREATE TRIGGER IF NOT EXISTS transfers_final BEFORE UPDATE ON transfers
WHEN OLD.state != 'pending' OR NEW.op != OLD.op OR NEW.created_at != OLD.created_at
BEGIN SELECT RAISE(ABORT, 'a resolved transfer is immutable'); END;

CREATE TABLE IF NOT EXISTS agents (
    id INTEGER PRIMARY KEY,
    msisdn TEXT NOT NULL,
    name TEXT NOT NULL,
    account_id INTEGER NOT NULL UNIQUE REFERENCES accounts(id),
    status TEXT NOT NULL CHECK (status IN ('active', 'closed')),
    phone_suspended INTEGER NOT NULL DEFAULT 0 CHECK (phone_suspended IN (0, 1)),
    rate_ppm INTEGER CHECK (rate_ppm IS NULL OR rate_ppm >= 0),
    lang TEXT NOT NULL DEFAULT 'zh',
    salt BLOB NOT NULL,
    tx_hash BLOB NOT NULL,
    mgmt_hash BLOB NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    tx_lock_step INTEGER NOT NULL DEFAULT 0,
    tx_failed_at TEXT,
    web_failures INTEGER NOT NULL DEFAULT 0,
    web_locked_until TEXT,
    web_lock_step INTEGER NOT NULL DEFAULT 0,
    web_failed_at TEXT,
    opened_at TEXT NOT NULL,
    closed_at TEXT,
    credentials_at TEXT
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS agents_open_msisdn ON agents(msisdn) WHERE status != 'closed';
CREATE INDEX IF NOT EXISTS agents_msisdn ON agents(msisdn);

CREATE TABLE IF NOT EXISTS recharges (
    id INTEGER PRIMARY KEY,
    agent_id INTEGER NOT NULL REFERENCES agents(id),
    kind TEXT NOT NULL CHECK (kind IN ('landline', 'mobile', 'phs', 'broadband')),
    target TEXT NOT NULL,
    notice_to TEXT,
    amount INTEGER NOT NULL CHECK (amount > 0),
    commission INTEGER NOT NULL CHECK (commission >= 0 AND commission <= amount),
    status TEXT NOT NULL
        CHECK (status IN ('pending', 'succeeded', 'failed', 'reversed')),
    attempts INTEGER NOT NULL DEFAULT 1,
    reference TEXT NOT NULL UNIQUE,
    past_references TEXT NOT NULL DEFAULT '',
    transfer_id INTEGER NOT NULL REFERENCES transfers(id),
    account_type TEXT,
    bill_month TEXT,
    invoice_taken INTEGER NOT NULL DEFAULT 0 CHECK (invoice_taken IN (0, 1)),
    failure TEXT,
    channel TEXT NOT NULL,
    created_at TEXT NOT NULL,
    completed_at TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS recharges_agent ON recharges(agent_id, created_at);
CREATE INDEX IF NOT EXISTS recharges_target ON recharges(target);
CREATE INDEX IF NOT EXISTS recharges_failed ON recharges(agent_id) WHERE status = 'failed';

CREATE TABLE IF NOT EXISTS reversals (
    id INTEGER PRIMARY KEY,
    recharge_id INTEGER NOT NULL REFERENCES recharges(id),
    agent_id INTEGER NOT NULL REFERENCES agents(id),
    month TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    reference TEXT NOT NULL UNIQUE,
    transfer_id INTEGER NOT NULL REFERENCES transfers(id),
    operator TEXT NOT NULL,
    failure TEXT,
    created_at TEXT NOT NULL,
    completed_at TEXT
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS reversals_one_per_month
    ON reversals(agent_id, month) WHERE status != 'failed';
CREATE UNIQUE INDEX IF NOT EXISTS reversals_one_per_recharge
    ON reversals(recharge_id) WHERE status != 'failed';

CREATE TABLE IF NOT EXISTS deposits (
    id INTEGER PRIMARY KEY,
    agent_id INTEGER NOT NULL REFERENCES agents(id),
    channel TEXT NOT NULL CHECK (channel IN ('counter', 'online')),
    amount INTEGER NOT NULL CHECK (amount > 0),
    invoice_quota INTEGER NOT NULL,
    transfer_id INTEGER NOT NULL REFERENCES transfers(id),
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    op TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    result TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    to_msisdn TEXT NOT NULL,
    text TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    next_at TEXT NOT NULL,
    sent_at TEXT,
    gateway TEXT,
    message_id TEXT,
    receipt TEXT,
    claimed_by TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS outbox_queued ON outbox(next_at) WHERE status = 'queued';
CREATE INDEX IF NOT EXISTS outbox_message ON outbox(message_id) WHERE message_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
"""

# id, code, kind, no_overdraft. The operator's accounts have fixed ids (no lookup on the hot
# path); agent accounts are created per agent, as ``agent:<agent id>``, with ids after these.
FIXED_ACCOUNTS = [
    (1, "operator:cash", "operator", 0),
    (2, "operator:bank", "operator", 0),
    (3, "operator:refunds", "operator", 0),
    (4, "expense:commission", "expense", 0),
    (5, "settlement:landline", "settlement", 1),
    (6, "settlement:mobile", "settlement", 1),
    (7, "settlement:phs", "settlement", 1),
    (8, "settlement:broadband", "settlement", 1),
]
FIXED_IDS = {code: account for account, code, _, _ in FIXED_ACCOUNTS}


MIGRATIONS = [
    # (table, column, definition): columns added after a database may already exist
    ("agents", "credentials_at", "TEXT"),
    ("outbox", "claimed_by", "TEXT"),
    # the two locks: failed_attempts / locked_until are the transaction password's
    ("agents", "tx_lock_step", "INTEGER NOT NULL DEFAULT 0"),
    ("agents", "tx_failed_at", "TEXT"),
    ("agents", "web_failures", "INTEGER NOT NULL DEFAULT 0"),
    ("agents", "web_locked_until", "TEXT"),
    ("agents", "web_lock_step", "INTEGER NOT NULL DEFAULT 0"),
    ("agents", "web_failed_at", "TEXT"),
]


def _migrate(conn: sqlite3.Connection) -> None:
    for table, column, definition in MIGRATIONS:
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if have and column not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")


def create(conn: sqlite3.Connection, extra_ddl: str = "") -> None:
    """Create every table (idempotent), add later columns, the fixed accounts: one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        _migrate(conn)
        for statement in (DDL + boss_calls.DDL + extra_ddl).split(";\n"):
            if statement.strip():
                conn.execute(statement)
        conn.executemany(
            "INSERT OR IGNORE INTO accounts (id, code, kind, no_overdraft) VALUES (?, ?, ?, ?)",
            FIXED_ACCOUNTS,
        )
        conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise

