//! Forgetting (interface.md, *Private requests*): the flat, details and
//! note of a finished task erased from every table, the inbox and outbox
//! included; counts and times stay. Events hold no free text, so nothing
//! append-only is touched.

use chrono::{DateTime, Utc};

use super::{LedgerResult, LedgerTx};
use crate::domain::UserId;
use crate::either;

/// What one forgetting erased.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Forgotten {
    /// Tasks whose flat, details and note were erased.
    pub tasks: u64,
    /// Handled Updates and finished messages deleted.
    pub inbox: u64,
    pub outbox: u64,
}

/// Erases the free text of finished tasks matching `$1`'s condition.
const ERASE: &str = "UPDATE tasks SET flat = '', details = '', done_note = NULL,
         media_kind = NULL, media_file_id = NULL
     WHERE status IN ('done', 'cancelled')
       AND (flat <> '' OR details <> '' OR done_note IS NOT NULL OR media_file_id IS NOT NULL)";

impl LedgerTx {
    /// Forgets what tasks finished before `before` said, and every handled
    /// Update and finished message older than that (they may quote it; the
    /// inbox only before `inbox_before` too, since its rows recognise an
    /// Update delivered again); drafts last answered before `drafts_before`
    /// go too.
    pub async fn forget_finished_before(
        &mut self,
        before: DateTime<Utc>,
        inbox_before: DateTime<Utc>,
        drafts_before: DateTime<Utc>,
    ) -> LedgerResult<Forgotten> {
        let forgotten = either!(self.conn().await?, c => {
            let tasks = sqlx::query(&format!(
                "{ERASE} AND COALESCE(done_at, cancelled_at) < $1"
            ))
            .bind(before)
            .execute(&mut *c)
            .await?
            .rows_affected();
            let inbox = sqlx::query("DELETE FROM inbox WHERE handled_at IS NOT NULL AND handled_at < $1")
                .bind(before.min(inbox_before))
                .execute(&mut *c)
                .await?
                .rows_affected();
            let outbox = sqlx::query(
                "DELETE FROM outbox WHERE state <> 'pending' AND finished_at < $1",
            )
            .bind(before)
            .execute(&mut *c)
            .await?
            .rows_affected();
            sqlx::query("DELETE FROM drafts WHERE updated_at < $1")
                .bind(drafts_before)
                .execute(&mut *c)
                .await?;
            Forgotten { tasks, inbox, outbox }
        });
        Ok(forgotten)
    }

    /// `/forgetme`: forgets at once what `user`'s finished requests said,
    /// with every handled Update and finished message that quotes their
    /// flat, details or note, the Updates they sent the bot privately, and their
    /// draft.
    pub async fn forget_requests_of(&mut self, user: UserId) -> LedgerResult<Forgotten> {
        // What to look for in the inbox and outbox, before it is erased.
        let texts: Vec<(String, String, String)> = either!(self.conn().await?, c => sqlx::query_as(
            "SELECT flat, details, COALESCE(done_note, '') FROM tasks
             WHERE requester_id = $1 AND status IN ('done', 'cancelled')
               AND (flat <> '' OR details <> '' OR done_note IS NOT NULL)",
        )
        .bind(user.0)
        .fetch_all(c)
        .await?);
        let mut needles: Vec<String> = texts
            .into_iter()
            .flat_map(|(flat, details, note)| [flat, details, note])
            .filter(|text| !text.is_empty())
            .collect();
        needles.sort();
        needles.dedup();
        let needles = serde_json::to_string(&needles).unwrap_or_else(|_| "[]".into());
        // Whether `column` holds any of the texts of `$2` (a JSON array).
        let sqlite = self.is_sqlite();
        let quotes = |column: &str| {
            if sqlite {
                format!(
                    "EXISTS (SELECT 1 FROM json_each($2) AS n WHERE instr({column}, n.value) > 0)"
                )
            } else {
                format!(
                    "EXISTS (SELECT 1 FROM jsonb_array_elements_text($2::TEXT::JSONB) AS n(value)
                             WHERE strpos({column}, n.value) > 0)"
                )
            }
        };
        let inbox_sql = format!(
            "DELETE FROM inbox WHERE handled_at IS NOT NULL AND (chat_key = $1 OR {})",
            quotes("inbox.raw")
        );
        let outbox_sql = format!(
            "DELETE FROM outbox WHERE state <> 'pending' AND (lane = $1 OR {})",
            quotes("outbox.body")
        );
        let forgotten = either!(self.conn().await?, c => {
            let tasks = sqlx::query(&format!("{ERASE} AND requester_id = $1"))
                .bind(user.0)
                .execute(&mut *c)
                .await?
                .rows_affected();
            let inbox = sqlx::query(&inbox_sql)
                .bind(user.0)
                .bind(&needles)
                .execute(&mut *c)
                .await?
                .rows_affected();
            let outbox = sqlx::query(&outbox_sql)
                .bind(user.0)
                .bind(&needles)
                .execute(&mut *c)
                .await?
                .rows_affected();
            Forgotten { tasks, inbox, outbox }
        });
        self.drop_draft(user).await?;
        Ok(forgotten)
    }
}
