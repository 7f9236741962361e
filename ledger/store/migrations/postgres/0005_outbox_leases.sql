-- Version 5 on PostgreSQL (the SQLite 0005_outbox_leases.sql in this dialect).

ALTER TABLE outbox ADD COLUMN IF NOT EXISTS claimed_by TEXT;
