//! The buttons under an announcement, which depend only on the task's status.

use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use super::callbacks;
use crate::domain::{Action, Status, TaskNumber};
use crate::i18n::{Lang, Text};

/// The keyboard for a task in `status`; `None` once it is finished.
pub fn for_task(number: TaskNumber, status: Status, lang: Lang) -> Option<InlineKeyboardMarkup> {
    let buttons: &[(Action, Text)] = match status {
        Status::Open => &[(Action::Claim, Text::ButtonClaim)],
        Status::Claimed => &[
            (Action::Done, Text::ButtonDone),
            (Action::Release, Text::ButtonRelease),
        ],
        Status::Done | Status::Cancelled => return None,
    };
    let row = buttons
        .iter()
        .filter_map(|(action, label)| {
            let data = callbacks::encode(*action, number)?;
            Some(InlineKeyboardButton::callback(label.render(lang), data))
        })
        .collect::<Vec<_>>();
    Some(InlineKeyboardMarkup::new([row]))
}
