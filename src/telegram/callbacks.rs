//! The data carried by the bot's buttons (at most 64 bytes, as Telegram
//! allows): under an announcement `claim:N`, `done:N`, `release:N`,
//! `received:N`, `missing:N`; under a notice, which may be in a private
//! chat and so names the task by its ledger id, `keep:tID`, `release:tID`,
//! `received:tID`, `missing:tID`; on the board `board:N` (claim task N);
//! under `/settings`, `set:KEY VALUE`; in the
//! steps of a private request `group:ID`, `kind:KIND`, `flat:last`, `flat:hID`,
//! `skip:`, `send:`, `abort:`.
//!
//! The one codec for it: keyboards encode with [`encode`] and
//! [`Pressed::data`], the callback handler decodes with [`decode`].
//! Anything else is forged or stale.

use crate::domain::{Action, Kind, SettingChange, TaskNumber};

/// What a button of ours asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pressed {
    /// A change of task N of the chat the button is in.
    Task(Action, TaskNumber),
    /// A change of the task with this ledger id (under a notice).
    OfTask(Action, i64),
    /// A claim button on the board: claim task N of the chat.
    Board(TaskNumber),
    /// "Still on it": the claimer keeps the task with this ledger id.
    Keep(i64),
    /// An admin's change of the chat's settings.
    Set(SettingChange),
    /// A private request is for this group.
    Group(i64),
    Kind(Kind),
    /// The flat the person used last time.
    LastFlat,
    /// A registered household's flat (by its ledger id).
    Household(i64),
    /// No details.
    Skip,
    /// File the request.
    Send,
    /// Drop the request.
    Abort,
}

fn prefix(action: Action) -> Option<&'static str> {
    match action {
        Action::Claim => Some("claim"),
        Action::Done => Some("done"),
        Action::Release => Some("release"),
        Action::Receive => Some("received"),
        Action::Missing => Some("missing"),
        // Cancelling is a command only: a button would be too easy to press.
        Action::Cancel => None,
    }
}

/// The callback data of a button doing `action` to task `number`.
/// `None` for actions that have no button.
pub fn encode(action: Action, number: TaskNumber) -> Option<String> {
    Pressed::Task(action, number).data()
}

impl Pressed {
    /// The callback data of this button; `None` for a change that has no
    /// button.
    pub fn data(self) -> Option<String> {
        Some(match self {
            Pressed::Task(action, number) => format!("{}:{}", prefix(action)?, number.get()),
            Pressed::OfTask(action, id) => format!("{}:t{id}", prefix(action)?),
            Pressed::Board(number) => format!("board:{}", number.get()),
            Pressed::Keep(id) => format!("keep:t{id}"),
            Pressed::Set(change) => format!("set:{}", change.as_args()),
            Pressed::Group(chat_id) => format!("group:{chat_id}"),
            Pressed::Kind(kind) => format!("kind:{}", kind.as_str()),
            Pressed::LastFlat => "flat:last".into(),
            Pressed::Household(id) => format!("flat:h{id}"),
            Pressed::Skip => "skip:".into(),
            Pressed::Send => "send:".into(),
            Pressed::Abort => "abort:".into(),
        })
    }
}

/// Reads callback data the bot made; `None` for anything else.
pub fn decode(data: &str) -> Option<Pressed> {
    let (head, tail) = data.split_once(':')?;
    let pressed = match head {
        "group" => Pressed::Group(tail.parse().ok()?),
        "kind" => Pressed::Kind(Kind::ALL.into_iter().find(|k| k.as_str() == tail)?),
        "flat" if tail == "last" => Pressed::LastFlat,
        "flat" => Pressed::Household(tail.strip_prefix('h')?.parse().ok()?),
        "skip" if tail.is_empty() => Pressed::Skip,
        "send" if tail.is_empty() => Pressed::Send,
        "abort" if tail.is_empty() => Pressed::Abort,
        "keep" => Pressed::Keep(tail.strip_prefix('t')?.parse().ok()?),
        "board" => Pressed::Board(TaskNumber::parse(tail)?),
        "set" => Pressed::Set(SettingChange::parse(tail).ok()??),
        _ => {
            let action = Action::ALL.into_iter().find(|a| prefix(*a) == Some(head))?;
            match tail.strip_prefix('t') {
                Some(id) => Pressed::OfTask(action, id.parse().ok()?),
                None => Pressed::Task(action, TaskNumber::parse(tail)?),
            }
        }
    };
    // Only the spelling we write (no `#7`, `007` or `+7`).
    (pressed.data().as_deref() == Some(data)).then_some(pressed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn buttons_round_trip() {
        let n = TaskNumber::new(42).unwrap();
        let mut all: Vec<Pressed> = [
            Action::Claim,
            Action::Done,
            Action::Release,
            Action::Receive,
            Action::Missing,
        ]
        .into_iter()
        .flat_map(|a| [Pressed::Task(a, n), Pressed::OfTask(a, i64::MAX)])
        .collect();
        all.extend([
            Pressed::Keep(7),
            Pressed::Board(n),
            Pressed::Set(SettingChange::Board(true)),
            Pressed::Set(SettingChange::Language(crate::domain::Lang::Zh)),
            Pressed::Set(SettingChange::HideFlats(true)),
            Pressed::Set(SettingChange::Wait(
                crate::domain::Wait::AutoRelease,
                Some(chrono::TimeDelta::minutes(90)),
            )),
            Pressed::Set(SettingChange::Wait(crate::domain::Wait::Unclaimed, None)),
            Pressed::Set(SettingChange::DigestAt(chrono::NaiveTime::from_hms_opt(
                8, 0, 0,
            ))),
            Pressed::Set(SettingChange::DigestAt(None)),
            Pressed::Set(SettingChange::TimeZone("Europe/Berlin".parse().unwrap())),
        ]);
        all.extend(Kind::ALL.map(Pressed::Kind));
        all.extend([
            Pressed::Group(i64::MIN),
            Pressed::Group(-1_001_234_567_890),
            Pressed::LastFlat,
            Pressed::Household(i64::MAX),
            Pressed::Skip,
            Pressed::Send,
            Pressed::Abort,
        ]);
        for pressed in all {
            let data = pressed.data().unwrap();
            assert!(data.len() <= 64, "Telegram allows 64 bytes");
            assert_eq!(decode(&data), Some(pressed));
        }
        assert_eq!(encode(Action::Claim, n).as_deref(), Some("claim:42"));
        assert_eq!(encode(Action::Cancel, n), None);
    }

    #[test]
    fn forged_data_is_refused() {
        for data in [
            "",
            "claim",
            "claim:",
            "claim:0",
            "claim:#1",
            "cancel:1",
            "claim:1:2",
            "CLAIM:1",
            "done:-1",
            "release:99999999999",
            "group:",
            "group:+1",
            "group:007",
            "claim:07",
            "group:x",
            "kind:taxi",
            "kind:",
            "flat:",
            "flat:12-302",
            "send:1",
            "abort:x",
            "keep:",
            "keep:3",
            "board:",
            "board:0",
            "board:#3",
            "keep:t",
            "received:t-x",
            "set:",
            "set:colour blue",
            "set:digest_at 25:00",
        ] {
            assert_eq!(decode(data), None, "{data}");
        }
    }

    proptest! {
        #[test]
        fn any_data_decodes_without_panicking(data in ".{0,80}") {
            if let Some(pressed) = decode(&data) {
                prop_assert_eq!(pressed.data(), Some(data));
            }
        }
    }
}
