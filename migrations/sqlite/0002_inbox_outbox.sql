-- Durable inbox and outbox around the handlers.

-- Every Update fetched from Telegram, stored before its offset is confirmed.
-- A handler marks its Update handled in the same transaction as its effects.
CREATE TABLE inbox (
    update_id   INTEGER PRIMARY KEY,           -- Telegram's id: an Update is stored once
    chat_key    INTEGER NOT NULL,              -- Updates of one chat are handled in order
    raw         TEXT NOT NULL,                 -- the Update's JSON as Telegram sent it
    received_at TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    retry_at    TEXT,
    handled_at  TEXT,
    error       TEXT                           -- why it was given up on, if it was
);
CREATE INDEX inbox_pending ON inbox (chat_key, update_id) WHERE handled_at IS NULL;
CREATE INDEX inbox_handled ON inbox (handled_at) WHERE handled_at IS NOT NULL;

-- What the bot must say in Telegram, recorded with the change that caused it.
-- Rows of one lane (a chat; lane 0 holds button answers) are sent in order.
CREATE TABLE outbox (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    lane              INTEGER NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('announce', 'message', 'answer')),
    chat_id           INTEGER,                 -- message
    task_id           INTEGER REFERENCES tasks(id), -- announce: rendered from the task when sent
    thread_id         INTEGER,                 -- message: forum topic
    reply_to          INTEGER,                 -- message, announce: the message answered
    body              TEXT,                    -- message: HTML; answer: text
    callback_query_id TEXT,                    -- answer
    show_alert        INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TEXT,
    state             TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    finished_at       TEXT,
    error             TEXT
);
CREATE INDEX outbox_pending ON outbox (lane, id) WHERE state = 'pending';
CREATE INDEX outbox_finished ON outbox (finished_at) WHERE state <> 'pending';
