-- The ledger: chats, their tasks, and every change to a task.

CREATE TABLE chats (
    id          INTEGER PRIMARY KEY,            -- Telegram chat id
    title       TEXT,
    active      INTEGER NOT NULL DEFAULT 1,     -- 0 once the bot was removed
    created_at  TEXT NOT NULL
);

CREATE TABLE tasks (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id                 INTEGER NOT NULL REFERENCES chats(id) ON UPDATE CASCADE,
    number                  INTEGER NOT NULL CHECK (number >= 1),
    kind                    TEXT NOT NULL,
    flat                    TEXT NOT NULL,
    details                 TEXT NOT NULL DEFAULT '',
    status                  TEXT NOT NULL CHECK (status IN ('open', 'claimed', 'done', 'cancelled')),
    requester_id            INTEGER NOT NULL,
    requester_name          TEXT NOT NULL,
    claimer_id              INTEGER,
    claimer_name            TEXT,
    done_note               TEXT,
    lang                    TEXT NOT NULL,
    thread_id               INTEGER,            -- forum topic of the request
    source_message_id       INTEGER NOT NULL,   -- the /need message, for edits
    announcement_message_id INTEGER,
    created_at              TEXT NOT NULL,
    claimed_at              TEXT,
    done_at                 TEXT,
    cancelled_at            TEXT,
    UNIQUE (chat_id, number),
    CHECK (status <> 'open' OR claimer_id IS NULL),
    CHECK (status NOT IN ('claimed', 'done') OR claimer_id IS NOT NULL)
);

-- /open reads only the live tasks of one chat, whatever the ledger's size.
CREATE INDEX tasks_live ON tasks (chat_id, number) WHERE status IN ('open', 'claimed');
-- /mine reads one volunteer's claimed tasks.
CREATE INDEX tasks_claimed_by ON tasks (claimer_id, chat_id, number) WHERE status = 'claimed';
-- /stats counts one chat's tasks by status and volunteer.
CREATE INDEX tasks_chat_status ON tasks (chat_id, status, claimer_id);
-- An edited /need finds its task.
CREATE INDEX tasks_source_message ON tasks (chat_id, source_message_id);

-- Append-only: a row per change, never updated or deleted.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id     INTEGER NOT NULL REFERENCES tasks(id),
    action      TEXT NOT NULL CHECK (action IN ('created', 'claimed', 'released', 'done', 'cancelled', 'edited')),
    actor_id    INTEGER NOT NULL,
    actor_name  TEXT NOT NULL,
    at          TEXT NOT NULL,
    note        TEXT
);
CREATE INDEX events_task ON events (task_id, id);

CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
