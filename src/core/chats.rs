//! What the ledger keeps of a chat: its settings (language, hidden flats),
//! its title, whether the bot is in it, and its move to a supergroup.

use super::followup;
use crate::domain::reminders::later;
use crate::domain::{Lang, Reminders, SettingChange, TimerKind, Wait};
use crate::ledger::timers::TimingSetting;
use crate::ledger::{Batch, LedgerResult, LedgerTx, Outgoing};

/// An admin's `/settings` change, kept for the chat, the live
/// announcements and the board redrawn and the chat's timers moved where it changes
/// them (over the operator's `defaults`), and `replies` sent, in one unit
/// of `batch`.
pub async fn set(
    batch: &Batch,
    chat_id: i64,
    title: Option<&str>,
    change: SettingChange,
    defaults: &Reminders,
    replies: Vec<Outgoing>,
) -> LedgerResult<()> {
    let mut tx = batch.begin().await?;
    // What the board shows changes with the language and hidden flats: it
    // is drawn again; board mode turned on posts it if the chat has none.
    let board = match change {
        SettingChange::Language(_) | SettingChange::HideFlats(_) | SettingChange::Board(true) => {
            Some(tx.chat_timing(chat_id).await?.board)
        }
        _ => None,
    };
    let redraw = match (change, board) {
        (SettingChange::Board(_), Some(board)) => board.message_id.is_none(),
        (_, Some(board)) => board.shown(),
        (_, None) => false,
    };
    if redraw {
        tx.send(Outgoing::Board {
            chat_id,
            repost: false,
        });
    }
    let timing = match change {
        SettingChange::Language(lang) => {
            tx.set_chat_language(chat_id, title, lang).await?;
            None
        }
        SettingChange::HideFlats(on) => {
            tx.set_chat_hide_flats(chat_id, title, on).await?;
            None
        }
        SettingChange::Board(on) => {
            tx.set_board_mode(chat_id, title, on).await?;
            None
        }
        SettingChange::TimeZone(zone) => Some(TimingSetting::TimeZone(zone)),
        SettingChange::Wait(wait, after) => Some(TimingSetting::Wait(wait, after)),
        SettingChange::DigestAt(at) => Some(TimingSetting::DigestAt(at)),
    };
    if let Some(setting) = timing {
        tx.set_chat_timing(chat_id, title, setting).await?;
        retime(&mut tx, chat_id, setting, defaults).await?;
    }
    for reply in replies {
        tx.send(reply);
    }
    tx.commit().await?;
    tracing::info!(chat_id, ?change, "chat setting changed");
    Ok(())
}

/// Moves the chat's timers after `setting` changed: the digest to its new
/// time, the unclaimed reminder to the new interval from now (or away
/// when off). A claim's question and release keep the times they were
/// set with, and do nothing when fired while turned off.
async fn retime(
    tx: &mut LedgerTx,
    chat_id: i64,
    setting: TimingSetting,
    defaults: &Reminders,
) -> LedgerResult<()> {
    let now = tx.now();
    let reminders = tx.chat_timing(chat_id).await?.over(defaults);
    match setting {
        TimingSetting::TimeZone(_) | TimingSetting::DigestAt(_) => {
            match reminders.next_digest(now) {
                Some(due) => tx.set_timer(TimerKind::Digest, chat_id, None, due).await,
                None => tx.clear_chat_timer(TimerKind::Digest, chat_id).await,
            }
        }
        TimingSetting::Wait(Wait::Unclaimed, _) => match reminders.unclaimed_after {
            Some(after) => {
                tx.set_timer(TimerKind::Unclaimed, chat_id, None, later(now, after))
                    .await
            }
            None => tx.clear_chat_timer(TimerKind::Unclaimed, chat_id).await,
        },
        // Claims made while nobody was asked are asked about from now on.
        TimingSetting::Wait(Wait::CheckClaim, Some(_)) => {
            for task in tx.unwatched_claims(Some(chat_id), CLAIMS_WATCHED).await? {
                followup::check_claim_later(tx, &task, &reminders, now).await?;
            }
            Ok(())
        }
        TimingSetting::Wait(..) => Ok(()),
    }
}

/// Most claims of a chat that a setting change starts watching at once (a
/// group has far fewer live tasks).
const CLAIMS_WATCHED: u32 = 1000;

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
/// and its live tasks are announced anew there (its board posted anew).
pub async fn migrate(batch: &Batch, from: i64, to: i64) -> LedgerResult<()> {
    let mut tx = batch.begin().await?;
    let board = tx.chat_timing(from).await?.board;
    let moved = tx.migrate_chat(from, to).await?;
    if board.shown() {
        // The old group's board cannot be edited from the supergroup.
        tx.send(Outgoing::Board {
            chat_id: to,
            repost: false,
        });
    }
    tx.commit().await?;
    tracing::info!(from, to, moved, "group became a supergroup");
    Ok(())
}
