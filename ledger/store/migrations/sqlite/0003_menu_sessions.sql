-- Version 3 (79c79c1): menu sessions by (agent, dialog channel): sms, ussd and api dialogs apart.

CREATE TABLE IF NOT EXISTS menu_sessions (
    msisdn TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('sms', 'ussd', 'api')),
    state TEXT NOT NULL,
    data TEXT NOT NULL,
    dialog INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (msisdn, channel)
) STRICT, WITHOUT ROWID;

-- The one-per-agent sessions continue as SMS dialogs. ``sessions`` is emptied, not dropped
-- (expand only): a later contract migration drops it once no version-1 code runs.
INSERT OR IGNORE INTO menu_sessions (msisdn, channel, state, data, dialog, updated_at)
    SELECT msisdn, 'sms', state, data, dialog, updated_at FROM sessions;
DELETE FROM sessions;
