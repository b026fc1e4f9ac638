-- Private requests (as migrations/sqlite/0006).

ALTER TABLE tasks ADD COLUMN private BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE chats ADD COLUMN hide_flats BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE tasks ADD COLUMN media_kind TEXT CHECK (media_kind IN ('photo', 'voice'));
ALTER TABLE tasks ADD COLUMN media_file_id TEXT;

CREATE TABLE drafts (
    user_id       BIGINT PRIMARY KEY,
    chat_id       BIGINT,
    kind          TEXT,
    flat          TEXT,
    details       TEXT,
    media_kind    TEXT CHECK (media_kind IN ('photo', 'voice')),
    media_file_id TEXT,
    lang          TEXT NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE people (
    user_id    BIGINT PRIMARY KEY,
    reachable  BOOLEAN NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('announce', 'message', 'answer', 'details', 'delete'));
ALTER TABLE outbox ADD COLUMN buttons TEXT;
ALTER TABLE outbox ADD COLUMN url TEXT;
