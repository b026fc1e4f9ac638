//! The application core: the only writer of tasks, chats and their events.
//! (The runtime writes only its own bookkeeping: Updates stored, handled,
//! retried or given up, messages delivered, and which message shows a
//! task's announcement.)
//!
//! Each use case takes a unit of work (a unit of the processor's
//! [`Batch`]) and what the chat asked, tells the time by the ledger's
//! clock, and records all the effects of one Update in that one unit: the task changes with their
//! events, and the messages they call for. The chat edge (`telegram`) only
//! translates an Update into one of these calls and says in words what
//! came of it; it never writes to the ledger itself.
//! - [`board`] — what shows a task once it changes: its announcement,
//!   the chat's board, or both; `/board`.
//! - [`change`] — claim, release, done, cancel: the rules decide, the
//!   ledger records, the announcement follows.
//! - [`requests`] — filing a request, and editing it while it is open.
//! - [`chats`] — a chat's language, title, membership and migration.
//! - [`followup`] — what a change sets off: notices to the requester and
//!   claimer, and the timers that follow the task up.
//! - [`timers`] — reminders, questions, releases and digests that fell due.
//! - [`households`] — building leads and registered households.
//! - [`privacy`] — forgetting what finished tasks said.
//! - [`private`] — private requests: their steps, filing, and the details
//!   their claimer is given.
//! - [`reads`] — what the lists and `/stats` show, read without a unit.

pub mod board;
pub mod change;
pub mod chats;
pub mod followup;
pub mod households;
pub mod privacy;
pub mod private;
pub mod reads;
pub mod requests;
pub mod timers;

pub use change::{act, act_all, AdminCheck, Circumstances, Outcome, Request};

use crate::ledger::{Batch, LedgerResult, Outgoing};

/// Records `messages`, in order, as the whole effect of an Update that
/// changes nothing else (a list, a refusal, a hint), in one unit of `batch`,
/// with the group's title when it is known (`chat`: its id and title).
pub async fn reply(
    batch: &Batch,
    chat: Option<(i64, &str)>,
    messages: Vec<Outgoing>,
) -> LedgerResult<()> {
    let mut tx = batch.begin().await?;
    if let Some((chat_id, title)) = chat {
        tx.note_chat_title(chat_id, title).await?;
    }
    for message in messages {
        tx.send(message);
    }
    tx.commit().await
}
