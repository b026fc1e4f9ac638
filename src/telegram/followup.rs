//! The follow-through at the chat edge: who may confirm a receipt, the
//! `keep:` button of "still on it?", and `/settings` with its buttons.

use teloxide::types::{CallbackQuery, MaybeInaccessibleMessage};

use super::admins::Admins;
use super::callbacks::Pressed;
use super::handlers::button_answer;
use super::SharedContext;
use crate::core::{self, AdminCheck};
use crate::domain::{Lang, Reminders, SettingChange, UserId, Wait};
use crate::i18n::board::BoardText;
use crate::i18n::followup::{FollowText, SettingsView};
use crate::i18n::Text;
use crate::ledger::outbox::{Button, Buttons, Press};
use crate::ledger::{Batch, Ledger, LedgerResult, Outgoing, TaskRecord};

/// Who may change a task: a chat admin; for the requester's receipt, also
/// a building lead of the chat.
pub struct MayConfirm<'a> {
    pub admins: Admins<'a>,
    pub ledger: &'a Ledger,
    /// Whether building leads count (receipts).
    pub leads_count: bool,
}

impl AdminCheck for MayConfirm<'_> {
    async fn is_admin(&self, chat_id: i64, user: UserId) -> bool {
        if self.leads_count {
            match core::households::is_lead(self.ledger, chat_id, user).await {
                Ok(true) => return true,
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "cannot read the leads; asking Telegram"),
            }
        }
        self.admins.is_admin(chat_id, user).await
    }
}

/// `keep:` under "still on it?": the claimer keeps the task and is asked
/// again later; anyone else is told it is not theirs.
pub async fn keep(
    ctx: &SharedContext,
    batch: &Batch,
    query: &CallbackQuery,
    task_id: i64,
    user: UserId,
    lang: Lang,
) -> LedgerResult<()> {
    let respond = |held: Option<(&TaskRecord, &Reminders)>| {
        let html = match held {
            Some((task, reminders)) => {
                FollowText::Kept(task.number, reminders.check_claim_after).render(lang)
            }
            None => FollowText::NoLongerYours.render(lang),
        };
        vec![button_answer(query, &html, held.is_none())]
    };
    core::followup::keep(batch, task_id, user, &ctx.reminders(), respond).await?;
    Ok(())
}

/// The settings of a chat as `/settings` shows them.
pub async fn view(ctx: &SharedContext, chat_id: i64) -> LedgerResult<SettingsView> {
    let lang = core::reads::chat_language(&ctx.ledger, chat_id, ctx.settings.chat.default_language)
        .await?;
    let timing = ctx.ledger.chat_timing(chat_id).await?;
    Ok(SettingsView {
        lang,
        hide_flats: core::reads::hides_flats(&ctx.ledger, chat_id).await?,
        board: timing.board.on,
        reminders: timing.over(&ctx.reminders()),
    })
}

/// `view` with `change` made.
pub fn changed(mut view: SettingsView, change: SettingChange) -> SettingsView {
    let r = &mut view.reminders;
    match change {
        SettingChange::Language(lang) => view.lang = lang,
        SettingChange::HideFlats(on) => view.hide_flats = on,
        SettingChange::Board(on) => view.board = on,
        SettingChange::TimeZone(zone) => r.time_zone = zone,
        SettingChange::Wait(Wait::Unclaimed, after) => r.unclaimed_after = after,
        SettingChange::Wait(Wait::CheckClaim, after) => r.check_claim_after = after,
        SettingChange::Wait(Wait::AutoRelease, after) => r.auto_release_after = after,
        SettingChange::DigestAt(at) => r.digest_at = at,
    }
    view
}

/// The choices offered as buttons, row by row (the rest are typed).
const CHOICES: [(&str, &[&str]); 7] = [
    ("language", &["en", "zh"]),
    ("hide_flats", &["on", "off"]),
    ("unclaimed_after", &["off", "30m", "1h", "3h"]),
    ("check_claim_after", &["off", "1h", "3h", "6h"]),
    ("auto_release_after", &["off", "1h", "2h", "6h"]),
    ("digest_at", &["off", "08:00", "20:00"]),
    ("board", &["on", "off"]),
];

/// The buttons under `/settings`: each choice, the current one ticked.
pub fn buttons(view: &SettingsView) -> Buttons {
    CHOICES
        .iter()
        .map(|(key, values)| {
            values
                .iter()
                .filter_map(|value| {
                    let change = SettingChange::parse(&format!("{key} {value}")).ok()??;
                    let current = changed(*view, change).same_as(view);
                    let tick = if current { "✓ " } else { "" };
                    Some(Button {
                        label: format!("{tick}{} {value}", short(key)),
                        press: Press::Callback(Pressed::Set(change).data()?),
                    })
                })
                .collect()
        })
        .collect()
}

/// A key shortened for a button label.
fn short(key: &str) -> &str {
    match key {
        "language" => "🌐",
        "hide_flats" => "🔒",
        "unclaimed_after" => "⏰",
        "check_claim_after" => "❔",
        "auto_release_after" => "↩️",
        "board" => "📋",
        _ => "🗓",
    }
}

trait Same {
    fn same_as(&self, other: &Self) -> bool;
}

impl Same for SettingsView {
    fn same_as(&self, other: &Self) -> bool {
        self.lang == other.lang
            && self.hide_flats == other.hide_flats
            && self.board == other.board
            && self.reminders == other.reminders
    }
}

/// A settings button pressed in a group: an admin's change is kept, the
/// panel brought up to date and the change said; anyone else is refused.
pub async fn set_pressed(
    bot: &super::TgBot,
    ctx: &SharedContext,
    batch: &Batch,
    query: &CallbackQuery,
    change: SettingChange,
    lang: Lang,
) -> LedgerResult<()> {
    let Some(MaybeInaccessibleMessage::Regular(message)) = &query.message else {
        let answer = button_answer(query, &Text::UnknownButton.render(lang), true);
        return core::reply(batch, None, vec![answer]).await;
    };
    let chat_id = message.chat.id.0;
    let user = super::handlers::person(&query.from).id;
    // No write lock held while Telegram is asked.
    batch.flush().await?;
    if !(Admins { bot }).is_admin(chat_id, user).await {
        let answer = button_answer(query, &Text::AdminsOnly.render(lang), true);
        return core::reply(batch, None, vec![answer]).await;
    }
    let may_delete = match (change, &message.from) {
        (SettingChange::HideFlats(true), Some(me)) => {
            let me = super::handlers::person(me).id;
            (Admins { bot }).bot_may_delete(chat_id, me).await
        }
        _ => false,
    };
    let view = changed(view(ctx, chat_id).await?, change);
    let replies = vec![
        button_answer(query, &said(change, may_delete, lang), false),
        Outgoing::Edit {
            chat_id,
            message_id: message.id.0,
            // In the language of whoever pressed, as `/settings` answered them.
            html: FollowText::Settings(&view).render(lang),
            buttons: buttons(&view),
        },
    ];
    let title = message.chat.title();
    core::chats::set(batch, chat_id, title, change, &ctx.reminders(), replies).await
}

/// What a settings change is said as; turning hide_flats on also says
/// whether the bot may delete the `/need` messages (`may_delete`).
pub fn said(change: SettingChange, may_delete: bool, lang: Lang) -> String {
    match change {
        SettingChange::Language(new) => Text::LanguageSet(new).render(lang),
        SettingChange::HideFlats(on) => Text::HideFlatsSet(on, may_delete).render(lang),
        SettingChange::Board(on) => BoardText::ModeSet(on).render(lang),
        _ => FollowText::SettingSet(change).render(lang),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reminders::parse_wait;

    #[test]
    fn every_settings_button_reads_back_and_fits() {
        let view = SettingsView {
            lang: Lang::Zh,
            hide_flats: false,
            board: true,
            reminders: crate::domain::Reminders {
                unclaimed_after: parse_wait("30m").flatten(),
                check_claim_after: parse_wait("3h").flatten(),
                auto_release_after: None,
                digest_at: chrono::NaiveTime::from_hms_opt(20, 0, 0),
                time_zone: chrono_tz::Asia::Shanghai,
            },
        };
        let rows = buttons(&view);
        assert_eq!(rows.len(), CHOICES.len());
        let ticked: Vec<&str> = rows
            .iter()
            .flatten()
            .filter(|b| b.label.starts_with('✓'))
            .map(|b| b.label.as_str())
            .collect();
        assert_eq!(
            ticked,
            [
                "✓ 🌐 zh",
                "✓ 🔒 off",
                "✓ ⏰ 30m",
                "✓ ❔ 3h",
                "✓ ↩️ off",
                "✓ 🗓 20:00",
                "✓ 📋 on"
            ]
        );
        for button in rows.iter().flatten() {
            let Press::Callback(data) = &button.press else {
                panic!("a settings button opens no URL");
            };
            assert!(data.len() <= 64);
            assert!(matches!(
                super::super::callbacks::decode(data),
                Some(Pressed::Set(_))
            ));
        }
    }
}
