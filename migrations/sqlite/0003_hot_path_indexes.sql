-- Indexes for the hot path, so that its cost does not grow with a backlog
-- or with the history kept for a while.

-- The processor takes waiting Updates in update_id order across chats
-- without walking the handled ones.
CREATE INDEX inbox_waiting ON inbox (update_id) WHERE handled_at IS NULL;

-- The sender finds the waiting announcement rows of one task (to render
-- its latest state once and retire them together) without walking every
-- waiting row.
CREATE INDEX outbox_pending_task ON outbox (task_id, id) WHERE state = 'pending';

