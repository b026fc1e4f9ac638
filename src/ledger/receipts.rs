//! Receipts: what the sender records after each delivery (a row sent, given
//! up, or to be tried again), committed in groups.
//!
//! Deliveries run side by side, lane by lane. Each waits until its receipt
//! is committed before its lane goes on, since the lane's next head must not
//! be the row just sent. The recorder commits every receipt that arrived
//! while its previous commit ran in one transaction, so the writer commits
//! once per group instead of once per message.

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use super::backend::Backend;
use super::{Ledger, LedgerError, LedgerResult, LedgerTx};
use crate::either;

/// What one delivery leaves to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    /// Telegram accepted the row, or it needs nothing more.
    Sent { row: i64 },
    /// Telegram refused the row for good.
    Failed { row: i64, error: String },
    /// The row is to be tried again at `at`.
    Retry {
        row: i64,
        at: DateTime<Utc>,
        error: String,
    },
    /// A task's announcement now shows the state that announcement row
    /// `newest` asked for: that row and the task's earlier ones are done.
    /// `posted` is the message that shows it, when a new one was posted.
    Announced {
        task_id: i64,
        /// The chat it was posted in: a post that raced a migration of that
        /// chat names a message of the old group and is not recorded.
        chat_id: i64,
        newest: i64,
        posted: Option<i32>,
    },
    /// A chat's board now shows what board rows `rows` asked for; `posted`
    /// is the message that shows it, when a new one was posted.
    Board {
        chat_id: i64,
        rows: Vec<i64>,
        posted: Option<i32>,
    },
}

type Pending = (Receipt, oneshot::Sender<Result<(), String>>);

/// The recorder's queue. Cheap to clone; the recorder stops when the last
/// clone is dropped.
#[derive(Clone)]
pub struct Receipts {
    queue: mpsc::UnboundedSender<Pending>,
}

impl Receipts {
    /// Starts the recorder on the runtime.
    pub fn start(ledger: Ledger) -> Self {
        let (queue, waiting) = mpsc::unbounded_channel();
        tokio::spawn(record_in_groups(ledger, waiting));
        Receipts { queue }
    }

    /// Records `receipt`, returning once it is committed.
    pub async fn record(&self, receipt: Receipt) -> LedgerResult<()> {
        let (done, committed) = oneshot::channel();
        let gone = || LedgerError::GroupCommit("the recorder has stopped".into());
        self.queue.send((receipt, done)).map_err(|_| gone())?;
        committed
            .await
            .map_err(|_| gone())?
            .map_err(LedgerError::GroupCommit)
    }
}

async fn record_in_groups(ledger: Ledger, mut waiting: mpsc::UnboundedReceiver<Pending>) {
    while let Some(first) = waiting.recv().await {
        let mut group = vec![first];
        while let Ok(next) = waiting.try_recv() {
            group.push(next);
        }
        let receipts: Vec<&Receipt> = group.iter().map(|(receipt, _)| receipt).collect();
        let committed = commit(&ledger, &receipts)
            .await
            .map_err(|error| error.to_string());
        if let Err(error) = &committed {
            tracing::error!(%error, receipts = group.len(), "cannot record deliveries; their rows will be sent again");
        }
        for (_, done) in group {
            let _ = done.send(committed.clone());
        }
    }
}

/// Records a group in one transaction. PostgreSQL may abort it to break a
/// deadlock with the processor's batch (both lock task rows); it is then
/// tried again, since a group not recorded is sent again.
async fn commit(ledger: &Ledger, group: &[&Receipt]) -> LedgerResult<()> {
    let mut attempt = 1;
    loop {
        let committed = async {
            let mut tx = ledger.begin().await?;
            tx.record(group.iter().copied()).await?;
            tx.commit().await
        }
        .await;
        match committed {
            Err(error) if error.is_transient() && attempt < 5 => attempt += 1,
            committed => return committed,
        }
    }
}

impl LedgerTx {
    /// Records receipts: the common kinds a statement for all, the rare ones
    /// a statement each. Only rows still waiting change: a row is finished
    /// once.
    pub async fn record(&mut self, receipts: impl Iterator<Item = &Receipt>) -> LedgerResult<()> {
        let now = self.now();
        let mut sent = Vec::new();
        let mut announced = Vec::new();
        for receipt in receipts {
            match receipt {
                Receipt::Sent { row } => sent.push(*row),
                Receipt::Announced {
                    task_id,
                    chat_id,
                    newest,
                    posted,
                } => announced.push(serde_json::json!([task_id, newest, posted, chat_id])),
                Receipt::Board {
                    chat_id,
                    rows,
                    posted,
                } => self.board_drawn(*chat_id, rows, *posted).await?,
                Receipt::Failed { row, error } => {
                    either!(self.conn().await?, c => sqlx::query(
                        "UPDATE outbox SET state = 'failed', finished_at = $1, error = $2
                         WHERE id = $3 AND state = 'pending'",
                    )
                    .bind(now)
                    .bind(error)
                    .bind(row)
                    .execute(c)
                    .await
                    .map(drop)?);
                }
                Receipt::Retry { row, at, error } => {
                    either!(self.conn().await?, c => sqlx::query(
                        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, error = $2
                         WHERE id = $3 AND state = 'pending'",
                    )
                    .bind(at)
                    .bind(error)
                    .bind(row)
                    .execute(c)
                    .await
                    .map(drop)?);
                }
            }
        }
        if !sent.is_empty() {
            match self.conn().await? {
                Backend::Sqlite(c) => sqlx::query(
                    "UPDATE outbox SET state = 'sent', finished_at = $1
                     WHERE id IN (SELECT value FROM json_each($2)) AND state = 'pending'",
                )
                .bind(now)
                .bind(serde_json::to_string(&sent).unwrap_or_else(|_| "[]".into()))
                .execute(c)
                .await
                .map(drop)?,
                Backend::Postgres(c) => sqlx::query(
                    "UPDATE outbox SET state = 'sent', finished_at = $1
                     WHERE id = ANY($2) AND state = 'pending'",
                )
                .bind(now)
                .bind(&sent)
                .execute(c)
                .await
                .map(drop)?,
            };
        }
        if !announced.is_empty() {
            // Each entry: [task, newest row it covers, message posted or null, chat].
            let announced = serde_json::Value::Array(announced).to_string();
            let (entries, task, newest, posted, chat) = match self.raw()? {
                Backend::Sqlite(_) => (
                    "json_each($1) AS a",
                    "a.value ->> 0",
                    "a.value ->> 1",
                    "a.value ->> 2",
                    "a.value ->> 3",
                ),
                Backend::Postgres(_) => (
                    "jsonb_array_elements($1::TEXT::JSONB) AS a(value)",
                    "(a.value ->> 0)::BIGINT",
                    "(a.value ->> 1)::BIGINT",
                    "(a.value ->> 2)::INTEGER",
                    "(a.value ->> 3)::BIGINT",
                ),
            };
            let posted_sql = format!(
                "UPDATE tasks SET announcement_message_id = {posted} FROM {entries}
                 WHERE tasks.id = {task} AND {posted} IS NOT NULL AND tasks.chat_id = {chat}"
            );
            let covered_sql = format!(
                "UPDATE outbox SET state = 'sent', finished_at = $2 FROM {entries}
                 WHERE outbox.task_id = {task} AND outbox.state = 'pending'
                   AND outbox.kind = 'announce' AND outbox.id <= {newest}"
            );
            either!(self.conn().await?, c => {
                sqlx::query(&posted_sql)
                    .bind(&announced)
                    .execute(&mut *c)
                    .await?;
                sqlx::query(&covered_sql)
                    .bind(&announced)
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
            });
        }
        Ok(())
    }
}
