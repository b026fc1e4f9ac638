-- /stats reads counts that triggers keep up to date, so that its cost does
-- not grow with a chat's history.

-- A chat's tasks by status.
CREATE TABLE chat_status_counts (
    chat_id INTEGER NOT NULL,
    status  TEXT NOT NULL,
    tasks   INTEGER NOT NULL,
    PRIMARY KEY (chat_id, status)
) WITHOUT ROWID;

-- The tasks each volunteer finished in a chat, with the name they finished
-- the latest one under.
CREATE TABLE helper_counts (
    chat_id    INTEGER NOT NULL,
    claimer_id INTEGER NOT NULL,
    name       TEXT,
    done       INTEGER NOT NULL,
    PRIMARY KEY (chat_id, claimer_id)
) WITHOUT ROWID;
CREATE INDEX helper_counts_top ON helper_counts (chat_id, done DESC, claimer_id);

INSERT INTO chat_status_counts (chat_id, status, tasks)
    SELECT chat_id, status, COUNT(*) FROM tasks GROUP BY chat_id, status;
INSERT INTO helper_counts (chat_id, claimer_id, name, done)
    SELECT chat_id, claimer_id, MAX(claimer_name), COUNT(*) FROM tasks
    WHERE status = 'done' GROUP BY chat_id, claimer_id;

CREATE TRIGGER tasks_counted_on_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO chat_status_counts (chat_id, status, tasks) VALUES (NEW.chat_id, NEW.status, 1)
        ON CONFLICT (chat_id, status) DO UPDATE SET tasks = tasks + 1;
    INSERT INTO helper_counts (chat_id, claimer_id, name, done)
        SELECT NEW.chat_id, NEW.claimer_id, NEW.claimer_name, 1 WHERE NEW.status = 'done'
        ON CONFLICT (chat_id, claimer_id) DO UPDATE SET done = done + 1, name = excluded.name;
END;

-- A change of status, or of chat (a group that became a supergroup).
CREATE TRIGGER tasks_counted_on_update AFTER UPDATE OF status, chat_id ON tasks
WHEN OLD.status IS NOT NEW.status OR OLD.chat_id IS NOT NEW.chat_id BEGIN
    UPDATE chat_status_counts SET tasks = tasks - 1
        WHERE chat_id = OLD.chat_id AND status = OLD.status;
    INSERT INTO chat_status_counts (chat_id, status, tasks) VALUES (NEW.chat_id, NEW.status, 1)
        ON CONFLICT (chat_id, status) DO UPDATE SET tasks = tasks + 1;
    UPDATE helper_counts SET done = done - 1
        WHERE OLD.status = 'done' AND chat_id = OLD.chat_id AND claimer_id = OLD.claimer_id;
    INSERT INTO helper_counts (chat_id, claimer_id, name, done)
        SELECT NEW.chat_id, NEW.claimer_id, NEW.claimer_name, 1 WHERE NEW.status = 'done'
        ON CONFLICT (chat_id, claimer_id) DO UPDATE SET done = done + 1, name = excluded.name;
END;

CREATE TRIGGER tasks_counted_on_delete AFTER DELETE ON tasks BEGIN
    UPDATE chat_status_counts SET tasks = tasks - 1
        WHERE chat_id = OLD.chat_id AND status = OLD.status;
    UPDATE helper_counts SET done = done - 1
        WHERE OLD.status = 'done' AND chat_id = OLD.chat_id AND claimer_id = OLD.claimer_id;
END;

-- Only /stats read through this index; every task change paid for it.
DROP INDEX tasks_chat_status;
