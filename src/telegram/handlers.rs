//! One function per kind of Update. Each translates the Update into a call
//! of the application core ([`crate::core`]), which records the result (task
//! changes and what to tell the chat) in a unit of the processor's
//! [`Batch`], committed with the Update's handled mark; the handler only
//! puts into words what came of it. Recording is a handler's last fallible
//! step, so an error never follows kept effects. What they read (lists, the
//! chat's language) comes from the core's reads ([`core::reads`]) too.
//!
//! Handlers never talk to the chat themselves: the sender does, from the
//! outbox, after the commit. A ledger error is returned to the processor,
//! which retries and, in the end, apologises to the sender. Nothing the
//! sender does goes unanswered, except what is not addressed to the bot.

use teloxide::prelude::*;
use teloxide::types::{ChatMemberUpdated, MaybeInaccessibleMessage, Me, UpdateKind, User};

use super::callbacks::{self, Pressed};
use super::followup::{self, MayConfirm};
use super::households::households_privately;
use super::private::{media_of, PrivateChat};
use super::send::html_to_plain;
use super::{admins::Admins, keyboards, SharedContext, TgBot};
use crate::core::private::Keep;
use crate::core::{self, requests::Edited, AdminCheck, Circumstances, Outcome, Request};
use crate::domain::{
    parse_command, Action, Command, DeepLink, Kind, NewTask, Parsed, Refusal, SettingChange,
    TaskCommand, TaskNumber, UserId as DomainUser,
};
use crate::i18n::followup::FollowText;
use crate::i18n::private::PrivateText;
use crate::i18n::{self, Lang, Text};
use crate::ledger::{Batch, LedgerResult, NewTaskRecord, Outgoing, Person, TaskRecord};

/// What a handler returns: `Ok` when the Update is done with (its effects,
/// if any, committed in its unit of the batch), an error to try it again.
pub type HandlerResult = LedgerResult<()>;

/// Telegram's stand-in sender for anonymous group admins.
const GROUP_ANONYMOUS_BOT: u64 = 1087968824;

/// Who `user` is, with the name the chat shows.
pub(super) fn person(user: &User) -> Person {
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

/// The language `user` reads: their Telegram language when we speak it,
/// else `chat_lang` (see [`chat_lang`]).
fn lang_of(user: Option<&User>, chat_lang: Lang) -> Lang {
    Lang::for_sender(user.and_then(|u| u.language_code.as_deref()), chat_lang)
}

/// The language `user` reads in `chat_id`: the chat's is read only when
/// theirs is not one we speak.
async fn sender_lang(ctx: &SharedContext, user: Option<&User>, chat_id: i64) -> LedgerResult<Lang> {
    match Lang::from_telegram(user.and_then(|u| u.language_code.as_deref())) {
        Some(lang) => Ok(lang),
        None => chat_lang(ctx, chat_id).await,
    }
}

/// The language a chat's shared messages speak: `/settings language`, else
/// the language of whoever added the bot, else `chat.default_language`.
async fn chat_lang(ctx: &SharedContext, chat_id: i64) -> LedgerResult<Lang> {
    core::reads::chat_language(&ctx.ledger, chat_id, ctx.settings.chat.default_language).await
}

/// A reply to `msg`: in its chat, in its forum topic, answering it.
pub(super) fn reply_to(msg: &Message, html: String) -> Outgoing {
    Outgoing::Message {
        chat_id: msg.chat.id.0,
        thread_id: topic_of(msg),
        reply_to: Some(msg.id.0),
        html,
        buttons: Vec::new(),
    }
}

/// A reply to `msg` that may be long (a list): split into messages within
/// Telegram's limit, the first answering `msg`.
fn replies_to(msg: &Message, html: &str) -> Vec<Outgoing> {
    i18n::pages(html)
        .into_iter()
        .enumerate()
        .map(|(i, page)| Outgoing::Message {
            chat_id: msg.chat.id.0,
            thread_id: topic_of(msg),
            reply_to: (i == 0).then_some(msg.id.0),
            html: page,
            buttons: Vec::new(),
        })
        .collect()
}

fn topic_of(msg: &Message) -> Option<i32> {
    msg.thread_id
        .filter(|_| msg.is_topic_message)
        .map(|t| t.0 .0)
}

/// The answer to a button press: plain text, shown as an alert or not.
pub(super) fn button_answer(query: &CallbackQuery, html: &str, alert: bool) -> Outgoing {
    Outgoing::Answer {
        callback_query_id: query.id.0.clone(),
        text: html_to_plain(html),
        alert,
        url: None,
    }
}

/// What tells the sender of an Update given up on that it was not carried
/// out, where the Update can be answered.
/// (The chat's language is not read here: the ledger may be what failed.)
pub fn apology(ctx: &SharedContext, update: &Update) -> Option<Outgoing> {
    let fallback = ctx.settings.chat.default_language;
    match &update.kind {
        UpdateKind::Message(msg) | UpdateKind::EditedMessage(msg) => {
            let html = Text::InternalError.render(lang_of(msg.from.as_ref(), fallback));
            Some(reply_to(msg, html))
        }
        UpdateKind::CallbackQuery(query) => {
            let html = Text::InternalError.render(lang_of(Some(&query.from), fallback));
            Some(button_answer(query, &html, true))
        }
        _ => None,
    }
}

/// Records `outgoing`, in order, as the whole effect of `msg`, with its
/// group's current title (lists name a group by it, after a rename too).
/// In a private chat the sender wrote to the bot, so it may write to them.
async fn answer(batch: &Batch, msg: &Message, outgoing: Vec<Outgoing>) -> HandlerResult {
    if msg.chat.is_private() {
        let user = DomainUser(msg.chat.id.0);
        let lang = Lang::from_telegram(msg.from.as_ref().and_then(|u| u.language_code.as_deref()));
        return core::private::step(batch, user, lang, Keep::Unchanged, outgoing).await;
    }
    let chat = msg.chat.title().map(|title| (msg.chat.id.0, title));
    core::reply(batch, chat, outgoing).await
}

/// A new message: chat migrations and renames, and commands in its text or
/// caption.
pub async fn on_message(
    bot: TgBot,
    ctx: SharedContext,
    me: Me,
    msg: Message,
    batch: Batch,
) -> HandlerResult {
    if let Some(to) = msg.migrate_to_chat_id() {
        return core::chats::migrate(&batch, msg.chat.id.0, to.0).await;
    }
    if let Some(from) = msg.migrate_from_chat_id() {
        return core::chats::migrate(&batch, from.0, msg.chat.id.0).await;
    }
    if let Some(title) = msg.new_chat_title() {
        return core::chats::note_title(&batch, msg.chat.id.0, title).await;
    }
    let private = msg.chat.is_private();
    // A forwarded message repeats someone's words: it is never a command.
    let forwarded = msg.forward_origin().is_some() || msg.is_automatic_forward();
    if forwarded && !private {
        return Ok(());
    }
    let bot_username = me.user.username.as_deref().unwrap_or_default();
    let parsed = match msg.text().or(msg.caption()) {
        Some(text) if !forwarded => parse_command(text, bot_username, &ctx.limits),
        _ => Parsed::NotForUs,
    };
    if parsed == Parsed::NotForUs && !private {
        return Ok(());
    }
    if msg
        .from
        .as_ref()
        .is_some_and(|user| user.is_bot && user.id.0 != GROUP_ANONYMOUS_BOT)
    {
        return Ok(());
    }
    let lang = sender_lang(&ctx, msg.from.as_ref(), msg.chat.id.0).await?;
    let sender = match &msg.from {
        Some(user) if msg.sender_chat.is_none() && user.id.0 != GROUP_ANONYMOUS_BOT => person(user),
        _ if private => return Ok(()),
        _ => {
            let html = Text::SendAsYourself.render(lang);
            return answer(&batch, &msg, vec![reply_to(&msg, html)]).await;
        }
    };
    if private {
        let chat = PrivateChat {
            bot: &bot,
            ctx: &ctx,
            batch: &batch,
            person: &sender,
            lang,
            reply_to: Some(msg.id.0),
        };
        if chat.on_message(&msg, &parsed).await? {
            return Ok(());
        }
    }
    let command = match parsed {
        Parsed::Command(command) => command,
        // A private chat has no tasks: say where each command works.
        Parsed::Invalid(error) if private => {
            let groups = core::reads::groups_of(&ctx.ledger, sender.id).await?;
            let html = Text::GroupOnly(error.command(), &groups).render(lang);
            return answer(&batch, &msg, vec![reply_to(&msg, html)]).await;
        }
        Parsed::Invalid(error) => {
            let html = Text::Usage(&error).render(lang);
            return answer(&batch, &msg, vec![reply_to(&msg, html)]).await;
        }
        // Only in a private chat, whose words the steps above took.
        Parsed::NotForUs => return Ok(()),
    };
    if private
        && !matches!(
            command,
            Command::Mine | Command::Help | Command::Households | Command::ForgetMe
        )
    {
        let groups = core::reads::groups_of(&ctx.ledger, sender.id).await?;
        let html = Text::GroupOnly(command.name(), &groups).render(lang);
        return answer(&batch, &msg, vec![reply_to(&msg, html)]).await;
    }
    let asked = Asked {
        bot: &bot,
        ctx: &ctx,
        msg: &msg,
        sender: &sender,
        lang,
        batch: &batch,
        bot_username,
        bot_id: DomainUser(i64::try_from(me.user.id.0).unwrap_or_default()),
    };
    asked.run(command).await
}

/// A command someone sent, with what answering it needs.
pub(super) struct Asked<'a> {
    pub(super) bot: &'a TgBot,
    pub(super) ctx: &'a SharedContext,
    pub(super) msg: &'a Message,
    pub(super) sender: &'a Person,
    /// The sender's language.
    pub(super) lang: Lang,
    pub(super) batch: &'a Batch,
    /// Deep links to the private chat name the bot by it.
    pub(super) bot_username: &'a str,
    /// The bot's own user id (whose rights in a group are asked).
    pub(super) bot_id: DomainUser,
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
            Command::Ask(kind) => return self.ask_privately(kind).await,
            Command::Lead(lead) => return self.lead(lead).await,
            Command::Household(entry) => return self.household(&entry).await,
            Command::Households if self.msg.chat.is_private() => {
                let (ctx, batch) = (self.ctx, self.batch);
                return households_privately(self.bot, ctx, batch, self.sender, lang, None).await;
            }
            Command::Households => return self.households().await,
            Command::ForgetMe => return self.forget_me().await,
            Command::Change(command) => return self.change(&command).await,
            Command::Settings(change) => return self.settings(change).await,
            Command::Board => return self.board().await,
            Command::Open => {
                let listed = core::reads::open_tasks(&ctx.ledger, chat_id, limit).await?;
                let zone = ctx.zone_of(chat_id).await?;
                let cards: Vec<_> = listed.items.iter().map(|t| ctx.listed(t, zone)).collect();
                let mut html = Text::OpenList(&cards).render(lang);
                more_not_shown(&mut html, listed.left_out, lang);
                html
            }
            Command::Mine => {
                // In a private chat, what the sender holds in every group.
                let scope = (!self.msg.chat.is_private()).then_some(chat_id);
                let zone = match scope {
                    Some(chat_id) => ctx.zone_of(chat_id).await?,
                    None => ctx.settings.chat.time_zone,
                };
                let listed =
                    core::reads::claimed(&ctx.ledger, self.sender.id, scope, limit, zone).await?;
                let mut html = Text::MineList(&listed.items).render(lang);
                more_not_shown(&mut html, listed.left_out, lang);
                html
            }
            Command::Stats => {
                Text::Stats(&core::reads::stats(&ctx.ledger, chat_id).await?).render(lang)
            }
            Command::Help | Command::Start(_) => Text::Help.render(lang),
        };
        self.answer(replies_to(self.msg, &html)).await
    }

    /// Records `outgoing` as the whole effect of the command.
    pub(super) async fn answer(&self, outgoing: Vec<Outgoing>) -> HandlerResult {
        answer(self.batch, self.msg, outgoing).await
    }

    async fn create_task(&self, new: &NewTask) -> HandlerResult {
        let msg = self.msg;
        // A photo's caption: the photo goes to the claimer of a private one.
        let media = media_of(msg);
        let record = NewTaskRecord {
            chat_id: msg.chat.id.0,
            chat_title: msg.chat.title(),
            task: new,
            requester: self.sender,
            default_lang: self.ctx.settings.chat.default_language,
            thread_id: topic_of(msg),
            source_message_id: msg.id.0,
            // When it was asked, also when the bot handles it later.
            at: msg.date,
            private: false,
            media: media.as_ref(),
        };
        core::requests::file(self.batch, &record, &self.ctx.reminders()).await?;
        Ok(())
    }

    /// `/need` alone (or with only a KIND) in a group: a button that opens
    /// the private chat, naming this group (its topic, and the KIND).
    async fn ask_privately(&self, kind: Option<Kind>) -> HandlerResult {
        let asked = DeepLink::Ask {
            chat_id: self.msg.chat.id.0,
            thread_id: topic_of(self.msg),
            kind,
        };
        let link = keyboards::deep_link(self.bot_username, asked);
        let label = PrivateText::ButtonAskPrivately.render(self.lang);
        let mut reply = reply_to(self.msg, PrivateText::AskThere.render(self.lang));
        if let Outgoing::Message { buttons, .. } = &mut reply {
            *buttons = keyboards::url_button(label, link);
        }
        answer(self.batch, self.msg, vec![reply]).await
    }

    /// The tasks a task command names: its numbers, or the task whose
    /// message it answers. `Err` carries what to tell the sender instead.
    async fn targets(
        &self,
        command: &TaskCommand,
    ) -> LedgerResult<Result<Vec<TaskNumber>, String>> {
        if !command.numbers.is_empty() {
            return Ok(Ok(command.numbers.clone()));
        }
        let chat_id = self.msg.chat.id.0;
        if let Some(replied) = self.msg.reply_to_message() {
            if let Some(task) =
                core::reads::task_of_message(&self.ctx.ledger, chat_id, replied.id.0).await?
            {
                return Ok(Ok(vec![task.number]));
            }
        }
        Ok(Err(Text::Usage(&command.unnamed()).render(self.lang)))
    }

    /// `/claim 3 4`, `/done 3 NOTE`, `/release` as a reply…: every task in
    /// one unit, with one reply for all of them.
    async fn change(&self, command: &TaskCommand) -> HandlerResult {
        let numbers = match self.targets(command).await? {
            Ok(numbers) => numbers,
            Err(html) => return answer(self.batch, self.msg, vec![reply_to(self.msg, html)]).await,
        };
        let action = command.action;
        let note =
            (action == Action::Done && !command.text.is_empty()).then_some(command.text.as_str());
        let requests: Vec<Request> = numbers
            .iter()
            .map(|&number| Request {
                chat_id: self.msg.chat.id.0,
                number,
                action,
                actor: self.sender,
                note,
            })
            .collect();
        let respond = |outcomes: &[Outcome], said: Circumstances| {
            let reachable = said.reachable;
            let all_done = outcomes.iter().all(|o| matches!(o, Outcome::Changed(_)));
            if said.board_on && all_done && (reachable || !claimed_any_private(action, outcomes)) {
                // Board mode: the board shows it; a reaction says it is done.
                let mut acknowledged =
                    vec![core::board::acknowledge(self.msg.chat.id.0, self.msg.id.0)];
                acknowledged.extend(
                    outcomes
                        .iter()
                        .filter_map(|outcome| claimed_private(action, outcome))
                        .map(|task| details_for(task, self.sender, self.lang)),
                );
                return acknowledged;
            }
            let mut details = Vec::new();
            let mut links = Vec::new();
            let lines: Vec<String> = numbers
                .iter()
                .zip(outcomes)
                .map(|(number, outcome)| match claimed_private(action, outcome) {
                    Some(task) => {
                        // The link stays as a way back to the details (the
                        // claimer may have blocked the bot since).
                        let label = format!(
                            "{} {number}",
                            PrivateText::ButtonGetDetails.render(self.lang)
                        );
                        links.push(keyboards::url_button(label, self.details_link(task)));
                        if reachable {
                            details.push(details_for(task, self.sender, self.lang));
                            PrivateText::ClaimedDetailsSent(*number).render(self.lang)
                        } else {
                            PrivateText::ClaimedOpenLink(*number).render(self.lang)
                        }
                    }
                    None => self.outcome_text(action, *number, outcome, note.is_some()),
                })
                .collect();
            let mut replies = replies_to(self.msg, &lines.join("\n"));
            if let Some(Outgoing::Message { buttons, .. }) = replies.first_mut() {
                *buttons = links.into_iter().flatten().collect();
            }
            replies.extend(details);
            replies
        };
        let admins = Admins { bot: self.bot };
        core::act_all(
            self.batch,
            &admins,
            &self.ctx.reminders(),
            &requests,
            self.msg.chat.title(),
            respond,
        )
        .await?;
        Ok(())
    }

    /// The deep link that brings `task`'s details to its claimer.
    fn details_link(&self, task: &TaskRecord) -> String {
        keyboards::deep_link(self.bot_username, DeepLink::Details(task.id))
    }

    fn outcome_text(
        &self,
        action: Action,
        number: TaskNumber,
        outcome: &Outcome,
        noted: bool,
    ) -> String {
        match outcome {
            Outcome::Changed(_) => changed_text(action, number, self.lang),
            Outcome::Refused(task, refusal) => {
                let mut html = Text::Refused(&self.ctx.card(task), *refusal).render(self.lang);
                if noted {
                    html.push(' ');
                    html += &Text::NoteNotKept.render(self.lang);
                }
                html
            }
            Outcome::UnknownTask => Text::UnknownTask(number).render(self.lang),
        }
    }

    /// `/settings`: shows the chat's settings; with a change, an admin's
    /// change is kept in the ledger.
    async fn settings(&self, change: Option<SettingChange>) -> HandlerResult {
        let chat_id = self.msg.chat.id.0;
        let html = match change {
            None => {
                // Shown with its buttons; only an admin's press counts.
                let view = followup::view(self.ctx, chat_id).await?;
                let mut reply = reply_to(self.msg, FollowText::Settings(&view).render(self.lang));
                if let Outgoing::Message { buttons, .. } = &mut reply {
                    *buttons = followup::buttons(&view);
                }
                return answer(self.batch, self.msg, vec![reply]).await;
            }
            Some(change) => {
                if !self.sender_is_admin().await? {
                    Text::AdminsOnly.render(self.lang)
                } else {
                    let may_delete = change == SettingChange::HideFlats(true)
                        && (Admins { bot: self.bot })
                            .bot_may_delete(chat_id, self.bot_id)
                            .await;
                    let said = followup::said(change, may_delete, self.lang);
                    let reply = reply_to(self.msg, said);
                    let title = self.msg.chat.title();
                    let reminders = self.ctx.reminders();
                    return core::chats::set(
                        self.batch,
                        chat_id,
                        title,
                        change,
                        &reminders,
                        vec![reply],
                    )
                    .await;
                }
            }
        };
        answer(self.batch, self.msg, vec![reply_to(self.msg, html)]).await
    }

    /// `/board`: an admin's posts the board anew at the bottom of the chat
    /// (the board is the answer); anyone else is told it is for admins.
    async fn board(&self) -> HandlerResult {
        if !self.sender_is_admin().await? {
            let html = Text::AdminsOnly.render(self.lang);
            return self.answer(vec![reply_to(self.msg, html)]).await;
        }
        let chat = &self.msg.chat;
        core::board::post(self.batch, chat.id.0, chat.title(), self.msg.id.0).await
    }

    /// Whether the sender administers the chat, asked of Telegram with no
    /// write lock held (the batch is flushed first).
    async fn sender_is_admin(&self) -> LedgerResult<bool> {
        self.batch.flush().await?;
        let admins = Admins { bot: self.bot };
        Ok(admins.is_admin(self.msg.chat.id.0, self.sender.id).await)
    }
}

/// Ends a list that left `more` items out with how many there are.
fn more_not_shown(html: &mut String, more: u64, lang: Lang) {
    if more > 0 {
        html.push('\n');
        html.push_str(&Text::MoreNotShown(more).render(lang));
    }
}

/// Whether any of `outcomes` claimed a private request.
fn claimed_any_private(action: Action, outcomes: &[Outcome]) -> bool {
    outcomes
        .iter()
        .any(|outcome| claimed_private(action, outcome).is_some())
}

/// The task, when `outcome` is a private request just claimed: its
/// details go to the claimer privately.
fn claimed_private(action: Action, outcome: &Outcome) -> Option<&TaskRecord> {
    match outcome {
        Outcome::Changed(task) if action == Action::Claim && task.private => Some(task),
        _ => None,
    }
}

/// The private message with `task`'s details for `claimer`, in `lang`.
fn details_for(task: &TaskRecord, claimer: &Person, lang: Lang) -> Outgoing {
    Outgoing::Details {
        task_id: task.id,
        chat_id: claimer.id.0,
        lang,
    }
}

/// What the actor is told of a change they made.
pub(super) fn changed_text(action: Action, number: TaskNumber, lang: Lang) -> String {
    match action {
        Action::Claim => Text::Claimed(number).render(lang),
        Action::Release => Text::Released(number).render(lang),
        Action::Done => Text::Done(number).render(lang),
        Action::Cancel => Text::Cancelled(number).render(lang),
        Action::Receive => FollowText::Received(number).render(lang),
        Action::Missing => FollowText::NotReceived(number).render(lang),
    }
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
    if msg.forward_origin().is_some() {
        return Ok(());
    }
    let lang = sender_lang(&ctx, Some(user), msg.chat.id.0).await?;
    let respond = |outcome: &Edited| {
        let html = match outcome {
            Edited::NoTask | Edited::Applied => return None,
            Edited::Invalid(error) => Text::Usage(error).render(lang),
            Edited::NotOpen(number, status) => Text::EditNotApplied(*number, *status).render(lang),
        };
        Some(reply_to(&msg, html))
    };
    let (chat_id, actor) = (msg.chat.id.0, person(user));
    core::requests::edit(&batch, chat_id, msg.id.0, edited, &actor, respond).await?;
    Ok(())
}

/// A button press: under an announcement in a group, or a step of a
/// private request in the private chat.
pub async fn on_callback(
    bot: TgBot,
    ctx: SharedContext,
    me: Me,
    query: CallbackQuery,
    batch: Batch,
) -> HandlerResult {
    let button_answer = |html: String, alert: bool| button_answer(&query, &html, alert);
    let decoded = query.data.as_deref().and_then(callbacks::decode);
    let chat = query.message.as_ref().map(MaybeInaccessibleMessage::chat);
    let lang = match chat {
        Some(chat) => sender_lang(&ctx, Some(&query.from), chat.id.0).await?,
        None => lang_of(Some(&query.from), ctx.settings.chat.default_language),
    };
    let actor = person(&query.from);
    let (chat_id, action, number) = match (decoded, chat) {
        (Some(Pressed::Task(action, number)), Some(chat)) if !chat.is_private() => {
            (chat.id.0, action, number)
        }
        (Some(Pressed::Board(number)), Some(chat)) if !chat.is_private() => {
            (chat.id.0, Action::Claim, number)
        }
        // Under a notice, which may be in a private chat: the task by its id.
        // Only what notices carry: a claim or a done by id could reach a
        // task of a group the presser is not in.
        (Some(Pressed::OfTask(action, task_id)), Some(_))
            if matches!(action, Action::Release | Action::Receive | Action::Missing) =>
        {
            match ctx.ledger.task_by_id(task_id).await? {
                Some(task) => (task.chat_id, action, task.number),
                None => {
                    let unknown = button_answer(Text::UnknownButton.render(lang), true);
                    return core::reply(&batch, None, vec![unknown]).await;
                }
            }
        }
        (Some(Pressed::Keep(task_id)), Some(_)) => {
            return followup::keep(&ctx, &batch, &query, task_id, actor.id, lang).await;
        }
        (Some(Pressed::Set(change)), Some(chat)) if !chat.is_private() => {
            return followup::set_pressed(&bot, &ctx, &batch, &query, change, lang).await;
        }
        (Some(pressed), Some(chat))
            if chat.is_private()
                && !matches!(
                    pressed,
                    Pressed::Task(..) | Pressed::Board(_) | Pressed::Set(_)
                ) =>
        {
            let private = PrivateChat {
                bot: &bot,
                ctx: &ctx,
                batch: &batch,
                person: &actor,
                lang,
                reply_to: None,
            };
            return private.on_button(&query, pressed).await;
        }
        _ => {
            tracing::debug!(data = ?query.data, "button data not ours");
            let unknown = button_answer(Text::UnknownButton.render(lang), true);
            return core::reply(&batch, None, vec![unknown]).await;
        }
    };
    let request = Request {
        chat_id,
        number,
        action,
        actor: &actor,
        note: None,
    };
    let admins = MayConfirm {
        admins: Admins { bot: &bot },
        ledger: &ctx.ledger,
        leads_count: action.is_receipt(),
    };
    let bot_username = me.user.username.as_deref().unwrap_or_default();
    let respond = |outcome: &Outcome, reachable: bool| match outcome {
        Outcome::Changed(task) if claimed_private(action, outcome).is_some() => {
            if reachable {
                let html = PrivateText::ClaimedDetailsSent(number).render(lang);
                vec![button_answer(html, false), details_for(task, &actor, lang)]
            } else {
                // The bot may not write first: the answer opens the private chat,
                // whose /start brings the details.
                let html = PrivateText::ClaimedOpenLink(number).render(lang);
                vec![Outgoing::Answer {
                    callback_query_id: query.id.0.clone(),
                    text: html_to_plain(&html),
                    alert: false,
                    url: Some(keyboards::deep_link(
                        bot_username,
                        DeepLink::Details(task.id),
                    )),
                }]
            }
        }
        Outcome::Changed(_) => vec![button_answer(changed_text(action, number, lang), false)],
        Outcome::Refused(task, refusal) => {
            // "Yours already" is what a quick second tap on the claim
            // button meets: a note, not an alarm.
            let alert = *refusal != Refusal::AlreadyYours;
            vec![button_answer(
                Text::Refused(&ctx.card(task), *refusal).render(lang),
                alert,
            )]
        }
        Outcome::UnknownTask => vec![button_answer(Text::UnknownTask(number).render(lang), true)],
    };
    core::act(&batch, &admins, &ctx.reminders(), &request, respond).await?;
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
    let chat_id = member.chat.id.0;
    let default_lang = ctx.settings.chat.default_language;
    let welcome = move |lang: Option<Lang>| Outgoing::Message {
        chat_id,
        thread_id: None,
        reply_to: None,
        html: Text::Welcome.render(lang.unwrap_or(default_lang)),
        buttons: Vec::new(),
    };
    let joined = is_in.then(|| {
        let added_by = Lang::from_telegram(member.from.language_code.as_deref());
        (
            added_by,
            &welcome as &(dyn Fn(Option<Lang>) -> Outgoing + Sync),
        )
    });
    core::chats::membership(&batch, chat_id, member.chat.title(), joined).await
}
