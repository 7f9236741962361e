-- Version 4 (6bdc92b): no SMS pumping: replies to a sender that is no agent, counted per hour.

CREATE TABLE IF NOT EXISTS stranger_replies (
    msisdn TEXT PRIMARY KEY,
    since TEXT NOT NULL,
    count INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
