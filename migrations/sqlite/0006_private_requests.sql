-- Private requests: asked for step by step in a private chat with the bot.
-- The group sees only their number and kind; the claimer gets the rest.

-- 1 for a private request.
ALTER TABLE tasks ADD COLUMN private INTEGER NOT NULL DEFAULT 0;
-- /settings hide_flats on: every request of the chat is private, and the
-- /need message is deleted once recorded, where the bot may delete it.
ALTER TABLE chats ADD COLUMN hide_flats INTEGER NOT NULL DEFAULT 0;
-- A photo or voice message given as the details, sent on to the claimer
-- by Telegram's file_id.
ALTER TABLE tasks ADD COLUMN media_kind TEXT CHECK (media_kind IN ('photo', 'voice'));
ALTER TABLE tasks ADD COLUMN media_file_id TEXT;

-- A private request being written: one per person, dropped after a day.
-- A field is NULL until its step is answered (details: '' when skipped).
CREATE TABLE drafts (
    user_id       INTEGER PRIMARY KEY,         -- the person writing it (= their private chat)
    chat_id       INTEGER,                     -- the group it is for
    thread_id     INTEGER,                     -- the group's forum topic it was asked from
    kind          TEXT,
    flat          TEXT,
    details       TEXT,
    media_kind    TEXT CHECK (media_kind IN ('photo', 'voice')),
    media_file_id TEXT,
    lang          TEXT NOT NULL,               -- the language its steps speak
    updated_at    TEXT NOT NULL
);

-- Whether the bot may write to a person privately: they wrote to it, and
-- Telegram has not since answered 403 (never started, or blocked).
CREATE TABLE people (
    user_id    INTEGER PRIMARY KEY,
    reachable  INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);

-- The outbox learns buttons under a message (JSON), a URL opened by a
-- button answer, and two kinds of row: 'details', a private request's flat
-- and details for its claimer, rendered from the task when sent (so the
-- outbox never holds them); 'delete', a message to delete (reply_to names
-- it). SQLite cannot change a CHECK, so the table is rebuilt.
CREATE TABLE outbox_new (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    lane              INTEGER NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('announce', 'message', 'answer', 'details', 'delete')),
    chat_id           INTEGER,                 -- message, details: where it goes
    task_id           INTEGER REFERENCES tasks(id), -- announce, details: rendered from the task when sent
    thread_id         INTEGER,
    reply_to          INTEGER,                 -- message, announce: the message answered; delete: the message
    body              TEXT,                    -- message: HTML; answer: text; details: the reader's language
    callback_query_id TEXT,
    show_alert        INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TEXT,
    state             TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    finished_at       TEXT,
    error             TEXT,
    buttons           TEXT,                    -- message: the inline keyboard, JSON
    url               TEXT                     -- answer: the URL the button opens
);
INSERT INTO outbox_new (id, lane, kind, chat_id, task_id, thread_id, reply_to, body,
                        callback_query_id, show_alert, created_at, attempts, next_attempt_at,
                        state, finished_at, error)
    SELECT id, lane, kind, chat_id, task_id, thread_id, reply_to, body, callback_query_id,
           show_alert, created_at, attempts, next_attempt_at, state, finished_at, error
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (lane, id) WHERE state = 'pending';
CREATE INDEX outbox_finished ON outbox (finished_at) WHERE state <> 'pending';
CREATE INDEX outbox_pending_task ON outbox (task_id, id) WHERE state = 'pending';

-- Building leads (楼长) an admin named in a chat with /lead.
CREATE TABLE leads (
    chat_id  INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    name     TEXT NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);

-- Households that cannot go out, registered by an admin or a lead.
CREATE TABLE households (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id    INTEGER NOT NULL,
    flat       TEXT NOT NULL,
    until_day  TEXT,                           -- the last day it needs help (YYYY-MM-DD)
    note       TEXT NOT NULL DEFAULT '',
    added_by   INTEGER NOT NULL,
    added_at   TEXT NOT NULL,
    UNIQUE (chat_id, flat)
);

-- Forgetting erases a finished task's flat, details and note. Events are
-- facts about who did what and when, and never change: they keep no free
-- text (the done note lives on the task only), so erasing touches no event.
ALTER TABLE events DROP COLUMN note;
-- Finished tasks, found by when they finished, for forgetting.
CREATE INDEX tasks_finished ON tasks (COALESCE(done_at, cancelled_at))
    WHERE status IN ('done', 'cancelled') AND (flat <> '' OR details <> '' OR done_note IS NOT NULL);
