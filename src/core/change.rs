//! Carrying out a change someone asks for: read the task, let the rules
//! decide, and record the outcome together with what to tell the chat.
//!
//! Buttons and commands share this one path. Whether someone is a chat admin is asked only when it
//! would change the answer, through [`AdminCheck`], and never while the
//! ledger's write lock is held; the rules stay free of Telegram, and this
//! module can be tested with a stand-in.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::domain::{decide, Action, Refusal, TaskNumber, UserId};
use crate::ledger::{Batch, Change, LedgerError, LedgerResult, Outgoing, Person, TaskRecord};

/// Answers whether a user administers a chat.
pub trait AdminCheck {
    fn is_admin(&self, chat_id: i64, user: UserId) -> impl Future<Output = bool> + Send;
}

/// What came of a request to change a task.
#[derive(Debug)]
pub enum Outcome {
    Changed(TaskRecord),
    Refused(TaskRecord, Refusal),
    UnknownTask,
}

/// A change someone asks for.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub chat_id: i64,
    pub number: TaskNumber,
    pub action: Action,
    pub actor: &'a Person,
    /// The note of `/done`.
    pub note: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// Carries out `request`, or says why not, and queues the changed task's
/// announcement and what `respond` says about the outcome, all in one unit
/// of `batch` (committed with it).
pub async fn act<R>(
    batch: &Batch,
    admins: &impl AdminCheck,
    request: &Request<'_>,
    respond: R,
) -> LedgerResult<Outcome>
where
    R: Fn(&Outcome) -> Vec<Outgoing>,
{
    let &Request {
        chat_id,
        number,
        action,
        actor,
        note,
        at,
    } = request;
    // Asked at most once, and only when a refusal depends on it.
    let mut is_admin: Option<bool> = None;
    loop {
        let mut tx = batch.begin().await?;
        let outcome = match tx.find_task(chat_id, number).await? {
            None => Outcome::UnknownTask,
            Some(task) => match decide(task.state, action, actor.id, is_admin.unwrap_or(false)) {
                Err(refusal) if refusal.admin_may_override() && is_admin.is_none() => {
                    // Release the write lock while Telegram is asked.
                    drop(tx);
                    batch.flush().await?;
                    is_admin = Some(admins.is_admin(chat_id, actor.id).await);
                    continue;
                }
                Err(refusal) => Outcome::Refused(task, refusal),
                Ok(next) => {
                    let change = Change {
                        action,
                        next,
                        actor,
                        note,
                        at,
                    };
                    // The write lock makes losing this race impossible; the
                    // guard says so if it ever is not.
                    let changed = tx.apply(&task, &change).await?.ok_or_else(|| {
                        LedgerError::Contended(format!(
                            "task {number} of chat {chat_id} changed under its lock"
                        ))
                    })?;
                    tx.send(super::announce(&changed));
                    Outcome::Changed(changed)
                }
            },
        };
        for outgoing in respond(&outcome) {
            tx.send(outgoing);
        }
        tx.commit().await?;
        return Ok(outcome);
    }
}
