//! What the follow-through reads inside a unit of work: the task a timer
//! concerns, a chat's tasks and households for a reminder or a digest, and
//! whom the bot may tell privately, in which language.

use chrono::{DateTime, NaiveDate, Utc};

use super::households::Household;
use super::timers::{timing_columns, TimingRow};
use super::{LedgerResult, LedgerTx, TaskRecord, TaskRow};
use crate::domain::{ChatTiming, Lang, TimerKind, UserId};
use crate::either;

/// What a change's follow-through needs to know besides the task, read
/// with it ([`LedgerTx::find_task_to_change`]): the chat's own settings,
/// and of its requester and claimer whether the bot may write to them, in
/// which language.
#[derive(Debug, Clone, Default)]
pub struct FollowContext {
    pub timing: ChatTiming,
    /// (who, the bot may write to them, their language if known)
    pub(super) people: Vec<(UserId, bool, Option<Lang>)>,
}

impl FollowContext {
    /// The language to tell `user` something privately in (theirs, else
    /// `fallback`); `None` when the bot may not write to them, or they
    /// are not the task's requester or claimer.
    pub fn reach(&self, user: UserId, fallback: Lang) -> Option<Lang> {
        self.people
            .iter()
            .find(|(who, reachable, _)| *who == user && *reachable)
            .map(|(_, _, lang)| lang.unwrap_or(fallback))
    }
}

impl LedgerTx {
    /// The task with ledger id `id`; on PostgreSQL locked until the unit
    /// ends, since a change may follow.
    pub async fn task(&mut self, id: i64) -> LedgerResult<Option<TaskRecord>> {
        let sql = if self.is_sqlite() {
            "SELECT * FROM tasks WHERE id = $1"
        } else {
            "SELECT * FROM tasks WHERE id = $1 FOR UPDATE"
        };
        let row: Option<TaskRow> = either!(self.conn().await?, c => sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(c)
            .await?);
        row.map(TaskRecord::try_from).transpose()
    }

    /// A chat's tasks in `statuses` (`open`, `claimed`), oldest first, at
    /// most `limit`.
    pub async fn tasks_in(
        &mut self,
        chat_id: i64,
        statuses: &[&str],
        limit: u32,
    ) -> LedgerResult<Vec<TaskRecord>> {
        let claimed_too = statuses.contains(&"claimed");
        let rows: Vec<TaskRow> = either!(self.conn().await?, c => sqlx::query_as(
            "SELECT * FROM tasks
             WHERE chat_id = $1 AND (status = 'open' OR ($2 AND status = 'claimed'))
             ORDER BY number LIMIT $3",
        )
        .bind(chat_id)
        .bind(claimed_too)
        .bind(i64::from(limit))
        .fetch_all(c)
        .await?);
        super::records(rows)
    }

    /// Claimed tasks, of one chat or (`None`) of every group the bot is
    /// in, that no pending timer watches (claimed before reminders were
    /// there, or while their chat did not ask), at most `limit`.
    pub async fn unwatched_claims(
        &mut self,
        chat_id: Option<i64>,
        limit: u32,
    ) -> LedgerResult<Vec<TaskRecord>> {
        let rows: Vec<TaskRow> = either!(self.conn().await?, c => sqlx::query_as(
            "SELECT t.* FROM tasks AS t JOIN chats AS c ON c.id = t.chat_id
             WHERE t.status = 'claimed' AND c.active AND ($1 IS NULL OR t.chat_id = $1)
               AND NOT EXISTS (SELECT 1 FROM timers AS m
                               WHERE m.task_id = t.id AND m.state = 'pending')
             ORDER BY t.id LIMIT $2",
        )
        .bind(chat_id)
        .bind(i64::from(limit))
        .fetch_all(c)
        .await?);
        super::records(rows)
    }

    /// How many of a chat's tasks are open (with `claimed_too`, or claimed),
    /// of those asked for at `asked_by` or before when given.
    pub async fn count_live(
        &mut self,
        chat_id: i64,
        claimed_too: bool,
        asked_by: Option<DateTime<Utc>>,
    ) -> LedgerResult<u64> {
        let count: i64 = either!(self.conn().await?, c => sqlx::query_scalar(
            "SELECT COUNT(*) FROM tasks
             WHERE chat_id = $1 AND (status = 'open' OR ($2 AND status = 'claimed'))
               AND ($3 IS NULL OR created_at <= $3)",
        )
        .bind(chat_id)
        .bind(claimed_too)
        .bind(asked_by)
        .fetch_one(c)
        .await?);
        Ok(u64::try_from(count).unwrap_or_default())
    }

    /// How many of a chat's tasks were done after `since`.
    pub async fn count_done_since(
        &mut self,
        chat_id: i64,
        since: DateTime<Utc>,
    ) -> LedgerResult<u64> {
        let count: i64 = either!(self.conn().await?, c => sqlx::query_scalar(
            "SELECT COUNT(*) FROM tasks WHERE chat_id = $1 AND status = 'done' AND done_at > $2",
        )
        .bind(chat_id)
        .bind(since)
        .fetch_one(c)
        .await?);
        Ok(u64::try_from(count).unwrap_or_default())
    }

    /// A chat's tasks done after `since`, in the order they were done, at
    /// most `limit`.
    pub async fn done_since(
        &mut self,
        chat_id: i64,
        since: DateTime<Utc>,
        limit: u32,
    ) -> LedgerResult<Vec<TaskRecord>> {
        let rows: Vec<TaskRow> = either!(self.conn().await?, c => sqlx::query_as(
            "SELECT * FROM tasks WHERE chat_id = $1 AND status = 'done' AND done_at > $2
             ORDER BY done_at LIMIT $3",
        )
        .bind(chat_id)
        .bind(since)
        .bind(i64::from(limit))
        .fetch_all(c)
        .await?);
        super::records(rows)
    }

    /// A chat's households registered until `day`.
    pub async fn households_until(
        &mut self,
        chat_id: i64,
        day: NaiveDate,
    ) -> LedgerResult<Vec<Household>> {
        Ok(either!(self.conn().await?, c => sqlx::query_as(
            "SELECT id, chat_id, flat, until_day, note FROM households
             WHERE chat_id = $1 AND until_day = $2 ORDER BY flat",
        )
        .bind(chat_id)
        .bind(day)
        .fetch_all(c)
        .await?))
    }

    /// Whether the bot is still in a chat (an unknown chat is not).
    pub async fn chat_active(&mut self, chat_id: i64) -> LedgerResult<bool> {
        let active: Option<bool> = either!(self.conn().await?, c =>
            sqlx::query_scalar("SELECT active FROM chats WHERE id = $1")
                .bind(chat_id)
                .fetch_optional(c)
                .await?);
        Ok(active.unwrap_or(false))
    }

    /// The language a chat's shared messages speak: its own, else its
    /// adder's, else `default`.
    pub async fn chat_lang(&mut self, chat_id: i64, default: Lang) -> LedgerResult<Lang> {
        let code: Option<Option<String>> = either!(self.conn().await?, c => sqlx::query_scalar(
            "SELECT COALESCE(language, added_by_language) FROM chats WHERE id = $1",
        )
        .bind(chat_id)
        .fetch_optional(c)
        .await?);
        Ok(code
            .flatten()
            .as_deref()
            .and_then(Lang::from_code)
            .unwrap_or(default))
    }

    /// What a change's follow-through needs, in one query: the chat's own
    /// settings, and, for `user`, the language to tell them something
    /// privately in (theirs, else `fallback`), `None` when the bot may not
    /// write to them.
    pub async fn follow_context(
        &mut self,
        chat_id: i64,
        user: Option<UserId>,
        fallback: Lang,
    ) -> LedgerResult<(ChatTiming, Option<Lang>)> {
        #[derive(sqlx::FromRow)]
        struct Context {
            #[sqlx(flatten)]
            timing: TimingRow,
            reachable: Option<bool>,
            lang: Option<String>,
        }
        let row: Context = either!(self.conn().await?, c => sqlx::query_as(concat!(
            "SELECT ", timing_columns!(), ", p.reachable, p.lang
             FROM (SELECT 1 AS one) AS here
             LEFT JOIN chats AS c ON c.id = $1
             LEFT JOIN people AS p ON p.user_id = $2",
        ))
        .bind(chat_id)
        .bind(user.map(|u| u.0))
        .fetch_one(c)
        .await?);
        let reach = match (row.reachable, row.lang) {
            (Some(true), lang) => Some(
                lang.as_deref()
                    .and_then(Lang::from_code)
                    .unwrap_or(fallback),
            ),
            _ => None,
        };
        Ok((row.timing.timing(), reach))
    }

    /// A chat's own settings, and which of its timers `kinds` are pending,
    /// in one query (a new task sets those that are not).
    pub async fn chat_timers(
        &mut self,
        chat_id: i64,
    ) -> LedgerResult<(ChatTiming, Vec<TimerKind>)> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            timing: TimingRow,
            pending: Option<String>,
        }
        let rows: Vec<Row> = either!(self.conn().await?, c => sqlx::query_as(concat!(
            "SELECT ", timing_columns!(), ", t.kind AS pending
             FROM (SELECT 1 AS one) AS here
             LEFT JOIN chats AS c ON c.id = $1
             LEFT JOIN timers AS t ON t.chat_id = $1 AND t.task_id = 0 AND t.state = 'pending'",
        ))
        .bind(chat_id)
        .fetch_all(c)
        .await?);
        let pending = rows
            .iter()
            .filter_map(|row| row.pending.as_deref()?.parse().ok())
            .collect();
        let timing = rows
            .into_iter()
            .next()
            .map(|row| row.timing.timing())
            .unwrap_or_default();
        Ok((timing, pending))
    }
}
