//! The Telegram edge: Updates in, Bot API calls out, nothing else.
//!
//! - [`schema`] — the dptree handler tree, the one entry point for an Update.
//! - [`handlers`] — one function per kind of Update, translating it into
//!   domain and ledger calls and their results into replies and edits.
//! - [`announcements`] — posting and updating the one message a task has.
//! - [`send`] — every Bot API call that speaks, with Telegram's errors handled.
//! - [`callbacks`] — the button data codec; [`keyboards`]: the buttons.
//! - [`admins`] — who administers a chat, from `getChatMember`, cached.

pub mod admins;
pub mod announcements;
pub mod callbacks;
pub mod handlers;
pub mod keyboards;
pub mod schema;
pub mod send;

use std::sync::Arc;

use crate::config::Settings;
use crate::domain::Limits;
use crate::ledger::Ledger;

/// The bot handlers receive; what speaks to chats goes through [`send::Outlet`].
pub type TgBot = teloxide::Bot;

/// What every handler shares.
pub struct Context {
    pub ledger: Ledger,
    pub settings: Arc<Settings>,
    pub limits: Limits,
    pub admins: admins::AdminCache,
    pub outlet: send::Outlet,
}

impl Context {
    /// What messages about `task` show, with times in the chat's time zone.
    pub fn card(&self, task: &crate::ledger::TaskRecord) -> crate::domain::TaskCard {
        task.card(self.settings.chat.time_zone)
    }
}

pub type SharedContext = Arc<Context>;
