//! The buttons the bot shows: under an announcement, which depend only on
//! the task's status; the board's; and those of the private-request steps and links,
//! kept in the outbox as [`Buttons`] and turned into Telegram's markup by
//! [`markup`] when sent.
//!
//! A claimed task keeps a harmless button where the claim button was: a
//! quick second tap on "I'll do it" lands after the edit, on whatever is
//! now under the finger, and must not finish or give up the task
//! (interface.md, *Input as people really type it*). That button is
//! `claim:N` again, which for its claimer only says the task is theirs.

use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use super::callbacks::{self, Pressed};
use crate::domain::{Action, DeepLink, Kind, Notice, Status, TaskNumber, TaskState};
use crate::i18n::board::BoardText;
use crate::i18n::followup::FollowText;
use crate::i18n::private::PrivateText;
use crate::i18n::{Lang, Text};
use crate::ledger::outbox::{Button, Buttons, Press};

/// The keyboard for a task in `state`: a done one keeps its requester's
/// receipt buttons until one is used; `None` once nothing is left to press.
pub fn for_task(number: TaskNumber, state: TaskState, lang: Lang) -> Option<InlineKeyboardMarkup> {
    let label = |text: Text| text.render(lang);
    let follow = |text: FollowText| text.render(lang);
    let rows: Vec<Vec<(Action, String)>> = match state.status {
        Status::Open => vec![vec![(Action::Claim, label(Text::ButtonClaim))]],
        Status::Claimed => vec![
            vec![(Action::Claim, label(Text::ButtonClaimed))],
            vec![
                (Action::Done, label(Text::ButtonDone)),
                (Action::Release, label(Text::ButtonRelease)),
            ],
        ],
        Status::Done if !state.received => vec![vec![
            (Action::Receive, follow(FollowText::ButtonReceived)),
            (Action::Missing, follow(FollowText::ButtonNotReceived)),
        ]],
        Status::Done | Status::Cancelled => return None,
    };
    let rows = rows.into_iter().map(|row| {
        row.into_iter()
            .filter_map(|(action, label)| {
                let data = callbacks::encode(action, number)?;
                Some(InlineKeyboardButton::callback(label, data))
            })
            .collect::<Vec<_>>()
    });
    Some(InlineKeyboardMarkup::new(rows))
}

/// The buttons under a notice about the task with ledger id `task_id`:
/// the question's `keep:` and `release:`, the requester's receipt.
pub fn for_notice(notice: Notice, task_id: i64, lang: Lang) -> Buttons {
    let pressed = |pressed: Pressed, text: FollowText| Button {
        label: text.render(lang),
        press: Press::Callback(pressed.data().unwrap_or_default()),
    };
    match notice {
        Notice::StillOnIt => vec![vec![
            pressed(Pressed::Keep(task_id), FollowText::ButtonKeep),
            pressed(
                Pressed::OfTask(Action::Release, task_id),
                FollowText::ButtonRelease,
            ),
        ]],
        Notice::Done => vec![vec![
            pressed(
                Pressed::OfTask(Action::Receive, task_id),
                FollowText::ButtonReceived,
            ),
            pressed(
                Pressed::OfTask(Action::Missing, task_id),
                FollowText::ButtonNotReceived,
            ),
        ]],
        _ => Vec::new(),
    }
}

/// Claim buttons for the tasks `numbers` (the unclaimed reminder), four to
/// a row.
pub fn claims(numbers: &[TaskNumber]) -> Buttons {
    numbers
        .chunks(4)
        .map(|row| {
            row.iter()
                .map(|number| Button {
                    label: format!("🙋 {number}"),
                    press: Press::Callback(
                        Pressed::Task(Action::Claim, *number)
                            .data()
                            .unwrap_or_default(),
                    ),
                })
                .collect()
        })
        .collect()
}

/// Telegram's markup for `buttons`; a URL that does not parse is left out
/// (ours always parse).
pub fn markup(buttons: &Buttons) -> Option<InlineKeyboardMarkup> {
    if buttons.is_empty() {
        return None;
    }
    let rows = buttons.iter().map(|row| {
        row.iter()
            .filter_map(|button| match &button.press {
                Press::Callback(data) => Some(InlineKeyboardButton::callback(
                    button.label.clone(),
                    data.clone(),
                )),
                Press::Url(url) => url
                    .parse()
                    .ok()
                    .map(|url| InlineKeyboardButton::url(button.label.clone(), url)),
            })
            .collect::<Vec<_>>()
    });
    Some(InlineKeyboardMarkup::new(rows))
}

/// The deep link `t.me/<bot_username>?start=<payload>` that opens the
/// private chat with the bot and asks it for `link`.
pub fn deep_link(bot_username: &str, link: DeepLink) -> String {
    format!("https://t.me/{bot_username}?start={}", link.payload())
}

/// Buttons per row on the board.
const BOARD_ROW: usize = 5;

/// The board's buttons: "ask for help" opening `ask_link` (the private
/// chat, naming the group), then a `board:N` claim button for each of
/// `claimable`, in rows (at most 1 + [`crate::i18n::board::MOST_CLAIM_BUTTONS`],
/// within Telegram's 100).
pub fn for_board(claimable: &[TaskNumber], ask_link: String, lang: Lang) -> Buttons {
    let mut rows = url_button(BoardText::ButtonAsk.render(lang), ask_link);
    rows.extend(claimable.chunks(BOARD_ROW).map(|row| {
        row.iter()
            .filter_map(|number| {
                pressing(
                    BoardText::ButtonClaim(*number).render(lang),
                    Pressed::Board(*number),
                )
            })
            .collect()
    }));
    rows
}

/// One button opening `url`.
pub fn url_button(label: String, url: String) -> Buttons {
    vec![vec![Button {
        label,
        press: Press::Url(url),
    }]]
}

fn pressing(label: String, pressed: Pressed) -> Option<Button> {
    Some(Button {
        label,
        press: Press::Callback(pressed.data()?),
    })
}

/// The steps' buttons: `rows` of choices, and a row to drop the request.
fn step(rows: Vec<Vec<(String, Pressed)>>, lang: Lang) -> Buttons {
    let abort = (PrivateText::ButtonAbort.render(lang), Pressed::Abort);
    rows.into_iter()
        .chain([vec![abort]])
        .map(|row| {
            row.into_iter()
                .filter_map(|(label, pressed)| pressing(label, pressed))
                .collect()
        })
        .collect()
}

/// A button per group the person may ask in (`chat id`, title).
pub fn groups(groups: &[(i64, String)], lang: Lang) -> Buttons {
    let rows = groups
        .iter()
        .map(|(chat_id, title)| vec![(title.clone(), Pressed::Group(*chat_id))])
        .collect();
    step(rows, lang)
}

/// A button per kind, two to a row.
pub fn kinds(lang: Lang) -> Buttons {
    let rows = Kind::ALL
        .chunks(2)
        .map(|pair| {
            pair.iter()
                .map(|kind| (Text::KindName(*kind).render(lang), Pressed::Kind(*kind)))
                .collect()
        })
        .collect();
    step(rows, lang)
}

/// The most registered households offered as buttons.
pub const HOUSEHOLDS_OFFERED: usize = 20;

/// The flat used last time, if any, and registered `households` (id,
/// flat), to tap instead of typing.
pub fn flats(last: Option<&str>, households: &[(i64, String)], lang: Lang) -> Buttons {
    let last = last.map(|flat| {
        (
            PrivateText::ButtonFlat(flat).render(lang),
            Pressed::LastFlat,
        )
    });
    let registered = households
        .iter()
        .take(HOUSEHOLDS_OFFERED)
        .map(|(id, flat)| {
            let label = PrivateText::ButtonFlat(flat).render(lang);
            (label, Pressed::Household(*id))
        });
    let rows = last
        .into_iter()
        .chain(registered)
        .map(|b| vec![b])
        .collect();
    step(rows, lang)
}

/// Skip the details.
pub fn skip(lang: Lang) -> Buttons {
    step(
        vec![vec![(PrivateText::ButtonSkip.render(lang), Pressed::Skip)]],
        lang,
    )
}

/// Send the request.
pub fn send(lang: Lang) -> Buttons {
    step(
        vec![vec![(PrivateText::ButtonSend.render(lang), Pressed::Send)]],
        lang,
    )
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
        let state = |status, received| TaskState {
            status,
            requester: crate::domain::UserId(1),
            claimer: Some(crate::domain::UserId(2)),
            received,
        };
        let open = for_task(n, state(Status::Open, false), Lang::En).unwrap();
        let claimed = for_task(n, state(Status::Claimed, false), Lang::En).unwrap();
        assert_eq!(data(&open), [["claim:1"]]);
        assert_eq!(data(&claimed)[0], ["claim:1"]);
        assert_eq!(data(&claimed)[1], ["done:1", "release:1"]);
        let done = for_task(n, state(Status::Done, false), Lang::En).unwrap();
        assert_eq!(data(&done), [["received:1", "missing:1"]]);
        assert!(for_task(n, state(Status::Done, true), Lang::En).is_none());
        assert!(for_task(n, state(Status::Cancelled, false), Lang::En).is_none());
    }
}

#[cfg(test)]
mod step_tests {
    use super::*;

    #[test]
    fn every_step_can_be_dropped_and_stays_within_telegram_limits() {
        let many: Vec<(i64, String)> = (0..10).map(|i| (-i, format!("group {i}"))).collect();
        for buttons in [
            groups(&many, Lang::Zh),
            kinds(Lang::En),
            flats(
                Some(&"楼".repeat(32)),
                &[(i64::MAX, "楼".repeat(32))],
                Lang::En,
            ),
            flats(None, &vec![(1, "1-1".to_string()); 50], Lang::En),
            skip(Lang::Zh),
            send(Lang::En),
        ] {
            let last = buttons.last().unwrap();
            assert_eq!(last[0].press, Press::Callback("abort:".into()));
            assert!(buttons.iter().map(Vec::len).sum::<usize>() <= 100);
            let markup = markup(&buttons).unwrap();
            assert_eq!(markup.inline_keyboard.len(), buttons.len());
        }
        assert!(markup(&Vec::new()).is_none());
        let asked = DeepLink::Ask {
            chat_id: -100,
            thread_id: Some(7),
            kind: None,
        };
        let link = deep_link("linli_bot", asked);
        assert_eq!(link, "https://t.me/linli_bot?start=ask_-100_t7");
        assert!(markup(&url_button("x".into(), link)).is_some());
    }
}
