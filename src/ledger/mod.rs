//! The ledger, the core's storage port: every chat, task and change, with
//! the durable inbox and outbox around the handlers, in SQLite or in
//! PostgreSQL through sqlx.
//!
//! Owns the schemas (`migrations/sqlite/`, `migrations/postgres/`) and
//! every query.
//! - [`Backend`] (`backend.rs`): the two stores, chosen by `DATABASE_URL`,
//!   and how each is opened;
//! - this module: task records and the reads behind `/open`, `/mine`,
//!   `/stats` and export;
//! - [`write`]: [`LedgerTx`], one transaction holding a handler's whole
//!   effect: guarded task changes with their append-only events and the
//!   messages to send ([`Outgoing`]);
//! - [`batch`]: group commit, many handlers' transactions in one, with
//!   their Updates' handled marks;
//! - [`receipts`]: what the sender records after delivering, in groups;
//! - [`inbox`]: Updates stored before Telegram forgets them;
//! - [`outbox`]: messages waiting to be sent, lane by lane;
//! - `private.rs`: private requests' drafts, and who the bot may write to;
//! - [`households`]: building leads and registered households;
//! - [`forget`]: erasing what finished tasks said;
//! - `follow.rs`: what reminders, digests and notices read in a unit;
//! - [`timers`]: reminders, questions, releases and digests due at a time,
//!   and the per-chat settings that time them.
//!
//! The rules themselves live in `domain`; the ledger records what they allowed.

mod backend;
pub mod batch;
pub mod board;
mod follow;
pub mod forget;
pub mod households;
pub mod inbox;
pub mod outbox;
mod private;
pub mod receipts;
pub mod timers;
pub mod write;

pub(crate) use backend::owner_only_file;
pub use backend::{Backend, Conn, Pools, RunLock};
pub(crate) use backend::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
pub use batch::Batch;
pub use follow::FollowContext;
pub use outbox::{OutboxRow, Outgoing};
pub use write::{Change, LedgerTx, NewTaskRecord};

use std::str::FromStr;

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use backend::Store;

use crate::either;

use crate::clock::Clock;
use crate::config::DatabaseSettings;
pub use crate::domain::Person;
use crate::domain::{
    ChatStats, Kind, Lang, Media, MediaKind, MineItem, Status, TaskCard, TaskNumber, TaskState,
    UserId,
};

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot prepare the database file {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("the ledger holds a value it cannot read: {0}")]
    Corrupt(String),
    #[error("too many concurrent changes: {0}")]
    Contended(String),
    #[error("a group commit failed: {0}")]
    GroupCommit(String),
    #[error("the ledger was used out of order: {0}")]
    Misuse(String),
    #[error(
        "another `linli run` uses this PostgreSQL database; \
         one process at a time runs the bot: stop the other first"
    )]
    InUse,
}

impl LedgerError {
    /// PostgreSQL gave up a transaction to break a deadlock, or to keep
    /// transactions serializable: the same work may simply be tried again.
    pub fn is_transient(&self) -> bool {
        let LedgerError::Sql(sqlx::Error::Database(error)) = self else {
            return false;
        };
        matches!(error.code().as_deref(), Some("40P01" | "40001"))
    }
}

pub type LedgerResult<T> = Result<T, LedgerError>;

/// A task as the ledger holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRecord {
    pub id: i64,
    pub chat_id: i64,
    pub number: TaskNumber,
    pub kind: Kind,
    pub flat: String,
    pub details: String,
    pub state: TaskState,
    pub requester_name: String,
    pub claimer_name: Option<String>,
    pub done_note: Option<String>,
    pub lang: Lang,
    pub thread_id: Option<i32>,
    pub source_message_id: i32,
    pub announcement_message_id: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// When its requester (or a lead or admin) said it arrived.
    pub received_at: Option<DateTime<Utc>>,
    /// Asked for privately: the group sees only its number and kind.
    pub private: bool,
    /// A photo or voice message given as its details.
    pub media: Option<Media>,
}

impl TaskRecord {
    /// What messages about this task show, with times in `zone`.
    pub fn card(&self, zone: chrono_tz::Tz) -> TaskCard {
        TaskCard {
            asked_at: self
                .created_at
                .with_timezone(&zone)
                .format("%m-%d %H:%M")
                .to_string(),
            number: self.number,
            kind: self.kind,
            flat: self.flat.clone(),
            details: self.details.clone(),
            status: self.state.status,
            requester_name: self.requester_name.clone(),
            claimer_name: self.claimer_name.clone(),
            done_note: self.done_note.clone(),
            private: self.private,
            received: self.received_at.is_some(),
            since: None,
        }
    }

    /// How long it has been claimed (claimed), or waited since it was
    /// asked for (open), at `now`.
    pub fn age(&self, now: DateTime<Utc>) -> chrono::TimeDelta {
        let since = match self.state.status {
            Status::Claimed => self.claimed_at.unwrap_or(self.created_at),
            _ => self.created_at,
        };
        now - since
    }

    /// What the whole group may see of it, with times in `zone`.
    pub fn group_card(&self, zone: chrono_tz::Tz) -> TaskCard {
        self.card(zone).for_group()
    }
}

/// What `/mine` lists: `$1` the user's claimed tasks in chat `$2` (or in
/// every chat, `NULL`), and in every chat also their own live requests; at
/// most `$3`.
///
/// Two branches, so that each reads through its own index
/// (`tasks_claimed_by`, `tasks_requester_live`).
const MINE: &str = "SELECT * FROM (
         SELECT *, 0 AS mine_order FROM tasks
         WHERE claimer_id = $1 AND status = 'claimed' AND ($2 IS NULL OR chat_id = $2)
         UNION ALL
         SELECT *, 1 AS mine_order FROM tasks
         WHERE $2 IS NULL AND requester_id = $1 AND status IN ('open', 'claimed')
           AND claimer_id IS DISTINCT FROM $1
     ) AS mine ORDER BY mine_order, chat_id, number LIMIT $3";

/// A row of `tasks` exactly as stored.
#[derive(FromRow)]
pub(crate) struct TaskRow {
    id: i64,
    chat_id: i64,
    number: i64,
    kind: String,
    flat: String,
    details: String,
    status: String,
    requester_id: i64,
    requester_name: String,
    claimer_id: Option<i64>,
    claimer_name: Option<String>,
    done_note: Option<String>,
    lang: String,
    thread_id: Option<i32>,
    source_message_id: i32,
    announcement_message_id: Option<i32>,
    created_at: DateTime<Utc>,
    claimed_at: Option<DateTime<Utc>>,
    done_at: Option<DateTime<Utc>>,
    cancelled_at: Option<DateTime<Utc>>,
    received_at: Option<DateTime<Utc>>,
    private: bool,
    media_kind: Option<String>,
    media_file_id: Option<String>,
}

impl TryFrom<TaskRow> for TaskRecord {
    type Error = LedgerError;

    fn try_from(row: TaskRow) -> LedgerResult<Self> {
        let corrupt = |what: &str| LedgerError::Corrupt(format!("task {}: {what}", row.id));
        Ok(TaskRecord {
            id: row.id,
            chat_id: row.chat_id,
            number: u32::try_from(row.number)
                .ok()
                .and_then(TaskNumber::new)
                .ok_or_else(|| corrupt("number"))?,
            kind: Kind::from_word(&row.kind).ok_or_else(|| corrupt("kind"))?,
            state: TaskState {
                status: Status::from_str(&row.status).map_err(|e| corrupt(&e))?,
                requester: UserId(row.requester_id),
                claimer: row.claimer_id.map(UserId),
                received: row.received_at.is_some(),
            },
            lang: Lang::from_code(&row.lang).ok_or_else(|| corrupt("lang"))?,
            flat: row.flat,
            details: row.details,
            requester_name: row.requester_name,
            claimer_name: row.claimer_name,
            done_note: row.done_note,
            thread_id: row.thread_id,
            source_message_id: row.source_message_id,
            announcement_message_id: row.announcement_message_id,
            created_at: row.created_at,
            claimed_at: row.claimed_at,
            done_at: row.done_at,
            cancelled_at: row.cancelled_at,
            received_at: row.received_at,
            private: row.private,
            media: match (row.media_kind.as_deref(), row.media_file_id) {
                (Some(kind), Some(file_id)) => Some(Media {
                    kind: MediaKind::from_code(kind).ok_or_else(|| corrupt("media_kind"))?,
                    file_id,
                }),
                _ => None,
            },
        })
    }
}

pub(crate) fn records(rows: Vec<TaskRow>) -> LedgerResult<Vec<TaskRecord>> {
    rows.into_iter().map(TaskRecord::try_from).collect()
}

/// The task a statement returned first (a `RETURNING` row), if any.
pub(crate) fn first_record(rows: Vec<TaskRow>) -> LedgerResult<Option<TaskRecord>> {
    rows.into_iter()
        .next()
        .map(TaskRecord::try_from)
        .transpose()
}

/// One recorded change of a task.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct EventRecord {
    pub action: String,
    pub actor_id: i64,
    pub actor_name: String,
    pub at: DateTime<Utc>,
}

#[derive(Clone)]
pub struct Ledger {
    store: Store,
    /// What stamps the rows it writes.
    clock: Clock,
}

impl Ledger {
    /// Opens the database of `settings.url` (an SQLite file, created when
    /// missing, or a PostgreSQL database) and applies the migrations.
    pub async fn connect(settings: &DatabaseSettings) -> LedgerResult<Self> {
        Ok(Ledger {
            store: Store::connect(settings).await?,
            clock: Clock::system(),
        })
    }

    /// The same ledger, telling time by `clock` (tests pass a manual one).
    pub fn with_clock(self, clock: Clock) -> Self {
        Ledger { clock, ..self }
    }

    /// The clock the ledger, and everything built on it, tells time by.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Task `number` of a chat, as the readers see it now.
    pub async fn find_task(
        &self,
        chat_id: i64,
        number: TaskNumber,
    ) -> LedgerResult<Option<TaskRecord>> {
        let row: Option<TaskRow> = either!(self.readers(), p => sqlx::query_as(TASK_BY_NUMBER)
            .bind(chat_id)
            .bind(i64::from(number.get()))
            .fetch_optional(p)
            .await?);
        row.map(TaskRecord::try_from).transpose()
    }

    /// A chat's open and claimed tasks, oldest first.
    pub async fn live_tasks(&self, chat_id: i64, limit: u32) -> LedgerResult<Vec<TaskRecord>> {
        let rows: Vec<TaskRow> = either!(self.readers(), p => sqlx::query_as(
            "SELECT * FROM tasks
             WHERE chat_id = $1 AND status IN ('open', 'claimed')
             ORDER BY number LIMIT $2",
        )
        .bind(chat_id)
        .bind(i64::from(limit))
        .fetch_all(p)
        .await?);
        records(rows)
    }

    /// What `user` has claimed, in one chat or (with `None`) in every chat;
    /// in every chat also what they asked for that is still live, after
    /// what they claimed.
    pub async fn claimed_by(
        &self,
        user: UserId,
        chat_id: Option<i64>,
        limit: u32,
        zone: chrono_tz::Tz,
    ) -> LedgerResult<Vec<MineItem>> {
        let rows: Vec<TaskRow> = either!(self.readers(), p => sqlx::query_as(
            MINE,
        )
        .bind(user.0)
        .bind(chat_id)
        .bind(i64::from(limit))
        .fetch_all(p)
        .await?);
        let mut items = Vec::with_capacity(rows.len());
        for task in records(rows)? {
            let chat_title = match chat_id {
                Some(_) => None,
                None => self.chat_title(task.chat_id).await?,
            };
            // In a group, /mine is read by the whole group.
            let card = match chat_id {
                Some(_) => task.group_card(zone),
                None => task.card(zone),
            };
            let mut card = card;
            card.since = Some(task.age(self.clock().now()));
            let asked = task.state.claimer != Some(user);
            items.push(MineItem {
                chat_title,
                card,
                asked,
            });
        }
        Ok(items)
    }

    /// The task whose announcement (or whose `/need` message) is message
    /// `message_id` of a chat: what a command sent as a reply to it acts on.
    pub async fn task_of_message(
        &self,
        chat_id: i64,
        message_id: i32,
    ) -> LedgerResult<Option<TaskRecord>> {
        let row: Option<TaskRow> = either!(self.readers(), p => sqlx::query_as(
            "SELECT * FROM tasks WHERE chat_id = $1 AND announcement_message_id = $2
             UNION ALL
             SELECT * FROM tasks WHERE chat_id = $1 AND source_message_id = $2
             LIMIT 1",
        )
        .bind(chat_id)
        .bind(message_id)
        .fetch_optional(p)
        .await?);
        row.map(TaskRecord::try_from).transpose()
    }

    /// The titles of the groups (still with the bot) where `user` asked for
    /// help or claimed a task, most recent first: where their commands work.
    pub async fn groups_of(&self, user: UserId) -> LedgerResult<Vec<String>> {
        Ok(either!(self.readers(), p => sqlx::query_scalar(
            "SELECT chats.title FROM chats JOIN (
                 SELECT chat_id, MAX(id) AS latest FROM tasks
                 WHERE requester_id = $1 OR claimer_id = $1 GROUP BY chat_id
             ) AS mine ON mine.chat_id = chats.id
             WHERE chats.active AND chats.title IS NOT NULL
             ORDER BY mine.latest DESC LIMIT 5",
        )
        .bind(user.0)
        .fetch_all(p)
        .await?))
    }

    /// How many tasks are live in a chat (from the counts triggers keep).
    pub async fn live_count(&self, chat_id: i64) -> LedgerResult<u64> {
        let count: i64 = either!(self.readers(), p => sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(tasks), 0) AS BIGINT) FROM chat_status_counts
             WHERE chat_id = $1 AND status IN ('open', 'claimed')",
        )
        .bind(chat_id)
        .fetch_one(p)
        .await?);
        Ok(u64::try_from(count).unwrap_or_default())
    }

    /// How many tasks [`Ledger::claimed_by`] lists for `user`, without its limit.
    pub async fn claimed_count(&self, user: UserId, chat_id: Option<i64>) -> LedgerResult<u64> {
        let count: i64 = either!(self.readers(), p => sqlx::query_scalar(
            &format!("SELECT COUNT(*) FROM ({MINE}) AS mine"),
        )
        .bind(user.0)
        .bind(chat_id)
        .bind(i64::MAX)
        .fetch_one(p)
        .await?);
        Ok(u64::try_from(count).unwrap_or_default())
    }

    /// The language a chat chose (`/settings language`), else that of
    /// whoever added the bot; `None` when neither is known.
    pub async fn chat_language(&self, chat_id: i64) -> LedgerResult<Option<Lang>> {
        let code: Option<Option<String>> = either!(self.readers(), p => sqlx::query_scalar(
            "SELECT COALESCE(language, added_by_language) FROM chats WHERE id = $1",
        )
        .bind(chat_id)
        .fetch_optional(p)
        .await?);
        Ok(code.flatten().as_deref().and_then(Lang::from_code))
    }

    /// A chat's title, when known.
    pub async fn chat_title(&self, chat_id: i64) -> LedgerResult<Option<String>> {
        let title: Option<Option<String>> = either!(self.readers(), p =>
            sqlx::query_scalar("SELECT title FROM chats WHERE id = $1")
                .bind(chat_id)
                .fetch_optional(p)
                .await?);
        Ok(title.flatten())
    }

    /// Counts by status, and the volunteers who finished most tasks, from
    /// the counts triggers keep (`migrations/*/0004_chat_counts.sql`).
    pub async fn stats(&self, chat_id: i64, top_helpers: u32) -> LedgerResult<ChatStats> {
        let counts: Vec<(String, i64)> = either!(self.readers(), p =>
            sqlx::query_as("SELECT status, tasks FROM chat_status_counts WHERE chat_id = $1")
                .bind(chat_id)
                .fetch_all(p)
                .await?);
        let mut stats = ChatStats::default();
        for (status, count) in counts {
            let count = u64::try_from(count).unwrap_or_default();
            match Status::from_str(&status).map_err(LedgerError::Corrupt)? {
                Status::Open => stats.open = count,
                Status::Claimed => stats.claimed = count,
                Status::Done => stats.done = count,
                Status::Cancelled => stats.cancelled = count,
            }
        }
        let top: Vec<(i64, Option<String>, i64)> = either!(self.readers(), p => sqlx::query_as(
            "SELECT claimer_id, name, done FROM helper_counts
             WHERE chat_id = $1 AND done > 0 ORDER BY done DESC, claimer_id LIMIT $2",
        )
        .bind(chat_id)
        .bind(i64::from(top_helpers))
        .fetch_all(p)
        .await?);
        stats.helpers = top
            .into_iter()
            .map(|(claimer_id, name, done)| {
                let name = name.unwrap_or_else(|| format!("user {claimer_id}"));
                (name, u64::try_from(done).unwrap_or_default())
            })
            .collect();
        Ok(stats)
    }

    /// Every task, or one chat's, in chat and number order.
    pub async fn export(&self, chat_id: Option<i64>) -> LedgerResult<Vec<TaskRecord>> {
        let rows: Vec<TaskRow> = either!(self.readers(), p => sqlx::query_as(EXPORT_TASKS)
            .bind(chat_id)
            .fetch_all(p)
            .await?);
        records(rows)
    }

    /// A task's events, oldest first.
    pub async fn events(&self, task_id: i64) -> LedgerResult<Vec<EventRecord>> {
        Ok(either!(self.readers(), p => sqlx::query_as(
            "SELECT action, actor_id, actor_name, at FROM events
             WHERE task_id = $1 ORDER BY id",
        )
        .bind(task_id)
        .fetch_all(p)
        .await?))
    }

    /// Where reads go, for tests and checks that read the tables directly:
    /// SQLite's read-only pool, or the PostgreSQL pool.
    pub fn readers(&self) -> Pools<'_> {
        self.store.readers()
    }

    /// Where writes outside a [`LedgerTx`] go (and those of tests that write).
    pub fn writer(&self) -> Pools<'_> {
        self.store.writer()
    }

    /// Takes the lock that lets one `linli run` at a time use a PostgreSQL
    /// database (see [`RunLock`]); `settings` must be this ledger's.
    pub async fn lock_for_run(&self, settings: &DatabaseSettings) -> LedgerResult<RunLock> {
        RunLock::take(settings).await
    }

    /// Closes every connection (the benchmark measures a cold start after).
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// Starts a write: one transaction, in which what a change depends on
    /// cannot change under it (SQLite's write lock from the first statement;
    /// on PostgreSQL, rows read `FOR UPDATE`).
    pub async fn begin(&self) -> LedgerResult<LedgerTx> {
        Ok(LedgerTx::new(self.store.begin().await?, self.clock.clone()))
    }

    /// Starts a transaction of the store, for a [`Batch`].
    pub(crate) async fn begin_raw(&self) -> LedgerResult<backend::Tx> {
        self.store.begin().await
    }
}

/// Every task (`$1` NULL) or one chat's, in chat and number order: what
/// `linli export` writes.
pub(crate) const EXPORT_TASKS: &str =
    "SELECT * FROM tasks WHERE $1 IS NULL OR chat_id = $1 ORDER BY chat_id, number";

/// Task `$2` of chat `$1`.
pub(crate) const TASK_BY_NUMBER: &str = "SELECT * FROM tasks WHERE chat_id = $1 AND number = $2";
