//! Building leads and registered households (`leads`, `households`).

use chrono::NaiveDate;

use super::{Ledger, LedgerResult, LedgerTx};
use crate::domain::{HouseholdEntry, Person, UserId};
use crate::either;

/// A registered household.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Household {
    pub id: i64,
    pub chat_id: i64,
    pub flat: String,
    /// The last day it needs help, if known.
    pub until_day: Option<NaiveDate>,
    pub note: String,
}

impl LedgerTx {
    /// Names `person` a building lead of a chat (`lead`), or no longer.
    /// Returns whether anything changed.
    pub async fn set_lead(
        &mut self,
        chat_id: i64,
        person: &Person,
        lead: bool,
    ) -> LedgerResult<bool> {
        let at = self.now();
        let changed = either!(self.conn().await?, c => if lead {
            sqlx::query(
                "INSERT INTO leads (chat_id, user_id, name, added_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (chat_id, user_id) DO NOTHING",
            )
            .bind(chat_id)
            .bind(person.id.0)
            .bind(&person.name)
            .bind(at)
            .execute(c)
            .await?
            .rows_affected()
        } else {
            sqlx::query("DELETE FROM leads WHERE chat_id = $1 AND user_id = $2")
                .bind(chat_id)
                .bind(person.id.0)
                .execute(c)
                .await?
                .rows_affected()
        });
        Ok(changed > 0)
    }

    /// Registers a household of a chat, or updates the date and note of
    /// one registered with that flat.
    pub async fn register_household(
        &mut self,
        chat_id: i64,
        entry: &HouseholdEntry,
        by: UserId,
    ) -> LedgerResult<()> {
        let at = self.now();
        either!(self.conn().await?, c => sqlx::query(
            "INSERT INTO households (chat_id, flat, until_day, note, added_by, added_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (chat_id, flat) DO UPDATE SET until_day = excluded.until_day,
                 note = excluded.note, added_by = excluded.added_by, added_at = excluded.added_at",
        )
        .bind(chat_id)
        .bind(&entry.flat)
        .bind(entry.until)
        .bind(&entry.note)
        .bind(by.0)
        .bind(at)
        .execute(c)
        .await
        .map(drop)?);
        Ok(())
    }
}

impl Ledger {
    /// Whether `user` is a building lead of a chat.
    pub async fn is_lead(&self, chat_id: i64, user: UserId) -> LedgerResult<bool> {
        let found: Option<i64> = either!(self.readers(), p => sqlx::query_scalar(
            "SELECT user_id FROM leads WHERE chat_id = $1 AND user_id = $2",
        )
        .bind(chat_id)
        .bind(user.0)
        .fetch_optional(p)
        .await?);
        Ok(found.is_some())
    }

    /// A chat's households, by flat, at most `limit`.
    pub async fn households(&self, chat_id: i64, limit: u32) -> LedgerResult<Vec<Household>> {
        Ok(either!(self.readers(), p => sqlx::query_as(
            "SELECT id, chat_id, flat, until_day, note FROM households
             WHERE chat_id = $1 ORDER BY flat LIMIT $2",
        )
        .bind(chat_id)
        .bind(i64::from(limit))
        .fetch_all(p)
        .await?))
    }
}
