//! What the ledger keeps of a chat: its settings (language, hidden flats),
//! its title, whether the bot is in it, and its move to a supergroup.

use crate::domain::{Lang, SettingChange};
use crate::ledger::{Batch, LedgerResult, Outgoing};

/// An admin's `/settings` change, kept for the chat, the live
/// announcements redrawn where it changes them, and `reply` sent, in one
/// unit of `batch`.
pub async fn set(
    batch: &Batch,
    chat_id: i64,
    title: Option<&str>,
    change: SettingChange,
    reply: Outgoing,
) -> LedgerResult<()> {
    let mut tx = batch.begin().await?;
    match change {
        SettingChange::Language(lang) => tx.set_chat_language(chat_id, title, lang).await?,
        SettingChange::HideFlats(on) => tx.set_chat_hide_flats(chat_id, title, on).await?,
    }
    tx.send(reply);
    tx.commit().await?;
    tracing::info!(chat_id, ?change, "chat setting changed");
    Ok(())
}

/// Keeps a group's current title.
pub async fn note_title(batch: &Batch, chat_id: i64, title: &str) -> LedgerResult<()> {
    let mut tx = batch.begin().await?;
    tx.note_chat_title(chat_id, title).await?;
    tx.commit().await
}

/// Writes the welcome in the chat's language (`None`: it has none yet).
pub type Welcome = dyn Fn(Option<Lang>) -> Outgoing + Sync;

/// The bot was added to a chat (by someone speaking `added_by`, if one of
/// ours), with the welcome `welcome` writes in the chat's language to post;
/// or removed from it (`None`), or found unable to post there.
pub async fn membership(
    batch: &Batch,
    chat_id: i64,
    title: Option<&str>,
    joined: Option<(Option<Lang>, &Welcome)>,
) -> LedgerResult<()> {
    let mut tx = batch.begin().await?;
    match joined {
        Some((added_by, welcome)) => {
            let lang = tx.chat_joined(chat_id, title, added_by).await?;
            tx.send(welcome(lang));
        }
        None => {
            tx.set_chat_active(chat_id, false).await?;
            tracing::info!(chat_id, "the bot was removed from a chat");
        }
    }
    tx.commit().await
}

/// A group became supergroup `to`: its tasks and waiting messages follow,
/// and its live tasks are announced anew there.
pub async fn migrate(batch: &Batch, from: i64, to: i64) -> LedgerResult<()> {
    let mut tx = batch.begin().await?;
    let moved = tx.migrate_chat(from, to).await?;
    tx.commit().await?;
    tracing::info!(from, to, moved, "group became a supergroup");
    Ok(())
}
