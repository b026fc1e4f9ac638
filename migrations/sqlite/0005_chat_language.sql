-- The language a chat's shared messages speak, and finding a task from a
-- reply to its announcement.

-- Set by an admin with /settings language; NULL until then.
ALTER TABLE chats ADD COLUMN language TEXT CHECK (language IN ('en', 'zh'));
-- The Telegram language of whoever added the bot, when it is one we speak.
ALTER TABLE chats ADD COLUMN added_by_language TEXT CHECK (added_by_language IN ('en', 'zh'));

-- `/done` sent as a reply to an announcement finds its task.
CREATE INDEX tasks_announcement ON tasks (chat_id, announcement_message_id);
