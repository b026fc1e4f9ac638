//! The buttons under an announcement, which depend only on the task's status.
//!
//! A claimed task keeps a harmless button where the claim button was: a
//! quick second tap on "I'll do it" lands after the edit, on whatever is
//! now under the finger, and must not finish or give up the task
//! (interface.md, *Input as people really type it*). That button is
//! `claim:N` again, which for its claimer only says the task is theirs.

use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use super::callbacks;
use crate::domain::{Action, Status, TaskNumber};
use crate::i18n::{Lang, Text};

/// The keyboard for a task in `status`; `None` once it is finished.
pub fn for_task(number: TaskNumber, status: Status, lang: Lang) -> Option<InlineKeyboardMarkup> {
    let rows: &[&[(Action, Text)]] = match status {
        Status::Open => &[&[(Action::Claim, Text::ButtonClaim)]],
        Status::Claimed => &[
            &[(Action::Claim, Text::ButtonClaimed)],
            &[
                (Action::Done, Text::ButtonDone),
                (Action::Release, Text::ButtonRelease),
            ],
        ],
        Status::Done | Status::Cancelled => return None,
    };
    let rows = rows.iter().map(|row| {
        row.iter()
            .filter_map(|(action, label)| {
                let data = callbacks::encode(*action, number)?;
                Some(InlineKeyboardButton::callback(label.render(lang), data))
            })
            .collect::<Vec<_>>()
    });
    Some(InlineKeyboardMarkup::new(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(keyboard: &InlineKeyboardMarkup) -> Vec<Vec<String>> {
        use teloxide::types::InlineKeyboardButtonKind::CallbackData;
        keyboard
            .inline_keyboard
            .iter()
            .map(|row| {
                row.iter()
                    .map(|b| match &b.kind {
                        CallbackData(data) => data.clone(),
                        other => panic!("{other:?}"),
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn the_button_under_the_finger_after_a_claim_is_a_claim_again() {
        let n = TaskNumber::new(1).unwrap();
        let open = for_task(n, Status::Open, Lang::En).unwrap();
        let claimed = for_task(n, Status::Claimed, Lang::En).unwrap();
        assert_eq!(data(&open), [["claim:1"]]);
        assert_eq!(data(&claimed)[0], ["claim:1"]);
        assert_eq!(data(&claimed)[1], ["done:1", "release:1"]);
        assert!(for_task(n, Status::Done, Lang::En).is_none());
    }
}
