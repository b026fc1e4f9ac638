//! The sender's side of the board: drawing a chat's board from its live
//! tasks and bringing it up to date in Telegram, and the reactions that
//! acknowledge requests in board mode.
//!
//! - One delivery answers every board row waiting for the chat: a burst of
//!   changes is one edit.
//! - Edits of one board are at least [`BOARD_PACE`] apart: the delivery
//!   waits out the rest of the pause first (holding only its chat's board,
//!   not the chat's messages, which go on beside it),
//!   and what changed meanwhile is drawn in the same edit. That keeps a
//!   busy board at 20 edits a minute at most, inside what Telegram takes
//!   from one group.
//! - A board that cannot be edited (deleted by hand) is posted anew; a
//!   re-post (`/board`, the unclaimed reminder in board mode) posts the
//!   board at the bottom and deletes the old one, or, where the bot may
//!   not delete, leaves it saying where the board went, without buttons.
//! - A new board is pinned without notification where the bot may pin.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use teloxide::types::{ChatId, MessageId};
use tokio::time::Instant;

use super::sender::Sender;
use crate::domain::{BoardItem, DeepLink, Lang};
use crate::i18n::board::{draw, BoardText};
use crate::ledger::board::BoardSnapshot;
use crate::ledger::receipts::Receipt;
use crate::ledger::{LedgerResult, OutboxRow};
use crate::telegram::keyboards;
use crate::telegram::send::{Destination, Failure};

/// The shortest time between two edits of one board.
pub const BOARD_PACE: Duration = Duration::from_secs(3);

/// The reaction that acknowledges a request or command in board mode.
const ACKNOWLEDGED: &str = "👍";

/// When each chat's board was last drawn, for [`BOARD_PACE`].
#[derive(Default)]
pub struct BoardPace(Mutex<HashMap<i64, Instant>>);

impl BoardPace {
    /// Waits until the board of `chat_id` may be drawn again.
    async fn wait_turn(&self, chat_id: i64) {
        let last = self.lock().get(&chat_id).copied();
        if let Some(last) = last {
            tokio::time::sleep_until(last + BOARD_PACE).await;
        }
    }

    fn drawn(&self, chat_id: i64) {
        let now = Instant::now();
        let mut last = self.lock();
        // Forget boards drawn longer ago than the pause, now and then.
        if last.len() > 1024 {
            last.retain(|_, at| *at + BOARD_PACE > now);
        }
        last.insert(chat_id, now);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Instant>> {
        // A panic elsewhere cannot leave the map half-written: use it as is.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Sender {
    /// Brings the board of `chat_id` up to date for board row `row`, or
    /// posts it (anew): what to record, or why not.
    pub(super) async fn board(
        &self,
        row: &OutboxRow,
        chat_id: i64,
    ) -> LedgerResult<Result<Receipt, Failure>> {
        self.board_pace.wait_turn(chat_id).await;
        let Some(snapshot) = self.ledger.board_snapshot(chat_id).await? else {
            // Another delivery already covered this row.
            return Ok(Ok(Receipt::Sent { row: row.id }));
        };
        let lang = snapshot.lang.unwrap_or(self.settings.chat.default_language);
        let (html, buttons) = self.draw(chat_id, &snapshot, lang);
        let markup = keyboards::markup(&buttons);
        let chat = ChatId(chat_id);
        let drawn = |posted| Receipt::Board {
            chat_id,
            rows: snapshot.rows.clone(),
            posted,
        };
        let old = snapshot.message_id.map(MessageId);
        if let (Some(old), false) = (old, snapshot.repost) {
            match self
                .outlet
                .edit_html(chat, old, &html, markup.as_ref())
                .await
            {
                Ok(()) => {
                    self.board_pace.drawn(chat_id);
                    return Ok(Ok(drawn(None)));
                }
                Err(Failure::Gone) => {
                    tracing::info!(chat_id, "the board is gone; posting it anew");
                }
                Err(failure) => return Ok(Err(failure)),
            }
        }
        let to = Destination {
            chat_id: chat,
            thread_id: None,
            reply_to: None,
        };
        let posted = match self.outlet.send_html(to, &html, markup.as_ref()).await {
            Ok(posted) => posted,
            Err(failure) => return Ok(Err(failure)),
        };
        self.board_pace.drawn(chat_id);
        if let Err(failure) = self.outlet.pin(chat, posted).await {
            tracing::info!(chat_id, ?failure, "cannot pin the board; it stays unpinned");
        }
        if let Some(old) = old.filter(|old| *old != posted && snapshot.repost) {
            self.retire_board(chat, old, lang).await;
        }
        Ok(Ok(drawn(Some(posted.0))))
    }

    /// The board's text and buttons.
    fn draw(
        &self,
        chat_id: i64,
        snapshot: &BoardSnapshot,
        lang: Lang,
    ) -> (String, crate::ledger::outbox::Buttons) {
        let zone = self.settings.chat.time_zone;
        let items: Vec<BoardItem> = snapshot
            .tasks
            .iter()
            .map(|task| BoardItem::from(task.card(zone)))
            .collect();
        let count = |n: i64| usize::try_from(n).unwrap_or(0);
        let drawn = draw(&items, count(snapshot.live), count(snapshot.open), lang);
        let ask = DeepLink::Ask {
            chat_id,
            thread_id: None,
            kind: None,
        };
        let ask_link = keyboards::deep_link(&self.bot_username, ask);
        let buttons = keyboards::for_board(&drawn.claimable, ask_link, lang);
        (drawn.html, buttons)
    }

    /// Deletes the board replaced by a new one; where the bot may not, it
    /// says where the board went, loses its buttons and is unpinned.
    async fn retire_board(&self, chat: ChatId, old: MessageId, lang: Lang) {
        match self.outlet.delete(chat, old).await {
            Ok(()) => {}
            Err(failure) => {
                tracing::info!(
                    chat_id = chat.0,
                    ?failure,
                    "cannot delete the old board; leaving it without buttons"
                );
                let moved = BoardText::Moved.render(lang);
                if let Err(failure) = self.outlet.edit_html(chat, old, &moved, None).await {
                    tracing::info!(
                        chat_id = chat.0,
                        ?failure,
                        "cannot edit the old board either"
                    );
                }
                if let Err(failure) = self.outlet.unpin(chat, old).await {
                    tracing::info!(chat_id = chat.0, ?failure, "cannot unpin the old board");
                }
            }
        }
    }

    /// Reacts to a message that a request or command succeeded. Where the
    /// chat allows no such reaction, or the message is gone, the board's
    /// edit alone acknowledges it: only a pause asked for is worth a retry.
    pub(super) async fn react(
        &self,
        row: &OutboxRow,
        chat_id: i64,
        message_id: i32,
    ) -> Result<Receipt, Failure> {
        match self
            .outlet
            .react(ChatId(chat_id), MessageId(message_id), ACKNOWLEDGED)
            .await
        {
            Ok(()) => Ok(Receipt::Sent { row: row.id }),
            Err(failure @ (Failure::RetryAfter(_) | Failure::Transient(_))) => Err(failure),
            Err(failure) => {
                tracing::info!(
                    chat_id,
                    message_id,
                    ?failure,
                    "cannot react; the board acknowledges it"
                );
                Ok(Receipt::Sent { row: row.id })
            }
        }
    }
}
