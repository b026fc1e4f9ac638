//! The Telegram edge, which only translates: Updates into calls of the
//! core, and messages into Bot API calls. The runtime ([`crate::runtime`])
//! moves Updates and messages through it.
//! - [`schema`] — the handler tree, and the Update kinds asked for.
//! - [`handlers`] — one function per kind of Update.
//! - `households.rs` — leads, households and `/forgetme`.
//! - [`menu`] — the command menus and the bot's description.
//! - [`private`] — the private chat: a request step by step, and the
//!   claimer's details link.
//! - [`send`] — one attempt at each speaking Bot API call, its errors sorted.
//! - [`pace`] — new messages paced inside Telegram's limits, chat by chat.
//! - [`callbacks`] — the button data codec; [`keyboards`] — the buttons.
//! - [`admins`] — who administers a chat, from `getChatMember`.
//! - [`followup`] — the buttons of notices (`keep:`, receipts by task id)
//!   and of `/settings`; [`timers`] — reminders and digests put into words.

pub mod admins;
pub mod callbacks;
pub mod followup;
pub mod handlers;
mod households;
pub mod keyboards;
pub mod menu;
pub mod pace;
pub mod private;
pub mod schema;
pub mod send;
pub mod timers;

use std::sync::Arc;

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
    /// What messages into a group about `task` show (of a private
    /// request, neither flat, nor details, nor requester), with times in
    /// the chat's time zone.
    pub fn card(&self, task: &crate::ledger::TaskRecord) -> crate::domain::TaskCard {
        task.group_card(self.settings.chat.time_zone)
    }

    /// `task` as a list shows it to the group, with times in `zone`: with
    /// how long it has waited (open) or been claimed, now.
    pub fn listed(
        &self,
        task: &crate::ledger::TaskRecord,
        zone: chrono_tz::Tz,
    ) -> crate::domain::TaskCard {
        let mut card = task.group_card(zone);
        card.since = Some(task.age(self.ledger.clock().now()));
        card
    }

    /// A group's time zone: its own (`/settings time_zone`), else the
    /// operator's.
    pub async fn zone_of(&self, chat_id: i64) -> crate::ledger::LedgerResult<chrono_tz::Tz> {
        let timing = self.ledger.chat_timing(chat_id).await?;
        Ok(timing.time_zone.unwrap_or(self.settings.chat.time_zone))
    }

    /// The operator's reminders, for chats that set none of their own.
    pub fn reminders(&self) -> crate::domain::Reminders {
        self.settings.reminders()
    }
}

pub type SharedContext = Arc<Context>;
