//! The application core: the only writer of the ledger.
//!
//! Each use case takes a unit of work (a unit of the processor's
//! [`Batch`]), the time from the ledger's clock and what the chat asked,
//! and records its effects in that one unit: the task changes with their
//! events, and the messages they call for. The chat edge (`telegram`) only
//! translates an Update into one of these calls and says in words what
//! came of it; it never writes to the ledger itself.
//! - [`change`] — claim, release, done, cancel: the rules decide, the
//!   ledger records, the announcement follows.
//! - [`requests`] — filing a request, and editing it while it is open.
//! - [`chats`] — a chat's language, title, membership and migration.

pub mod change;
pub mod chats;
pub mod requests;

pub use change::{act, AdminCheck, Outcome, Request};

use crate::ledger::{Batch, LedgerResult, Outgoing, TaskRecord};

/// Records `messages`, in order, as the whole effect of an Update that
/// changes nothing else (a list, a refusal, a hint), in one unit of `batch`.
pub async fn reply(batch: &Batch, messages: Vec<Outgoing>) -> LedgerResult<()> {
    let mut tx = batch.begin().await?;
    for message in messages {
        tx.send(message);
    }
    tx.commit().await
}

/// Brings a task's announcement up to date (the sender renders it from the
/// task's state when it goes out).
fn announce(task: &TaskRecord) -> Outgoing {
    Outgoing::Announce {
        task_id: task.id,
        chat_id: task.chat_id,
        reply_to: None,
    }
}
