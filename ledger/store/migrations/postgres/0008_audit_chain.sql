-- Version 8: the audit log's hash chain (ledger/audit.py, ledger/store/web_audit.py); the twin
-- of sqlite/0008. audit_chain holds each row's link (sha256 of the previous hash and the row's
-- canonical content), audit_head the last row's id and hash, locked by an UPDATE while a row
-- is appended (ids without gaps, no fork between writers). Rows written before this version
-- are chained when the first row after it is appended (web_audit.append adopts them, once, in
-- that transaction; a second instance doing the same at once loses on audit_head's key and its
-- operation reruns on the chain the first one made).

ALTER TABLE web_audit ADD COLUMN IF NOT EXISTS agent_id BIGINT;
ALTER TABLE web_audit ADD COLUMN IF NOT EXISTS amount_fen BIGINT;

CREATE TABLE IF NOT EXISTS audit_chain (
    id BIGINT PRIMARY KEY,
    hash TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS audit_head (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    last_id BIGINT NOT NULL,
    hash TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS web_audit_agent ON web_audit(agent_id, id);
CREATE INDEX IF NOT EXISTS web_audit_action ON web_audit(action, id);

CREATE OR REPLACE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain
FOR EACH ROW EXECUTE FUNCTION smsmenu_refuse('the audit log is append-only');
CREATE OR REPLACE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
FOR EACH ROW EXECUTE FUNCTION smsmenu_refuse('the audit log is append-only');
