-- Version 1: the schema as the code created it at commit 57547df, before versioned migrations.
--
-- Every statement is idempotent (IF NOT EXISTS, OR IGNORE): a database made by that code, or by
-- the code after it that still created its tables on open, is adopted by running this file.

-- The ledger (ledger/): accounts, transfers and their postings, agents, recharges, reversals,
-- deposits, idempotency keys, the SMS outbox, settings rows.
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
    receipt TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS outbox_queued ON outbox(next_at) WHERE status = 'queued';
CREATE INDEX IF NOT EXISTS outbox_message ON outbox(message_id) WHERE message_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;

-- The operator's accounts, with fixed ids (ledger.schema.FIXED_ACCOUNTS: no lookup on the hot
-- path); agent accounts come after them, one per agent.
INSERT OR IGNORE INTO accounts (id, code, kind, no_overdraft) VALUES
    (1, 'operator:cash', 'operator', 0),
    (2, 'operator:bank', 'operator', 0),
    (3, 'operator:refunds', 'operator', 0),
    (4, 'expense:commission', 'expense', 0),
    (5, 'settlement:landline', 'settlement', 1),
    (6, 'settlement:mobile', 'settlement', 1),
    (7, 'settlement:phs', 'settlement', 1),
    (8, 'settlement:broadband', 'settlement', 1);

-- The menu engine (smsmenu/states/): one dialog per agent, answers remembered by message key.
CREATE TABLE IF NOT EXISTS sessions (
    msisdn TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    data TEXT NOT NULL,
    dialog INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS inbox (
    key TEXT PRIMARY KEY,
    msisdn TEXT NOT NULL,
    replies TEXT NOT NULL,
    final INTEGER NOT NULL,
    at TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- The web portal (smsmenu/web/): operators, their last logins, the audit log, sessions,
-- one-time codes, online top-ups, rate-limit buckets.
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
