//! Carrying out a change someone asks for: read the task, let the rules
//! decide, and record the outcome together with what to tell the chat.
//!
//! Buttons and commands share this one path. Whether someone is a chat
//! admin is asked only when it would change the answer, through
//! [`AdminCheck`], and never while the ledger's write lock is held; the
//! rules stay free of Telegram, and this module can be tested with a
//! stand-in.

use std::future::Future;

use super::followup;
use crate::domain::{decide, Action, Refusal, Reminders, TaskNumber, UserId};
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

/// What `respond` is told besides the outcomes of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Circumstances {
    /// The bot may write to the actor privately (read only when they
    /// claimed a private request, whose details go to them; else `false`).
    pub reachable: bool,
    /// The chat is in board mode: a change is acknowledged with a
    /// reaction, not a reply.
    pub board_on: bool,
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
}

/// Carries out `request`, or says why not, and queues the changed task's
/// announcement and what `respond` says about the outcome (see [`act_all`]
/// for its second argument), all in one unit of `batch` (committed with it).
pub async fn act<R>(
    batch: &Batch,
    admins: &impl AdminCheck,
    reminders: &Reminders,
    request: &Request<'_>,
    respond: R,
) -> LedgerResult<Outcome>
where
    R: Fn(&Outcome, bool) -> Vec<Outgoing>,
{
    let mut outcomes = act_all(
        batch,
        admins,
        reminders,
        std::slice::from_ref(request),
        None,
        |all, said| {
            all.iter()
                .flat_map(|outcome| respond(outcome, said.reachable))
                .collect()
        },
    )
    .await?;
    outcomes
        .pop()
        .ok_or_else(|| LedgerError::Misuse("a change without its outcome".into()))
}

/// Carries out every request of one command (`/claim 3 4`) by one person in
/// one chat, in order, and queues the changed tasks' announcements, what
/// each change sets off ([`followup::after_change`], over the operator's
/// `reminders`), and what `respond` says about all the outcomes: one unit
/// of `batch`, so that the
/// command counts once, all or nothing. `respond` is also told the
/// [`Circumstances`]. A changed `chat_title` is kept in the same unit.
///
/// Whether the actor is a chat admin is asked at most once, only when a
/// refusal depends on it, and with no write lock held: the unit is
/// abandoned, the batch flushed, and the command started again knowing.
pub async fn act_all<R>(
    batch: &Batch,
    admins: &impl AdminCheck,
    reminders: &Reminders,
    requests: &[Request<'_>],
    chat_title: Option<&str>,
    respond: R,
) -> LedgerResult<Vec<Outcome>>
where
    R: Fn(&[Outcome], Circumstances) -> Vec<Outgoing>,
{
    let mut is_admin: Option<bool> = None;
    'attempt: loop {
        let mut tx = batch.begin().await?;
        if let (Some(title), Some(first)) = (chat_title, requests.first()) {
            tx.note_chat_title(first.chat_id, title).await?;
        }
        let at = tx.now();
        let mut board_on = false;
        let mut outcomes = Vec::with_capacity(requests.len());
        for request in requests {
            let &Request {
                chat_id,
                number,
                action,
                actor,
                note,
            } = request;
            let outcome = match tx.find_task_to_change(chat_id, number).await? {
                None => Outcome::UnknownTask,
                Some((task, context)) => {
                    match decide(task.state, action, actor.id, is_admin.unwrap_or(false)) {
                        Err(refusal) if refusal.admin_may_override() && is_admin.is_none() => {
                            // Release the write lock while Telegram is asked.
                            drop(tx);
                            batch.flush().await?;
                            is_admin = Some(admins.is_admin(chat_id, actor.id).await);
                            continue 'attempt;
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
                            // The write lock makes losing this race impossible;
                            // the guard says so if it ever is not.
                            let changed = tx.apply(&task, &change).await?.ok_or_else(|| {
                                LedgerError::Contended(format!(
                                    "task {number} of chat {chat_id} changed under its lock"
                                ))
                            })?;
                            board_on |= context.timing.board.on;
                            super::board::show(&mut tx, &changed, context.timing.board, None);
                            let change = followup::Changed {
                                before: &task,
                                after: &changed,
                                action,
                                actor: actor.id,
                                context: &context,
                            };
                            followup::after_change(&mut tx, &change, reminders).await?;
                            Outcome::Changed(changed)
                        }
                    }
                }
            };
            outcomes.push(outcome);
        }
        let claimed_private = requests.first().is_some_and(|first| {
            outcomes.iter().any(|outcome| {
                matches!(outcome, Outcome::Changed(task)
                    if task.private && task.state.claimer == Some(first.actor.id)
                        && first.action == Action::Claim)
            })
        });
        let reachable = match requests.first() {
            Some(first) if claimed_private => tx.is_reachable(first.actor.id).await?,
            _ => false,
        };
        let said = Circumstances {
            reachable,
            board_on,
        };
        for outgoing in respond(&outcomes, said) {
            tx.send(outgoing);
        }
        tx.commit().await?;
        return Ok(outcomes);
    }
}
