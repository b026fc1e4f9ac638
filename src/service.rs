//! Carrying out a change someone asks for: read the task, let the rules
//! decide, record the result, and try again if another change came first.
//!
//! Sits between the chat edge and the ledger so that buttons and commands
//! share one path. Whether someone is a chat admin is asked only when it
//! would change the answer, through [`AdminCheck`], so that the rules stay
//! free of Telegram and this module can be tested with a stand-in.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::domain::{decide, Action, Refusal, TaskNumber, UserId};
use crate::ledger::{Change, Ledger, LedgerError, LedgerResult, Person, TaskRecord};

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

/// How often a change is re-decided after losing a race before giving up;
/// with one writer at a time, one retry is almost always enough.
const MAX_ATTEMPTS: usize = 5;

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

/// Carries out `request`, or says why not.
pub async fn act(
    ledger: &Ledger,
    admins: &impl AdminCheck,
    request: &Request<'_>,
) -> LedgerResult<Outcome> {
    let &Request {
        chat_id,
        number,
        action,
        actor,
        note,
        at,
    } = request;
    for _ in 0..MAX_ATTEMPTS {
        let Some(task) = ledger.find_task(chat_id, number).await? else {
            return Ok(Outcome::UnknownTask);
        };
        let decision = match decide(task.state, action, actor.id, false) {
            Err(refusal)
                if refusal.admin_may_override() && admins.is_admin(chat_id, actor.id).await =>
            {
                decide(task.state, action, actor.id, true)
            }
            decision => decision,
        };
        let next = match decision {
            Ok(next) => next,
            Err(refusal) => return Ok(Outcome::Refused(task, refusal)),
        };
        let change = Change {
            action,
            next,
            actor,
            note,
            at,
        };
        if let Some(changed) = ledger.apply(&task, &change).await? {
            return Ok(Outcome::Changed(changed));
        }
    }
    Err(LedgerError::Contended(format!(
        "task {number} of chat {chat_id} kept changing under {MAX_ATTEMPTS} attempts"
    )))
}
