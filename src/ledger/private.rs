//! What the ledger keeps for private requests: the drafts people are
//! writing (`drafts`), whether the bot may write to a person (`people`),
//! and the reads the steps need.

use chrono::{DateTime, Utc};

use super::{LedgerResult, LedgerTx, TaskRecord, TaskRow};
use crate::domain::{Draft, Kind, Lang, Media, MediaKind, UserId};
use crate::either;

use super::Ledger;

/// A `drafts` row.
#[derive(sqlx::FromRow)]
struct DraftRow {
    chat_id: Option<i64>,
    thread_id: Option<i32>,
    kind: Option<String>,
    flat: Option<String>,
    details: Option<String>,
    media_kind: Option<String>,
    media_file_id: Option<String>,
    lang: String,
}

impl DraftRow {
    /// The draft, and the language its steps speak; a value the ledger
    /// cannot read counts as not answered yet.
    fn draft(self) -> (Draft, Lang) {
        let media = match (self.media_kind.as_deref(), self.media_file_id) {
            (Some(kind), Some(file_id)) => {
                MediaKind::from_code(kind).map(|kind| Media { kind, file_id })
            }
            _ => None,
        };
        let draft = Draft {
            chat_id: self.chat_id,
            thread_id: self.thread_id,
            kind: self.kind.as_deref().and_then(Kind::from_word),
            flat: self.flat,
            details: self.details,
            media,
        };
        (draft, Lang::from_code(&self.lang).unwrap_or(Lang::En))
    }
}

impl LedgerTx {
    /// Keeps `draft` as `user`'s, in `lang`, answered now.
    pub async fn save_draft(
        &mut self,
        user: UserId,
        draft: &Draft,
        lang: Lang,
    ) -> LedgerResult<()> {
        let at = self.now();
        let media = draft.media.as_ref();
        either!(self.conn().await?, c => sqlx::query(
            "INSERT INTO drafts (user_id, chat_id, kind, flat, details, media_kind, media_file_id,
                                 lang, updated_at, thread_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (user_id) DO UPDATE SET chat_id = excluded.chat_id,
                 thread_id = excluded.thread_id,
                 kind = excluded.kind, flat = excluded.flat, details = excluded.details,
                 media_kind = excluded.media_kind, media_file_id = excluded.media_file_id,
                 lang = excluded.lang, updated_at = excluded.updated_at",
        )
        .bind(user.0)
        .bind(draft.chat_id)
        .bind(draft.kind.map(Kind::as_str))
        .bind(draft.flat.as_deref())
        .bind(draft.details.as_deref())
        .bind(media.map(|m| m.kind.as_str()))
        .bind(media.map(|m| m.file_id.as_str()))
        .bind(lang.as_str())
        .bind(at)
        .bind(draft.thread_id)
        .execute(c)
        .await
        .map(drop)?);
        Ok(())
    }

    /// Drops `user`'s draft, if any.
    pub async fn drop_draft(&mut self, user: UserId) -> LedgerResult<()> {
        either!(self.conn().await?, c => sqlx::query("DELETE FROM drafts WHERE user_id = $1")
            .bind(user.0)
            .execute(c)
            .await
            .map(drop)?);
        Ok(())
    }

    /// Whether the bot may write to `user` privately, as this transaction
    /// sees it (see [`Ledger::reachable`]).
    pub async fn is_reachable(&mut self, user: UserId) -> LedgerResult<bool> {
        let reachable: Option<bool> = either!(self.conn().await?, c =>
            sqlx::query_scalar("SELECT reachable FROM people WHERE user_id = $1")
                .bind(user.0)
                .fetch_optional(c)
                .await?);
        Ok(reachable.unwrap_or(false))
    }

    /// Records whether the bot may write to `user` privately: they wrote
    /// to it (`true`), or Telegram answered 403 for their chat (`false`).
    /// With `lang`, also the language their private notices speak.
    pub async fn set_reachable(
        &mut self,
        user: UserId,
        reachable: bool,
        lang: Option<Lang>,
    ) -> LedgerResult<()> {
        let at = self.now();
        either!(self.conn().await?, c => sqlx::query(
            "INSERT INTO people (user_id, reachable, updated_at, lang) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id) DO UPDATE SET reachable = excluded.reachable,
                 updated_at = excluded.updated_at, lang = COALESCE(excluded.lang, people.lang)
             WHERE people.reachable <> excluded.reachable
                OR people.lang IS DISTINCT FROM COALESCE(excluded.lang, people.lang)",
        )
        .bind(user.0)
        .bind(reachable)
        .bind(at)
        .bind(lang.map(Lang::as_str))
        .execute(c)
        .await
        .map(drop)?);
        Ok(())
    }
}

impl Ledger {
    /// The draft `user` last answered after `since`, with its language,
    /// as committed.
    pub async fn draft(
        &self,
        user: UserId,
        since: DateTime<Utc>,
    ) -> LedgerResult<Option<(Draft, Lang)>> {
        let row: Option<DraftRow> = either!(self.readers(), c => sqlx::query_as(
            "SELECT chat_id, thread_id, kind, flat, details, media_kind, media_file_id, lang
             FROM drafts
             WHERE user_id = $1 AND updated_at > $2",
        )
        .bind(user.0)
        .bind(since)
        .fetch_optional(c)
        .await?);
        Ok(row.map(DraftRow::draft))
    }

    /// Whether the bot may write to `user` privately (see
    /// [`LedgerTx::set_reachable`]); `false` for someone it never heard from.
    pub async fn reachable(&self, user: UserId) -> LedgerResult<bool> {
        let reachable: Option<bool> = either!(self.readers(), p =>
            sqlx::query_scalar("SELECT reachable FROM people WHERE user_id = $1")
                .bind(user.0)
                .fetch_optional(p)
                .await?);
        Ok(reachable.unwrap_or(false))
    }

    /// The flat `user` last asked for help for in a chat, if its task still
    /// has one (it may have been forgotten).
    pub async fn last_flat(&self, user: UserId, chat_id: i64) -> LedgerResult<Option<String>> {
        Ok(either!(self.readers(), p => sqlx::query_scalar(
            "SELECT flat FROM tasks WHERE requester_id = $1 AND chat_id = $2 AND flat <> ''
             ORDER BY id DESC LIMIT 1",
        )
        .bind(user.0)
        .bind(chat_id)
        .fetch_optional(p)
        .await?))
    }

    /// Whether every request of a chat is private (`/settings hide_flats`).
    pub async fn hides_flats(&self, chat_id: i64) -> LedgerResult<bool> {
        let on: Option<bool> = either!(self.readers(), p =>
            sqlx::query_scalar("SELECT hide_flats FROM chats WHERE id = $1")
                .bind(chat_id)
                .fetch_optional(p)
                .await?);
        Ok(on.unwrap_or(false))
    }

    /// The task with ledger id `id`.
    pub async fn task_by_id(&self, id: i64) -> LedgerResult<Option<TaskRecord>> {
        let row: Option<TaskRow> = either!(self.readers(), p =>
            sqlx::query_as("SELECT * FROM tasks WHERE id = $1")
                .bind(id)
                .fetch_optional(p)
                .await?);
        row.map(TaskRecord::try_from).transpose()
    }

    /// Up to `limit` groups the bot is in, with their titles, where `user`
    /// may ask or lead: first those where they asked, helped or lead, then
    /// the most recently joined.
    pub async fn groups_to_offer(
        &self,
        user: UserId,
        limit: u32,
    ) -> LedgerResult<Vec<(i64, Option<String>)>> {
        Ok(either!(self.readers(), p => sqlx::query_as(
            "SELECT c.id, c.title FROM chats AS c WHERE c.active AND c.id < 0
             ORDER BY (EXISTS (SELECT 1 FROM tasks AS t WHERE t.chat_id = c.id
                               AND (t.requester_id = $1 OR t.claimer_id = $1))
                       OR EXISTS (SELECT 1 FROM leads AS l WHERE l.chat_id = c.id
                                  AND l.user_id = $1)) DESC,
                      c.created_at DESC
             LIMIT $2",
        )
        .bind(user.0)
        .bind(i64::from(limit))
        .fetch_all(p)
        .await?))
    }
}
