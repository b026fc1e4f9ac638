//! Private requests (interface.md, *Private requests*): the steps of a
//! request written in a private chat with the bot, filing it for the
//! group, and what its claimer is given.
//!
//! The chat edge reads the person's draft, asks Telegram whether they
//! belong to the group (no write lock held), lets [`Draft::take`] decide,
//! and records the outcome here: the draft kept or dropped, a task filed,
//! and the messages, all in the one unit of the Update that caused them.

use std::future::Future;

use chrono::TimeDelta;

use crate::domain::{Draft, Lang, Reminders, UserId};
use crate::ledger::{Batch, Ledger, LedgerResult, NewTaskRecord, Outgoing, TaskRecord};

/// How long an unfinished request is kept after its last answer.
pub const DRAFT_KEPT: TimeDelta = TimeDelta::days(1);

/// The most groups a person writing privately is offered (each one is a
/// `getChatMember` call).
pub const GROUPS_OFFERED: u32 = 10;

/// Answers whether someone belongs to a group: creator, administrator,
/// member, or restricted and still a member (`getChatMember`).
pub trait MemberCheck {
    fn is_member(&self, chat_id: i64, user: UserId) -> impl Future<Output = bool> + Send;
}

/// `user`'s unfinished request, with the language it speaks, if they
/// answered it within [`DRAFT_KEPT`]. Reads what is committed: flush the
/// batch first.
pub async fn draft_of(ledger: &Ledger, user: UserId) -> LedgerResult<Option<(Draft, Lang)>> {
    ledger.draft(user, ledger.clock().now() - DRAFT_KEPT).await
}

/// The groups `user` may ask in: those the bot is in (at most
/// [`GROUPS_OFFERED`], theirs first) where Telegram says they are a
/// member, with titles.
pub async fn groups_for(
    ledger: &Ledger,
    members: &impl MemberCheck,
    user: UserId,
) -> LedgerResult<Vec<(i64, String)>> {
    let mut theirs = Vec::new();
    for (chat_id, title) in ledger.groups_to_offer(user, GROUPS_OFFERED).await? {
        if members.is_member(chat_id, user).await {
            theirs.push((chat_id, title.unwrap_or_else(|| chat_id.to_string())));
        }
    }
    Ok(theirs)
}

/// What a private chat's Update does to its sender's draft.
#[derive(Debug, Clone, Copy)]
pub enum Keep<'a> {
    /// Keeps this draft, whose steps speak this language.
    Draft(&'a Draft, Lang),
    /// Drops the draft, if any.
    Drop,
    /// Leaves the draft as it is (a command that is not one of the steps).
    Unchanged,
}

/// Records what a private chat's Update did to its sender's draft
/// (`keep`) and the `messages` it calls for, in one unit of `batch`, in
/// which the sender also counts as reachable (they wrote to the bot), in
/// their language `lang` when it is one we speak.
pub async fn step(
    batch: &Batch,
    user: UserId,
    lang: Option<Lang>,
    keep: Keep<'_>,
    messages: Vec<Outgoing>,
) -> LedgerResult<()> {
    let mut tx = batch.begin().await?;
    tx.set_reachable(user, true, lang).await?;
    match keep {
        Keep::Draft(draft, lang) => tx.save_draft(user, draft, lang).await?,
        Keep::Drop => tx.drop_draft(user).await?,
        Keep::Unchanged => {}
    }
    for message in messages {
        tx.send(message);
    }
    tx.commit().await
}

/// Files a finished private request (`record`, with `private` set): the
/// task, its announcement in the group, the draft dropped, and what
/// `respond` says to the requester, in one unit of `batch`.
pub async fn file(
    batch: &Batch,
    record: &NewTaskRecord<'_>,
    reminders: &Reminders,
    respond: impl FnOnce(&TaskRecord) -> Vec<Outgoing>,
) -> LedgerResult<TaskRecord> {
    let mut tx = batch.begin().await?;
    tx.set_reachable(record.requester.id, true, None).await?;
    tx.drop_draft(record.requester.id).await?;
    let task = tx.create_task(record).await?;
    let board = super::followup::after_filing(&mut tx, &task, reminders).await?;
    super::board::show(&mut tx, &task, board, None);
    for message in respond(&task) {
        tx.send(message);
    }
    tx.commit().await?;
    tracing::info!(chat_id = task.chat_id, number = task.number.get(), kind = %task.kind, "private task created");
    Ok(task)
}

/// Someone opened a task's details link: its claimer is sent the details,
/// anyone else is told no (`respond` says which), in one unit of `batch`.
pub async fn details_asked(
    batch: &Batch,
    user: UserId,
    lang: Lang,
    task: Option<&TaskRecord>,
    respond: impl FnOnce(bool) -> Vec<Outgoing>,
) -> LedgerResult<()> {
    let mut tx = batch.begin().await?;
    tx.set_reachable(user, true, Some(lang)).await?;
    let theirs = task.filter(|task| holds(task, user));
    if let Some(task) = theirs {
        tx.send(Outgoing::Details {
            task_id: task.id,
            chat_id: user.0,
            lang,
        });
    }
    for message in respond(theirs.is_some()) {
        tx.send(message);
    }
    tx.commit().await
}

/// Whether `user` holds `task` now: its details are theirs to see.
pub fn holds(task: &TaskRecord, user: UserId) -> bool {
    task.state.status == crate::domain::Status::Claimed && task.state.claimer == Some(user)
}

/// Telegram refused a message to `user`'s private chat (403): the bot may
/// not write to them until they write to it.
pub async fn unreachable(batch: &Batch, user: UserId) -> LedgerResult<()> {
    let mut tx = batch.begin().await?;
    tx.set_reachable(user, false, None).await?;
    tx.commit().await
}
