//! What Telegram shows of the bot before anyone writes: the command menu
//! of each scope (`setMyCommands` with `BotCommandScope`: residents'
//! commands in groups, admins' extra ones for chat administrators, the
//! private chat's own), and the bot's description and short description,
//! each in English and (for Chinese users) Chinese. Set at start.

use teloxide::prelude::*;
use teloxide::types::{BotCommand, BotCommandScope};

use super::TgBot;
use crate::domain::CommandName;
use crate::i18n::{Lang, Text};

/// Each scope's commands. A scope's menu replaces the wider one: the
/// administrators' lists the residents' commands too.
fn menus() -> [(BotCommandScope, Vec<CommandName>); 4] {
    let group = CommandName::MENU.to_vec();
    let admins = [&CommandName::MENU[..], &CommandName::ADMIN_MENU].concat();
    [
        (BotCommandScope::Default, group.clone()),
        (BotCommandScope::AllGroupChats, group),
        (BotCommandScope::AllChatAdministrators, admins),
        (
            BotCommandScope::AllPrivateChats,
            CommandName::PRIVATE_MENU.to_vec(),
        ),
    ]
}

/// Publishes every menu and the descriptions; a refusal is logged, never
/// fatal (the bot works without its menu).
pub async fn publish(bot: &TgBot) {
    for lang in [Lang::En, Lang::Zh] {
        // No language code: the English texts are everyone else's.
        let code = (lang == Lang::Zh).then_some("zh");
        for (scope, names) in menus() {
            let private = scope == BotCommandScope::AllPrivateChats;
            let commands: Vec<BotCommand> = names
                .iter()
                .map(|name| {
                    // In a private chat /need asks step by step.
                    let described = if private && *name == CommandName::Need {
                        CommandName::Start
                    } else {
                        *name
                    };
                    BotCommand::new(
                        name.as_str(),
                        Text::CommandDescription(described).render(lang),
                    )
                })
                .collect();
            let mut request = bot.set_my_commands(commands).scope(scope.clone());
            if let Some(code) = code {
                request = request.language_code(code);
            }
            if let Err(error) = request.await {
                tracing::error!(%error, lang = lang.as_str(), ?scope, "setMyCommands failed; a command menu may be missing");
            }
        }
        let mut description = bot
            .set_my_description()
            .description(Text::BotDescription.render(lang));
        if let Some(code) = code {
            description = description.language_code(code);
        }
        if let Err(error) = description.await {
            tracing::error!(%error, lang = lang.as_str(), "setMyDescription failed");
        }
        let mut short = bot
            .set_my_short_description()
            .short_description(Text::BotShortDescription.render(lang));
        if let Some(code) = code {
            short = short.language_code(code);
        }
        if let Err(error) = short.await {
            tracing::error!(%error, lang = lang.as_str(), "setMyShortDescription failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_menu_and_description_is_within_telegram_limits() {
        for lang in [Lang::En, Lang::Zh] {
            for (_, names) in menus() {
                assert!(names.len() <= 100);
                for name in names {
                    let description = Text::CommandDescription(name).render(lang);
                    // Telegram: a command of 1-32 characters, a description of 1-256.
                    assert!((1..=32).contains(&name.as_str().len()));
                    assert!(
                        (1..=256).contains(&description.chars().count()),
                        "{description}"
                    );
                }
            }
            assert!(Text::BotDescription.render(lang).chars().count() <= 512);
            assert!(Text::BotShortDescription.render(lang).chars().count() <= 120);
        }
    }
}
