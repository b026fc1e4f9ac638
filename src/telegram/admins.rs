//! Who administers a chat: `getChatMember` status `creator` or
//! `administrator`, trusted for `chat.admin_cache_seconds`.
//!
//! Asked only when someone tries to act on a task that is not theirs, so
//! most button presses cost no extra Bot API call.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use teloxide::prelude::*;

use super::TgBot;
use crate::domain::UserId as DomainUser;
use crate::service::AdminCheck;

pub struct AdminCache {
    ttl: Duration,
    known: Mutex<HashMap<(i64, i64), (bool, Instant)>>,
}

impl AdminCache {
    pub fn new(ttl: Duration) -> Self {
        AdminCache {
            ttl,
            known: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, key: (i64, i64)) -> Option<bool> {
        let known = self
            .known
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        known
            .get(&key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(is_admin, _)| *is_admin)
    }

    fn remember(&self, key: (i64, i64), is_admin: bool) {
        let mut known = self
            .known
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        known.retain(|_, (_, at)| at.elapsed() < self.ttl);
        known.insert(key, (is_admin, Instant::now()));
    }

    /// Forgets a chat's admins (after it moved to a new id, say).
    pub fn forget_chat(&self, chat_id: i64) {
        let mut known = self
            .known
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        known.retain(|(chat, _), _| *chat != chat_id);
    }
}

/// The cache together with the bot that fills it.
pub struct Admins<'a> {
    pub cache: &'a AdminCache,
    pub bot: &'a TgBot,
}

impl AdminCheck for Admins<'_> {
    async fn is_admin(&self, chat_id: i64, user: DomainUser) -> bool {
        // A private chat has no admins besides its one user, who acts as themself.
        if chat_id > 0 {
            return false;
        }
        let key = (chat_id, user.0);
        if let Some(is_admin) = self.cache.cached(key) {
            return is_admin;
        }
        let Ok(user_id) = u64::try_from(user.0) else {
            return false;
        };
        match self
            .bot
            .get_chat_member(ChatId(chat_id), UserId(user_id))
            .await
        {
            Ok(member) => {
                let is_admin = member.kind.is_privileged();
                self.cache.remember(key, is_admin);
                is_admin
            }
            Err(error) => {
                // Refusing is the safe answer; the user is told the task is not theirs.
                tracing::warn!(chat_id, user = user.0, %error, "getChatMember failed; treating as not an admin");
                false
            }
        }
    }
}
