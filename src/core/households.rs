//! Building leads and registered households: named, registered and
//! listed by a chat's admins and leads (the rule is
//! [`crate::domain::may_manage_households`]; the chat edge asks Telegram
//! who is an admin).

use crate::domain::{HouseholdEntry, Person, UserId};
use crate::ledger::households::Household;
use crate::ledger::{Batch, Ledger, LedgerResult, Outgoing};

/// The most households `/households` lists.
pub const LISTED: u32 = 100;

/// An admin's `/lead` (`lead`) or `/unlead` of `person` in a chat, with
/// what `reply` says about whether it changed anything, in one unit.
pub async fn set_lead(
    batch: &Batch,
    chat_id: i64,
    person: &Person,
    lead: bool,
    reply: impl FnOnce(bool) -> Outgoing,
) -> LedgerResult<()> {
    let mut tx = batch.begin().await?;
    let changed = tx.set_lead(chat_id, person, lead).await?;
    tx.send(reply(changed));
    tx.commit().await?;
    tracing::info!(chat_id, user = person.id.0, lead, changed, "building lead");
    Ok(())
}

/// Registers a household of a chat for an admin or lead `by`, with
/// `messages` (the reply, and the command's deletion), in one unit.
pub async fn register(
    batch: &Batch,
    chat_id: i64,
    entry: &HouseholdEntry,
    by: UserId,
    messages: Vec<Outgoing>,
) -> LedgerResult<()> {
    let mut tx = batch.begin().await?;
    tx.register_household(chat_id, entry, by).await?;
    for message in messages {
        tx.send(message);
    }
    tx.commit().await
}

/// Whether `user` is a building lead of a chat.
pub async fn is_lead(ledger: &Ledger, chat_id: i64, user: UserId) -> LedgerResult<bool> {
    ledger.is_lead(chat_id, user).await
}

/// A chat's households, by flat.
pub async fn list(ledger: &Ledger, chat_id: i64) -> LedgerResult<Vec<Household>> {
    ledger.households(chat_id, LISTED).await
}
