//! What the ledger keeps of a chat's board: whether board mode is on, the
//! message that shows the board, and the live tasks it lists, read as the
//! sender renders it.

use super::backend::Backend;
use super::write::ChatSwitch;
use super::{Ledger, LedgerResult, LedgerTx, TaskRecord, TaskRow};
use crate::domain::Lang;
use crate::either;

/// Most tasks read for a board: more than one message can show (4096
/// UTF-16 units hold about a hundred lines); the rest are counted.
pub const BOARD_TASKS_READ: i64 = 200;

/// A chat's board as the sender draws it.
#[derive(Debug, Clone)]
pub struct BoardSnapshot {
    /// The message that shows the board, once posted.
    pub message_id: Option<i32>,
    /// The chat's own language, if it has one.
    pub lang: Option<Lang>,
    /// The waiting board rows this drawing answers: those committed when
    /// it was read (on PostgreSQL a row with a lower id may commit later,
    /// so the rows are named, not bounded by the newest).
    pub rows: Vec<i64>,
    /// One of `rows` asks for the board anew at the bottom.
    pub repost: bool,
    /// Open tasks first, then claimed ones, each by number; at most
    /// [`BOARD_TASKS_READ`].
    pub tasks: Vec<TaskRecord>,
    /// How many tasks are live in all, and how many of them open.
    pub live: i64,
    pub open: i64,
}

#[derive(sqlx::FromRow)]
struct BoardRow {
    board_message_id: Option<i32>,
    lang: Option<String>,
    live: i64,
    open: i64,
}

impl Ledger {
    /// The board of `chat_id` with what it must show, when board rows wait
    /// for it (`None`: another delivery covered them, or no such chat).
    /// The rows are read before the tasks, so the tasks are at least as
    /// new as the changes that queued them.
    pub async fn board_snapshot(&self, chat_id: i64) -> LedgerResult<Option<BoardSnapshot>> {
        let waiting: Vec<(i64, Option<String>)> = either!(self.readers(), p => sqlx::query_as(
            "SELECT id, body FROM outbox
             WHERE lane = 0 AND kind = 'board' AND chat_id = $1 AND state = 'pending'
             ORDER BY id",
        )
        .bind(chat_id)
        .fetch_all(p)
        .await?);
        if waiting.is_empty() {
            return Ok(None);
        }
        let row: Option<BoardRow> = either!(self.readers(), p => sqlx::query_as(
            "SELECT c.board_message_id,
                    COALESCE(c.language, c.added_by_language) AS lang,
                    (SELECT COUNT(*) FROM tasks AS t WHERE t.chat_id = c.id
                        AND t.status IN ('open', 'claimed')) AS live,
                    (SELECT COUNT(*) FROM tasks AS t WHERE t.chat_id = c.id
                        AND t.status = 'open') AS open
             FROM chats AS c WHERE c.id = $1",
        )
        .bind(chat_id)
        .fetch_optional(p)
        .await?);
        let Some(row) = row else { return Ok(None) };
        let tasks: Vec<TaskRow> = either!(self.readers(), p => sqlx::query_as(
            "SELECT * FROM tasks WHERE chat_id = $1 AND status IN ('open', 'claimed')
             ORDER BY CASE status WHEN 'open' THEN 0 ELSE 1 END, number LIMIT $2",
        )
        .bind(chat_id)
        .bind(BOARD_TASKS_READ)
        .fetch_all(p)
        .await?);
        Ok(Some(BoardSnapshot {
            message_id: row.board_message_id,
            lang: row.lang.as_deref().and_then(Lang::from_code),
            repost: waiting
                .iter()
                .any(|(_, body)| body.as_deref() == Some("repost")),
            rows: waiting.into_iter().map(|(id, _)| id).collect(),
            tasks: super::records(tasks)?,
            live: row.live,
            open: row.open,
        }))
    }
}

impl LedgerTx {
    /// Turns board mode of a chat on or off (`/settings board`).
    pub async fn set_board_mode(
        &mut self,
        chat_id: i64,
        title: Option<&str>,
        on: bool,
    ) -> LedgerResult<()> {
        self.set_chat_switch(chat_id, title, ChatSwitch::BoardMode, on)
            .await
    }

    /// Records that the board of `chat_id` shows what board rows `rows`
    /// asked for, posted as message `posted` when it was posted anew (in
    /// the chat of that id: a post that raced a migration of the chat names
    /// a message of the old group, and the chat has moved).
    pub async fn board_drawn(
        &mut self,
        chat_id: i64,
        rows: &[i64],
        posted: Option<i32>,
    ) -> LedgerResult<()> {
        let now = self.now();
        if let Some(message_id) = posted {
            either!(self.conn().await?, c => sqlx::query(
                "UPDATE chats SET board_message_id = $1 WHERE id = $2",
            )
            .bind(message_id)
            .bind(chat_id)
            .execute(c)
            .await
            .map(drop)?);
        }
        const DONE: &str = "UPDATE outbox SET state = 'sent', finished_at = $1
             WHERE chat_id = $2 AND kind = 'board' AND state = 'pending' AND id";
        match self.conn().await? {
            Backend::Sqlite(c) => {
                sqlx::query(&format!("{DONE} IN (SELECT value FROM json_each($3))"))
                    .bind(now)
                    .bind(chat_id)
                    .bind(serde_json::to_string(rows).unwrap_or_else(|_| "[]".into()))
                    .execute(c)
                    .await
                    .map(drop)?
            }
            Backend::Postgres(c) => sqlx::query(&format!("{DONE} = ANY($3)"))
                .bind(now)
                .bind(chat_id)
                .bind(rows)
                .execute(c)
                .await
                .map(drop)?,
        }
        Ok(())
    }
}
