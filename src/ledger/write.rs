//! [`LedgerTx`]: one transaction holding a handler's whole effect (or a
//! unit of a [`super::Batch`], which behaves as one).
//!
//! On SQLite it begins with `BEGIN IMMEDIATE`, so it holds the write lock
//! from the start: what it reads cannot change before it commits. On
//! PostgreSQL, where several processes may write, a task a claim, release,
//! done or cancel depends on is read `FOR UPDATE` ([`LedgerTx::find_task`]),
//! an edited request changes its task only while it is open, and a new
//! task's number is taken while the chat's row is locked, so numbers stay
//! dense. Task changes are still guarded
//! updates (`... WHERE status = $7 AND claimer_id IS NOT DISTINCT FROM $8`)
//! whose rows are checked, each with its append-only event row. The messages
//! the change calls for commit with it, or nothing does.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use sqlx::Executor;

use super::backend::{Backend, Conn, Tx};
use super::batch::{Ended, Slot};
use super::follow::FollowContext;
use super::timers::{timing_columns, TimingRow};
use super::{LedgerError, LedgerResult, Person, TaskRecord, TaskRow};
use crate::clock::Clock;
use crate::domain::Lang;
use crate::domain::{Action, Media, NewTask, TaskNumber, TaskState};
use crate::either;
use crate::ledger::outbox::{self, Outgoing};

/// Makes a chat known, or active again, keeping a title it was given. `$1`
/// id, `$2` title, `$3` time.
const UPSERT_CHAT: &str = "INSERT INTO chats (id, title, created_at) VALUES ($1, $2, $3)
     ON CONFLICT (id) DO UPDATE SET title = COALESCE(excluded.title, chats.title), active = TRUE";

/// Where a new task was asked for, and by whom.
#[derive(Debug, Clone)]
pub struct NewTaskRecord<'a> {
    pub chat_id: i64,
    pub chat_title: Option<&'a str>,
    pub task: &'a NewTask,
    pub requester: &'a Person,
    /// The language its announcement speaks when the chat has none of its
    /// own (chosen by an admin, or its adder's): read in the same
    /// transaction, so a `/settings language` just before counts.
    pub default_lang: Lang,
    pub thread_id: Option<i32>,
    /// The `/need` message (0 for a request written privately).
    pub source_message_id: i32,
    pub at: DateTime<Utc>,
    /// Asked for privately: the group sees only its number and kind. (A
    /// chat that hides flats makes every task private.)
    pub private: bool,
    /// A photo or voice message given as its details.
    pub media: Option<&'a Media>,
}

/// A change the rules allowed, to be recorded if the task is still as read.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub action: Action,
    pub next: TaskState,
    pub actor: &'a Person,
    pub note: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// A transaction of its own ([`super::Ledger::begin`]), or a unit of a
/// [`super::Batch`]: a savepoint in the batch's transaction, which goes back
/// to the batch when the unit ends.
pub struct LedgerTx {
    /// `None` only once the unit has ended.
    tx: Option<Tx>,
    batch: Option<Arc<Mutex<Slot>>>,
    /// In a batch, until the unit's first statement: how the last unit
    /// ended. That statement settles it and opens this unit's savepoint
    /// in the same round trip.
    unstarted: Option<Ended>,
    /// In a batch, the name of this unit's savepoint.
    name: u8,
    /// Messages to queue in the outbox when this commits, in order.
    queued: Vec<Outgoing>,
    clock: Clock,
}

impl LedgerTx {
    pub(super) fn new(tx: Tx, clock: Clock) -> Self {
        LedgerTx {
            tx: Some(tx),
            batch: None,
            unstarted: None,
            name: 0,
            queued: Vec::new(),
            clock,
        }
    }

    pub(super) fn in_batch(tx: Tx, batch: Arc<Mutex<Slot>>, last: Ended, clock: Clock) -> Self {
        LedgerTx {
            tx: Some(tx),
            batch: Some(batch),
            unstarted: Some(last),
            name: last.next_name(),
            queued: Vec::new(),
            clock,
        }
    }

    /// The time now, from the ledger's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// `sql`, after what starts the unit if this is its first statement.
    /// From here on the unit counts as started (see [`Ended`]).
    pub(super) fn sql(&mut self, sql: &str) -> String {
        match self.unstarted.take() {
            Some(last) => format!("{} {sql}", last.opening(self.name)),
            None => sql.to_string(),
        }
    }

    /// How this unit ended, for the batch: as the last one did, when it ran
    /// no statement.
    fn ended(&self, committed: bool) -> Ended {
        Ended::after(self.unstarted, self.name, committed)
    }

    /// Commits, or, in a batch, keeps the unit's effects for the batch's commit.
    pub async fn commit(mut self) -> LedgerResult<()> {
        let Some(mut tx) = self.tx.take() else {
            return Ok(());
        };
        let queued = std::mem::take(&mut self.queued);
        if let Some(batch) = self.batch.take() {
            Slot::keep(&batch, tx, self.ended(true), queued);
            return Ok(());
        }
        outbox::insert(tx.conn(), self.clock.now(), &queued).await?;
        tx.commit().await
    }

    /// `sql` ready to run as the unit's next statement, and the connection
    /// to run it on. On SQLite what starts the unit goes in front of `sql`
    /// (one round trip); PostgreSQL, which prepares one statement at a
    /// time, runs it first.
    async fn start(&mut self, sql: &str) -> LedgerResult<(String, Conn<'_>)> {
        if self.is_sqlite() {
            let sql = self.sql(sql);
            return Ok((sql, self.raw()?));
        }
        self.conn().await?;
        Ok((sql.to_string(), self.raw()?))
    }

    /// The connection, with the unit started.
    pub(super) async fn conn(&mut self) -> LedgerResult<Conn<'_>> {
        if self.unstarted.is_some() {
            let start = self.sql("");
            // Without arguments, so PostgreSQL takes several statements too.
            either!(self.raw()?, c => c.execute(start.as_str()).await.map(drop)?);
        }
        self.raw()
    }

    pub(super) fn raw(&mut self) -> LedgerResult<Conn<'_>> {
        match self.tx.as_mut() {
            Some(tx) => Ok(tx.conn()),
            None => Err(LedgerError::Misuse(
                "a transaction used after it ended".into(),
            )),
        }
    }

    /// Task `number` of a chat, as this transaction sees it; on PostgreSQL
    /// locked until it ends, since a change may follow.
    pub async fn find_task(
        &mut self,
        chat_id: i64,
        number: TaskNumber,
    ) -> LedgerResult<Option<TaskRecord>> {
        Ok(self
            .find_task_to_change(chat_id, number)
            .await?
            .map(|(task, _)| task))
    }

    /// [`LedgerTx::find_task`], with what a change's follow-through needs
    /// read in the same round trip: the chat's own settings and whether
    /// the requester and the claimer may be written to.
    pub async fn find_task_to_change(
        &mut self,
        chat_id: i64,
        number: TaskNumber,
    ) -> LedgerResult<Option<(TaskRecord, FollowContext)>> {
        let sql = if self.is_sqlite() {
            TASK_TO_CHANGE.to_string()
        } else {
            format!("{TASK_TO_CHANGE} FOR UPDATE OF t")
        };
        let (sql, conn) = self.start(&sql).await?;
        let row: Option<TaskToChange> = either!(conn, c => sqlx::query_as(&sql)
            .bind(chat_id)
            .bind(i64::from(number.get()))
            .fetch_optional(c)
            .await?);
        row.map(TaskToChange::split).transpose()
    }

    pub(super) fn is_sqlite(&self) -> bool {
        matches!(self.tx, Some(Backend::Sqlite(_)))
    }

    /// The task a `/need` message created, if any.
    pub async fn find_by_source_message(
        &mut self,
        chat_id: i64,
        message_id: i32,
    ) -> LedgerResult<Option<TaskRecord>> {
        let row: Option<TaskRow> = either!(self.conn().await?, c =>
            sqlx::query_as("SELECT * FROM tasks WHERE chat_id = $1 AND source_message_id = $2")
                .bind(chat_id)
                .bind(message_id)
                .fetch_optional(c)
                .await?);
        row.map(TaskRecord::try_from).transpose()
    }

    /// Records a new task, numbered next in its chat, with its `created` event.
    pub async fn create_task(&mut self, new: &NewTaskRecord<'_>) -> LedgerResult<TaskRecord> {
        let sql = if self.is_sqlite() {
            // One round trip: the chat, the task, its event. `fetch_all` runs
            // every statement (a fetch of one row would stop at the first).
            // The write lock, held since the transaction began, keeps
            // `MAX(number) + 1` free for this task.
            format!(
                "{UPSERT_CHAT}; {INSERT_TASK} RETURNING *;
                 INSERT INTO events (task_id, action, actor_id, actor_name, at)
                 SELECT id, 'created', requester_id, requester_name, created_at
                 FROM tasks WHERE rowid = last_insert_rowid()"
            )
        } else {
            format!(
                "WITH task AS ({INSERT_TASK} RETURNING *),
                 event AS (INSERT INTO events (task_id, action, actor_id, actor_name, at)
                           SELECT id, 'created', requester_id, requester_name, created_at
                           FROM task)
                 SELECT * FROM task"
            )
        };
        let rows: Vec<TaskRow> = match self.start(&sql).await? {
            (sql, Backend::Sqlite(c)) => {
                bind_new_task(sqlx::query_as(&sql), new)
                    .fetch_all(c)
                    .await?
            }
            (sql, Backend::Postgres(c)) => {
                // PostgreSQL prepares one statement at a time. The upsert
                // locks the chat's row until the transaction ends, so the
                // insert (with a snapshot of its own) sees every number
                // taken before it, and none is taken twice.
                sqlx::query(UPSERT_CHAT)
                    .bind(new.chat_id)
                    .bind(new.chat_title)
                    .bind(new.at)
                    .execute(&mut *c)
                    .await?;
                bind_new_task(sqlx::query_as(&sql), new)
                    .fetch_all(c)
                    .await?
            }
        };
        super::first_record(rows)?
            .ok_or_else(|| LedgerError::Misuse("a task insert returned no row".into()))
    }

    /// Records `change` if `task` is still in the state it was read in.
    /// `None` means it is not, and nothing was recorded.
    pub async fn apply(
        &mut self,
        task: &TaskRecord,
        change: &Change<'_>,
    ) -> LedgerResult<Option<TaskRecord>> {
        let next = change.next;
        let claimer_name = match next.claimer {
            Some(id) if id == change.actor.id => Some(change.actor.name.as_str()),
            Some(_) => task.claimer_name.as_deref(),
            None => None,
        };
        const UPDATE: &str = "UPDATE tasks SET
                 status = $1,
                 claimer_id = $2,
                 claimer_name = $3,
                 claimed_at = CASE WHEN $1 = 'claimed' AND status <> 'claimed' THEN $4
                                   WHEN $1 = 'open' THEN NULL ELSE claimed_at END,
                 done_at = CASE WHEN $1 = 'done' AND status <> 'done' THEN $4
                                WHEN $1 = 'done' THEN done_at ELSE NULL END,
                 done_note = CASE WHEN $1 = 'done' AND status <> 'done' THEN $5
                                  WHEN $1 = 'done' THEN done_note ELSE NULL END,
                 cancelled_at = CASE WHEN $1 = 'cancelled' THEN $4 ELSE cancelled_at END,
                 received_at = CASE WHEN $12 THEN COALESCE(received_at, $4) ELSE NULL END
             WHERE id = $6 AND status = $7 AND claimer_id IS NOT DISTINCT FROM $8
                   AND (received_at IS NOT NULL) = $13
             RETURNING *";
        // One round trip: the guarded update, and its event if it matched.
        let sql = match self.raw()? {
            Backend::Sqlite(_) => format!(
                "{UPDATE}; INSERT INTO events (task_id, action, actor_id, actor_name, at)
                 SELECT $6, $9, $10, $11, $4 WHERE changes() = 1"
            ),
            Backend::Postgres(_) => format!(
                "WITH changed AS ({UPDATE}),
                 event AS (INSERT INTO events (task_id, action, actor_id, actor_name, at)
                           SELECT id, $9, $10, $11, $4 FROM changed)
                 SELECT * FROM changed"
            ),
        };
        let rows: Vec<TaskRow> = either!(self.conn().await?, c => sqlx::query_as(&sql)
            .bind(next.status.as_str())
            .bind(next.claimer.map(|u| u.0))
            .bind(claimer_name)
            .bind(change.at)
            .bind(change.note)
            .bind(task.id)
            .bind(task.state.status.as_str())
            .bind(task.state.claimer.map(|u| u.0))
            .bind(change.action.event_name())
            .bind(change.actor.id.0)
            .bind(&change.actor.name)
            .bind(next.received)
            .bind(task.state.received)
            .fetch_all(c)
            .await?);
        super::first_record(rows)
    }

    /// Replaces an open task's kind, flat and details (its `/need` was edited).
    /// `None` when the task is no longer open.
    pub async fn edit_open_task(
        &mut self,
        task: &TaskRecord,
        edited: &NewTask,
        actor: &Person,
        at: DateTime<Utc>,
    ) -> LedgerResult<Option<TaskRecord>> {
        const UPDATE: &str = "UPDATE tasks SET kind = $1, flat = $2, details = $3
             WHERE id = $4 AND status = 'open' RETURNING *";
        // One round trip, as in `apply`.
        let sql = match self.raw()? {
            Backend::Sqlite(_) => format!(
                "{UPDATE}; INSERT INTO events (task_id, action, actor_id, actor_name, at)
                 SELECT $4, 'edited', $5, $6, $7 WHERE changes() = 1"
            ),
            Backend::Postgres(_) => format!(
                "WITH changed AS ({UPDATE}),
                 event AS (INSERT INTO events (task_id, action, actor_id, actor_name, at)
                           SELECT id, 'edited', $5, $6, $7 FROM changed)
                 SELECT * FROM changed"
            ),
        };
        let rows: Vec<TaskRow> = either!(self.conn().await?, c => sqlx::query_as(&sql)
            .bind(edited.kind.as_str())
            .bind(&edited.flat)
            .bind(&edited.details)
            .bind(task.id)
            .bind(actor.id.0)
            .bind(&actor.name)
            .bind(at)
            .fetch_all(c)
            .await?);
        super::first_record(rows)
    }

    /// Moves a group's tasks, and the messages waiting for it, to the
    /// supergroup it became. Safe to repeat: the second time finds nothing
    /// to move. Returns the tasks moved.
    pub async fn migrate_chat(&mut self, from: i64, to: i64) -> LedgerResult<u64> {
        let target_exists: Option<i64> = either!(self.conn().await?, c =>
            sqlx::query_scalar("SELECT id FROM chats WHERE id = $1")
                .bind(to)
                .fetch_optional(c)
                .await?);
        let moved = if target_exists.is_some() {
            // Tasks were already asked for in the new chat: keep theirs and
            // number the old ones after them.
            either!(self.conn().await?, c => {
                let offset: i64 = sqlx::query_scalar(
                    "SELECT COALESCE(MAX(number), 0) FROM tasks WHERE chat_id = $1",
                )
                .bind(to)
                .fetch_one(&mut *c)
                .await?;
                let moved = sqlx::query(
                    "UPDATE tasks SET chat_id = $1, number = number + $2,
                         announcement_message_id = NULL, source_message_id = 0
                     WHERE chat_id = $3",
                )
                .bind(to)
                .bind(offset)
                .bind(from)
                .execute(&mut *c)
                .await?
                .rows_affected();
                // The old group's language choices stay, unless the supergroup has
                // its own; hidden flats stay hidden.
                sqlx::query(
                    "UPDATE chats SET
                         language = COALESCE(language, (SELECT language FROM chats WHERE id = $1)),
                         added_by_language = COALESCE(added_by_language,
                             (SELECT added_by_language FROM chats WHERE id = $1)),
                         hide_flats = hide_flats
                             OR COALESCE((SELECT hide_flats FROM chats WHERE id = $1), FALSE),
                         time_zone = COALESCE(time_zone, (SELECT time_zone FROM chats WHERE id = $1)),
                         unclaimed_after = COALESCE(unclaimed_after,
                             (SELECT unclaimed_after FROM chats WHERE id = $1)),
                         check_claim_after = COALESCE(check_claim_after,
                             (SELECT check_claim_after FROM chats WHERE id = $1)),
                         auto_release_after = COALESCE(auto_release_after,
                             (SELECT auto_release_after FROM chats WHERE id = $1)),
                         digest_at = COALESCE(digest_at, (SELECT digest_at FROM chats WHERE id = $1)),
                         board_mode = board_mode
                             OR COALESCE((SELECT board_mode FROM chats WHERE id = $1), FALSE)
                     WHERE id = $2",
                )
                .bind(from)
                .bind(to)
                .execute(&mut *c)
                .await?;
                sqlx::query("DELETE FROM chats WHERE id = $1")
                    .bind(from)
                    .execute(&mut *c)
                    .await?;
                moved
            })
        } else {
            either!(self.conn().await?, c => {
                // ON UPDATE CASCADE carries the tasks along. The old group's
                // board cannot be edited from the supergroup.
                sqlx::query("UPDATE chats SET id = $1, board_message_id = NULL WHERE id = $2")
                    .bind(to)
                    .bind(from)
                    .execute(&mut *c)
                    .await?;
                sqlx::query(
                    "UPDATE tasks SET announcement_message_id = NULL, source_message_id = 0
                     WHERE chat_id = $1",
                )
                .bind(to)
                .execute(&mut *c)
                .await?
                .rows_affected()
            })
        };
        if moved > 0 {
            // The old group's messages cannot be edited, and their ids name
            // other messages in the supergroup: live tasks are posted anew.
            let live: Vec<i64> = either!(self.conn().await?, c => sqlx::query_scalar(
                "SELECT id FROM tasks WHERE chat_id = $1 AND status IN ('open', 'claimed')
                 AND source_message_id = 0 AND announcement_message_id IS NULL ORDER BY number",
            )
            .bind(to)
            .fetch_all(c)
            .await?);
            for task_id in live {
                self.send(Outgoing::Announce {
                    task_id,
                    chat_id: to,
                    reply_to: None,
                });
            }
        }
        // Leads, households, timers and drafts follow; what the supergroup
        // has already wins.
        either!(self.conn().await?, c => {
            for (table, same) in [
                ("leads", "kept.user_id = leads.user_id"),
                ("households", "kept.flat = households.flat"),
                ("timers", "kept.kind = timers.kind AND kept.task_id = timers.task_id"),
            ] {
                sqlx::query(&format!(
                    "UPDATE {table} SET chat_id = $2 WHERE chat_id = $1 AND NOT EXISTS
                         (SELECT 1 FROM {table} AS kept WHERE kept.chat_id = $2 AND {same})"
                ))
                .bind(from)
                .bind(to)
                .execute(&mut *c)
                .await?;
                sqlx::query(&format!("DELETE FROM {table} WHERE chat_id = $1"))
                    .bind(from)
                    .execute(&mut *c)
                    .await?;
            }
            sqlx::query("UPDATE drafts SET chat_id = $2 WHERE chat_id = $1")
                .bind(from)
                .bind(to)
                .execute(&mut *c)
                .await?;
        });
        outbox::follow_migration_in_outbox(self.conn().await?, from, to).await?;
        self.queued
            .retain_mut(|outgoing| outgoing.follow_migration(from, to));
        if let Some(batch) = &self.batch {
            Slot::follow_migration(batch, from, to);
        }
        Ok(moved)
    }

    /// Keeps a group's current title (it was renamed, or first seen).
    pub async fn note_chat_title(&mut self, chat_id: i64, title: &str) -> LedgerResult<()> {
        either!(self.conn().await?, c => sqlx::query(
            "UPDATE chats SET title = $2 WHERE id = $1 AND title IS DISTINCT FROM $2",
        )
        .bind(chat_id)
        .bind(title)
        .execute(c)
        .await
        .map(drop)?);
        Ok(())
    }

    /// The bot was added to a group by someone speaking `added_by` (if it is
    /// a language the bot speaks): the chat is active, with that language
    /// kept for when no admin chose one. Returns the chat's language now
    /// (an admin's choice, else the adder's), if it has one.
    pub async fn chat_joined(
        &mut self,
        chat_id: i64,
        title: Option<&str>,
        added_by: Option<Lang>,
    ) -> LedgerResult<Option<Lang>> {
        let at = self.now();
        let code: Option<String> = either!(self.conn().await?, c => sqlx::query_scalar(
            "INSERT INTO chats (id, title, created_at, added_by_language) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET active = TRUE,
                 title = COALESCE(excluded.title, chats.title),
                 added_by_language = COALESCE(excluded.added_by_language, chats.added_by_language)
             RETURNING COALESCE(language, added_by_language)",
        )
        .bind(chat_id)
        .bind(title)
        .bind(at)
        .bind(added_by.map(Lang::as_str))
        .fetch_one(c)
        .await?);
        Ok(code.as_deref().and_then(Lang::from_code))
    }

    /// Sets the language of a chat's shared messages (`/settings language`)
    /// and of its live tasks' announcements, which are queued to be redrawn.
    pub async fn set_chat_language(
        &mut self,
        chat_id: i64,
        title: Option<&str>,
        lang: Lang,
    ) -> LedgerResult<()> {
        let at = self.now();
        let rows: Vec<TaskRow> = either!(self.conn().await?, c => {
            sqlx::query(
                "INSERT INTO chats (id, title, created_at, language) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET language = excluded.language,
                     title = COALESCE(excluded.title, chats.title)",
            )
            .bind(chat_id)
            .bind(title)
            .bind(at)
            .bind(lang.as_str())
            .execute(&mut *c)
            .await?;
            sqlx::query_as(
                "UPDATE tasks SET lang = $2
                 WHERE chat_id = $1 AND status IN ('open', 'claimed') AND lang <> $2
                 RETURNING *",
            )
            .bind(chat_id)
            .bind(lang.as_str())
            .fetch_all(c)
            .await?
        });
        for task in super::records(rows)? {
            self.send(Outgoing::announce(&task));
        }
        Ok(())
    }

    /// Sets whether every request of a chat is private (`/settings
    /// hide_flats`); the live tasks' announcements are queued to be redrawn
    /// when they become private.
    pub async fn set_chat_hide_flats(
        &mut self,
        chat_id: i64,
        title: Option<&str>,
        on: bool,
    ) -> LedgerResult<()> {
        self.set_chat_switch(chat_id, title, ChatSwitch::HideFlats, on)
            .await?;
        let rows: Vec<TaskRow> = either!(self.conn().await?, c => {
            // Turning it on hides what the live announcements show now too.
            sqlx::query_as(
                "UPDATE tasks SET private = TRUE
                 WHERE chat_id = $1 AND $2 AND status IN ('open', 'claimed') AND NOT private
                 RETURNING *",
            )
            .bind(chat_id)
            .bind(on)
            .fetch_all(c)
            .await?
        });
        for task in super::records(rows)? {
            self.send(Outgoing::announce(&task));
        }
        Ok(())
    }

    /// Turns an on/off setting of a chat on or off, keeping the chat (and
    /// its title, when known) if it is new to the ledger.
    pub(super) async fn set_chat_switch(
        &mut self,
        chat_id: i64,
        title: Option<&str>,
        switch: ChatSwitch,
        on: bool,
    ) -> LedgerResult<()> {
        let at = self.now();
        let column = switch.column();
        let sql = format!(
            "INSERT INTO chats (id, title, created_at, {column}) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET {column} = excluded.{column},
                 title = COALESCE(excluded.title, chats.title)"
        );
        either!(self.conn().await?, c => sqlx::query(&sql)
            .bind(chat_id)
            .bind(title)
            .bind(at)
            .bind(on)
            .execute(c)
            .await
            .map(drop)?);
        Ok(())
    }

    /// Marks whether the bot is still a member of a chat.
    pub async fn set_chat_active(&mut self, chat_id: i64, active: bool) -> LedgerResult<()> {
        either!(self.conn().await?, c => sqlx::query("UPDATE chats SET active = $1 WHERE id = $2")
            .bind(active)
            .bind(chat_id)
            .execute(c)
            .await
            .map(drop)?);
        Ok(())
    }

    /// Queues a message to be sent once this transaction commits.
    pub fn send(&mut self, outgoing: Outgoing) {
        self.queued.push(outgoing);
    }
}

impl Drop for LedgerTx {
    /// An uncommitted unit of a batch is rolled back to its savepoint, not
    /// with the whole batch (a transaction of its own just rolls back).
    fn drop(&mut self) {
        if let (Some(tx), Some(batch)) = (self.tx.take(), self.batch.take()) {
            Slot::put_back(&batch, tx, self.ended(false));
        }
    }
}

/// A chat's on/off settings.
#[derive(Debug, Clone, Copy)]
pub(super) enum ChatSwitch {
    HideFlats,
    BoardMode,
}

impl ChatSwitch {
    fn column(self) -> &'static str {
        match self {
            ChatSwitch::HideFlats => "hide_flats",
            ChatSwitch::BoardMode => "board_mode",
        }
    }
}

/// A task by chat and number, with its chat's own settings and what the
/// ledger knows of its requester and claimer (see [`FollowContext`]).
const TASK_TO_CHANGE: &str = concat!(
    "SELECT t.*, ",
    timing_columns!(),
    ",
            pr.reachable AS requester_reachable, pr.lang AS requester_lang,
            pc.reachable AS claimer_reachable, pc.lang AS claimer_lang
     FROM tasks AS t
     LEFT JOIN chats AS c ON c.id = t.chat_id
     LEFT JOIN people AS pr ON pr.user_id = t.requester_id
     LEFT JOIN people AS pc ON pc.user_id = t.claimer_id
     WHERE t.chat_id = $1 AND t.number = $2"
);

/// A row of [`TASK_TO_CHANGE`].
#[derive(sqlx::FromRow)]
struct TaskToChange {
    #[sqlx(flatten)]
    task: TaskRow,
    #[sqlx(flatten)]
    timing: TimingRow,
    requester_reachable: Option<bool>,
    requester_lang: Option<String>,
    claimer_reachable: Option<bool>,
    claimer_lang: Option<String>,
}

impl TaskToChange {
    fn split(self) -> LedgerResult<(TaskRecord, FollowContext)> {
        let task = TaskRecord::try_from(self.task)?;
        let mut people = vec![(
            task.state.requester,
            self.requester_reachable,
            self.requester_lang,
        )];
        if let Some(claimer) = task.state.claimer {
            people.push((claimer, self.claimer_reachable, self.claimer_lang));
        }
        let context = FollowContext {
            timing: self.timing.timing(),
            people: people
                .into_iter()
                .map(|(user, reachable, lang)| {
                    let lang = lang.as_deref().and_then(Lang::from_code);
                    (user, reachable == Some(true), lang)
                })
                .collect(),
        };
        Ok((task, context))
    }
}

/// Inserts a task numbered next in its chat (after [`UPSERT_CHAT`], whose
/// arguments it shares), in the chat's language if it has one.
const INSERT_TASK: &str = "INSERT INTO tasks (chat_id, number, kind, flat, details, status,
         requester_id, requester_name, lang, thread_id, source_message_id, created_at,
         private, media_kind, media_file_id)
     VALUES ($1, (SELECT COALESCE(MAX(number), 0) + 1 FROM tasks WHERE chat_id = $1),
             $4, $5, $6, 'open', $7, $8,
             (SELECT COALESCE(language, added_by_language, $9) FROM chats WHERE id = $1),
             $10, $11, $3,
             $12 OR COALESCE((SELECT hide_flats FROM chats WHERE id = $1), FALSE), $13, $14)";

/// Binds the arguments of [`UPSERT_CHAT`] and [`INSERT_TASK`].
fn bind_new_task<'q, DB, O>(
    query: sqlx::query::QueryAs<'q, DB, O, <DB as sqlx::Database>::Arguments<'q>>,
    new: &'q NewTaskRecord<'q>,
) -> sqlx::query::QueryAs<'q, DB, O, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i32: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<&'q str>: sqlx::Encode<'q, DB>,
    Option<i32>: sqlx::Encode<'q, DB>,
    DateTime<Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query
        .bind(new.chat_id)
        .bind(new.chat_title)
        .bind(new.at)
        .bind(new.task.kind.as_str())
        .bind(new.task.flat.as_str())
        .bind(new.task.details.as_str())
        .bind(new.requester.id.0)
        .bind(new.requester.name.as_str())
        .bind(new.default_lang.as_str())
        .bind(new.thread_id)
        .bind(new.source_message_id)
        .bind(new.private)
        .bind(new.media.map(|m| m.kind.as_str()))
        .bind(new.media.map(|m| m.file_id.as_str()))
}
