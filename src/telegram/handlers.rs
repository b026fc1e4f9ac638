//! One function per kind of Update. Each turns the Update into domain and
//! ledger calls, and records the result (task changes and what to tell the
//! chat) in one transaction: a unit of the processor's [`Batch`], which
//! commits it with the Update's handled mark. Committing the unit is a
//! handler's last fallible step, so an error never follows kept effects.
//!
//! Handlers never talk to the chat themselves: the sender does, from the
//! outbox, after the commit. A ledger error is returned to the processor,
//! which retries and, in the end, apologises to the sender. Nothing the
//! sender does goes unanswered, except what is not addressed to the bot.

use chrono::Utc;
use teloxide::prelude::*;
use teloxide::types::{ChatMemberUpdated, MaybeInaccessibleMessage, Me, UpdateKind, User};

use super::send::html_to_plain;
use super::{admins::Admins, callbacks, SharedContext, TgBot};
use crate::domain::{
    parse_command, Action, Command, NewTask, Parsed, TaskNumber, UserId as DomainUser,
};
use crate::i18n::{Lang, Text};
use crate::ledger::{Batch, LedgerResult, NewTaskRecord, Outgoing, Person};
use crate::service::{self, Outcome, Request};

/// What a handler returns: `Ok` when the Update is done with (its effects,
/// if any, committed in its unit of the batch), an error to try it again.
pub type HandlerResult = LedgerResult<()>;

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

/// A reply to `msg`: in its chat, in its forum topic, answering it.
fn reply_to(msg: &Message, html: String) -> Outgoing {
    Outgoing::Message {
        chat_id: msg.chat.id.0,
        thread_id: topic_of(msg),
        reply_to: Some(msg.id.0),
        html,
    }
}

fn topic_of(msg: &Message) -> Option<i32> {
    msg.thread_id
        .filter(|_| msg.is_topic_message)
        .map(|t| t.0 .0)
}

/// The answer to a button press: plain text, shown as an alert or not.
fn button_answer(query: &CallbackQuery, html: &str, alert: bool) -> Outgoing {
    Outgoing::Answer {
        callback_query_id: query.id.0.clone(),
        text: html_to_plain(html),
        alert,
    }
}

/// What tells the sender of an Update given up on that it was not carried
/// out, where the Update can be answered.
pub fn apology(ctx: &SharedContext, update: &Update) -> Option<Outgoing> {
    match &update.kind {
        UpdateKind::Message(msg) | UpdateKind::EditedMessage(msg) => {
            let html = Text::InternalError.render(lang_of(ctx, msg.from.as_ref()));
            Some(reply_to(msg, html))
        }
        UpdateKind::CallbackQuery(query) => {
            let html = Text::InternalError.render(lang_of(ctx, Some(&query.from)));
            Some(button_answer(query, &html, true))
        }
        _ => None,
    }
}

/// Records `outgoing` as the Update's only effect.
async fn answer(batch: &Batch, outgoing: Outgoing) -> HandlerResult {
    let mut tx = batch.begin().await?;
    tx.send(outgoing);
    tx.commit().await
}

/// A new message: chat migrations, and commands in its text or caption.
pub async fn on_message(
    bot: TgBot,
    ctx: SharedContext,
    me: Me,
    msg: Message,
    batch: Batch,
) -> HandlerResult {
    if let Some(to) = msg.migrate_to_chat_id() {
        return migrate(&ctx, &batch, msg.chat.id, *to).await;
    }
    if let Some(from) = msg.migrate_from_chat_id() {
        return migrate(&ctx, &batch, *from, msg.chat.id).await;
    }
    let Some(text) = msg.text().or(msg.caption()) else {
        return Ok(());
    };
    let bot_username = me.user.username.as_deref().unwrap_or_default();
    let parsed = parse_command(text, bot_username, &ctx.limits);
    if parsed == Parsed::NotForUs || msg.is_automatic_forward() {
        return Ok(());
    }
    let lang = lang_of(&ctx, msg.from.as_ref());
    let sender = match &msg.from {
        Some(user) if user.is_bot && user.id.0 != GROUP_ANONYMOUS_BOT => return Ok(()),
        Some(user) if msg.sender_chat.is_none() && user.id.0 != GROUP_ANONYMOUS_BOT => person(user),
        _ => {
            let html = Text::SendAsYourself.render(lang);
            return answer(&batch, reply_to(&msg, html)).await;
        }
    };
    let command = match parsed {
        Parsed::Command(command) => command,
        Parsed::Invalid(error) => {
            let html = Text::Usage(&error).render(lang);
            return answer(&batch, reply_to(&msg, html)).await;
        }
        Parsed::NotForUs => return Ok(()),
    };
    let asked = Asked {
        bot: &bot,
        ctx: &ctx,
        msg: &msg,
        sender: &sender,
        lang,
        batch: &batch,
    };
    asked.run(command).await
}

/// A command someone sent, with what answering it needs.
struct Asked<'a> {
    bot: &'a TgBot,
    ctx: &'a SharedContext,
    msg: &'a Message,
    sender: &'a Person,
    lang: Lang,
    batch: &'a Batch,
}

impl Asked<'_> {
    async fn run(&self, command: Command) -> HandlerResult {
        let (ctx, lang) = (self.ctx, self.lang);
        let chat_id = self.msg.chat.id.0;
        let limit = ctx.settings.chat.list_limit;
        if matches!(command, Command::Open | Command::Mine | Command::Stats) {
            // The lists are read by the readers' pool: let it see this
            // batch's earlier Updates (a /need just before an /open).
            self.batch.flush().await?;
        }
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
                let zone = ctx.settings.chat.time_zone;
                let items = ctx
                    .ledger
                    .claimed_by(self.sender.id, scope, limit, zone)
                    .await?;
                Text::MineList(&items).render(lang)
            }
            Command::Stats => Text::Stats(&ctx.ledger.stats(chat_id, 10).await?).render(lang),
            Command::Help => Text::Help.render(lang),
        };
        answer(self.batch, reply_to(self.msg, html)).await
    }

    async fn create_task(&self, new: &NewTask) -> HandlerResult {
        let msg = self.msg;
        let record = NewTaskRecord {
            chat_id: msg.chat.id.0,
            chat_title: msg.chat.title(),
            task: new,
            requester: self.sender,
            lang: self.lang,
            thread_id: topic_of(msg),
            source_message_id: msg.id.0,
            at: Utc::now(),
        };
        let mut tx = self.batch.begin().await?;
        let task = tx.create_task(&record).await?;
        tx.send(Outgoing::Announce {
            task_id: task.id,
            chat_id: task.chat_id,
            reply_to: Some(msg.id.0),
        });
        tx.commit().await?;
        tracing::info!(chat_id = task.chat_id, number = task.number.get(), kind = %task.kind, "task created");
        Ok(())
    }

    async fn change(
        &self,
        number: TaskNumber,
        action: Action,
        note: Option<&str>,
    ) -> HandlerResult {
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
        let respond = |outcome: &Outcome| {
            let html = match outcome {
                Outcome::Changed(task) => {
                    let reply = changed_text(action, task.number).render(self.lang);
                    return vec![announce(task), reply_to(self.msg, reply)];
                }
                Outcome::Refused(task, refusal) => {
                    Text::Refused(&self.ctx.card(task), *refusal).render(self.lang)
                }
                Outcome::UnknownTask => Text::UnknownTask(number).render(self.lang),
            };
            vec![reply_to(self.msg, html)]
        };
        service::act(self.batch, &admins, &request, respond).await?;
        Ok(())
    }
}

/// Brings a task's announcement up to date (the sender renders it).
fn announce(task: &crate::ledger::TaskRecord) -> Outgoing {
    Outgoing::Announce {
        task_id: task.id,
        chat_id: task.chat_id,
        reply_to: None,
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

async fn migrate(ctx: &SharedContext, batch: &Batch, from: ChatId, to: ChatId) -> HandlerResult {
    let mut tx = batch.begin().await?;
    let moved = tx.migrate_chat(from.0, to.0).await?;
    tx.commit().await?;
    ctx.admins.forget_chat(from.0);
    tracing::info!(from = from.0, to = to.0, moved, "group became a supergroup");
    Ok(())
}

/// An edited message: only an edited `/need` whose task is still open counts.
pub async fn on_edited_message(
    ctx: SharedContext,
    me: Me,
    msg: Message,
    batch: Batch,
) -> HandlerResult {
    let Some(text) = msg.text().or(msg.caption()) else {
        return Ok(());
    };
    let bot_username = me.user.username.as_deref().unwrap_or_default();
    let edited = match parse_command(text, bot_username, &ctx.limits) {
        Parsed::Command(Command::Need(new)) => Ok(new),
        // A /need edited into a mistake: explained below if it has a task.
        Parsed::Invalid(error) => Err(error),
        _ => return Ok(()),
    };
    let (Some(user), None) = (&msg.from, &msg.sender_chat) else {
        return Ok(());
    };
    let lang = lang_of(&ctx, Some(user));
    let mut tx = batch.begin().await?;
    let Some(task) = tx.find_by_source_message(msg.chat.id.0, msg.id.0).await? else {
        return Ok(());
    };
    let outgoing = match edited {
        Err(error) => reply_to(&msg, Text::Usage(&error).render(lang)),
        Ok(new) => match tx
            .edit_open_task(&task, &new, &person(user), Utc::now())
            .await?
        {
            Some(updated) => announce(&updated),
            None => reply_to(
                &msg,
                Text::EditNotApplied(task.number, task.state.status).render(lang),
            ),
        },
    };
    tx.send(outgoing);
    tx.commit().await
}

/// A button press under an announcement.
pub async fn on_callback(
    bot: TgBot,
    ctx: SharedContext,
    query: CallbackQuery,
    batch: Batch,
) -> HandlerResult {
    let lang = lang_of(&ctx, Some(&query.from));
    let button_answer = |html: String, alert: bool| button_answer(&query, &html, alert);
    let decoded = query.data.as_deref().and_then(callbacks::decode);
    let chat_id = query
        .message
        .as_ref()
        .map(MaybeInaccessibleMessage::chat)
        .map(|c| c.id);
    let (Some((action, number)), Some(chat_id)) = (decoded, chat_id) else {
        tracing::debug!(data = ?query.data, "button data not ours");
        let unknown = button_answer(Text::UnknownButton.render(lang), true);
        return answer(&batch, unknown).await;
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
    let respond = |outcome: &Outcome| match outcome {
        Outcome::Changed(task) => vec![
            button_answer(changed_text(action, number).render(lang), false),
            announce(task),
        ],
        Outcome::Refused(task, refusal) => {
            vec![button_answer(
                Text::Refused(&ctx.card(task), *refusal).render(lang),
                true,
            )]
        }
        Outcome::UnknownTask => vec![button_answer(Text::UnknownTask(number).render(lang), true)],
    };
    service::act(&batch, &admins, &request, respond).await?;
    Ok(())
}

/// The bot's own membership changed: greet a group that added it, and
/// remember when it was removed.
pub async fn on_my_chat_member(
    ctx: SharedContext,
    member: ChatMemberUpdated,
    batch: Batch,
) -> HandlerResult {
    if !(member.chat.is_group() || member.chat.is_supergroup()) {
        return Ok(());
    }
    let was_in = member.old_chat_member.kind.is_present();
    let is_in = member.new_chat_member.kind.is_present();
    if was_in == is_in {
        return Ok(());
    }
    let mut tx = batch.begin().await?;
    tx.set_chat_active(member.chat.id.0, is_in).await?;
    if is_in {
        let lang = lang_of(&ctx, Some(&member.from));
        tx.send(Outgoing::Message {
            chat_id: member.chat.id.0,
            thread_id: None,
            reply_to: None,
            html: Text::Welcome.render(lang),
        });
    } else {
        tracing::info!(
            chat_id = member.chat.id.0,
            "the bot was removed from a chat"
        );
    }
    tx.commit().await
}
