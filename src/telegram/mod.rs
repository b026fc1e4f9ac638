//! The Telegram edge: Updates in, Bot API calls out.
//!
//! The path of an Update: [`fetcher`] stores it in the inbox, [`processor`]
//! runs it through the handler tree ([`schema`]) in batches, in order, a
//! [`handlers`] function records its effect and the messages it calls for
//! in one unit of the batch's transaction, and [`sender`] delivers those
//! from the outbox, a chat's in order and chats side by side.
//! - [`send`] — one attempt at each speaking Bot API call, its errors sorted.
//! - [`callbacks`] — the button data codec; [`keyboards`] — the buttons.
//! - [`admins`] — who administers a chat, from `getChatMember`.

pub mod admins;
pub mod callbacks;
pub mod fetcher;
pub mod handlers;
pub mod keyboards;
pub mod processor;
pub mod schema;
pub mod send;
pub mod sender;

use std::sync::Arc;
use std::time::Duration;

use crate::config::Settings;
use crate::domain::Limits;
use crate::ledger::Ledger;

/// The bot handlers receive: they ask Telegram only who is an admin;
/// everything they say goes through the outbox.
pub type TgBot = teloxide::Bot;

/// What every handler shares.
pub struct Context {
    pub ledger: Ledger,
    pub settings: Arc<Settings>,
    pub limits: Limits,
}

impl Context {
    /// What messages about `task` show, with times in the chat's time zone.
    pub fn card(&self, task: &crate::ledger::TaskRecord) -> crate::domain::TaskCard {
        task.card(self.settings.chat.time_zone)
    }
}

pub type SharedContext = Arc<Context>;

/// `first`, doubled once for each of `steps` (a negative count is none), at
/// most `cap`: the pause before trying again after failures in a row.
pub fn doubling(first: Duration, steps: i64, cap: Duration) -> Duration {
    let steps = u32::try_from(steps.clamp(0, 31)).unwrap_or(31);
    first.saturating_mul(2u32.saturating_pow(steps)).min(cap)
}
