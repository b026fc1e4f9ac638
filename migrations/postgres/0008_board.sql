-- The board (as migrations/sqlite/0008).

ALTER TABLE chats ADD COLUMN board_mode BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE chats ADD COLUMN board_message_id INTEGER;

ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('announce', 'message', 'answer', 'details', 'delete', 'notice', 'edit',
                    'board', 'react'));
