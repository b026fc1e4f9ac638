//! [`Batch`]: group commit. The writes of many Updates share one
//! transaction, each inside a savepoint of its own, and their handled marks
//! are written together. This file holds the whole savepoint protocol.
//!
//! A commit is the expensive part of a write (the WAL append, the lock
//! hand-over, a round trip to the connection's thread), so the processor
//! hands a whole batch of Updates to one `Batch` and commits once. Each
//! handler still sees a transaction of its own ([`LedgerTx`] from
//! [`Batch::begin`]): its commit keeps its effects for the batch, and
//! dropping it uncommitted rolls back to its savepoint, so one Update's
//! failure never takes another's effects with it. The processor names the
//! Updates it is done with ([`Batch::handled`]); their marks are written in
//! one statement by the same commit as their effects, so an Update is
//! handled once, with its effects, or not at all. Nothing reaches Telegram
//! before the batch commits: the sender reads only committed rows.
//!
//! Round trips to SQLite's thread are what a write costs most, so there the
//! statements that end one unit and start the next go with the next unit's
//! first statement. PostgreSQL prepares one statement at a time, so there
//! they go on a round trip of their own; and since it slows down past 64
//! subtransactions in one transaction, a batch commits after
//! [`POSTGRES_UNITS`] units and goes on in a new transaction.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

use sqlx::Executor;

use super::backend::{Backend, Tx};
use super::outbox::{self, Outgoing};
use super::write::LedgerTx;
use super::{Ledger, LedgerError, LedgerResult};
use crate::either;

/// The units a PostgreSQL transaction takes before the batch commits it:
/// below the 64 subtransactions a PostgreSQL backend caches
/// (`PGPROC_MAX_CACHED_SUBXIDS`), past which every snapshot slows down.
pub const POSTGRES_UNITS: usize = 50;

/// One group commit. Cheap to clone: clones share the transaction.
#[derive(Clone)]
pub struct Batch {
    ledger: Ledger,
    slot: Arc<Mutex<Slot>>,
}

/// How the last unit of a batch ended. Units' savepoints take turns
/// between two names (`unit0`, `unit1`), and a unit never takes the name
/// of the savepoint still open before it: should a unit be counted as
/// started although its savepoint never opened (its first statement never
/// reached SQLite), rolling it back fails and breaks the batch, instead of
/// rolling back the unit before it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ended {
    /// No unit yet, or its savepoint is already gone.
    #[default]
    Settled,
    /// Committed: its savepoint (by name) is released when the next unit
    /// starts.
    Kept(u8),
    /// Dropped uncommitted: roll back to its savepoint.
    Abandoned(u8),
}

impl Ended {
    /// The statements that settle the last unit.
    pub(super) fn settle(self) -> String {
        match self {
            Ended::Settled => String::new(),
            Ended::Kept(name) => format!("RELEASE unit{name};"),
            Ended::Abandoned(name) => format!("ROLLBACK TO unit{name}; RELEASE unit{name};"),
        }
    }

    /// The statements that settle the last unit and open the savepoint of
    /// unit `name`: what goes before a unit's first statement.
    pub(super) fn opening(self, name: u8) -> String {
        format!("{} SAVEPOINT unit{name};", self.settle())
    }

    /// How unit `name` ended for the batch: as the last one did (`unstarted`)
    /// when it ran no statement, else kept or abandoned.
    pub(super) fn after(unstarted: Option<Ended>, name: u8, committed: bool) -> Ended {
        match (unstarted, committed) {
            (Some(last), _) => last,
            (None, true) => Ended::Kept(name),
            (None, false) => Ended::Abandoned(name),
        }
    }

    /// The savepoint name of the unit after this one.
    pub(super) fn next_name(self) -> u8 {
        match self {
            Ended::Kept(name) | Ended::Abandoned(name) => 1 - name.min(1),
            Ended::Settled => 0,
        }
    }
}

/// Where the batch's transaction waits between units.
#[derive(Default)]
pub(super) struct Slot {
    tx: Option<Tx>,
    /// Units begun in the open transaction.
    units: usize,
    /// A unit holds the transaction.
    in_unit: bool,
    /// A commit failed: the units before it are gone, so the batch must not
    /// go on with the ones after it (a chat's Updates would apply out of
    /// order).
    broken: bool,
    last: Ended,
    /// Updates done with since the last commit, marked handled by the next.
    handled: Vec<i64>,
    /// Messages the kept units queued, written to the outbox by the next
    /// commit in one statement.
    outbox: Vec<Outgoing>,
    /// The lanes of the messages this batch's commits have written.
    written: BTreeSet<i64>,
}

impl Slot {
    fn lock(slot: &Mutex<Slot>) -> MutexGuard<'_, Slot> {
        slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes back the transaction a unit had, and how the unit ended.
    pub(super) fn put_back(slot: &Mutex<Slot>, tx: Tx, ended: Ended) {
        let mut slot = Slot::lock(slot);
        slot.tx = Some(tx);
        slot.in_unit = false;
        slot.last = ended;
    }

    /// Takes back the transaction of a unit that committed, with the
    /// messages it queued.
    pub(super) fn keep(slot: &Mutex<Slot>, tx: Tx, ended: Ended, queued: Vec<Outgoing>) {
        Slot::put_back(slot, tx, ended);
        Slot::lock(slot).outbox.extend(queued);
    }

    /// Moves the queued messages of a chat that migrated to its new id.
    pub(super) fn follow_migration(slot: &Mutex<Slot>, from: i64, to: i64) {
        Slot::lock(slot)
            .outbox
            .retain_mut(|outgoing| outgoing.follow_migration(from, to));
    }
}

impl Batch {
    pub fn new(ledger: Ledger) -> Self {
        Batch {
            ledger,
            slot: Arc::default(),
        }
    }

    /// Starts one unit of the batch: a transaction of its own to the caller,
    /// a savepoint in the batch's transaction (begun on first use).
    pub async fn begin(&self) -> LedgerResult<LedgerTx> {
        let full = {
            let slot = Slot::lock(&self.slot);
            matches!(slot.tx, Some(Backend::Postgres(_))) && slot.units >= POSTGRES_UNITS
        };
        if full {
            self.flush().await?;
        }
        let (tx, last) = self.take()?;
        let mut tx = match tx {
            Some(tx) => tx,
            None => self.ledger.begin_raw().await?,
        };
        // A unit dropped uncommitted is rolled back on its own round trip,
        // so that a failure to do so (its savepoint never opened) breaks the
        // batch instead of passing for the next unit's error.
        let last = match last {
            Ended::Abandoned(_) => {
                let settle = last.settle();
                let settled = either!(tx.conn(), c => c.execute(settle.as_str()).await.map(drop));
                if let Err(error) = settled {
                    Slot::lock(&self.slot).broken = true;
                    return Err(error.into());
                }
                Ended::Settled
            }
            kept_or_settled => kept_or_settled,
        };
        {
            let mut slot = Slot::lock(&self.slot);
            slot.in_unit = true;
            slot.units += 1;
        }
        // The savepoint opens with the unit's first statement.
        Ok(LedgerTx::in_batch(
            tx,
            self.slot.clone(),
            last,
            self.ledger.clock().clone(),
        ))
    }

    /// Notes that an Update is done with: it is marked handled by the
    /// commit that keeps its effects.
    pub fn handled(&self, update_id: i64) {
        Slot::lock(&self.slot).handled.push(update_id);
    }

    /// Commits what the batch holds so far, so that readers see it; the
    /// next unit starts a new transaction. Used before the batch waits on
    /// something slow (Telegram) or reads through the readers' pool.
    pub async fn flush(&self) -> LedgerResult<()> {
        let (tx, last) = self.take()?;
        let (handled, outbox) = {
            let mut slot = Slot::lock(&self.slot);
            (
                std::mem::take(&mut slot.handled),
                std::mem::take(&mut slot.outbox),
            )
        };
        let committed = self.write_and_commit(tx, last, &handled, &outbox).await;
        let mut slot = Slot::lock(&self.slot);
        match committed {
            Ok(()) => slot.written.extend(outbox.iter().map(Outgoing::lane)),
            Err(_) => slot.broken = true,
        }
        committed
    }

    /// The lanes of the messages this batch has committed so far: where the
    /// sender has something new.
    pub fn written_lanes(&self) -> Vec<i64> {
        Slot::lock(&self.slot).written.iter().copied().collect()
    }

    /// Settles the last unit, marks the Updates and queues the messages
    /// (in one round trip on SQLite), and commits.
    async fn write_and_commit(
        &self,
        tx: Option<Tx>,
        last: Ended,
        handled: &[i64],
        outbox: &[Outgoing],
    ) -> LedgerResult<()> {
        let mut tx = match tx {
            Some(tx) => tx,
            None if handled.is_empty() => return Ok(()),
            // Updates that needed no effect still need their marks.
            None => self.ledger.begin_raw().await?,
        };
        let now = self.ledger.clock().now();
        match tx.conn() {
            Backend::Sqlite(c) => {
                let mut statements = last.settle();
                if !handled.is_empty() {
                    statements.push_str(
                        "UPDATE inbox SET handled_at = $1, error = NULL
                         WHERE update_id IN (SELECT value FROM json_each($2))
                           AND handled_at IS NULL;",
                    );
                }
                if !outbox.is_empty() {
                    statements.push_str(outbox::SQLITE_INSERT_ROWS);
                }
                if !statements.is_empty() {
                    let ids = serde_json::to_string(handled).unwrap_or_else(|_| "[]".into());
                    sqlx::query(&statements)
                        .bind(now)
                        .bind(ids)
                        .bind(outbox::rows_argument(outbox))
                        .execute(c)
                        .await?;
                }
            }
            Backend::Postgres(c) => {
                let settle = last.settle();
                if !settle.is_empty() {
                    c.execute(settle.as_str()).await?;
                }
                if !handled.is_empty() {
                    sqlx::query(
                        "UPDATE inbox SET handled_at = $1, error = NULL
                         WHERE update_id = ANY($2) AND handled_at IS NULL",
                    )
                    .bind(now)
                    .bind(handled)
                    .execute(&mut *c)
                    .await?;
                }
                outbox::insert(Backend::Postgres(c), now, outbox).await?;
            }
        }
        tx.commit().await
    }

    /// Commits the batch. Dropping the last clone uncommitted rolls it back.
    pub async fn commit(self) -> LedgerResult<()> {
        self.flush().await
    }

    /// The batch's transaction, if one is open, and how its last unit ended.
    fn take(&self) -> LedgerResult<(Option<Tx>, Ended)> {
        let mut slot = Slot::lock(&self.slot);
        if slot.broken {
            return Err(LedgerError::GroupCommit(
                "an earlier commit of this batch failed".into(),
            ));
        }
        if slot.in_unit {
            // One connection writes: waiting for a second would never end.
            return Err(LedgerError::Misuse(
                "a batch was used while one of its units was open".into(),
            ));
        }
        let tx = slot.tx.take();
        if tx.is_none() {
            slot.units = 0;
        }
        Ok((tx, std::mem::take(&mut slot.last)))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::config::Settings;

    async fn ledger() -> (Ledger, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite:{}/batch.db", dir.path().display());
        let vars = HashMap::from([("DATABASE_URL".to_string(), url)]);
        let settings = Settings::from_vars(&vars).expect("settings");
        let ledger = Ledger::connect(&settings.database).await.expect("ledger");
        (ledger, dir)
    }

    async fn chats(ledger: &Ledger) -> i64 {
        either!(ledger.readers(), p => sqlx::query_scalar("SELECT COUNT(*) FROM chats")
            .fetch_one(p)
            .await
            .expect("a count"))
    }

    /// A unit counted as started whose first statement never reached SQLite
    /// (a panic or a cancellation in between) must not roll back the unit
    /// before it: the batch breaks instead, and nothing of it is kept.
    #[tokio::test]
    async fn a_unit_without_its_savepoint_breaks_the_batch_instead_of_undoing_another() {
        let (ledger, _dir) = ledger().await;
        let batch = Batch::new(ledger.clone());
        let mut kept = batch.begin().await.expect("a unit");
        either!(kept.conn().await.expect("its connection"), c =>
            sqlx::query("INSERT INTO chats (id, created_at) VALUES (-100, 'now')")
                .execute(c)
                .await
                .map(drop))
        .expect("a chat");
        kept.commit().await.expect("kept");
        let mut lost = batch.begin().await.expect("a unit");
        let _never_sent = lost.sql("SELECT 1");
        drop(lost);
        assert!(batch.begin().await.is_err(), "the batch goes no further");
        assert!(batch.flush().await.is_err());
        drop(batch);
        assert_eq!(chats(&ledger).await, 0, "a broken batch keeps nothing");
    }

    /// The ordinary case: a unit dropped after its first statement rolls
    /// back alone.
    #[tokio::test]
    async fn a_unit_dropped_after_its_first_statement_rolls_back_alone() {
        let (ledger, _dir) = ledger().await;
        let batch = Batch::new(ledger.clone());
        for (chat, keep) in [(-100, true), (-200, false), (-300, true)] {
            let mut unit = batch.begin().await.expect("a unit");
            either!(unit.conn().await.expect("its connection"), c =>
                sqlx::query("INSERT INTO chats (id, created_at) VALUES ($1, 'now')")
                    .bind(chat)
                    .execute(c)
                    .await
                    .map(drop))
            .expect("a chat");
            if keep {
                unit.commit().await.expect("kept");
            }
        }
        batch.commit().await.expect("committed");
        assert_eq!(chats(&ledger).await, 2);
    }
}
