-- The board (interface.md, *Busy groups*): one message per chat listing its
-- live tasks, edited as they change.
-- - chats.board_mode: `/settings board on`, no per-task announcements there;
-- - chats.board_message_id: the message that shows the board, if posted.

ALTER TABLE chats ADD COLUMN board_mode INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN board_message_id INTEGER;

-- The outbox learns two kinds: 'board', the chat's board brought up to date
-- (body 'edit') or posted anew at the bottom (body 'repost'), rendered from
-- the live tasks when sent; 'react', a reaction on message reply_to of
-- chat_id. SQLite cannot change a CHECK: rebuilt.
CREATE TABLE outbox_new (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    lane              INTEGER NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('announce', 'message', 'answer', 'details',
                                                    'delete', 'notice', 'edit', 'board',
                                                    'react')),
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
