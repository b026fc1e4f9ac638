//! What a requester or a claimer is told about their task, privately (or,
//! for a claimer the bot cannot write to, in the group, naming them).

use std::str::FromStr;

/// A word to one person about one of their tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Notice {
    /// To the requester: a volunteer claimed it.
    Claimed,
    /// To the requester: it is done; "received" or "not received"?
    Done,
    /// To the claimer: someone else (an admin) released it.
    ReleasedByOther,
    /// To the claimer: it was cancelled.
    Cancelled,
    /// To the claimer: the bot released it, the question unanswered.
    ReleasedByBot,
    /// To the claimer: the requester says it did not arrive; it is theirs again.
    NotReceived,
    /// To the claimer: "still on it?", with `keep:` and `release:` buttons.
    StillOnIt,
}

impl Notice {
    pub const ALL: [Notice; 7] = [
        Notice::Claimed,
        Notice::Done,
        Notice::ReleasedByOther,
        Notice::Cancelled,
        Notice::ReleasedByBot,
        Notice::NotReceived,
        Notice::StillOnIt,
    ];

    /// Its name in the outbox.
    pub fn as_str(self) -> &'static str {
        match self {
            Notice::Claimed => "claimed",
            Notice::Done => "done",
            Notice::ReleasedByOther => "released",
            Notice::Cancelled => "cancelled",
            Notice::ReleasedByBot => "auto_released",
            Notice::NotReceived => "not_received",
            Notice::StillOnIt => "still_on_it",
        }
    }

    /// Whether it is meant for the task's current claimer, and so goes
    /// only while they hold it (and to the group, naming them, when the
    /// bot cannot write to them).
    pub fn needs_the_claimer(self) -> bool {
        matches!(self, Notice::NotReceived | Notice::StillOnIt)
    }
}

impl FromStr for Notice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Notice::ALL
            .into_iter()
            .find(|notice| notice.as_str() == s)
            .ok_or_else(|| format!("unknown notice {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notice_names_round_trip() {
        for notice in Notice::ALL {
            assert_eq!(notice.as_str().parse(), Ok(notice));
        }
        assert!("thanks".parse::<Notice>().is_err());
    }
}
