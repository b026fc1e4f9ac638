//! [`Batch`]: group commit. The writes of many Updates share one SQLite
//! transaction, each inside a savepoint of its own.
//!
//! A commit is the expensive part of a write (the WAL append, the lock
//! hand-over, a round trip to the connection's thread), so the processor
//! hands a whole batch of Updates to one `Batch` and commits once. Each
//! handler still sees a transaction of its own ([`LedgerTx`] from
//! [`Batch::begin`]): its commit releases its savepoint into the batch, and
//! dropping it uncommitted rolls back to the savepoint, so one Update's
//! failure never takes another's effects with it. Nothing reaches Telegram
//! before the batch commits: the sender reads only committed rows.

use std::sync::{Arc, Mutex, MutexGuard};

use sqlx::{Sqlite, Transaction};

use super::write::LedgerTx;
use super::{Ledger, LedgerResult};

/// One group commit. Cheap to clone: clones share the transaction.
#[derive(Clone)]
pub struct Batch {
    ledger: Ledger,
    slot: Arc<Mutex<Slot>>,
}

/// Where the batch's transaction waits between units.
#[derive(Default)]
pub(super) struct Slot {
    tx: Option<Transaction<'static, Sqlite>>,
    /// The last unit was dropped uncommitted: roll back to its savepoint.
    abandoned: bool,
}

impl Slot {
    fn lock(slot: &Mutex<Slot>) -> MutexGuard<'_, Slot> {
        slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes back the transaction a unit had; `abandoned` when the unit
    /// ended without committing.
    pub(super) fn put_back(slot: &Mutex<Slot>, tx: Transaction<'static, Sqlite>, abandoned: bool) {
        let mut slot = Slot::lock(slot);
        slot.tx = Some(tx);
        slot.abandoned = abandoned;
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
        let mut tx = match self.settled().await? {
            Some(tx) => tx,
            None => self.ledger.writer().begin_with("BEGIN IMMEDIATE").await?,
        };
        if let Err(error) = sqlx::query("SAVEPOINT unit").execute(&mut *tx).await {
            // The units before this one are intact: keep them.
            Slot::put_back(&self.slot, tx, false);
            return Err(error.into());
        }
        Ok(LedgerTx::in_batch(tx, self.slot.clone()))
    }

    /// Commits what the batch holds so far, so that readers see it; the
    /// next unit starts a new transaction. Used before the batch waits on
    /// something slow (Telegram) or reads through the readers' pool.
    pub async fn flush(&self) -> LedgerResult<()> {
        if let Some(tx) = self.settled().await? {
            tx.commit().await?;
        }
        Ok(())
    }

    /// Commits the batch. Dropping the last clone uncommitted rolls it back.
    pub async fn commit(self) -> LedgerResult<()> {
        self.flush().await
    }

    /// The batch's transaction, if one is open, with an abandoned unit
    /// rolled back.
    async fn settled(&self) -> LedgerResult<Option<Transaction<'static, Sqlite>>> {
        let (tx, abandoned) = {
            let mut slot = Slot::lock(&self.slot);
            (slot.tx.take(), std::mem::take(&mut slot.abandoned))
        };
        let Some(mut tx) = tx else {
            return Ok(None);
        };
        if abandoned {
            // On failure `tx` drops, rolling the whole batch back: the
            // caller's error says so, and its Updates are handled again.
            sqlx::query("ROLLBACK TO unit; RELEASE unit")
                .execute(&mut *tx)
                .await?;
        }
        Ok(Some(tx))
    }
}
