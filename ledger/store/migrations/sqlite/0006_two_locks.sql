-- Version 6 (3d3acd6): two locks (R-2, ledger/lockout.py). failed_attempts and locked_until
-- (version 1) are the transaction password's; its ladder step and last failure, and the web
-- login's own counter, lock, step and last failure are added.

ALTER TABLE agents ADD COLUMN tx_lock_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN tx_failed_at TEXT;
ALTER TABLE agents ADD COLUMN web_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN web_locked_until TEXT;
ALTER TABLE agents ADD COLUMN web_lock_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN web_failed_at TEXT;
