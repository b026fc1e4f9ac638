//! The use cases that only read: what `/open`, `/mine` and `/stats` show,
//! the task a reply points at, a chat's language, and where a private
//! sender's commands work. They read what is committed, through the
//! ledger's readers: a caller that must see its own batch flushes it first.

use crate::domain::{ChatStats, Lang, MineItem, UserId};
use crate::ledger::{Ledger, LedgerResult, TaskRecord};

/// Volunteers `/stats` names, most tasks done first.
const TOP_HELPERS: u32 = 10;

/// A list cut at its limit, and how many were left out.
#[derive(Debug)]
pub struct Listed<T> {
    pub items: Vec<T>,
    /// How many more there are than `items` (counted only when the list
    /// is full).
    pub left_out: u64,
}

impl<T> Listed<T> {
    /// `items`, and when they fill `limit`, how many `count` says there are
    /// beyond them.
    async fn cut(
        items: Vec<T>,
        limit: u32,
        count: impl std::future::Future<Output = LedgerResult<u64>>,
    ) -> LedgerResult<Self> {
        let left_out = if items.len() >= limit as usize {
            count.await?.saturating_sub(items.len() as u64)
        } else {
            0
        };
        Ok(Listed { items, left_out })
    }
}

/// `/open`: a chat's open and claimed tasks, oldest first, at most `limit`.
pub async fn open_tasks(
    ledger: &Ledger,
    chat_id: i64,
    limit: u32,
) -> LedgerResult<Listed<TaskRecord>> {
    let items = ledger.live_tasks(chat_id, limit).await?;
    Listed::cut(items, limit, ledger.live_count(chat_id)).await
}

/// `/mine`: what `user` holds, in one chat or (with `None`, in a private
/// chat) in every chat, at most `limit`, with times in `zone`.
pub async fn claimed(
    ledger: &Ledger,
    user: UserId,
    chat_id: Option<i64>,
    limit: u32,
    zone: chrono_tz::Tz,
) -> LedgerResult<Listed<MineItem>> {
    let items = ledger.claimed_by(user, chat_id, limit, zone).await?;
    Listed::cut(items, limit, ledger.claimed_count(user, chat_id)).await
}

/// `/stats`: a chat's counts and its most helpful volunteers.
pub async fn stats(ledger: &Ledger, chat_id: i64) -> LedgerResult<ChatStats> {
    ledger.stats(chat_id, TOP_HELPERS).await
}

/// The task whose announcement or request is message `message_id` of a
/// chat: what a command sent as a reply to it acts on.
pub async fn task_of_message(
    ledger: &Ledger,
    chat_id: i64,
    message_id: i32,
) -> LedgerResult<Option<TaskRecord>> {
    ledger.task_of_message(chat_id, message_id).await
}

/// Where `user`'s group commands work: their groups' titles, most recent
/// first.
pub async fn groups_of(ledger: &Ledger, user: UserId) -> LedgerResult<Vec<String>> {
    ledger.groups_of(user).await
}

/// The language a chat's shared messages speak: an admin's choice, else
/// that of whoever added the bot, else `default`.
pub async fn chat_language(ledger: &Ledger, chat_id: i64, default: Lang) -> LedgerResult<Lang> {
    Ok(ledger.chat_language(chat_id).await?.unwrap_or(default))
}

/// Whether every request of a chat is private (`/settings hide_flats`).
pub async fn hides_flats(ledger: &Ledger, chat_id: i64) -> LedgerResult<bool> {
    ledger.hides_flats(chat_id).await
}
