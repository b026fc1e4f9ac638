//! The inbox: every Update fetched from Telegram, stored before its offset
//! is confirmed, so that a crash loses nothing and a redelivered Update is
//! recognised by its id and never applied twice.
//!
//! Updates are marked handled by the commit that keeps their effects
//! ([`super::Batch::handled`]); this module stores, hands out, and gives up
//! on Updates, and prunes the handled ones.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::backend::Backend;
use super::{Ledger, LedgerResult, LedgerTx};
use crate::either;

/// An Update as fetched: its id, the chat it belongs to, its JSON.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub update_id: i64,
    pub chat_key: i64,
    pub raw: String,
}

/// An Update waiting to be handled.
#[derive(Debug, Clone, FromRow)]
pub struct InboxRow {
    pub update_id: i64,
    pub chat_key: i64,
    pub raw: String,
    pub attempts: i64,
}

impl Ledger {
    /// Stores a batch of fetched Updates in one transaction; those already
    /// stored are left as they are. Returns how many were new.
    pub async fn store_updates(&self, batch: &[Fetched]) -> LedgerResult<u64> {
        // One statement for the batch, so one round trip and one commit.
        let stored = match self.writer() {
            Backend::Sqlite(p) => {
                let rows: Vec<_> = batch
                    .iter()
                    .map(|u| serde_json::json!([u.update_id, u.chat_key, u.raw]))
                    .collect();
                sqlx::query(
                    "INSERT INTO inbox (update_id, chat_key, raw, received_at)
                     SELECT value ->> 0, value ->> 1, value ->> 2, $2 FROM json_each($1)
                     WHERE true ON CONFLICT DO NOTHING",
                )
                .bind(serde_json::Value::Array(rows).to_string())
                .bind(self.clock().now())
                .execute(p)
                .await?
                .rows_affected()
            }
            Backend::Postgres(p) => {
                let ids: Vec<i64> = batch.iter().map(|u| u.update_id).collect();
                let chats: Vec<i64> = batch.iter().map(|u| u.chat_key).collect();
                let raws: Vec<&str> = batch.iter().map(|u| u.raw.as_str()).collect();
                sqlx::query(
                    "INSERT INTO inbox (update_id, chat_key, raw, received_at)
                     SELECT u.id, u.chat, u.raw, $4 FROM UNNEST($1, $2, $3) AS u(id, chat, raw)
                     ON CONFLICT DO NOTHING",
                )
                .bind(ids)
                .bind(chats)
                .bind(raws)
                .bind(self.clock().now())
                .execute(p)
                .await?
                .rows_affected()
            }
        };
        Ok(stored)
    }

    /// Up to `limit` waiting Updates in `update_id` order, leaving out each
    /// chat's Updates from its first one whose retry is not yet due (a
    /// chat's later Updates wait for its earlier ones).
    pub async fn inbox_due(&self, now: DateTime<Utc>, limit: u32) -> LedgerResult<Vec<InboxRow>> {
        Ok(either!(self.readers(), p => sqlx::query_as(
            "SELECT update_id, chat_key, raw, attempts FROM inbox AS i
             WHERE handled_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM inbox AS w
                               WHERE w.chat_key = i.chat_key AND w.handled_at IS NULL
                                 AND w.update_id <= i.update_id AND w.retry_at > $1)
             ORDER BY update_id LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(p)
        .await?))
    }

    pub async fn inbox_waiting(&self) -> LedgerResult<i64> {
        Ok(either!(self.readers(), p =>
            sqlx::query_scalar("SELECT COUNT(*) FROM inbox WHERE handled_at IS NULL")
                .fetch_one(p)
                .await?))
    }

    /// Forgets Updates handled before `before`.
    pub(super) async fn prune_inbox(&self, before: DateTime<Utc>) -> LedgerResult<u64> {
        Ok(either!(self.writer(), p =>
            sqlx::query("DELETE FROM inbox WHERE handled_at IS NOT NULL AND handled_at < $1")
                .bind(before)
                .execute(p)
                .await?
                .rows_affected()))
    }
}

impl LedgerTx {
    /// Tries an Update again at `at`, after a failure that may pass.
    pub async fn inbox_retry(
        &mut self,
        update_id: i64,
        at: DateTime<Utc>,
        error: &str,
    ) -> LedgerResult<()> {
        either!(self.conn().await?, c => sqlx::query(
            "UPDATE inbox SET attempts = attempts + 1, retry_at = $1, error = $2
             WHERE update_id = $3 AND handled_at IS NULL",
        )
        .bind(at)
        .bind(error)
        .bind(update_id)
        .execute(c)
        .await
        .map(drop)?);
        Ok(())
    }

    /// Marks an Update given up on (it cannot be read, or its handler keeps
    /// failing), with why, so that the chat's later Updates go on.
    pub async fn inbox_give_up(&mut self, update_id: i64, error: &str) -> LedgerResult<()> {
        let now = self.now();
        either!(self.conn().await?, c => sqlx::query(
            "UPDATE inbox SET handled_at = $1, error = $2 WHERE update_id = $3 AND handled_at IS NULL",
        )
        .bind(now)
        .bind(error)
        .bind(update_id)
        .execute(c)
        .await
        .map(drop)?);
        Ok(())
    }
}
