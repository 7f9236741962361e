-- Version 7: the UTK card's command counters (issue 15). Each command a 空中充值 card sends
-- carries its card id and a counter; the newest counter applied per (number, card) is kept so
-- that a command re-sent after its remembered answer was pruned is never applied again.

CREATE TABLE IF NOT EXISTS card_counters (
    msisdn TEXT NOT NULL,
    card TEXT NOT NULL,
    counter INTEGER NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (msisdn, card)
) STRICT, WITHOUT ROWID;

-- The counter of the over-the-air updates sent to each card (TS 102 225 CNTR): strictly
-- increasing, so that the card refuses a replayed update.
CREATE TABLE IF NOT EXISTS ota_counters (
    card TEXT PRIMARY KEY,
    counter INTEGER NOT NULL,
    at TEXT NOT NULL
) STRICT, WITHOUT ROWID;
