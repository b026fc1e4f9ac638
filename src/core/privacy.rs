//! Forgetting (interface.md, *Private requests*): what finished tasks said
//! is erased `privacy.forget_after` after they finished, or at once for
//! `/forgetme`; counts and times stay.

use std::time::Duration;

use chrono::TimeDelta;

use crate::domain::UserId;
use crate::ledger::forget::Forgotten;
use crate::ledger::{Batch, Ledger, LedgerResult, Outgoing};

/// Telegram may deliver an unconfirmed Update again for up to a day, and
/// its inbox row is what recognises it: the inbox keeps a day at least.
const INBOX_KEPT: TimeDelta = TimeDelta::days(1);

/// Forgets what tasks finished more than `forget_after` ago said (nothing
/// with `None`: forgetting is off), with old inbox and outbox rows and
/// drafts older than [`super::private::DRAFT_KEPT`], in one transaction.
pub async fn forget_due(
    ledger: &Ledger,
    forget_after: Option<Duration>,
) -> LedgerResult<Forgotten> {
    let now = ledger.clock().now();
    let drafts_before = now - super::private::DRAFT_KEPT;
    // Off: only the drafts go (an unfinished request is dropped after a day).
    let before = forget_after
        .and_then(|after| TimeDelta::from_std(after).ok())
        .and_then(|after| now.checked_sub_signed(after));
    let mut tx = ledger.begin().await?;
    let forgotten = tx
        .forget_finished_before(before, now - INBOX_KEPT, drafts_before)
        .await?;
    tx.commit().await?;
    if forgotten != Forgotten::default() {
        tracing::info!(?forgotten, "forgot what finished tasks said");
    }
    Ok(forgotten)
}

/// `/forgetme`: forgets at once what `user`'s finished requests said, and
/// sends `reply` (told how many tasks were touched), in one unit of `batch`.
pub async fn forget_me(
    batch: &Batch,
    user: UserId,
    reply: impl FnOnce(u64) -> Outgoing,
) -> LedgerResult<Forgotten> {
    let mut tx = batch.begin().await?;
    tx.set_reachable(user, true, None).await?;
    let forgotten = tx.forget_requests_of(user).await?;
    tx.send(reply(forgotten.tasks));
    tx.commit().await?;
    tracing::info!(?forgotten, "a resident asked to be forgotten");
    Ok(forgotten)
}
