//! Who administers a chat: `getChatMember` status `creator` or
//! `administrator`, asked at the time of the action; and who belongs to
//! one (a private request is filed only for a member).
//!
//! Asked only when someone tries to act on a task that is not theirs, or to
//! change a setting, so most button presses cost no extra Bot API call.
//! Never cached: a promotion or a demotion counts from the next action on
//! (interface.md, *Chat*).

use teloxide::prelude::*;
use teloxide::types::ChatMember;

use super::TgBot;
use crate::core::private::MemberCheck;
use crate::core::AdminCheck;
use crate::domain::UserId as DomainUser;

/// Asks Telegram through the handlers' bot.
pub struct Admins<'a> {
    pub bot: &'a TgBot,
}

impl Admins<'_> {
    /// What Telegram says `user` is in group `chat_id`; `None` for a
    /// private chat, or when Telegram could not say (logged).
    async fn member(&self, chat_id: i64, user: DomainUser) -> Option<ChatMember> {
        // A private chat has no admins or members besides its one user.
        if chat_id > 0 {
            return None;
        }
        let user_id = u64::try_from(user.0).ok()?;
        match self
            .bot
            .get_chat_member(ChatId(chat_id), UserId(user_id))
            .await
        {
            Ok(member) => Some(member),
            Err(error) => {
                // Refusing is the safe answer; the user is told why.
                tracing::warn!(chat_id, user = user.0, %error, "getChatMember failed; treating as neither admin nor member");
                None
            }
        }
    }
}

impl Admins<'_> {
    /// Whether the bot (`bot_id`) may delete others' messages in a group.
    pub async fn bot_may_delete(&self, chat_id: i64, bot_id: DomainUser) -> bool {
        self.member(chat_id, bot_id)
            .await
            .is_some_and(|m| m.kind.can_delete_messages())
    }
}

impl AdminCheck for Admins<'_> {
    async fn is_admin(&self, chat_id: i64, user: DomainUser) -> bool {
        self.member(chat_id, user)
            .await
            .is_some_and(|m| m.kind.is_privileged())
    }
}

impl MemberCheck for Admins<'_> {
    /// Creator, administrator, member, or restricted and still a member.
    async fn is_member(&self, chat_id: i64, user: DomainUser) -> bool {
        self.member(chat_id, user)
            .await
            .is_some_and(|m| m.kind.is_present())
    }
}
