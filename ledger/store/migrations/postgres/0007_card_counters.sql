-- Version 7: the UTK card's command counters (issue 15); the twin of sqlite/0007. The newest
-- counter applied per (number, card), and each card's over-the-air update counter.

CREATE TABLE IF NOT EXISTS card_counters (
    msisdn TEXT NOT NULL,
    card TEXT NOT NULL,
    counter BIGINT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (msisdn, card)
);

CREATE TABLE IF NOT EXISTS ota_counters (
    card TEXT PRIMARY KEY,
    counter BIGINT NOT NULL,
    at TEXT NOT NULL
);
