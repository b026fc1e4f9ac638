//! What a change of a task sets off besides its announcement, in the same
//! unit of work: the private notices to its requester and claimer, and the
//! timers that follow it up (interface.md, *Follow-through*).
//!
//! - claimed (or not received): the requester is told; the claimer will
//!   be asked "still on it?" after `check_claim_after`;
//! - released, done, cancelled, received: the task's timers are dropped;
//!   the claimer is told when someone else released or cancelled it, the
//!   requester when it is done; a task open again is listed after
//!   `unclaimed_after`;
//! - `keep:` starts the claim's time again.

use chrono::{DateTime, Utc};

use crate::domain::reminders::later;
use crate::domain::{Action, Notice, Reminders, Status, TimerKind, UserId};
use crate::ledger::{Batch, LedgerResult, LedgerTx, Outgoing, TaskRecord};

/// The timers of a task, dropped when it moves on.
const TASK_TIMERS: [TimerKind; 2] = [TimerKind::CheckClaim, TimerKind::AutoRelease];

/// Records what `action` by `actor`, which turned `before` into `after`,
/// sets off, with the chat's reminders read in `tx` over `defaults`.
pub async fn after_change(
    tx: &mut LedgerTx,
    before: &TaskRecord,
    after: &TaskRecord,
    action: Action,
    actor: UserId,
    defaults: &Reminders,
) -> LedgerResult<()> {
    let at = tx.now();
    let reminders = tx.chat_timing(after.chat_id).await?.over(defaults);
    let requester = after.state.requester;
    match action {
        Action::Claim | Action::Missing => {
            if action == Action::Claim && actor != requester {
                tell(tx, after, requester, Notice::Claimed).await?;
            }
            if action == Action::Missing {
                tell_claimer(tx, after, Notice::NotReceived).await?;
            }
            tx.clear_task_timers(after.id, &[TimerKind::AutoRelease])
                .await?;
            check_claim_later(tx, after, &reminders, at).await?;
        }
        Action::Release | Action::Done | Action::Cancel | Action::Receive => {
            tx.clear_task_timers(after.id, &TASK_TIMERS).await?;
            let notice = match action {
                Action::Release => Some(Notice::ReleasedByOther),
                Action::Cancel => Some(Notice::Cancelled),
                _ => None,
            };
            if let (Some(notice), Some(claimer)) = (notice, before.state.claimer) {
                if claimer != actor {
                    tell(tx, after, claimer, notice).await?;
                }
            }
            if action == Action::Done && actor != requester {
                tell(tx, after, requester, Notice::Done).await?;
            }
            if action == Action::Release {
                list_unclaimed_later(tx, after.chat_id, &reminders, at).await?;
            }
        }
    }
    Ok(())
}

/// A new task: listed after `unclaimed_after`, and the chat's digest set.
pub async fn after_filing(
    tx: &mut LedgerTx,
    task: &TaskRecord,
    defaults: &Reminders,
) -> LedgerResult<()> {
    let at = tx.now();
    let reminders = tx.chat_timing(task.chat_id).await?.over(defaults);
    list_unclaimed_later(tx, task.chat_id, &reminders, at).await?;
    if let Some(due) = reminders.next_digest(at) {
        tx.ensure_chat_timer(TimerKind::Digest, task.chat_id, due)
            .await?;
    }
    Ok(())
}

/// Sets the question to `task`'s claimer `check_claim_after` from `at`,
/// when the chat asks at all.
pub async fn check_claim_later(
    tx: &mut LedgerTx,
    task: &TaskRecord,
    reminders: &Reminders,
    at: DateTime<Utc>,
) -> LedgerResult<()> {
    match (reminders.check_claim_after, task.state.claimer) {
        (Some(after), Some(claimer)) => {
            let due = later(at, after);
            tx.set_timer(
                TimerKind::CheckClaim,
                task.chat_id,
                Some((task.id, claimer)),
                due,
            )
            .await
        }
        _ => tx.clear_task_timers(task.id, &TASK_TIMERS).await,
    }
}

/// Makes sure a chat's open tasks are listed `unclaimed_after` from `at`
/// (a reminder already set keeps its time: at most one per interval).
pub async fn list_unclaimed_later(
    tx: &mut LedgerTx,
    chat_id: i64,
    reminders: &Reminders,
    at: DateTime<Utc>,
) -> LedgerResult<()> {
    match reminders.unclaimed_after {
        Some(after) => {
            tx.ensure_chat_timer(TimerKind::Unclaimed, chat_id, later(at, after))
                .await
        }
        None => Ok(()),
    }
}

/// Tells `user` `notice` about `task` privately, when the bot may write
/// to them; otherwise nothing (logged): nobody else waits for it.
pub async fn tell(
    tx: &mut LedgerTx,
    task: &TaskRecord,
    user: UserId,
    notice: Notice,
) -> LedgerResult<()> {
    match tx.reachable_in(user, task.lang).await? {
        Some(lang) => tx.send(Outgoing::Notice {
            task_id: task.id,
            chat_id: user.0,
            notice,
            lang,
        }),
        None => tracing::debug!(
            task_id = task.id,
            notice = notice.as_str(),
            "the bot cannot write to them privately; not told"
        ),
    }
    Ok(())
}

/// Tells `task`'s claimer `notice` privately, or in the group, naming
/// them, when the bot cannot write to them.
pub async fn tell_claimer(
    tx: &mut LedgerTx,
    task: &TaskRecord,
    notice: Notice,
) -> LedgerResult<()> {
    let Some(claimer) = task.state.claimer else {
        return Ok(());
    };
    let (chat_id, lang) = match tx.reachable_in(claimer, task.lang).await? {
        Some(lang) => (claimer.0, lang),
        None => (task.chat_id, task.lang),
    };
    tx.send(Outgoing::Notice {
        task_id: task.id,
        chat_id,
        notice,
        lang,
    });
    Ok(())
}

/// `keep:` pressed by `user` under the question about task `task_id`:
/// while they hold it, the question comes again after `check_claim_after`
/// and the release that waited for their answer is dropped. `respond` is
/// given the task they still hold with its chat's reminders (or `None`);
/// one unit of `batch`.
pub async fn keep(
    batch: &Batch,
    task_id: i64,
    user: UserId,
    defaults: &Reminders,
    respond: impl FnOnce(Option<(&TaskRecord, &Reminders)>) -> Vec<Outgoing>,
) -> LedgerResult<bool> {
    let mut tx = batch.begin().await?;
    let held = tx
        .task(task_id)
        .await?
        .filter(|task| task.state.status == Status::Claimed && task.state.claimer == Some(user));
    let mut kept = None;
    if let Some(task) = held {
        let reminders = tx.chat_timing(task.chat_id).await?.over(defaults);
        let now = tx.now();
        tx.clear_task_timers(task.id, &[TimerKind::AutoRelease])
            .await?;
        check_claim_later(&mut tx, &task, &reminders, now).await?;
        kept = Some((task, reminders));
    }
    for message in respond(kept.as_ref().map(|(task, reminders)| (task, reminders))) {
        tx.send(message);
    }
    tx.commit().await?;
    Ok(kept.is_some())
}

/// Telegram refused `notice` to a claimer's private chat (they blocked the
/// bot since): while they still hold task `task_id`, it is said in the
/// group instead, naming them, in one unit of `batch`.
pub async fn say_in_group_instead(batch: &Batch, task_id: i64, notice: Notice) -> LedgerResult<()> {
    let mut tx = batch.begin().await?;
    if let Some(task) = tx.task(task_id).await? {
        if task.state.status == Status::Claimed {
            tx.send(Outgoing::Notice {
                task_id,
                chat_id: task.chat_id,
                notice,
                lang: task.lang,
            });
        }
    }
    tx.commit().await
}
