//! The outbox: what the bot must say in Telegram, recorded in the same
//! transaction as the change that called for it, and sent afterwards by the
//! sender lane by lane.
//!
//! A lane is a chat (its rows go out in order) or lane 0, which holds the
//! answers to button presses, reactions and boards: they must be fast and
//! need no order among the chat's messages (the sender draws one board of a
//! chat at a time). An
//! announcement row names its task and is rendered from the task's state
//! when it is sent, so that successive changes of one task coalesce into a
//! single edit showing the latest state.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;

use super::backend::{Backend, Conn};
use super::{Ledger, LedgerResult};
use crate::domain::{Lang, Notice};
use crate::either;

/// The lane of button answers.
pub const ANSWERS_LANE: i64 = 0;

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
    /// A reply or notice, already rendered as HTML, with buttons under it
    /// if `buttons` is not empty.
    Message {
        chat_id: i64,
        thread_id: Option<i32>,
        reply_to: Option<i32>,
        html: String,
        buttons: Buttons,
    },
    /// The answer to a button press (plain text, at most 200 characters),
    /// opening `url` (a `t.me/<bot>?start=` link) if given.
    Answer {
        callback_query_id: String,
        text: String,
        alert: bool,
        url: Option<String>,
    },
    /// A private request's flat, details (and photo or voice message) for
    /// its claimer, in their private chat `chat_id`, in `lang`. Rendered
    /// from the task when sent, and only while they still hold it: the
    /// outbox never holds the details themselves.
    Details {
        task_id: i64,
        chat_id: i64,
        lang: Lang,
    },
    /// Delete message `message_id` of a chat (a `/need` in a chat that
    /// hides flats), where the bot may.
    Delete { chat_id: i64, message_id: i32 },
    /// Tell a requester or claimer something about their task (`notice`),
    /// in `lang`: in their private chat `chat_id`, or, where `chat_id` is
    /// the task's group, there as a reply naming its claimer. Rendered from
    /// the task when sent; one meant for the claimer goes only while they
    /// still hold the task.
    Notice {
        task_id: i64,
        chat_id: i64,
        notice: Notice,
        lang: Lang,
    },
    /// Bring message `message_id` of the bot's, in a chat, up to date.
    Edit {
        chat_id: i64,
        message_id: i32,
        html: String,
        buttons: Buttons,
    },
    /// Bring the chat's board up to date (posting it if it has none), or
    /// with `repost` post it anew at the bottom of the chat. Rendered from
    /// the live tasks when sent: one delivery answers every board row
    /// waiting for the chat, so a burst of changes is one edit. It waits in
    /// the answers lane, one drawing per chat at a time: an edit keeps no
    /// order with the chat's messages, and must not wait behind new
    /// messages paced at 20 a minute.
    Board { chat_id: i64, repost: bool },
    /// React to message `message_id` of a chat (a request or command that
    /// succeeded, in board mode). It waits in the answers lane: it keeps
    /// no order and must not wait behind the chat's messages.
    React { chat_id: i64, message_id: i32 },
}

/// Inline buttons under a message, row by row (at most 100 in all, as
/// Telegram allows; callback data at most 64 bytes).
pub type Buttons = Vec<Vec<Button>>;

/// One inline button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub label: String,
    pub press: Press,
}

/// What pressing a button does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Press {
    /// Sends the bot this callback data.
    Callback(String),
    /// Opens this URL.
    Url(String),
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
    pub buttons: Option<String>,
    pub url: Option<String>,
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
                buttons: self.buttons()?,
            },
            "answer" => Outgoing::Answer {
                callback_query_id: self.callback_query_id.clone()?,
                text: self.body.clone().unwrap_or_default(),
                alert: self.show_alert,
                url: self.url.clone(),
            },
            "delete" => Outgoing::Delete {
                chat_id: self.chat_id?,
                message_id: self.reply_to?,
            },
            "details" => Outgoing::Details {
                task_id: self.task_id?,
                chat_id: self.chat_id?,
                lang: Lang::from_code(self.body.as_deref()?)?,
            },
            "notice" => {
                let (notice, lang) = self.body.as_deref()?.split_once(':')?;
                Outgoing::Notice {
                    task_id: self.task_id?,
                    chat_id: self.chat_id?,
                    notice: notice.parse().ok()?,
                    lang: Lang::from_code(lang)?,
                }
            }
            "board" => Outgoing::Board {
                chat_id: self.chat_id?,
                repost: self.body.as_deref() == Some("repost"),
            },
            "react" => Outgoing::React {
                chat_id: self.chat_id?,
                message_id: self.reply_to?,
            },
            "edit" => Outgoing::Edit {
                chat_id: self.chat_id?,
                message_id: self.reply_to?,
                html: self.body.clone()?,
                buttons: self.buttons()?,
            },
            _ => return None,
        })
    }
}

impl OutboxRow {
    /// The buttons under the message; `None` if they do not read.
    fn buttons(&self) -> Option<Buttons> {
        match &self.buttons {
            Some(json) => serde_json::from_str(json).ok(),
            None => Some(Vec::new()),
        }
    }
}

impl Outgoing {
    /// Brings `task`'s announcement up to date (the sender renders it from
    /// the task's state when it goes out).
    pub fn announce(task: &super::TaskRecord) -> Outgoing {
        Outgoing::Announce {
            task_id: task.id,
            chat_id: task.chat_id,
            reply_to: None,
        }
    }

    /// The lane it waits in: its chat's, or the answers lane.
    pub fn lane(&self) -> i64 {
        match self {
            Outgoing::Announce { chat_id, .. }
            | Outgoing::Message { chat_id, .. }
            | Outgoing::Details { chat_id, .. }
            | Outgoing::Notice { chat_id, .. }
            | Outgoing::Edit { chat_id, .. }
            | Outgoing::Delete { chat_id, .. } => *chat_id,
            Outgoing::Answer { .. } | Outgoing::React { .. } | Outgoing::Board { .. } => {
                ANSWERS_LANE
            }
        }
    }

    /// The outbox columns of this message, in the order [`insert`] takes.
    fn columns(&self) -> serde_json::Value {
        use serde_json::json;
        let lane = self.lane();
        match self {
            Outgoing::Announce {
                task_id,
                chat_id,
                reply_to,
            } => json!([
                lane, "announce", chat_id, task_id, null, reply_to, null, null, false, null, null
            ]),
            Outgoing::Message {
                chat_id,
                thread_id,
                reply_to,
                html,
                buttons,
            } => {
                let buttons = (!buttons.is_empty())
                    .then(|| serde_json::to_string(buttons).ok())
                    .flatten();
                json!([
                    lane, "message", chat_id, null, thread_id, reply_to, html, null, false,
                    buttons, null
                ])
            }
            Outgoing::Answer {
                callback_query_id,
                text,
                alert,
                url,
            } => json!([
                lane,
                "answer",
                null,
                null,
                null,
                null,
                text,
                callback_query_id,
                alert,
                null,
                url
            ]),
            Outgoing::Delete {
                chat_id,
                message_id,
            } => json!([
                lane, "delete", chat_id, null, null, message_id, null, null, false, null, null
            ]),
            Outgoing::Details {
                task_id,
                chat_id,
                lang,
            } => json!([
                lane,
                "details",
                chat_id,
                task_id,
                null,
                null,
                lang.as_str(),
                null,
                false,
                null,
                null
            ]),
            Outgoing::Notice {
                task_id,
                chat_id,
                notice,
                lang,
            } => json!([
                lane,
                "notice",
                chat_id,
                task_id,
                null,
                null,
                format!("{}:{}", notice.as_str(), lang.as_str()),
                null,
                false,
                null,
                null
            ]),
            Outgoing::Board { chat_id, repost } => {
                let body = if *repost { "repost" } else { "edit" };
                json!([lane, "board", chat_id, null, null, null, body, null, false, null, null])
            }
            Outgoing::React {
                chat_id,
                message_id,
            } => json!([
                lane, "react", chat_id, null, null, message_id, null, null, false, null, null
            ]),
            Outgoing::Edit {
                chat_id,
                message_id,
                html,
                buttons,
            } => json!([
                lane,
                "edit",
                chat_id,
                null,
                null,
                message_id,
                html,
                null,
                false,
                serde_json::to_string(buttons).ok(),
                null
            ]),
        }
    }

    /// Moves a message for chat `from` to chat `to` (the group migrated).
    /// Returns `false` for a deletion there, which cannot follow: the old
    /// message ids name other messages in the supergroup.
    pub(super) fn follow_migration(&mut self, from: i64, to: i64) -> bool {
        match self {
            Outgoing::Delete { chat_id, .. }
            | Outgoing::Edit { chat_id, .. }
            | Outgoing::React { chat_id, .. }
                if *chat_id == from =>
            {
                return false
            }
            Outgoing::Notice { chat_id, .. } | Outgoing::Board { chat_id, .. }
                if *chat_id == from =>
            {
                *chat_id = to
            }
            // The old group's message ids name other messages in the supergroup.
            Outgoing::Announce {
                chat_id, reply_to, ..
            }
            | Outgoing::Message {
                chat_id, reply_to, ..
            } if *chat_id == from => {
                *chat_id = to;
                *reply_to = None;
            }
            _ => {}
        }
        true
    }
}

/// The SQLite statement that queues messages, in order, in one round trip:
/// `$1` the time, `$3` the rows ([`rows_argument`]); it may follow others.
pub(super) const SQLITE_INSERT_ROWS: &str =
    "INSERT INTO outbox (lane, kind, chat_id, task_id, thread_id, reply_to, body,
                         callback_query_id, show_alert, buttons, url, created_at)
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5,
            value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10, $1
     FROM json_each($3) ORDER BY key;";

/// The PostgreSQL statement that queues messages, in order: `$1` the time,
/// `$2` the rows ([`rows_argument`]).
const POSTGRES_INSERT_ROWS: &str =
    "INSERT INTO outbox (lane, kind, chat_id, task_id, thread_id, reply_to, body,
                         callback_query_id, show_alert, buttons, url, created_at)
     SELECT (r.v ->> 0)::BIGINT, r.v ->> 1, (r.v ->> 2)::BIGINT, (r.v ->> 3)::BIGINT,
            (r.v ->> 4)::INTEGER, (r.v ->> 5)::INTEGER, r.v ->> 6, r.v ->> 7,
            (r.v ->> 8)::BOOLEAN, r.v ->> 9, r.v ->> 10, $1
     FROM jsonb_array_elements($2::TEXT::JSONB) WITH ORDINALITY AS r(v, i) ORDER BY r.i";

/// Queues `messages`, in order, in one statement.
pub(super) async fn insert(
    conn: Conn<'_>,
    now: DateTime<Utc>,
    messages: &[Outgoing],
) -> LedgerResult<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let rows = rows_argument(messages);
    match conn {
        // `$2` is unused there: the statement may follow one that takes it.
        Backend::Sqlite(c) => sqlx::query(SQLITE_INSERT_ROWS)
            .bind(now)
            .bind(Option::<String>::None)
            .bind(rows)
            .execute(c)
            .await
            .map(drop)?,
        Backend::Postgres(c) => sqlx::query(POSTGRES_INSERT_ROWS)
            .bind(now)
            .bind(rows)
            .execute(c)
            .await
            .map(drop)?,
    };
    Ok(())
}

/// The rows argument of the statements that queue messages: a JSON array
/// of each message's columns.
pub(super) fn rows_argument(messages: &[Outgoing]) -> String {
    serde_json::Value::Array(messages.iter().map(Outgoing::columns).collect()).to_string()
}

/// Points a migrated chat's waiting messages at its new id.
pub(super) async fn follow_migration_in_outbox(
    conn: Conn<'_>,
    from: i64,
    to: i64,
) -> LedgerResult<()> {
    // Old message ids name other messages in the supergroup: no reply to
    // them, and nothing deleted, edited or reacted to by them.
    either!(conn, c => {
        sqlx::query(
            "UPDATE outbox SET state = 'failed', error = 'the group became a supergroup'
             WHERE state = 'pending' AND ((lane = $1 AND kind IN ('delete', 'edit'))
                                          OR (kind = 'react' AND chat_id = $1))",
        )
        .bind(from)
        .execute(&mut *c)
        .await?;
        // The board's rows wait in the answers lane, naming their chat.
        sqlx::query(
            "UPDATE outbox SET chat_id = $2
             WHERE lane = 0 AND kind = 'board' AND chat_id = $1 AND state = 'pending'",
        )
        .bind(from)
        .bind(to)
        .execute(&mut *c)
        .await?;
        sqlx::query(
            "UPDATE outbox SET lane = $2, chat_id = $2, reply_to = NULL
             WHERE lane = $1 AND state = 'pending'",
        )
        .bind(from)
        .bind(to)
        .execute(c)
        .await
        .map(drop)?
    });
    Ok(())
}

impl Ledger {
    /// Lanes with something waiting.
    pub async fn outbox_lanes(&self) -> LedgerResult<Vec<i64>> {
        Ok(either!(self.readers(), p =>
            sqlx::query_scalar("SELECT DISTINCT lane FROM outbox WHERE state = 'pending'")
                .fetch_all(p)
                .await?))
    }

    /// The first waiting row of each of `lanes` (chats' lanes), where that
    /// row is due at `now`: nothing behind it goes before it.
    pub async fn outbox_heads(
        &self,
        lanes: &[i64],
        now: DateTime<Utc>,
    ) -> LedgerResult<Vec<OutboxRow>> {
        if lanes.is_empty() {
            return Ok(Vec::new());
        }
        const COLUMNS: &str = "o.id, o.lane, o.kind, o.chat_id, o.task_id, o.thread_id,
             o.reply_to, o.body, o.callback_query_id, o.show_alert, o.attempts, o.buttons, o.url";
        const HEAD: &str = "JOIN outbox AS o ON o.id = (SELECT MIN(p.id) FROM outbox AS p
                                            WHERE p.lane = l.value AND p.state = 'pending')
             WHERE o.next_attempt_at IS NULL OR o.next_attempt_at <= $2
             ORDER BY o.id";
        Ok(match self.readers() {
            Backend::Sqlite(p) => {
                sqlx::query_as(&format!("SELECT {COLUMNS} FROM json_each($1) AS l {HEAD}"))
                    .bind(serde_json::to_string(lanes).unwrap_or_else(|_| "[]".into()))
                    .bind(now)
                    .fetch_all(p)
                    .await?
            }
            Backend::Postgres(p) => {
                sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM UNNEST($1) AS l(value) {HEAD}"
                ))
                .bind(lanes)
                .bind(now)
                .fetch_all(p)
                .await?
            }
        })
    }

    /// Up to `limit` button answers due at `now`, oldest first: they keep
    /// no order among themselves.
    pub async fn outbox_answers(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> LedgerResult<Vec<OutboxRow>> {
        Ok(either!(self.readers(), p => sqlx::query_as(
            "SELECT id, lane, kind, chat_id, task_id, thread_id, reply_to, body,
                    callback_query_id, show_alert, attempts, buttons, url
             FROM outbox
             WHERE lane = $1 AND state = 'pending'
               AND (next_attempt_at IS NULL OR next_attempt_at <= $2)
             ORDER BY id LIMIT $3",
        )
        .bind(ANSWERS_LANE)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(p)
        .await?))
    }

    /// How many rows wait, in all lanes.
    pub async fn outbox_waiting(&self) -> LedgerResult<i64> {
        Ok(either!(self.readers(), p =>
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state = 'pending'")
                .fetch_one(p)
                .await?))
    }

    /// The tasks announcement rows show, each read together with the
    /// newest announcement row of that task in one statement (one
    /// snapshot), so that its [`super::receipts::Receipt::Announced`]
    /// retires exactly the rows this state covers. A task without waiting
    /// announcement rows is left out: another delivery covered them. So is
    /// a task never announced in a chat in board mode: the board shows it.
    pub async fn announcement_snapshots(
        &self,
        task_ids: &[i64],
    ) -> LedgerResult<HashMap<i64, (super::TaskRecord, i64)>> {
        if task_ids.is_empty() {
            return Ok(HashMap::new());
        }
        const SELECT: &str = "SELECT t.*, (SELECT MAX(o.id) FROM outbox o
                          WHERE o.task_id = t.id AND o.kind = 'announce' AND o.state = 'pending')
                         AS newest_announcement
             FROM tasks t LEFT JOIN chats c ON c.id = t.chat_id";
        // In board mode a task not yet announced gets no announcement.
        const ANNOUNCED: &str = "(t.announcement_message_id IS NOT NULL
                                  OR NOT COALESCE(c.board_mode, FALSE))";
        let rows: Vec<AnnouncedTask> = match self.readers() {
            Backend::Sqlite(p) => {
                sqlx::query_as(&format!(
                    "{SELECT} WHERE t.id IN (SELECT value FROM json_each($1)) AND {ANNOUNCED}"
                ))
                .bind(serde_json::to_string(task_ids).unwrap_or_else(|_| "[]".into()))
                .fetch_all(p)
                .await?
            }
            Backend::Postgres(p) => {
                sqlx::query_as(&format!("{SELECT} WHERE t.id = ANY($1) AND {ANNOUNCED}"))
                    .bind(task_ids)
                    .fetch_all(p)
                    .await?
            }
        };
        let mut snapshots = HashMap::with_capacity(rows.len());
        for AnnouncedTask {
            task,
            newest_announcement,
        } in rows
        {
            if let Some(newest) = newest_announcement {
                let task: super::TaskRecord = task.try_into()?;
                snapshots.insert(task.id, (task, newest));
            }
        }
        Ok(snapshots)
    }

    /// Gives up on everything waiting for a chat the bot can no longer post
    /// in: its lane, and its board and reactions in the answers lane.
    pub async fn outbox_abandon_lane(&self, lane: i64, error: &str) -> LedgerResult<u64> {
        Ok(either!(self.writer(), p => sqlx::query(
            "UPDATE outbox SET state = 'failed', finished_at = $1, error = $2
             WHERE state = 'pending' AND (lane = $3 OR (lane = 0 AND chat_id = $3))",
        )
        .bind(self.clock().now())
        .bind(error)
        .bind(lane)
        .execute(p)
        .await?
        .rows_affected()))
    }

    /// Forgets finished rows older than `before`.
    async fn prune_outbox(&self, before: DateTime<Utc>) -> LedgerResult<u64> {
        Ok(either!(self.writer(), p =>
            sqlx::query("DELETE FROM outbox WHERE state <> 'pending' AND finished_at < $1")
                .bind(before)
                .execute(p)
                .await?
                .rows_affected()))
    }

    /// Forgets handled inbox rows and finished outbox rows older than
    /// `retention` by the ledger's clock; how many of each went.
    pub async fn prune_handled(&self, retention: chrono::TimeDelta) -> LedgerResult<(u64, u64)> {
        let before = self.clock().now() - retention;
        Ok((
            self.prune_inbox(before).await?,
            self.prune_outbox(before).await?,
        ))
    }
}
