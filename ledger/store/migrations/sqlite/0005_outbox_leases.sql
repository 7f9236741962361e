-- Version 5 (4080623): outbox claims record the instance holding them (ledger/outbox.py).

ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
