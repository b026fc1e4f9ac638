-- Indexes for the hot path (as migrations/sqlite/0003).

-- The processor takes waiting Updates in update_id order across chats.
CREATE INDEX inbox_waiting ON inbox (update_id) WHERE handled_at IS NULL;

-- The sender finds the waiting announcement rows of one task.
CREATE INDEX outbox_pending_task ON outbox (task_id, id) WHERE state = 'pending';
