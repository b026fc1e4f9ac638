-- /stats reads counts that triggers keep up to date (as migrations/sqlite/0004).

CREATE TABLE chat_status_counts (
    chat_id BIGINT NOT NULL,
    status  TEXT NOT NULL,
    tasks   BIGINT NOT NULL,
    PRIMARY KEY (chat_id, status)
);

CREATE TABLE helper_counts (
    chat_id    BIGINT NOT NULL,
    claimer_id BIGINT NOT NULL,
    name       TEXT,
    done       BIGINT NOT NULL,
    PRIMARY KEY (chat_id, claimer_id)
);
CREATE INDEX helper_counts_top ON helper_counts (chat_id, done DESC, claimer_id);

INSERT INTO chat_status_counts (chat_id, status, tasks)
    SELECT chat_id, status, COUNT(*) FROM tasks GROUP BY chat_id, status;
INSERT INTO helper_counts (chat_id, claimer_id, name, done)
    SELECT chat_id, claimer_id, MAX(claimer_name), COUNT(*) FROM tasks
    WHERE status = 'done' GROUP BY chat_id, claimer_id;

-- A task counted in (sign 1) or out (sign -1) of its chat's counts.
CREATE FUNCTION count_task(task tasks, sign BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO chat_status_counts (chat_id, status, tasks) VALUES (task.chat_id, task.status, sign)
        ON CONFLICT (chat_id, status) DO UPDATE SET tasks = chat_status_counts.tasks + sign;
    IF task.status = 'done' THEN
        INSERT INTO helper_counts (chat_id, claimer_id, name, done)
            VALUES (task.chat_id, task.claimer_id, task.claimer_name, sign)
            ON CONFLICT (chat_id, claimer_id) DO UPDATE SET
                done = helper_counts.done + sign,
                name = CASE WHEN sign > 0 THEN excluded.name ELSE helper_counts.name END;
    END IF;
END;
$$;

CREATE FUNCTION tasks_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM count_task(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM count_task(NEW, 1);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER tasks_counted_on_insert AFTER INSERT ON tasks
    FOR EACH ROW EXECUTE FUNCTION tasks_counted();
-- A change of status, or of chat (a group that became a supergroup).
CREATE TRIGGER tasks_counted_on_update AFTER UPDATE OF status, chat_id ON tasks
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.chat_id IS DISTINCT FROM NEW.chat_id)
    EXECUTE FUNCTION tasks_counted();
CREATE TRIGGER tasks_counted_on_delete AFTER DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION tasks_counted();

-- Only /stats read through this index; every task change paid for it.
DROP INDEX tasks_chat_status;
