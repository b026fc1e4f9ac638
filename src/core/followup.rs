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
use crate::domain::{Action, BoardState, Lang, Notice, Reminders, Status, TimerKind, UserId};
use crate::ledger::{Batch, FollowContext, LedgerResult, LedgerTx, Outgoing, TaskRecord};

/// A change made: `action` by `actor` turned `before` into `after`;
/// `context` was read with `before`.
#[derive(Debug, Clone, Copy)]
pub struct Changed<'a> {
    pub before: &'a TaskRecord,
    pub after: &'a TaskRecord,
    pub action: Action,
    pub actor: UserId,
    pub context: &'a FollowContext,
}

/// Records what `change` sets off, over the operator's `defaults`, with
/// no read of its own: what it needs (the chat's reminders, whether the
/// one to tell can be written to) came with the task.
///
/// A task has timers only while claimed, so a claim (from open, or from
/// done by "not received") finds none to drop.
pub async fn after_change(
    tx: &mut LedgerTx,
    change: &Changed<'_>,
    defaults: &Reminders,
) -> LedgerResult<()> {
    let &Changed {
        before,
        after,
        action,
        actor,
        context,
    } = change;
    let at = tx.now();
    let requester = after.state.requester;
    let someone_else = |user: Option<UserId>| user.filter(|user| *user != actor);
    // Who is told what, if anyone.
    let told = match action {
        Action::Claim => someone_else(Some(requester)).map(|u| (u, Notice::Claimed)),
        Action::Done => someone_else(Some(requester)).map(|u| (u, Notice::Done)),
        Action::Missing => after.state.claimer.map(|u| (u, Notice::NotReceived)),
        Action::Release => someone_else(before.state.claimer).map(|u| (u, Notice::ReleasedByOther)),
        Action::Cancel => someone_else(before.state.claimer).map(|u| (u, Notice::Cancelled)),
        Action::Receive => None,
    };
    let reminders = context.timing.over(defaults);
    if let Some((user, notice)) = told {
        let reach = context.reach(user, after.lang);
        address(tx, after, user, notice, reach);
    }
    match action {
        Action::Claim | Action::Missing => check_claim_later(tx, after, &reminders, at).await,
        Action::Release => {
            tx.clear_task_timers(after.id, None).await?;
            list_unclaimed_later(tx, after.chat_id, &reminders, at).await
        }
        Action::Done | Action::Cancel => tx.clear_task_timers(after.id, None).await,
        Action::Receive => Ok(()),
    }
}

/// A new task: listed after `unclaimed_after`, and the chat's digest set,
/// where they are not yet (the chat's settings and its pending timers are
/// read in one query; most tasks set nothing). Returns the chat's board,
/// read in that query.
pub async fn after_filing(
    tx: &mut LedgerTx,
    task: &TaskRecord,
    defaults: &Reminders,
) -> LedgerResult<BoardState> {
    let at = tx.now();
    let (timing, pending) = tx.chat_timers(task.chat_id).await?;
    let reminders = timing.over(defaults);
    let timers: Vec<(TimerKind, DateTime<Utc>)> = [
        (
            TimerKind::Unclaimed,
            reminders.unclaimed_after.map(|after| later(at, after)),
        ),
        (TimerKind::Digest, reminders.next_digest(at)),
    ]
    .into_iter()
    .filter(|(kind, _)| !pending.contains(kind))
    .filter_map(|(kind, due)| due.map(|due| (kind, due)))
    .collect();
    tx.ensure_chat_timers(task.chat_id, &timers).await?;
    Ok(timing.board)
}

/// Sets the question to `task`'s claimer `check_claim_after` from `at`,
/// when the chat asks at all (a task just claimed has no timer to drop
/// when it does not).
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
        _ => Ok(()),
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
            let due = later(at, after);
            tx.ensure_chat_timers(chat_id, &[(TimerKind::Unclaimed, due)])
                .await
        }
        None => Ok(()),
    }
}

/// Tells `user` `notice` about `task` privately, when the bot may write
/// to them; otherwise nothing (logged): nobody else waits for it. A
/// notice for the claimer goes to the group instead, naming them.
pub async fn tell(
    tx: &mut LedgerTx,
    task: &TaskRecord,
    user: UserId,
    notice: Notice,
) -> LedgerResult<()> {
    let (_, reach) = tx
        .follow_context(task.chat_id, Some(user), task.lang)
        .await?;
    address(tx, task, user, notice, reach);
    Ok(())
}

/// Queues `notice` about `task` for `user`: in their private chat in
/// `reach` (their language, when the bot may write to them); else, for
/// the claimer, in the group as a reply naming them; else nowhere.
fn address(
    tx: &mut LedgerTx,
    task: &TaskRecord,
    user: UserId,
    notice: Notice,
    reach: Option<Lang>,
) {
    let to = match reach {
        Some(lang) => (user.0, lang),
        None if notice.needs_the_claimer() => (task.chat_id, task.lang),
        None => {
            tracing::debug!(
                task_id = task.id,
                notice = notice.as_str(),
                "the bot cannot write to them privately; not told"
            );
            return;
        }
    };
    tx.send(Outgoing::Notice {
        task_id: task.id,
        chat_id: to.0,
        notice,
        lang: to.1,
    });
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
        tx.clear_task_timers(task.id, Some(TimerKind::AutoRelease))
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
