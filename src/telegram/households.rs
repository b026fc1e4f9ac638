//! `/lead`, `/unlead`, `/household`, `/households` and `/forgetme`: the
//! commands about building leads, households and forgetting, translated
//! into calls of [`core::households`] and [`core::privacy`].
//!
//! Households hold the flats of those least able to go out: the list goes
//! only to an admin's or a lead's private chat, and a `/household` command
//! is deleted from the group once recorded, where the bot may.

use super::handlers::{person, reply_to, Asked, HandlerResult};
use super::{admins::Admins, keyboards, SharedContext, TgBot};
use crate::core::private::Keep;
use crate::core::{self, AdminCheck};
use crate::domain::{may_manage_households, DeepLink, HouseholdEntry, Person};
use crate::i18n::households::HouseholdText;
use crate::i18n::{self, Lang};
use crate::ledger::{Batch, LedgerResult, Outgoing};

impl Asked<'_> {
    /// `/lead` (`lead`) or `/unlead`, as a reply to the person's message.
    pub(super) async fn lead(&self, lead: bool) -> HandlerResult {
        let msg = self.msg;
        let chat_id = msg.chat.id.0;
        let target = msg
            .reply_to_message()
            .and_then(|replied| replied.from.as_ref())
            .filter(|user| !user.is_bot);
        let Some(target) = target else {
            return self.say(HouseholdText::LeadNeedsReply).await;
        };
        // No write lock held while Telegram is asked.
        self.batch.flush().await?;
        if !self.admins().is_admin(chat_id, self.sender.id).await {
            return self.say(HouseholdText::OnlyAdminsNameLeads).await;
        }
        let named = person(target);
        let reply = |changed: bool| {
            let text = HouseholdText::LeadSet {
                name: &named.name,
                lead,
                changed,
            };
            reply_to(msg, text.render(self.lang))
        };
        core::households::set_lead(self.batch, chat_id, &named, lead, reply).await
    }

    /// `/household FLAT [until DATE] [NOTE]` by an admin or a lead: kept,
    /// and the command (which shows the flat) deleted where the bot may.
    pub(super) async fn household(&self, entry: &HouseholdEntry) -> HandlerResult {
        let chat_id = self.msg.chat.id.0;
        // The command shows a flat and maybe a note: it goes either way.
        let delete = Outgoing::Delete {
            chat_id,
            message_id: self.msg.id.0,
        };
        if !self.manages_households(chat_id).await? {
            let refusal = HouseholdText::OnlyAdminsAndLeads.render(self.lang);
            return self.answer(vec![reply_to(self.msg, refusal), delete]).await;
        }
        let registered = reply_to(self.msg, HouseholdText::Registered.render(self.lang));
        let messages = vec![registered, delete];
        core::households::register(self.batch, chat_id, entry, self.sender.id, messages).await
    }

    /// `/households` in a group: the list goes to the sender's private
    /// chat, or a button opens it first.
    pub(super) async fn households(&self) -> HandlerResult {
        let chat_id = self.msg.chat.id.0;
        if !self.manages_households(chat_id).await? {
            return self.say(HouseholdText::OnlyAdminsAndLeads).await;
        }
        let reachable = self.ctx.ledger.reachable(self.sender.id).await?;
        let mut messages = Vec::new();
        if reachable {
            messages.push(reply_to(
                self.msg,
                HouseholdText::SentPrivately.render(self.lang),
            ));
            let title = self.msg.chat.title().unwrap_or_default();
            messages.extend(list(self.ctx, self.sender, self.lang, chat_id, title).await?);
        } else {
            let mut reply = reply_to(self.msg, HouseholdText::OpenChatFirst.render(self.lang));
            if let Outgoing::Message { buttons, .. } = &mut reply {
                let link = keyboards::deep_link(self.bot_username, DeepLink::Households(chat_id));
                *buttons =
                    keyboards::url_button(HouseholdText::ButtonOpenChat.render(self.lang), link);
            }
            messages.push(reply);
        }
        self.answer(messages).await
    }

    /// `/forgetme`: at once in a private chat; a group is told where.
    pub(super) async fn forget_me(&self) -> HandlerResult {
        if !self.msg.chat.is_private() {
            let mut reply = reply_to(self.msg, HouseholdText::ForgetMeThere.render(self.lang));
            if let Outgoing::Message { buttons, .. } = &mut reply {
                let link = format!("https://t.me/{}", self.bot_username);
                *buttons =
                    keyboards::url_button(HouseholdText::ButtonOpenChat.render(self.lang), link);
            }
            return self.answer(vec![reply]).await;
        }
        let lang = self.lang;
        let reply = |tasks| reply_to(self.msg, HouseholdText::Forgotten(tasks).render(lang));
        core::privacy::forget_me(self.batch, self.sender.id, reply).await?;
        Ok(())
    }

    /// Whether the sender is a lead of the chat, or (asked of Telegram with
    /// no write lock held) an admin.
    async fn manages_households(&self, chat_id: i64) -> LedgerResult<bool> {
        let lead = core::households::is_lead(&self.ctx.ledger, chat_id, self.sender.id).await?;
        if lead {
            return Ok(true);
        }
        self.batch.flush().await?;
        let admin = self.admins().is_admin(chat_id, self.sender.id).await;
        Ok(may_manage_households(admin, lead))
    }

    fn admins(&self) -> Admins<'_> {
        Admins { bot: self.bot }
    }

    async fn say(&self, text: HouseholdText<'_>) -> HandlerResult {
        self.answer(vec![reply_to(self.msg, text.render(self.lang))])
            .await
    }
}

/// A chat's households as messages to `to`'s private chat (split within
/// Telegram's limit).
async fn list(
    ctx: &SharedContext,
    to: &Person,
    lang: Lang,
    chat_id: i64,
    title: &str,
) -> LedgerResult<Vec<Outgoing>> {
    let households = core::households::list(&ctx.ledger, chat_id).await?;
    let html = HouseholdText::List {
        group: title,
        households: &households,
    }
    .render(lang);
    Ok(i18n::pages(&html)
        .into_iter()
        .map(|page| Outgoing::Message {
            chat_id: to.id.0,
            thread_id: None,
            reply_to: None,
            html: page,
            buttons: Vec::new(),
        })
        .collect())
}

/// `/households` in a private chat, or its deep link (`only`: that
/// group): the households of every group the person leads or administers.
pub async fn households_privately(
    bot: &TgBot,
    ctx: &SharedContext,
    batch: &Batch,
    to: &Person,
    lang: Lang,
    only: Option<i64>,
) -> HandlerResult {
    batch.flush().await?;
    let groups = match only {
        Some(chat_id) => vec![(chat_id, ctx.ledger.chat_title(chat_id).await?)],
        None => {
            let offered = core::private::GROUPS_OFFERED;
            ctx.ledger.groups_to_offer(to.id, offered).await?
        }
    };
    let admins = Admins { bot };
    let mut messages = Vec::new();
    for (chat_id, title) in groups {
        let lead = core::households::is_lead(&ctx.ledger, chat_id, to.id).await?;
        let manages = lead || admins.is_admin(chat_id, to.id).await;
        if manages {
            let title = title.unwrap_or_else(|| chat_id.to_string());
            messages.extend(list(ctx, to, lang, chat_id, &title).await?);
        }
    }
    if messages.is_empty() {
        messages.push(Outgoing::Message {
            chat_id: to.id.0,
            thread_id: None,
            reply_to: None,
            html: HouseholdText::NoGroupToList.render(lang),
            buttons: Vec::new(),
        });
    }
    core::private::step(batch, to.id, Some(lang), Keep::Unchanged, messages).await
}
