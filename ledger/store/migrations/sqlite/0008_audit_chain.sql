-- Version 8: the audit log an auditor trusts (ledger/audit.py, ledger/store/web_audit.py).
-- Each row names the agent and the amount it is about (NULL when none); audit_chain holds its
-- link of a hash chain: hash = sha256(previous row's hash + this row's canonical content), the
-- canonical form documented in ledger/store/web_audit.py. audit_head holds the last row's id and
-- hash; a new row takes id = last_id + 1 (no gaps) while it holds the head's row lock.
--
-- Rows written before this version are adopted on the first start after it (SQL has no
-- portable sha256): ledger.store.web_audit.adopt chains them in id order and creates the head
-- row, once. Like web_audit, audit_chain is append-only (triggers).

ALTER TABLE web_audit ADD COLUMN agent_id INTEGER;
ALTER TABLE web_audit ADD COLUMN amount_fen INTEGER;

CREATE TABLE IF NOT EXISTS audit_chain (
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_id INTEGER NOT NULL,
    hash TEXT NOT NULL
) STRICT;

CREATE INDEX IF NOT EXISTS web_audit_agent ON web_audit(agent_id, id);
CREATE INDEX IF NOT EXISTS web_audit_action ON web_audit(action, id);

CREATE TRIGGER IF NOT EXISTS audit_chain_no_update BEFORE UPDATE ON audit_chain
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_chain_no_delete BEFORE DELETE ON audit_chain
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
