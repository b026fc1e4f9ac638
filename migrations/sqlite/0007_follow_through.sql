-- Follow-through: the requester's receipt, per-chat reminders and digests,
-- and the timers that run them.

-- When the requester (or a lead or admin) said a done task arrived.
ALTER TABLE tasks ADD COLUMN received_at TEXT;

-- A chat's own settings; NULL means the operator's default ([chat],
-- [reminders]). Durations in seconds, 0 for off; digest_at 'HH:MM' or 'off'.
ALTER TABLE chats ADD COLUMN time_zone TEXT;
ALTER TABLE chats ADD COLUMN unclaimed_after INTEGER;
ALTER TABLE chats ADD COLUMN check_claim_after INTEGER;
ALTER TABLE chats ADD COLUMN auto_release_after INTEGER;
ALTER TABLE chats ADD COLUMN digest_at TEXT;

-- The language a person's private notices speak (their Telegram language
-- when they last wrote to the bot).
ALTER TABLE people ADD COLUMN lang TEXT;

-- Events learn the receipt: 'received', and 'not_received' (the task is
-- claimed again by the same volunteer). SQLite cannot change a CHECK, so
-- the table is rebuilt (dropping a table fires no DELETE trigger).
DROP TRIGGER events_are_append_only_update;
DROP TRIGGER events_are_append_only_delete;
CREATE TABLE events_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id     INTEGER NOT NULL REFERENCES tasks(id),
    action      TEXT NOT NULL CHECK (action IN ('created', 'claimed', 'released', 'done',
                                                'cancelled', 'edited', 'received', 'not_received')),
    actor_id    INTEGER NOT NULL,
    actor_name  TEXT NOT NULL,
    at          TEXT NOT NULL
);
INSERT INTO events_new (id, task_id, action, actor_id, actor_name, at)
    SELECT id, task_id, action, actor_id, actor_name, at FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_task ON events (task_id, id);
CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

-- The outbox learns two kinds: 'notice', a private word to a requester or
-- claimer about their task, rendered from the task when sent (body:
-- 'NOTICE:LANG'); 'edit', a message of the bot's brought up to date
-- (reply_to names it). SQLite cannot change a CHECK: rebuilt.
CREATE TABLE outbox_new (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    lane              INTEGER NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('announce', 'message', 'answer', 'details',
                                                    'delete', 'notice', 'edit')),
    chat_id           INTEGER,
    task_id           INTEGER REFERENCES tasks(id),
    thread_id         INTEGER,
    reply_to          INTEGER,
    body              TEXT,
    callback_query_id TEXT,
    show_alert        INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TEXT,
    state             TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    finished_at       TEXT,
    error             TEXT,
    buttons           TEXT,
    url               TEXT
);
INSERT INTO outbox_new SELECT * FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (lane, id) WHERE state = 'pending';
CREATE INDEX outbox_finished ON outbox (finished_at) WHERE state <> 'pending';
CREATE INDEX outbox_pending_task ON outbox (task_id, id) WHERE state = 'pending';

-- Timers: what the bot must do at a time, run by the processor like an
-- Update (one unit of work each, retried, given up). One per kind and
-- chat (task_id 0) or per kind and task. A timer is deleted or moved on in
-- the unit that fires it, so it fires once, also across restarts.
CREATE TABLE timers (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL CHECK (kind IN ('unclaimed', 'check_claim', 'auto_release', 'digest')),
    chat_id    INTEGER NOT NULL,
    task_id    INTEGER NOT NULL DEFAULT 0,     -- check_claim, auto_release: the task
    claimer_id INTEGER,                        -- check_claim, auto_release: whom it concerns
    due_at     TEXT NOT NULL,
    fired_at   TEXT,                           -- unclaimed, digest: when it last said something
    attempts   INTEGER NOT NULL DEFAULT 0,
    state      TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed')),
    error      TEXT,
    UNIQUE (chat_id, task_id, kind)         -- also finds a chat's own timers
);
CREATE INDEX timers_due ON timers (due_at) WHERE state = 'pending';
CREATE INDEX timers_task ON timers (task_id) WHERE task_id <> 0;

-- /mine in a private chat lists the sender's own live requests.
CREATE INDEX tasks_requester_live ON tasks (requester_id) WHERE status IN ('open', 'claimed');
