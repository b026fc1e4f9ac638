//! Timers: what the bot must do at a time (a reminder, a question to a
//! claimer, a release, a digest), kept in the ledger so that they survive
//! restarts, and the per-chat settings that time them.
//!
//! A timer is set in the unit of work of the change that causes it, and
//! deleted or moved on in the unit that fires it, so that it fires once.
//! One timer per kind and chat (`task_id` 0) or per kind and task: setting
//! one again moves it. Due timers are found through a partial index on
//! `due_at`, so the cost of a look stays flat however many wait.

use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use sqlx::FromRow;

use super::{Ledger, LedgerError, LedgerResult, LedgerTx};
use crate::domain::reminders::{parse_time_of_day, TimerKind, Wait};
use crate::domain::{BoardState, ChatTiming, UserId};
use crate::either;

/// A timer as stored.
#[derive(Debug, Clone, FromRow)]
struct TimerRow {
    id: i64,
    kind: String,
    chat_id: i64,
    task_id: i64,
    claimer_id: Option<i64>,
    due_at: DateTime<Utc>,
    fired_at: Option<DateTime<Utc>>,
    attempts: i64,
}

/// A timer that fell due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    pub id: i64,
    pub kind: TimerKind,
    pub chat_id: i64,
    /// The task it concerns (check_claim, auto_release).
    pub task_id: Option<i64>,
    /// The claimer it concerns (check_claim, auto_release).
    pub claimer: Option<UserId>,
    pub due_at: DateTime<Utc>,
    /// When it last said something (unclaimed, digest).
    pub fired_at: Option<DateTime<Utc>>,
    /// Failed attempts so far.
    pub attempts: i64,
}

impl TryFrom<TimerRow> for Timer {
    type Error = LedgerError;

    fn try_from(row: TimerRow) -> LedgerResult<Timer> {
        Ok(Timer {
            id: row.id,
            kind: row
                .kind
                .parse()
                .map_err(|e| LedgerError::Corrupt(format!("timer {}: {e}", row.id)))?,
            chat_id: row.chat_id,
            task_id: (row.task_id != 0).then_some(row.task_id),
            claimer: row.claimer_id.map(UserId),
            due_at: row.due_at,
            fired_at: row.fired_at,
            attempts: row.attempts,
        })
    }
}

/// A chat's own settings as stored (NULL: the default).
#[derive(FromRow)]
pub(super) struct TimingRow {
    time_zone: Option<String>,
    unclaimed_after: Option<i64>,
    check_claim_after: Option<i64>,
    auto_release_after: Option<i64>,
    digest_at: Option<String>,
    board_mode: Option<bool>,
    board_message_id: Option<i32>,
}

impl TimingRow {
    pub(super) fn timing(self) -> ChatTiming {
        // 0 seconds is off.
        let wait = |s: Option<i64>| s.map(|s| (s > 0).then(|| TimeDelta::seconds(s)));
        ChatTiming {
            time_zone: self.time_zone.and_then(|name| name.parse().ok()),
            unclaimed_after: wait(self.unclaimed_after),
            check_claim_after: wait(self.check_claim_after),
            auto_release_after: wait(self.auto_release_after),
            digest_at: self.digest_at.as_deref().and_then(parse_time_of_day),
            board: BoardState {
                on: self.board_mode == Some(true),
                message_id: self.board_message_id,
            },
        }
    }
}

/// The columns of a [`TimingRow`], of the chats table as `c`.
macro_rules! timing_columns {
    () => {
        "c.time_zone, c.unclaimed_after, c.check_claim_after, c.auto_release_after,
         c.digest_at, c.board_mode, c.board_message_id"
    };
}
pub(super) use timing_columns;

const TIMING: &str = concat!(
    "SELECT ",
    timing_columns!(),
    " FROM chats AS c WHERE c.id = $1"
);

/// Sets a timer, or moves the one of its kind and chat or task: `$1` kind,
/// `$2` chat, `$3` task (0), `$4` claimer, `$5` due.
const SET: &str = "INSERT INTO timers (kind, chat_id, task_id, claimer_id, due_at)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (chat_id, task_id, kind) DO UPDATE SET claimer_id = excluded.claimer_id,
         due_at = excluded.due_at, attempts = 0, state = 'pending', error = NULL";

impl LedgerTx {
    /// Sets timer `kind` of a chat, or of one of its tasks (with the claimer
    /// it concerns), to fall due at `due`, moving one already set.
    pub async fn set_timer(
        &mut self,
        kind: TimerKind,
        chat_id: i64,
        task: Option<(i64, UserId)>,
        due: DateTime<Utc>,
    ) -> LedgerResult<()> {
        either!(self.conn().await?, c => sqlx::query(SET)
            .bind(kind.as_str())
            .bind(chat_id)
            .bind(task.map_or(0, |(id, _)| id))
            .bind(task.map(|(_, claimer)| claimer.0))
            .bind(due)
            .execute(c)
            .await
            .map(drop)?);
        Ok(())
    }

    /// Sets each chat timer of `timers` (kind and due time) unless one of
    /// its kind is set already (one that was given up is set again), in one
    /// statement.
    pub async fn ensure_chat_timers(
        &mut self,
        chat_id: i64,
        timers: &[(TimerKind, DateTime<Utc>)],
    ) -> LedgerResult<()> {
        if timers.is_empty() {
            return Ok(());
        }
        let rows: Vec<String> = (0..timers.len())
            .map(|i| format!("(${}, $1, ${})", 2 * i + 2, 2 * i + 3))
            .collect();
        let sql = format!(
            "INSERT INTO timers (kind, chat_id, due_at) VALUES {}
             ON CONFLICT (chat_id, task_id, kind) DO UPDATE SET due_at = excluded.due_at,
                 attempts = 0, state = 'pending', error = NULL
             WHERE timers.state = 'failed'",
            rows.join(", ")
        );
        either!(self.conn().await?, c => {
            let mut query = sqlx::query(&sql).bind(chat_id);
            for (kind, due) in timers {
                query = query.bind(kind.as_str()).bind(*due);
            }
            query.execute(c).await.map(drop)?
        });
        Ok(())
    }

    /// Deletes a chat's timer `kind` (the feature was turned off).
    pub async fn clear_chat_timer(&mut self, kind: TimerKind, chat_id: i64) -> LedgerResult<()> {
        either!(self.conn().await?, c => sqlx::query(
            "DELETE FROM timers WHERE kind = $1 AND chat_id = $2 AND task_id = 0",
        )
        .bind(kind.as_str())
        .bind(chat_id)
        .execute(c)
        .await
        .map(drop)?);
        Ok(())
    }

    /// Deletes a task's timers (the task moved on), or `only` that kind.
    pub async fn clear_task_timers(
        &mut self,
        task_id: i64,
        only: Option<TimerKind>,
    ) -> LedgerResult<()> {
        either!(self.conn().await?, c => sqlx::query(
            "DELETE FROM timers WHERE task_id = $1 AND ($2 IS NULL OR kind = $2)",
        )
        .bind(task_id)
        .bind(only.map(TimerKind::as_str))
        .execute(c)
        .await
        .map(drop)?);
        Ok(())
    }

    /// A fired timer: deleted, or (`next`) moved on to fall due again,
    /// remembering when it last said something (`spoke`).
    pub async fn timer_fired(
        &mut self,
        timer: &Timer,
        next: Option<DateTime<Utc>>,
        spoke: Option<DateTime<Utc>>,
    ) -> LedgerResult<()> {
        either!(self.conn().await?, c => match next {
            None => sqlx::query("DELETE FROM timers WHERE id = $1")
                .bind(timer.id)
                .execute(c)
                .await
                .map(drop)?,
            Some(next) => sqlx::query(
                "UPDATE timers SET due_at = $2, fired_at = COALESCE($3, fired_at),
                     attempts = 0, error = NULL WHERE id = $1",
            )
            .bind(timer.id)
            .bind(next)
            .bind(spoke)
            .execute(c)
            .await
            .map(drop)?,
        });
        Ok(())
    }

    /// A timer whose work failed: tried again at `at`, or given up
    /// (`at` `None`), keeping the cause.
    pub async fn timer_failed(
        &mut self,
        timer_id: i64,
        at: Option<DateTime<Utc>>,
        error: &str,
    ) -> LedgerResult<()> {
        either!(self.conn().await?, c => sqlx::query(
            "UPDATE timers SET attempts = attempts + 1, error = $3,
                 due_at = COALESCE($2, due_at),
                 state = CASE WHEN $2 IS NULL THEN 'failed' ELSE 'pending' END
             WHERE id = $1",
        )
        .bind(timer_id)
        .bind(at)
        .bind(error)
        .execute(c)
        .await
        .map(drop)?);
        Ok(())
    }

    /// Whether `timer` is still pending as it was read (a unit before it
    /// in the same batch may have moved or deleted it).
    pub async fn timer_is_current(&mut self, timer: &Timer) -> LedgerResult<bool> {
        let found: Option<i64> = either!(self.conn().await?, c => sqlx::query_scalar(
            "SELECT id FROM timers WHERE id = $1 AND state = 'pending' AND due_at = $2
             AND claimer_id IS NOT DISTINCT FROM $3",
        )
        .bind(timer.id)
        .bind(timer.due_at)
        .bind(timer.claimer.map(|u| u.0))
        .fetch_optional(c)
        .await?);
        Ok(found.is_some())
    }

    /// What a chat set for itself, as this unit sees it.
    pub async fn chat_timing(&mut self, chat_id: i64) -> LedgerResult<ChatTiming> {
        let row: Option<TimingRow> = either!(self.conn().await?, c => sqlx::query_as(TIMING)
            .bind(chat_id)
            .fetch_optional(c)
            .await?);
        Ok(row.map(TimingRow::timing).unwrap_or_default())
    }

    /// Keeps a chat's wait `wait` (`None`: off), time zone or digest time.
    pub async fn set_chat_timing(
        &mut self,
        chat_id: i64,
        title: Option<&str>,
        setting: TimingSetting,
    ) -> LedgerResult<()> {
        // A wait in seconds (0: off), or a text.
        let (column, value) = match setting {
            TimingSetting::TimeZone(zone) => ("time_zone", Err(zone.name().to_string())),
            TimingSetting::DigestAt(at) => (
                "digest_at",
                Err(at.map_or("off".into(), |at| at.format("%H:%M").to_string())),
            ),
            TimingSetting::Wait(wait, after) => {
                (wait.key(), Ok(after.map_or(0, |d| d.num_seconds())))
            }
        };
        // The column comes from the fixed list above, never from a user.
        let sql = format!(
            "INSERT INTO chats (id, title, created_at, {column}) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET {column} = excluded.{column},
                 title = COALESCE(excluded.title, chats.title)"
        );
        let at = self.now();
        either!(self.conn().await?, c => {
            let query = sqlx::query(&sql).bind(chat_id).bind(title).bind(at);
            match value {
                Ok(seconds) => query.bind(seconds),
                Err(text) => query.bind(text),
            }
            .execute(c)
            .await
            .map(drop)?
        });
        Ok(())
    }
}

/// A per-chat setting that times reminders and digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimingSetting {
    TimeZone(chrono_tz::Tz),
    Wait(Wait, Option<TimeDelta>),
    DigestAt(Option<NaiveTime>),
}

impl Ledger {
    /// Up to `limit` pending timers due at `now`, soonest first.
    pub async fn timers_due(&self, now: DateTime<Utc>, limit: u32) -> LedgerResult<Vec<Timer>> {
        let rows: Vec<TimerRow> = either!(self.readers(), p => sqlx::query_as(
            "SELECT id, kind, chat_id, task_id, claimer_id, due_at, fired_at, attempts
             FROM timers WHERE state = 'pending' AND due_at <= $1
             ORDER BY due_at LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(p)
        .await?);
        rows.into_iter().map(Timer::try_from).collect()
    }

    /// Whether the timers table is empty: no timer was ever set, or all
    /// have fired.
    pub async fn no_timer_yet(&self) -> LedgerResult<bool> {
        let any: Option<i64> = either!(self.readers(), p =>
            sqlx::query_scalar("SELECT id FROM timers LIMIT 1")
                .fetch_optional(p)
                .await?);
        Ok(any.is_none())
    }

    /// What a chat set for itself, as committed.
    pub async fn chat_timing(&self, chat_id: i64) -> LedgerResult<ChatTiming> {
        let row: Option<TimingRow> = either!(self.readers(), p => sqlx::query_as(TIMING)
            .bind(chat_id)
            .fetch_optional(p)
            .await?);
        Ok(row.map(TimingRow::timing).unwrap_or_default())
    }

    /// Groups the bot is in that have no timer `kind` (they predate it, or
    /// joined since), with `open_only` only those with an open task.
    pub async fn chats_without_timer(
        &self,
        kind: TimerKind,
        open_only: bool,
    ) -> LedgerResult<Vec<i64>> {
        Ok(either!(self.readers(), p => sqlx::query_scalar(
            "SELECT c.id FROM chats AS c WHERE c.active AND c.id < 0
             AND NOT EXISTS (SELECT 1 FROM timers AS t WHERE t.kind = $1 AND t.chat_id = c.id
                             AND t.task_id = 0 AND t.state = 'pending')
             AND (NOT $2 OR EXISTS (SELECT 1 FROM tasks AS k
                                    WHERE k.chat_id = c.id AND k.status = 'open'))",
        )
        .bind(kind.as_str())
        .bind(open_only)
        .fetch_all(p)
        .await?))
    }
}
