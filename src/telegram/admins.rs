//! Who administers a chat: `getChatMember` status `creator` or
//! `administrator`, asked at the time of the action.
//!
//! Asked only when someone tries to act on a task that is not theirs, or to
//! change a setting, so most button presses cost no extra Bot API call.
//! Never cached: a promotion or a demotion counts from the next action on
//! (interface.md, *Chat*).

use teloxide::prelude::*;

use super::TgBot;
use crate::core::AdminCheck;
use crate::domain::UserId as DomainUser;

/// Asks Telegram through the handlers' bot.
pub struct Admins<'a> {
    pub bot: &'a TgBot,
}

impl AdminCheck for Admins<'_> {
    async fn is_admin(&self, chat_id: i64, user: DomainUser) -> bool {
        // A private chat has no admins besides its one user, who acts as themself.
        if chat_id > 0 {
            return false;
        }
        let Ok(user_id) = u64::try_from(user.0) else {
            return false;
        };
        match self
            .bot
            .get_chat_member(ChatId(chat_id), UserId(user_id))
            .await
        {
            Ok(member) => member.kind.is_privileged(),
            Err(error) => {
                // Refusing is the safe answer; the user is told the task is not theirs.
                tracing::warn!(chat_id, user = user.0, %error, "getChatMember failed; treating as not an admin");
                false
            }
        }
    }
}
