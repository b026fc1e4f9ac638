//! The board's side of every change (interface.md, *Busy groups*): what
//! shows a task once it is filed or changes, and `/board`.
//!
//! In a chat with a board, each change queues a board row; the sender
//! draws the board from the live tasks when it goes out, so a burst of
//! changes is one edit. In board mode a new task gets no announcement of
//! its own (one announced before the board keeps its own up to date), and
//! the person's message is acknowledged with a reaction.

use crate::domain::BoardState;
use crate::ledger::{Batch, LedgerResult, LedgerTx, Outgoing, TaskRecord};

/// Queues what shows `task` after it was filed or changed in a chat whose
/// board is `board`: its announcement (answering message `reply_to` when
/// first posted) unless board mode stops it, and the board where there is
/// one.
pub fn show(tx: &mut LedgerTx, task: &TaskRecord, board: BoardState, reply_to: Option<i32>) {
    if board.announces(task.announcement_message_id.is_some()) {
        tx.send(Outgoing::Announce {
            task_id: task.id,
            chat_id: task.chat_id,
            reply_to,
        });
    }
    if board.shown() {
        tx.send(Outgoing::Board {
            chat_id: task.chat_id,
            repost: false,
        });
    }
}

/// The reaction that acknowledges message `message_id` of a chat in board
/// mode, instead of a reply.
pub fn acknowledge(chat_id: i64, message_id: i32) -> Outgoing {
    Outgoing::React {
        chat_id,
        message_id,
    }
}

/// `/board` (message `asked`) by an admin: the board is posted anew at the
/// bottom of the chat (the old one deleted, or left without buttons where
/// it cannot be); in board mode the command is acknowledged with a
/// reaction, as every other. One unit of `batch`.
pub async fn post(
    batch: &Batch,
    chat_id: i64,
    title: Option<&str>,
    asked: i32,
) -> LedgerResult<()> {
    let mut tx = batch.begin().await?;
    if let Some(title) = title {
        tx.note_chat_title(chat_id, title).await?;
    }
    tx.send(Outgoing::Board {
        chat_id,
        repost: true,
    });
    if tx.chat_timing(chat_id).await?.board.on {
        tx.send(acknowledge(chat_id, asked));
    }
    tx.commit().await
}
