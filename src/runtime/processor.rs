//! The processor: takes stored Updates from the inbox in batches, in
//! `update_id` order (so in order within each chat), and runs each through
//! the handler tree.
//!
//! A batch is one group commit ([`Batch`]): each handler records its effects
//! in a unit of the batch, and the batch commits once, with the handled
//! marks of its Updates, before anything it queued can be sent. The
//! processor covers the rest:
//! - an Update the tree does not handle is marked handled all the same;
//! - a handler error (the database was busy, say) is retried a few times
//!   with a pause, then the Update is given up;
//! - a handler panic gives the Update up at once: it is poisoned, and the
//!   chat's later Updates must not wait behind it;
//! - a batch whose transaction breaks is handled again, and the Update in
//!   hand when it broke counts a failed attempt, so that one which keeps
//!   breaking batches is given up in the end.
//!
//! Given-up Updates keep their cause in the inbox, and the sender is told
//! something went wrong where that is possible.
//!
//! Timers that fell due (reminders, questions, releases, digests) take the
//! same path: when a batch has room after the waiting Updates, the due
//! timers fill it, each fired in a unit of its own; one that fails is
//! tried again after a pause and given up after a few attempts, keeping
//! its cause in the `timers` table.
//!
//! The fetcher waits for the processor to look at the inbox again before it
//! fetches more ([`Processor::run`]'s `looks`), so Updates wait in Telegram,
//! not in the inbox, when the bot is behind: the latency of an Update stays
//! that of a batch or two.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use teloxide::types::{Me, Update};
use tokio::sync::{watch, Notify};

use super::sender::Wake;
use crate::ledger::inbox::InboxRow;
use crate::ledger::timers::Timer;
use crate::ledger::{Batch, LedgerResult};
use crate::telegram::handlers;
use crate::telegram::schema::UpdateTree;
use crate::telegram::timers::handle as handle_timer;
use crate::telegram::{SharedContext, TgBot};

/// How often a failing handler is tried before its Update is given up.
const MAX_ATTEMPTS: i64 = 3;

/// The longest pause before a failed handler is tried again.
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(60);

/// How long the processor waits after a batch broke.
const BROKEN_BATCH_PAUSE: Duration = Duration::from_secs(1);

/// How often an idle processor looks for retries that have come due.
const IDLE_LOOK: Duration = Duration::from_millis(500);

/// What became of an Update in a batch.
enum Fate {
    /// Handled or given up: the chat's next Update may go.
    Done,
    /// To be tried again later; the chat's next Updates wait for it.
    Retry,
}

pub struct Processor {
    pub bot: TgBot,
    pub ctx: SharedContext,
    pub me: Me,
    pub handler: Arc<UpdateTree>,
    /// The most Updates one batch takes (as many as one `getUpdates`
    /// returns, so that the fetcher's wait keeps the backlog to a batch).
    pub batch_size: u32,
    /// Told the lanes a batch wrote messages to, once it has committed, so
    /// that the sender looks there.
    pub sender: Wake,
}

impl Processor {
    /// Handles Updates until `stop` turns true; the batch in hand finishes.
    /// `stored` is notified when Updates are stored; `looks` counts the
    /// processor's looks at the inbox.
    pub async fn run(
        self: Arc<Self>,
        stored: Arc<Notify>,
        looks: watch::Sender<u64>,
        mut stop: watch::Receiver<bool>,
    ) {
        while !*stop.borrow() {
            looks.send_modify(|n| *n += 1);
            let now = self.ctx.ledger.clock().now();
            let due = self
                .ctx
                .ledger
                .inbox_due(now, self.batch_size)
                .await
                .unwrap_or_else(|error| {
                    tracing::error!(%error, "cannot read the inbox");
                    Vec::new()
                });
            let room = self.batch_size.saturating_sub(due.len() as u32);
            let timers = match room {
                0 => Vec::new(),
                room => self
                    .ctx
                    .ledger
                    .timers_due(now, room)
                    .await
                    .unwrap_or_else(|error| {
                        tracing::error!(%error, "cannot read the timers");
                        Vec::new()
                    }),
            };
            if due.is_empty() && timers.is_empty() {
                tokio::select! {
                    () = stored.notified() => {}
                    () = tokio::time::sleep(IDLE_LOOK) => {}
                    _ = stop.wait_for(|stop| *stop) => {}
                }
                continue;
            }
            self.handle_batch(&due, &timers).await;
        }
    }

    /// Handles `rows`, then fires `timers`, in one group commit, then tells
    /// the sender.
    pub async fn handle_batch(&self, rows: &[InboxRow], timers: &[Timer]) {
        let started = std::time::Instant::now();
        let batch = Batch::new(self.ctx.ledger.clone());
        let mut broken = None;
        // Chats whose Update waits for a retry: their later ones wait too.
        let mut waiting: HashSet<i64> = HashSet::new();
        for row in rows.iter() {
            if waiting.contains(&row.chat_key) {
                continue;
            }
            match self.handle_stored(row, &batch).await {
                Ok(Fate::Done) => {}
                Ok(Fate::Retry) => {
                    waiting.insert(row.chat_key);
                }
                Err(error) => {
                    broken = Some((Some(row), error));
                    break;
                }
            }
        }
        if broken.is_none() {
            for timer in timers {
                if let Err(error) = self.fire(timer, &batch).await {
                    broken = Some((None, error));
                    break;
                }
            }
        }
        let outcome = match broken {
            None => batch.flush().await.map_err(|error| (None, error)),
            Some((row, error)) => Err((row, error)),
        };
        // Also after a failure: a unit flushed before it may have queued
        // messages.
        let written = batch.written_lanes();
        // Rolled back here (if it failed), before a failure is counted.
        drop(batch);
        if let Err((in_hand, error)) = outcome {
            tracing::error!(%error, "a batch of updates could not be recorded; handling it again");
            if let Some(row) = in_hand {
                self.count_failure(row, &error.to_string()).await;
            }
            // Whatever broke it (a full disk, say) may take a moment to pass.
            tokio::time::sleep(BROKEN_BATCH_PAUSE).await;
        } else {
            tracing::debug!(updates = rows.len(), took = ?started.elapsed(), "batch committed");
        }
        for lane in written {
            let _ = self.sender.send(lane);
        }
    }

    /// Handles one stored Update in a unit of `batch`; the one function
    /// between the inbox and the handler tree. An error means the batch's
    /// transaction broke.
    async fn handle_stored(&self, row: &InboxRow, batch: &Batch) -> LedgerResult<Fate> {
        let update_id = row.update_id;
        let update: Update = match serde_json::from_str(&row.raw) {
            Ok(update) => update,
            Err(error) => {
                tracing::warn!(update_id, %error, "an update that cannot be read; skipped");
                let unreadable = format!("unreadable: {error}");
                self.abandon(batch, None, update_id, unreadable).await?;
                return Ok(Fate::Done);
            }
        };
        if row.attempts >= MAX_ATTEMPTS {
            let failure = format!("failed {MAX_ATTEMPTS} times");
            self.abandon(batch, Some(&update), update_id, failure)
                .await?;
            return Ok(Fate::Done);
        }
        let deps = teloxide::dptree::deps![
            self.bot.clone(),
            self.ctx.clone(),
            self.me.clone(),
            update.clone(),
            batch.clone()
        ];
        let outcome = AssertUnwindSafe(self.handler.dispatch(deps))
            .catch_unwind()
            .await;
        let failure = match outcome {
            // Done with (nothing for the bot, when the tree passed it on).
            Ok(ControlFlow::Break(Ok(()))) | Ok(ControlFlow::Continue(_)) => {
                batch.handled(update_id);
                return Ok(Fate::Done);
            }
            Ok(ControlFlow::Break(Err(error))) if row.attempts + 1 < MAX_ATTEMPTS => {
                tracing::warn!(update_id, %error, "handler failed; will retry");
                let pause = super::doubling(Duration::from_secs(1), row.attempts, MAX_RETRY_PAUSE);
                let at = self.ctx.ledger.clock().now()
                    + chrono::TimeDelta::from_std(pause).unwrap_or_default();
                let mut tx = batch.begin().await?;
                tx.inbox_retry(update_id, at, &error.to_string()).await?;
                tx.commit().await?;
                return Ok(Fate::Retry);
            }
            Ok(ControlFlow::Break(Err(error))) => {
                format!("handler failed {MAX_ATTEMPTS} times: {error}")
            }
            Err(panic) => {
                let reason = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                format!("handler panicked: {reason}")
            }
        };
        self.abandon(batch, Some(&update), update_id, failure)
            .await?;
        Ok(Fate::Done)
    }

    /// Fires one due timer in a unit of `batch`; a failure is recorded on
    /// the timer (tried again later, or given up). An error means the
    /// batch's transaction broke.
    async fn fire(&self, timer: &Timer, batch: &Batch) -> LedgerResult<()> {
        let outcome = AssertUnwindSafe(handle_timer(&self.ctx, &self.me, batch, timer))
            .catch_unwind()
            .await;
        let failure = match outcome {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(error)) => error.to_string(),
            Err(_) => "timer panicked".to_string(),
        };
        let retry = timer.attempts + 1 < MAX_ATTEMPTS;
        let at = retry.then(|| {
            let pause = super::doubling(Duration::from_secs(1), timer.attempts, MAX_RETRY_PAUSE);
            self.ctx.ledger.clock().now() + chrono::TimeDelta::from_std(pause).unwrap_or_default()
        });
        if retry {
            tracing::warn!(timer = timer.id, kind = timer.kind.as_str(), %failure, "timer failed; will retry");
        } else {
            tracing::error!(timer = timer.id, kind = timer.kind.as_str(), %failure, "giving up on a timer");
        }
        let mut tx = batch.begin().await?;
        tx.timer_failed(timer.id, at, &failure).await?;
        tx.commit().await
    }

    /// Gives an Update up for `failure` and apologises to its sender, when
    /// it could be read.
    async fn abandon(
        &self,
        batch: &Batch,
        update: Option<&Update>,
        update_id: i64,
        failure: String,
    ) -> LedgerResult<()> {
        tracing::error!(update_id, %failure, "giving up on an update");
        let mut tx = batch.begin().await?;
        tx.inbox_give_up(update_id, &failure).await?;
        if let Some(apology) = update.and_then(|update| handlers::apology(&self.ctx, update)) {
            tx.send(apology);
        }
        tx.commit().await
    }

    /// Counts a failed attempt for the Update in hand when its batch broke,
    /// in a transaction of its own.
    async fn count_failure(&self, row: &InboxRow, error: &str) {
        let at = self.ctx.ledger.clock().now() + chrono::TimeDelta::seconds(1);
        let counted = async {
            let mut tx = self.ctx.ledger.begin().await?;
            tx.inbox_retry(row.update_id, at, error).await?;
            tx.commit().await
        };
        if let Err(error) = counted.await {
            tracing::error!(update_id = row.update_id, %error, "cannot count a failed attempt");
        }
    }
}
