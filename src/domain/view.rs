//! What a message about tasks shows, gathered before it is put into words.
//!
//! The ledger fills these from its rows; `i18n` turns them into text in the
//! reader's language. Nothing here is escaped yet: that is the renderer's job.
//! What each audience may see is decided here too: the group sees a private
//! request's card [`TaskCard::for_group`]; only its claimer the whole.

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
    /// A private request: the group sees neither its flat, nor its details,
    /// nor who asked ([`TaskCard::for_group`]).
    pub private: bool,
    /// Its requester said it arrived.
    pub received: bool,
    /// In lists: how long it has waited (open) or been claimed (claimed).
    pub since: Option<chrono::TimeDelta>,
}

impl TaskCard {
    /// What the whole group may see of the task: of a private request, the
    /// flat, the details and the requester's name are left out, so that no
    /// message into the group (announcement, list, refusal) can show them
    /// (interface.md, *Private requests*).
    pub fn for_group(mut self) -> TaskCard {
        if self.private {
            self.flat.clear();
            self.details.clear();
            self.requester_name.clear();
        }
        self
    }
}

/// A task in `/mine`, with the group it belongs to (shown in private chats).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MineItem {
    pub chat_title: Option<String>,
    pub card: TaskCard,
    /// The reader asked for it (else they claimed it).
    pub asked: bool,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Kind;

    #[test]
    fn the_group_never_sees_a_private_requests_flat_details_or_requester() {
        let card = TaskCard {
            number: TaskNumber::new(3).unwrap(),
            kind: Kind::Medicine,
            flat: "12-302".into(),
            details: "we both tested positive".into(),
            status: Status::Claimed,
            requester_name: "Ann".into(),
            claimer_name: Some("Bo".into()),
            done_note: None,
            asked_at: "01-02 03:04".into(),
            private: true,
            received: false,
            since: None,
        };
        let seen = card.clone().for_group();
        assert_eq!((seen.flat.as_str(), seen.details.as_str()), ("", ""));
        assert_eq!(seen.requester_name, "");
        assert_eq!(seen.claimer_name.as_deref(), Some("Bo"));
        let public = TaskCard {
            private: false,
            ..card
        };
        assert_eq!(public.clone().for_group(), public);
    }
}
