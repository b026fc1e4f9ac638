//! What a message about tasks shows, gathered before it is put into words.
//!
//! The ledger fills these from its rows; `i18n` turns them into text in the
//! reader's language. Nothing here is escaped yet: that is the renderer's job.

use super::kind::Kind;
use super::task::{Status, TaskNumber};

/// One task as residents see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskCard {
    pub number: TaskNumber,
    pub kind: Kind,
    pub flat: String,
    pub details: String,
    pub status: Status,
    pub requester_name: String,
    pub claimer_name: Option<String>,
    pub done_note: Option<String>,
    /// When it was asked for, in the chat's time zone (`MM-DD HH:MM`).
    pub asked_at: String,
}

/// A task in `/mine`, with the group it belongs to (shown in private chats).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MineItem {
    pub chat_title: Option<String>,
    pub card: TaskCard,
}

/// What `/stats` reports for one chat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatStats {
    pub open: u64,
    pub claimed: u64,
    pub done: u64,
    pub cancelled: u64,
    /// Volunteers by tasks done, most first.
    pub helpers: Vec<(String, u64)>,
}
