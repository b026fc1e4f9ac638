//! The data carried by the bot's buttons: `claim:N`, `done:N`, `release:N`.
//!
//! The one codec for it: keyboards encode with [`encode`], the callback
//! handler decodes with [`decode`]. Anything else is forged or stale.

use crate::domain::{Action, TaskNumber};

fn prefix(action: Action) -> Option<&'static str> {
    match action {
        Action::Claim => Some("claim"),
        Action::Done => Some("done"),
        Action::Release => Some("release"),
        // Cancelling is a command only: a button would be too easy to press.
        Action::Cancel => None,
    }
}

/// The callback data of a button doing `action` to task `number`.
/// `None` for actions that have no button.
pub fn encode(action: Action, number: TaskNumber) -> Option<String> {
    prefix(action).map(|p| format!("{p}:{}", number.get()))
}

/// Reads callback data the bot made; `None` for anything else.
pub fn decode(data: &str) -> Option<(Action, TaskNumber)> {
    let (head, tail) = data.split_once(':')?;
    let action = [Action::Claim, Action::Done, Action::Release]
        .into_iter()
        .find(|a| prefix(*a) == Some(head))?;
    if tail.starts_with('#') {
        return None;
    }
    Some((action, TaskNumber::parse(tail)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn buttons_round_trip() {
        let n = TaskNumber::new(42).unwrap();
        for action in [Action::Claim, Action::Done, Action::Release] {
            let data = encode(action, n).unwrap();
            assert!(data.len() <= 64, "Telegram allows 64 bytes");
            assert_eq!(decode(&data), Some((action, n)));
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
        ] {
            assert_eq!(decode(data), None, "{data}");
        }
    }

    proptest! {
        #[test]
        fn any_data_decodes_without_panicking(data in ".{0,80}") {
            if let Some((action, n)) = decode(&data) {
                prop_assert_eq!(encode(action, n), Some(data));
            }
        }
    }
}
