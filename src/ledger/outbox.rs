//! The outbox: what the bot must say in Telegram, recorded in the same
//! transaction as the change that called for it, and sent afterwards by the
//! sender lane by lane.
//!
//! A lane is a chat (its rows go out in order) or lane 0, which holds the
//! answers to button presses: they must be fast and need no order. An
//! announcement row names its task and is rendered from the task's state
//! when it is sent, so that successive changes of one task coalesce into a
//! single edit showing the latest state.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, SqliteConnection};

use super::{Ledger, LedgerResult};

/// The lane of button answers.
pub const ANSWERS_LANE: i64 = 0;

/// The most button answers sent side by side.
pub const ANSWER_BURST: u32 = 64;

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// Post the task's announcement, or bring it up to date.
    Announce {
        task_id: i64,
        chat_id: i64,
        /// The request it answers, when first posted.
        reply_to: Option<i32>,
    },
    /// A reply or notice, already rendered as HTML.
    Message {
        chat_id: i64,
        thread_id: Option<i32>,
        reply_to: Option<i32>,
        html: String,
    },
    /// The answer to a button press (plain text, at most 200 characters).
    Answer {
        callback_query_id: String,
        text: String,
        alert: bool,
    },
}

/// What a lane has due, and whether more waits behind it.
#[derive(Debug)]
pub struct Due {
    pub rows: Vec<OutboxRow>,
    pub more: bool,
}

/// A task row with the id of its newest waiting announcement row.
#[derive(FromRow)]
struct AnnouncedTask {
    #[sqlx(flatten)]
    task: super::TaskRow,
    newest_announcement: Option<i64>,
}

/// An outbox row as the sender reads it.
#[derive(Debug, Clone, FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub lane: i64,
    pub kind: String,
    pub chat_id: Option<i64>,
    pub task_id: Option<i64>,
    pub thread_id: Option<i32>,
    pub reply_to: Option<i32>,
    pub body: Option<String>,
    pub callback_query_id: Option<String>,
    pub show_alert: bool,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl OutboxRow {
    /// What the row asks for, or `None` if the row is malformed.
    pub fn outgoing(&self) -> Option<Outgoing> {
        Some(match self.kind.as_str() {
            "announce" => Outgoing::Announce {
                task_id: self.task_id?,
                chat_id: self.chat_id?,
                reply_to: self.reply_to,
            },
            "message" => Outgoing::Message {
                chat_id: self.chat_id?,
                thread_id: self.thread_id,
                reply_to: self.reply_to,
                html: self.body.clone()?,
            },
            "answer" => Outgoing::Answer {
                callback_query_id: self.callback_query_id.clone()?,
                text: self.body.clone().unwrap_or_default(),
                alert: self.show_alert,
            },
            _ => return None,
        })
    }
}

impl Outgoing {
    /// The outbox columns of this message, in the order [`insert_rows`] takes.
    fn columns(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Outgoing::Announce {
                task_id,
                chat_id,
                reply_to,
            } => json!([chat_id, "announce", chat_id, task_id, null, reply_to, null, null, false]),
            Outgoing::Message {
                chat_id,
                thread_id,
                reply_to,
                html,
            } => json!([chat_id, "message", chat_id, null, thread_id, reply_to, html, null, false]),
            Outgoing::Answer {
                callback_query_id,
                text,
                alert,
            } => json!([
                ANSWERS_LANE,
                "answer",
                null,
                null,
                null,
                null,
                text,
                callback_query_id,
                alert
            ]),
        }
    }

    /// Moves a message for chat `from` to chat `to` (the group migrated).
    pub(super) fn follow_migration(&mut self, from: i64, to: i64) {
        match self {
            Outgoing::Announce { chat_id, .. } | Outgoing::Message { chat_id, .. }
                if *chat_id == from =>
            {
                *chat_id = to
            }
            _ => {}
        }
    }
}

/// The statement that queues `messages`, in order, in one round trip; its
/// arguments are numbered `created_at` and `rows` ([`rows_argument`]).
pub(super) fn insert_rows(created_at: &str, rows: &str) -> String {
    format!(
        "INSERT INTO outbox (lane, kind, chat_id, task_id, thread_id, reply_to, body,
                             callback_query_id, show_alert, created_at)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5,
                value ->> 6, value ->> 7, value ->> 8, {created_at}
         FROM json_each({rows}) ORDER BY key;"
    )
}

/// The `rows` argument of [`insert_rows`].
pub(super) fn rows_argument(messages: &[Outgoing]) -> String {
    serde_json::Value::Array(messages.iter().map(Outgoing::columns).collect()).to_string()
}

/// Points a migrated chat's waiting messages at its new id.
pub(super) async fn follow_migration_in_outbox(
    tx: &mut SqliteConnection,
    from: i64,
    to: i64,
) -> LedgerResult<()> {
    sqlx::query("UPDATE outbox SET lane = ?2, chat_id = ?2 WHERE lane = ?1 AND state = 'pending'")
        .bind(from)
        .bind(to)
        .execute(tx)
        .await?;
    Ok(())
}

impl Ledger {
    /// Lanes with something waiting.
    pub async fn outbox_lanes(&self) -> LedgerResult<Vec<i64>> {
        Ok(
            sqlx::query_scalar("SELECT DISTINCT lane FROM outbox WHERE state = 'pending'")
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// What a lane has due at `now`: in a chat's lane, its first waiting
    /// row if that is due (nothing behind it goes before it); in the answers
    /// lane, which keeps no order, up to [`ANSWER_BURST`] due rows.
    pub async fn outbox_due(&self, lane: i64, now: DateTime<Utc>) -> LedgerResult<Due> {
        let take = if lane == ANSWERS_LANE {
            ANSWER_BURST
        } else {
            1
        };
        // One row more than taken says whether the lane has more.
        let mut rows: Vec<OutboxRow> = sqlx::query_as(
            "SELECT id, lane, kind, chat_id, task_id, thread_id, reply_to, body,
                    callback_query_id, show_alert, attempts, next_attempt_at
             FROM outbox WHERE lane = ?1 AND state = 'pending'
               AND (?1 <> ?2 OR next_attempt_at IS NULL OR next_attempt_at <= ?3)
             ORDER BY id LIMIT ?4",
        )
        .bind(lane)
        .bind(ANSWERS_LANE)
        .bind(now)
        .bind(take + 1)
        .fetch_all(self.pool())
        .await?;
        let more = rows.len() > take as usize;
        rows.truncate(take as usize);
        // A chat's lane waits for its first row's retry.
        rows.retain(|row| row.next_attempt_at.is_none_or(|at| at <= now));
        Ok(Due { rows, more })
    }

    /// How many rows wait, in all lanes.
    pub async fn outbox_waiting(&self) -> LedgerResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state = 'pending'")
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// The task an announcement row shows, read together with the newest
    /// announcement row of that task in one statement (one snapshot), so
    /// that [`Ledger::announcement_sent`] retires exactly the rows this
    /// state covers.
    pub async fn announcement_snapshot(
        &self,
        task_id: i64,
    ) -> LedgerResult<Option<(super::TaskRecord, i64)>> {
        let row: Option<AnnouncedTask> = sqlx::query_as(
            "SELECT t.*, (SELECT MAX(o.id) FROM outbox o
                          WHERE o.task_id = t.id AND o.kind = 'announce' AND o.state = 'pending')
                         AS newest_announcement
             FROM tasks t WHERE t.id = ?1",
        )
        .bind(task_id)
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(AnnouncedTask {
                task,
                newest_announcement: Some(newest),
            }) => Ok(Some((task.try_into()?, newest))),
            _ => Ok(None),
        }
    }

    /// Gives up on everything waiting for a chat the bot can no longer post in.
    pub async fn outbox_abandon_lane(&self, lane: i64, error: &str) -> LedgerResult<u64> {
        Ok(sqlx::query(
            "UPDATE outbox SET state = 'failed', finished_at = ?1, error = ?2
             WHERE lane = ?3 AND state = 'pending'",
        )
        .bind(Utc::now())
        .bind(error)
        .bind(lane)
        .execute(self.writer())
        .await?
        .rows_affected())
    }

    /// Moves a chat's tasks and waiting messages after Telegram answered a
    /// send with `migrate_to_chat_id`.
    pub async fn migrate_chat(&self, from: i64, to: i64) -> LedgerResult<u64> {
        let mut tx = self.begin().await?;
        let moved = tx.migrate_chat(from, to).await?;
        tx.commit().await?;
        Ok(moved)
    }

    /// Marks a chat inactive (or active again) outside any handler.
    pub async fn set_chat_active(&self, chat_id: i64, active: bool) -> LedgerResult<()> {
        let mut tx = self.begin().await?;
        tx.set_chat_active(chat_id, active).await?;
        tx.commit().await
    }

    /// Forgets finished rows older than `before`.
    pub async fn prune_outbox(&self, before: DateTime<Utc>) -> LedgerResult<u64> {
        Ok(
            sqlx::query("DELETE FROM outbox WHERE state <> 'pending' AND finished_at < ?1")
                .bind(before)
                .execute(self.writer())
                .await?
                .rows_affected(),
        )
    }
}
