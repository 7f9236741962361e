-- Version 4 on PostgreSQL (the SQLite 0004_stranger_replies.sql in this dialect).

CREATE TABLE IF NOT EXISTS stranger_replies (
    msisdn TEXT PRIMARY KEY,
    since TEXT NOT NULL,
    count INTEGER NOT NULL
);
