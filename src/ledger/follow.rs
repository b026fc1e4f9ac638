//! What the follow-through reads inside a unit of work: the task a timer
//! concerns, a chat's tasks and households for a reminder or a digest, and
//! whom the bot may tell privately, in which language.

use chrono::{DateTime, NaiveDate, Utc};

use super::households::Household;
use super::{LedgerResult, LedgerTx, TaskRecord, TaskRow};
use crate::domain::{Lang, UserId};
use crate::either;

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

    /// The language to tell `user` something privately in (theirs, else
    /// `fallback`); `None` when the bot may not write to them.
    pub async fn reachable_in(
        &mut self,
        user: UserId,
        fallback: Lang,
    ) -> LedgerResult<Option<Lang>> {
        let found: Option<(bool, Option<String>)> = either!(self.conn().await?, c =>
            sqlx::query_as("SELECT reachable, lang FROM people WHERE user_id = $1")
                .bind(user.0)
                .fetch_optional(c)
                .await?);
        Ok(match found {
            Some((true, lang)) => Some(
                lang.as_deref()
                    .and_then(Lang::from_code)
                    .unwrap_or(fallback),
            ),
            _ => None,
        })
    }
}
