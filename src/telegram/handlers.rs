//! One function per kind of Update. Each turns the Update into domain and
//! ledger calls, and their results into replies, edits and button answers.
//!
//! A handler never fails outward: a ledger error is logged with its cause
//! and the sender is told something went wrong; a panic is caught by the
//! schema. Nothing the sender does goes unanswered, except what is not
//! addressed to the bot.

use chrono::Utc;
use teloxide::prelude::*;
use teloxide::types::{ChatMemberUpdated, MaybeInaccessibleMessage, Me, User};

use super::send::{self, Destination};
use super::{admins::Admins, announcements, callbacks, SharedContext, TgBot};
use crate::domain::{
    parse_command, Action, Command, NewTask, Parsed, TaskNumber, UserId as DomainUser,
};
use crate::i18n::{Lang, Text};
use crate::ledger::{LedgerResult, NewTaskRecord, Person};
use crate::service::{self, Outcome, Request};

/// Telegram's stand-in sender for anonymous group admins.
const GROUP_ANONYMOUS_BOT: u64 = 1087968824;

fn person(user: &User) -> Person {
    let full_name = user.full_name();
    let name = if full_name.trim().is_empty() {
        user.username
            .clone()
            .unwrap_or_else(|| format!("user {}", user.id))
    } else {
        full_name
    };
    Person {
        id: DomainUser(i64::try_from(user.id.0).unwrap_or(i64::MAX)),
        name,
    }
}

fn lang_of(ctx: &SharedContext, user: Option<&User>) -> Lang {
    Lang::for_sender(
        user.and_then(|u| u.language_code.as_deref()),
        ctx.settings.chat.default_language,
    )
}

/// Where answers to `msg` go: its chat, its forum topic, replying to it.
fn answer_to(msg: &Message) -> Destination {
    Destination {
        chat_id: msg.chat.id,
        thread_id: msg.thread_id.filter(|_| msg.is_topic_message),
        reply_to: Some(msg.id),
    }
}

async fn reply(ctx: &SharedContext, msg: &Message, html: &str) {
    send::send_html(ctx, answer_to(msg), html, None).await;
}

/// A new message: chat migrations, and commands in its text or caption.
pub async fn on_message(bot: TgBot, ctx: SharedContext, me: Me, msg: Message) {
    if let Some(to) = msg.migrate_to_chat_id() {
        return migrate(&ctx, msg.chat.id, *to).await;
    }
    if let Some(from) = msg.migrate_from_chat_id() {
        return migrate(&ctx, *from, msg.chat.id).await;
    }
    let Some(text) = msg.text().or(msg.caption()) else {
        return;
    };
    let bot_username = me.user.username.as_deref().unwrap_or_default();
    let parsed = parse_command(text, bot_username, &ctx.limits);
    if parsed == Parsed::NotForUs || msg.is_automatic_forward() {
        return;
    }
    let lang = lang_of(&ctx, msg.from.as_ref());
    let sender = match &msg.from {
        Some(user) if user.is_bot && user.id.0 != GROUP_ANONYMOUS_BOT => return,
        Some(user) if msg.sender_chat.is_none() && user.id.0 != GROUP_ANONYMOUS_BOT => person(user),
        _ => return reply(&ctx, &msg, &Text::SendAsYourself.render(lang)).await,
    };
    let command = match parsed {
        Parsed::Command(command) => command,
        Parsed::Invalid(error) => {
            return reply(&ctx, &msg, &Text::Usage(&error).render(lang)).await;
        }
        Parsed::NotForUs => return,
    };
    let asked = Asked {
        bot: &bot,
        ctx: &ctx,
        msg: &msg,
        sender: &sender,
        lang,
    };
    if let Err(error) = asked.run(command).await {
        tracing::error!(chat_id = msg.chat.id.0, %error, "command failed");
        asked.reply(&Text::InternalError.render(lang)).await;
    }
}

/// A command someone sent, with what answering it needs.
struct Asked<'a> {
    bot: &'a TgBot,
    ctx: &'a SharedContext,
    msg: &'a Message,
    sender: &'a Person,
    lang: Lang,
}

impl Asked<'_> {
    async fn reply(&self, html: &str) {
        reply(self.ctx, self.msg, html).await;
    }

    async fn run(&self, command: Command) -> LedgerResult<()> {
        let (ctx, lang) = (self.ctx, self.lang);
        let chat_id = self.msg.chat.id.0;
        let limit = ctx.settings.chat.list_limit;
        let html = match command {
            Command::Need(new) => return self.create_task(&new).await,
            Command::Claim(number) => return self.change(number, Action::Claim, None).await,
            Command::Release(number) => return self.change(number, Action::Release, None).await,
            Command::Cancel(number) => return self.change(number, Action::Cancel, None).await,
            Command::Done(number, note) => {
                return self.change(number, Action::Done, note.as_deref()).await
            }
            Command::Open => {
                let tasks = ctx.ledger.live_tasks(chat_id, limit).await?;
                let cards: Vec<_> = tasks.iter().map(|t| ctx.card(t)).collect();
                Text::OpenList(&cards).render(lang)
            }
            Command::Mine => {
                // In a private chat, what the sender holds in every group.
                let scope = (!self.msg.chat.is_private()).then_some(chat_id);
                let items = ctx
                    .ledger
                    .claimed_by(self.sender.id, scope, limit, ctx.settings.chat.time_zone)
                    .await?;
                Text::MineList(&items).render(lang)
            }
            Command::Stats => Text::Stats(&ctx.ledger.stats(chat_id, 10).await?).render(lang),
            Command::Help => Text::Help.render(lang),
        };
        self.reply(&html).await;
        Ok(())
    }

    async fn create_task(&self, new: &NewTask) -> LedgerResult<()> {
        let msg = self.msg;
        let record = NewTaskRecord {
            chat_id: msg.chat.id.0,
            chat_title: msg.chat.title(),
            task: new,
            requester: self.sender,
            lang: self.lang,
            thread_id: answer_to(msg).thread_id.map(|t| t.0 .0),
            source_message_id: msg.id.0,
            at: Utc::now(),
        };
        let task = self.ctx.ledger.create_task(&record).await?;
        tracing::info!(chat_id = task.chat_id, number = task.number.get(), kind = %task.kind, "task created");
        announcements::post(self.ctx, &task, Some(msg.id)).await;
        Ok(())
    }

    async fn change(
        &self,
        number: TaskNumber,
        action: Action,
        note: Option<&str>,
    ) -> LedgerResult<()> {
        let request = Request {
            chat_id: self.msg.chat.id.0,
            number,
            action,
            actor: self.sender,
            note,
            at: Utc::now(),
        };
        let admins = Admins {
            cache: &self.ctx.admins,
            bot: self.bot,
        };
        let lang = self.lang;
        let html = match service::act(&self.ctx.ledger, &admins, &request).await? {
            Outcome::Changed(task) => {
                announcements::refresh(self.ctx, &task).await;
                changed_text(action, task.number).render(lang)
            }
            Outcome::Refused(task, refusal) => {
                Text::Refused(&self.ctx.card(&task), refusal).render(lang)
            }
            Outcome::UnknownTask => Text::UnknownTask(number).render(lang),
        };
        self.reply(&html).await;
        Ok(())
    }
}

fn changed_text(action: Action, number: TaskNumber) -> Text<'static> {
    match action {
        Action::Claim => Text::Claimed(number),
        Action::Release => Text::Released(number),
        Action::Done => Text::Done(number),
        Action::Cancel => Text::Cancelled(number),
    }
}

async fn migrate(ctx: &SharedContext, from: ChatId, to: ChatId) {
    match ctx.ledger.migrate_chat(from.0, to.0).await {
        Ok(moved) => tracing::info!(from = from.0, to = to.0, moved, "group became a supergroup"),
        Err(error) => {
            tracing::error!(from = from.0, to = to.0, %error, "could not move the chat's tasks")
        }
    }
    ctx.admins.forget_chat(from.0);
}

/// An edited message: only an edited `/need` whose task is still open counts.
pub async fn on_edited_message(ctx: SharedContext, me: Me, msg: Message) {
    let Some(text) = msg.text().or(msg.caption()) else {
        return;
    };
    let bot_username = me.user.username.as_deref().unwrap_or_default();
    let parsed = parse_command(text, bot_username, &ctx.limits);
    let edited = match parsed {
        Parsed::Command(Command::Need(new)) => Ok(new),
        // A /need edited into a mistake: explained below if it has a task.
        Parsed::Invalid(error) => Err(error),
        _ => return,
    };
    let (Some(user), None) = (&msg.from, &msg.sender_chat) else {
        return;
    };
    let lang = lang_of(&ctx, Some(user));
    let result: LedgerResult<Option<String>> = async {
        let Some(task) = ctx
            .ledger
            .find_by_source_message(msg.chat.id.0, msg.id.0)
            .await?
        else {
            return Ok(None);
        };
        let new = match edited {
            Ok(new) => new,
            Err(error) => return Ok(Some(Text::Usage(&error).render(lang))),
        };
        match ctx
            .ledger
            .edit_open_task(&task, &new, &person(user), Utc::now())
            .await?
        {
            Some(updated) => {
                announcements::refresh(&ctx, &updated).await;
                Ok(None)
            }
            None => Ok(Some(
                Text::EditNotApplied(task.number, task.state.status).render(lang),
            )),
        }
    }
    .await;
    match result {
        Ok(Some(html)) => reply(&ctx, &msg, &html).await,
        Ok(None) => {}
        Err(error) => {
            tracing::error!(chat_id = msg.chat.id.0, %error, "edited /need failed");
            reply(&ctx, &msg, &Text::InternalError.render(lang)).await;
        }
    }
}

/// A button press under an announcement.
pub async fn on_callback(bot: TgBot, ctx: SharedContext, query: CallbackQuery) {
    let lang = lang_of(&ctx, Some(&query.from));
    let decoded = query.data.as_deref().and_then(callbacks::decode);
    let chat_id = query
        .message
        .as_ref()
        .map(MaybeInaccessibleMessage::chat)
        .map(|c| c.id);
    let (Some((action, number)), Some(chat_id)) = (decoded, chat_id) else {
        tracing::debug!(data = ?query.data, "button data not ours");
        return send::answer_button(&ctx, &query.id, &Text::UnknownButton.render(lang), true).await;
    };
    let actor = person(&query.from);
    let request = Request {
        chat_id: chat_id.0,
        number,
        action,
        actor: &actor,
        note: None,
        at: Utc::now(),
    };
    let admins = Admins {
        cache: &ctx.admins,
        bot: &bot,
    };
    match service::act(&ctx.ledger, &admins, &request).await {
        Ok(Outcome::Changed(task)) => {
            send::answer_button(
                &ctx,
                &query.id,
                &changed_text(action, number).render(lang),
                false,
            )
            .await;
            announcements::refresh(&ctx, &task).await;
        }
        Ok(Outcome::Refused(task, refusal)) => {
            let html = Text::Refused(&ctx.card(&task), refusal).render(lang);
            send::answer_button(&ctx, &query.id, &html, true).await;
        }
        Ok(Outcome::UnknownTask) => {
            send::answer_button(
                &ctx,
                &query.id,
                &Text::UnknownTask(number).render(lang),
                true,
            )
            .await;
        }
        Err(error) => {
            tracing::error!(chat_id = chat_id.0, %error, "button press failed");
            send::answer_button(&ctx, &query.id, &Text::InternalError.render(lang), true).await;
        }
    }
}

/// The bot's own membership changed: greet a group that added it, and
/// remember when it was removed.
pub async fn on_my_chat_member(ctx: SharedContext, update: ChatMemberUpdated) {
    if !(update.chat.is_group() || update.chat.is_supergroup()) {
        return;
    }
    let was_in = update.old_chat_member.kind.is_present();
    let is_in = update.new_chat_member.kind.is_present();
    if !was_in && is_in {
        let lang = lang_of(&ctx, Some(&update.from));
        let to = Destination {
            chat_id: update.chat.id,
            thread_id: None,
            reply_to: None,
        };
        if let Err(error) = ctx.ledger.set_chat_active(update.chat.id.0, true).await {
            tracing::error!(chat_id = update.chat.id.0, %error, "could not mark the chat active");
        }
        send::send_html(&ctx, to, &Text::Welcome.render(lang), None).await;
    } else if was_in && !is_in {
        tracing::info!(
            chat_id = update.chat.id.0,
            "the bot was removed from a chat"
        );
        if let Err(error) = ctx.ledger.set_chat_active(update.chat.id.0, false).await {
            tracing::error!(chat_id = update.chat.id.0, %error, "could not mark the chat inactive");
        }
    }
}
