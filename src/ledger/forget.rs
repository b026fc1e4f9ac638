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
    /// Handled Updates deleted or emptied, and finished messages deleted.
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
    /// go too, and households registered until a day before `before`.
    /// With `before` `None` (forgetting is off) only the drafts go.
    pub async fn forget_finished_before(
        &mut self,
        before: Option<DateTime<Utc>>,
        inbox_before: DateTime<Utc>,
        drafts_before: DateTime<Utc>,
    ) -> LedgerResult<Forgotten> {
        either!(self.conn().await?, c => sqlx::query("DELETE FROM drafts WHERE updated_at < $1")
            .bind(drafts_before)
            .execute(c)
            .await
            .map(drop)?);
        let Some(before) = before else {
            return Ok(Forgotten::default());
        };
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
            // A household that needed help until a day as long ago goes too.
            sqlx::query("DELETE FROM households WHERE until_day < $1")
                .bind(before.date_naive())
                .execute(&mut *c)
                .await?;
            Forgotten { tasks, inbox, outbox }
        });
        Ok(forgotten)
    }

    /// `/forgetme`: forgets at once what `user`'s finished requests said,
    /// with every handled Update and finished message that quotes it (see
    /// [`Quoted`]), the Updates they sent the bot privately, and their
    /// draft. A handled Update's row stays, emptied: it still recognises
    /// the Update if Telegram delivers it again.
    pub async fn forget_requests_of(&mut self, user: UserId) -> LedgerResult<Forgotten> {
        // What to look for, before it is erased.
        let finished: Vec<(i64, i32, String, String, Option<String>)> = either!(self.conn().await?, c => sqlx::query_as(
                "SELECT chat_id, source_message_id, flat, details, done_note FROM tasks
                 WHERE requester_id = $1 AND status IN ('done', 'cancelled')
                   AND (flat <> '' OR details <> '' OR done_note IS NOT NULL)",
            )
            .bind(user.0)
            .fetch_all(c)
            .await?);
        let quoted = Quoted::new(user, &finished);
        let lanes = serde_json::to_string(&quoted.chats).unwrap_or_else(|_| "[]".into());
        let sqlite = self.is_sqlite();
        let in_lanes = |column: &str| {
            if sqlite {
                format!("{column} IN (SELECT value FROM json_each($1))")
            } else {
                format!("{column} IN (SELECT value::BIGINT FROM jsonb_array_elements_text($1::TEXT::JSONB))")
            }
        };
        let inbox_sql = format!(
            "SELECT update_id, chat_key, raw FROM inbox WHERE handled_at IS NOT NULL AND {}",
            in_lanes("chat_key")
        );
        let outbox_sql = format!(
            "SELECT id, lane, COALESCE(body, '') FROM outbox WHERE state <> 'pending' AND {}",
            in_lanes("lane")
        );
        let (updates, messages): (Vec<Stored>, Vec<Stored>) = either!(self.conn().await?, c => (
            sqlx::query_as(&inbox_sql).bind(&lanes).fetch_all(&mut *c).await?,
            sqlx::query_as(&outbox_sql).bind(&lanes).fetch_all(&mut *c).await?,
        ));
        let updates: Vec<i64> = quoted.matching(&updates);
        let messages: Vec<i64> = quoted.matching(&messages);
        let (updates_json, messages_json) = (
            serde_json::to_string(&updates).unwrap_or_else(|_| "[]".into()),
            serde_json::to_string(&messages).unwrap_or_else(|_| "[]".into()),
        );
        let blank_sql = format!(
            "UPDATE inbox SET raw = '{{}}' WHERE {}",
            in_lanes("update_id")
        );
        let delete_sql = format!("DELETE FROM outbox WHERE {}", in_lanes("id"));
        let forgotten = either!(self.conn().await?, c => {
            let tasks = sqlx::query(&format!("{ERASE} AND requester_id = $1"))
                .bind(user.0)
                .execute(&mut *c)
                .await?
                .rows_affected();
            let inbox = sqlx::query(&blank_sql)
                .bind(&updates_json)
                .execute(&mut *c)
                .await?
                .rows_affected();
            let outbox = sqlx::query(&delete_sql)
                .bind(&messages_json)
                .execute(&mut *c)
                .await?
                .rows_affected();
            Forgotten { tasks, inbox, outbox }
        });
        self.drop_draft(user).await?;
        Ok(forgotten)
    }
}

/// A stored Update or message: its id, its chat, and its text.
type Stored = (i64, i64, String);

/// What quotes a person's finished requests: the chats they were in (and
/// the person's private chat, all of whose rows go), their words as
/// written, as JSON escapes them (an Update) and as HTML does (a message),
/// and their `/need` messages (which Updates answering them quote too).
struct Quoted {
    user: i64,
    chats: Vec<i64>,
    words: Vec<String>,
    /// (chat, `"message_id":N`) of each request's message.
    sources: Vec<(i64, String)>,
}

impl Quoted {
    fn new(user: UserId, finished: &[(i64, i32, String, String, Option<String>)]) -> Quoted {
        let mut quoted = Quoted {
            user: user.0,
            chats: vec![user.0],
            words: Vec::new(),
            sources: Vec::new(),
        };
        for (chat_id, source, flat, details, note) in finished {
            quoted.chats.push(*chat_id);
            if *source != 0 {
                quoted
                    .sources
                    .push((*chat_id, format!("\"message_id\":{source}")));
            }
            for text in [Some(flat), Some(details), note.as_ref()]
                .into_iter()
                .flatten()
            {
                if text.is_empty() {
                    continue;
                }
                let json = serde_json::to_string(text).unwrap_or_default();
                let json = json.trim_matches('"').to_string();
                let html = text
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
                    .replace('"', "&quot;");
                quoted.words.extend([text.clone(), json, html]);
            }
        }
        quoted.chats.sort_unstable();
        quoted.chats.dedup();
        quoted.words.sort();
        quoted.words.dedup();
        quoted
    }

    /// The ids of the rows that quote them.
    fn matching(&self, rows: &[Stored]) -> Vec<i64> {
        rows.iter()
            .filter(|(_, chat, text)| {
                *chat == self.user
                    || self.words.iter().any(|word| text.contains(word.as_str()))
                    || self
                        .sources
                        .iter()
                        .any(|(source_chat, id)| *source_chat == *chat && quotes_id(text, id))
            })
            .map(|(id, ..)| *id)
            .collect()
    }
}

/// Whether `text` holds `"message_id":N` as a whole number.
fn quotes_id(text: &str, id: &str) -> bool {
    text.match_indices(id).any(|(at, _)| {
        !text[at + id.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_quotes_a_request_is_found_as_written_and_escaped() {
        let finished = [(
            -5,
            7,
            "3号楼201".to_string(),
            "a \"b\"\nc & d".to_string(),
            None,
        )];
        let quoted = Quoted::new(UserId(101), &finished);
        let rows = [
            (
                1,
                -5,
                r#"{"message":{"message_id":7,"text":"/need 药 3号楼 201"}}"#.to_string(),
            ),
            (
                2,
                -5,
                r#"{"message":{"message_id":70,"text":"/open"}}"#.to_string(),
            ),
            (3, -5, r#"{"text":"x a \"b\"\nc & d"}"#.to_string()),
            (4, -5, "📝 a &quot;b&quot;\nc &amp; d".to_string()),
            (5, 101, "anything in the private chat".to_string()),
            (6, -9, r#"{"message_id":7}"#.to_string()),
        ];
        assert_eq!(quoted.matching(&rows), [1, 3, 4, 5]);
    }
}
