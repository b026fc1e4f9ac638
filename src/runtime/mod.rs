//! The runtime: fetcher (or, later, webhook ingress) → durable inbox →
//! processor → outbox → sender.
//!
//! - [`fetcher`] — long-polls `getUpdates` and stores each batch in the
//!   inbox before confirming its offset.
//! - [`processor`] — runs stored Updates through the handler tree in
//!   batches, in order; retries or gives up those that fail.
//! - [`sender`] — delivers the outbox, a chat's messages in order and chats
//!   side by side, paced inside Telegram's limits and acting on its errors.
//! - [`board`] — the sender's drawing of a chat's board, paced, and the
//!   reactions of board mode.

pub mod board;
pub mod fetcher;
pub mod processor;
pub mod sender;

use std::time::Duration;

/// `first`, doubled once for each of `steps` (a negative count is none), at
/// most `cap`: the pause before trying again after failures in a row.
pub fn doubling(first: Duration, steps: i64, cap: Duration) -> Duration {
    let steps = u32::try_from(steps.clamp(0, 31)).unwrap_or(31);
    first.saturating_mul(2u32.saturating_pow(steps)).min(cap)
}
