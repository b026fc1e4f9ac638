//! The board (interface.md, *Busy groups*): one message per group listing
//! its live tasks, edited as they change, instead of a message per task.

use super::kind::Kind;
use super::task::{Status, TaskNumber};
use super::view::TaskCard;

/// A chat's board as the ledger keeps it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BoardState {
    /// `/settings board on`: no per-task announcements; acknowledgements
    /// are reactions, and the unclaimed reminder re-posts the board.
    pub on: bool,
    /// The message that shows the board, once posted.
    pub message_id: Option<i32>,
}

impl BoardState {
    /// Whether a change of a task in this chat is shown on a board.
    pub fn shown(self) -> bool {
        self.on || self.message_id.is_some()
    }

    /// Whether a task gets (or keeps) its own announcement: not in board
    /// mode, unless it was announced before the board came.
    pub fn announces(self, already_announced: bool) -> bool {
        !self.on || already_announced
    }
}

/// One live task as the board shows it: what the whole group may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardItem {
    pub number: TaskNumber,
    pub kind: Kind,
    pub status: Status,
    /// Empty for a private request.
    pub flat: String,
    /// A private request: the group sees neither its flat nor its details.
    pub private: bool,
    /// Who claimed it, when claimed.
    pub claimer_name: Option<String>,
}

impl From<TaskCard> for BoardItem {
    fn from(card: TaskCard) -> BoardItem {
        let card = card.for_group();
        BoardItem {
            number: card.number,
            kind: card.kind,
            status: card.status,
            private: card.private,
            flat: card.flat,
            claimer_name: card.claimer_name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn board_mode_stops_new_announcements_only() {
        let on = BoardState {
            on: true,
            message_id: None,
        };
        assert!(on.shown());
        assert!(!on.announces(false));
        assert!(on.announces(true));
        let off = BoardState::default();
        assert!(!off.shown());
        assert!(off.announces(false));
        let posted = BoardState {
            on: false,
            message_id: Some(7),
        };
        assert!(posted.shown() && posted.announces(false));
    }
}
