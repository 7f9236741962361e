-- Version 3 on PostgreSQL (the SQLite 0003_menu_sessions.sql in this dialect).

CREATE TABLE IF NOT EXISTS menu_sessions (
    msisdn TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('sms', 'ussd', 'api')),
    state TEXT NOT NULL,
    data TEXT NOT NULL,
    dialog INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (msisdn, channel)
);

INSERT INTO menu_sessions (msisdn, channel, state, data, dialog, updated_at)
    SELECT msisdn, 'sms', state, data, dialog, updated_at FROM sessions
    ON CONFLICT DO NOTHING;
DELETE FROM sessions;
