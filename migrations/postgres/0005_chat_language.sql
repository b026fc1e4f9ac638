-- The language a chat's shared messages speak, and finding a task from a
-- reply to its announcement (as migrations/sqlite/0005).

ALTER TABLE chats ADD COLUMN language TEXT CHECK (language IN ('en', 'zh'));
ALTER TABLE chats ADD COLUMN added_by_language TEXT CHECK (added_by_language IN ('en', 'zh'));

CREATE INDEX tasks_announcement ON tasks (chat_id, announcement_message_id);
