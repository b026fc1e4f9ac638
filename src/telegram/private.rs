//! The private chat with the bot (interface.md, *Private requests*): a
//! request written step by step, by buttons where the choice is fixed, and
//! the claimer's details link.
//!
//! Each Update is translated into an [`Answer`] to the person's draft or a
//! start; [`Draft::take`] decides; the core records the draft (or the
//! filed task) with the next question in the Update's unit. The batch is
//! flushed first, so the draft read is the one the last Update left, and
//! Telegram is asked about membership with no write lock held.

use teloxide::prelude::*;

use super::callbacks::Pressed;
use super::handlers::HandlerResult;
use super::households::households_privately;
use super::{admins::Admins, keyboards, SharedContext, TgBot};
use crate::core::private::{self as core_private, Keep, MemberCheck};
use crate::core::AdminCheck;
use crate::domain::{
    is_send_word, Answer, Command, CommandName, DeepLink, Draft, DraftError, Media, MediaKind,
    NewTask, Parsed, Step,
};
use crate::i18n::private::PrivateText;
use crate::i18n::{Lang, Text};
use crate::ledger::outbox::Buttons;
use crate::ledger::{Batch, LedgerResult, NewTaskRecord, Outgoing, Person};

/// One person's Update in their private chat with the bot.
pub struct PrivateChat<'a> {
    pub bot: &'a TgBot,
    pub ctx: &'a SharedContext,
    pub batch: &'a Batch,
    pub person: &'a Person,
    /// The person's language.
    pub lang: Lang,
    /// The message being answered, if the Update is one: the first message
    /// of the answer replies to it.
    pub reply_to: Option<i32>,
}

/// What the person did, as the steps see it.
enum Said<'a> {
    /// Start (again), with what is known already.
    Begin(Draft),
    /// Answer the question asked.
    Answer(Answer<'a>),
    /// Something that answers no question (a sticker, a location…).
    Other,
    Send,
    Abort,
}

/// How the outcome is told: a message, or a button's answer plus messages.
#[derive(Default)]
struct Told {
    messages: Vec<Outgoing>,
    /// For a button: the answer's text (empty: none) and whether it alerts.
    button: Option<(String, bool)>,
    /// A finished draft to file, in the same unit as the messages.
    filing: Option<Draft>,
}

impl PrivateChat<'_> {
    fn chat_id(&self) -> i64 {
        self.person.id.0
    }

    fn message(&self, html: String, buttons: Buttons) -> Outgoing {
        Outgoing::Message {
            chat_id: self.chat_id(),
            thread_id: None,
            reply_to: None,
            html,
            buttons,
        }
    }

    /// A message in the private chat: a command that starts or feeds the
    /// steps, or anything else written (text, a photo, a voice message).
    /// Returns `false` for a command the steps do not take (`/mine`…).
    pub async fn on_message(&self, msg: &Message, parsed: &Parsed) -> LedgerResult<bool> {
        let said = match parsed {
            Parsed::Command(Command::Start(Some(payload))) => match DeepLink::parse(payload) {
                Some(DeepLink::Details(task_id)) => {
                    self.details_link(task_id).await?;
                    return Ok(true);
                }
                Some(DeepLink::Ask {
                    chat_id,
                    thread_id,
                    kind,
                }) => Said::Begin(Draft {
                    thread_id,
                    ..Draft::new(Some(chat_id), kind)
                }),
                Some(DeepLink::Households(chat_id)) => {
                    let (bot, ctx, batch) = (self.bot, self.ctx, self.batch);
                    households_privately(bot, ctx, batch, self.person, self.lang, Some(chat_id))
                        .await?;
                    return Ok(true);
                }
                None => Said::Begin(Draft::default()),
            },
            Parsed::Command(Command::Start(None)) => Said::Begin(Draft::default()),
            Parsed::Command(Command::Ask(kind)) => Said::Begin(Draft::new(None, *kind)),
            // A whole /need written here: only the group is left to ask.
            Parsed::Command(Command::Need(NewTask {
                kind,
                flat,
                details,
            })) => Said::Begin(Draft {
                kind: Some(*kind),
                flat: Some(flat.clone()),
                details: Some(details.clone()),
                // Written as a photo's caption: the photo goes with it.
                media: media_of(msg),
                ..Draft::default()
            }),
            // A /need written wrongly here: the steps ask it right.
            Parsed::Invalid(error) if error.command() == CommandName::Need => {
                Said::Begin(Draft::default())
            }
            Parsed::Command(_) | Parsed::Invalid(_) => return Ok(false),
            Parsed::NotForUs => said_in(msg).map_or(Said::Other, Said::Answer),
        };
        self.batch.flush().await?;
        let draft = core_private::draft_of(&self.ctx.ledger, self.person.id).await?;
        let said = match (said, &draft) {
            // Written with no request going: the steps begin.
            (Said::Answer(_) | Said::Other, None) => Said::Begin(Draft::default()),
            // "好" or "发送" typed instead of tapping Send.
            (Said::Answer(Answer::Text(text)), Some((draft, _)))
                if draft.step() == Step::Confirm && is_send_word(text) =>
            {
                Said::Send
            }
            (said, _) => said,
        };
        let (draft, told) = self.go(draft.map(|(d, _)| d), said).await?;
        self.record(draft, told).await?;
        Ok(true)
    }

    /// A step's button in the private chat.
    pub async fn on_button(&self, query: &CallbackQuery, pressed: Pressed) -> HandlerResult {
        self.batch.flush().await?;
        let draft = core_private::draft_of(&self.ctx.ledger, self.person.id).await?;
        let said = match pressed {
            Pressed::Group(chat_id) => Said::Answer(Answer::Group(chat_id)),
            Pressed::Kind(kind) => Said::Answer(Answer::Kind(kind)),
            Pressed::Skip => Said::Answer(Answer::Skip),
            Pressed::Send => Said::Send,
            Pressed::Abort => Said::Abort,
            Pressed::LastFlat | Pressed::Household(_) => {
                let chat = draft.as_ref().and_then(|(d, _)| d.chat_id);
                let flat = match (chat, pressed) {
                    // Only a lead or admin is offered (or given) a household's flat.
                    (Some(chat_id), Pressed::Household(id)) => self
                        .households(chat_id)
                        .await?
                        .into_iter()
                        .find(|(household, _)| *household == id)
                        .map(|(_, flat)| flat),
                    (Some(chat_id), _) => {
                        self.ctx.ledger.last_flat(self.person.id, chat_id).await?
                    }
                    (None, _) => None,
                };
                // A flat no longer there: the question is asked again.
                flat.map_or(Said::Other, |flat| Said::Answer(Answer::Flat(flat)))
            }
            Pressed::Task(..) | Pressed::Board(_) => Said::Abort,
            // Routed elsewhere; here they would only ask the step again.
            Pressed::OfTask(..) | Pressed::Keep(_) | Pressed::Set(_) => Said::Other,
        };
        let (draft, mut told) = match draft {
            None => (
                None,
                Told {
                    messages: Vec::new(),
                    button: Some((PrivateText::Stale.render(self.lang), true)),
                    ..Told::default()
                },
            ),
            Some((draft, _)) => self.go(Some(draft), said).await?,
        };
        let (text, alert) = told.button.take().unwrap_or_default();
        told.messages.insert(
            0,
            Outgoing::Answer {
                callback_query_id: query.id.0.clone(),
                text,
                alert,
                url: None,
            },
        );
        self.record(draft, told).await
    }

    /// Keeps `draft` (or drops it, `None`) with what is told, in one unit.
    async fn record(&self, draft: Option<Draft>, told: Told) -> HandlerResult {
        let mut messages = told.messages;
        if let Some((text, _)) = told.button.filter(|(text, _)| !text.is_empty()) {
            // Written, not pressed: the answer is a message.
            messages.push(self.message(text, Vec::new()));
        }
        let first = messages.iter_mut().find_map(|m| match m {
            Outgoing::Message { reply_to, .. } => Some(reply_to),
            _ => None,
        });
        if let Some(reply_to) = first {
            *reply_to = self.reply_to;
        }
        if let Some(finished) = told.filing {
            return self.file(finished, messages).await;
        }
        let keep = match &draft {
            Some(draft) => Keep::Draft(draft, self.lang),
            None => Keep::Drop,
        };
        core_private::step(self.batch, self.person.id, Some(self.lang), keep, messages).await
    }

    /// What `said` does to `draft`: the draft to keep (`None`: none) and
    /// what to tell (or the draft to file).
    async fn go(
        &self,
        draft: Option<Draft>,
        said: Said<'_>,
    ) -> LedgerResult<(Option<Draft>, Told)> {
        let tell = |html: String| Told {
            messages: vec![self.message(html, Vec::new())],
            button: None,
            ..Told::default()
        };
        match said {
            Said::Abort => Ok((None, tell(PrivateText::Aborted.render(self.lang)))),
            Said::Begin(draft) => self.begin(draft).await,
            Said::Other => match draft {
                Some(draft) => self.ask_again(draft, None).await,
                None => self.begin(Draft::default()).await,
            },
            Said::Send => match draft {
                Some(draft) if draft.step() == Step::Confirm => self.send(draft).await,
                Some(draft) => self.ask_again(draft, None).await,
                None => Ok((None, tell(PrivateText::Stale.render(self.lang)))),
            },
            Said::Answer(answer) => {
                let Some(draft) = draft else {
                    return self.begin(Draft::default()).await;
                };
                if let Answer::Group(chat_id) = answer {
                    if draft.step() == Step::Group && !self.is_member(chat_id).await {
                        return Ok((None, tell(PrivateText::NotMember.render(self.lang))));
                    }
                }
                match draft.take(answer, &self.ctx.limits) {
                    Ok(next) => {
                        let ask = self.question(&next).await?;
                        Ok((
                            Some(next),
                            Told {
                                messages: vec![ask],
                                button: None,
                                ..Told::default()
                            },
                        ))
                    }
                    Err(error) => self.ask_again(draft, Some(error)).await,
                }
            }
        }
    }

    /// The steps begin with what is known: a group named by the link is
    /// checked; otherwise the person's groups are found.
    async fn begin(&self, mut draft: Draft) -> LedgerResult<(Option<Draft>, Told)> {
        let refuse = |text: PrivateText| {
            let html = text.render(self.lang);
            Ok((
                None,
                Told {
                    messages: vec![self.message(html, Vec::new())],
                    button: None,
                    ..Told::default()
                },
            ))
        };
        match draft.chat_id {
            Some(chat_id) if !self.is_member(chat_id).await => {
                return refuse(PrivateText::NotMember)
            }
            Some(_) => {}
            None => {
                let groups = self.groups().await?;
                match groups.as_slice() {
                    [] => return refuse(PrivateText::NoGroups),
                    [(chat_id, _)] => draft.chat_id = Some(*chat_id),
                    _ => {
                        let html = PrivateText::AskGroup.render(self.lang);
                        let ask = self.message(html, keyboards::groups(&groups, self.lang));
                        return Ok((
                            Some(draft),
                            Told {
                                messages: vec![ask],
                                button: None,
                                ..Told::default()
                            },
                        ));
                    }
                }
            }
        }
        let ask = self.question(&draft).await?;
        Ok((
            Some(draft),
            Told {
                messages: vec![ask],
                button: None,
                ..Told::default()
            },
        ))
    }

    /// Says what was wrong with an answer (if anything), then asks the
    /// draft's question again.
    async fn ask_again(
        &self,
        draft: Draft,
        error: Option<DraftError>,
    ) -> LedgerResult<(Option<Draft>, Told)> {
        let why = match &error {
            None | Some(DraftError::NotNow(_)) => PrivateText::AnswerThisFirst.render(self.lang),
            Some(DraftError::FlatHasSpaces) => PrivateText::FlatHasSpaces.render(self.lang),
            Some(DraftError::Usage(usage)) => Text::Usage(usage).render(self.lang),
        };
        let ask = self.question(&draft).await?;
        let why = self.message(why, Vec::new());
        Ok((
            Some(draft),
            Told {
                messages: vec![why, ask],
                button: None,
                ..Told::default()
            },
        ))
    }

    /// The question `draft` waits to have answered, with its buttons.
    async fn question(&self, draft: &Draft) -> LedgerResult<Outgoing> {
        let lang = self.lang;
        let (text, buttons) = match (draft.step(), draft.chat_id) {
            (Step::Group, _) | (_, None) => {
                let groups = self.groups().await?;
                (PrivateText::AskGroup, keyboards::groups(&groups, lang))
            }
            (Step::Kind, _) => (PrivateText::AskKind, keyboards::kinds(lang)),
            (Step::Flat, Some(chat_id)) => {
                let last = self.ctx.ledger.last_flat(self.person.id, chat_id).await?;
                let households = self.households(chat_id).await?;
                let buttons = keyboards::flats(last.as_deref(), &households, lang);
                (PrivateText::AskFlat, buttons)
            }
            (Step::Details, _) => (PrivateText::AskDetails, keyboards::skip(lang)),
            (Step::Confirm, Some(chat_id)) => {
                let group = self.group_title(chat_id).await?;
                let html = PrivateText::Confirm {
                    group: &group,
                    draft,
                }
                .render(lang);
                return Ok(self.message(html, keyboards::send(lang)));
            }
        };
        Ok(self.message(text.render(lang), buttons))
    }

    /// Files a finished draft as a private task, if the person still
    /// belongs to its group.
    async fn send(&self, draft: Draft) -> LedgerResult<(Option<Draft>, Told)> {
        let Some(chat_id) = draft.chat_id.filter(|_| draft.step() == Step::Confirm) else {
            return self.ask_again(draft, None).await;
        };
        if !self.is_member(chat_id).await {
            let html = PrivateText::NotMember.render(self.lang);
            let told = Told {
                messages: vec![self.message(html, Vec::new())],
                button: None,
                ..Told::default()
            };
            return Ok((None, told));
        }
        let told = Told {
            filing: Some(draft),
            ..Told::default()
        };
        Ok((None, told))
    }

    /// Files a finished draft (checked, in `send`) as a private task, with
    /// `messages` (a button's answer), in one unit.
    async fn file(&self, draft: Draft, messages: Vec<Outgoing>) -> HandlerResult {
        let (Some(chat_id), Some(kind), Some(flat)) = (draft.chat_id, draft.kind, draft.flat)
        else {
            return Err(crate::ledger::LedgerError::Misuse(
                "an unfinished draft filed".into(),
            ));
        };
        let task = NewTask {
            kind,
            flat,
            details: draft.details.unwrap_or_default(),
        };
        let group = self.group_title(chat_id).await?;
        let record = NewTaskRecord {
            chat_id,
            chat_title: None,
            task: &task,
            requester: self.person,
            default_lang: self.ctx.settings.chat.default_language,
            thread_id: draft.thread_id,
            source_message_id: 0,
            at: self.ctx.ledger.clock().now(),
            private: true,
            media: draft.media.as_ref(),
        };
        let filed = |task: &crate::ledger::TaskRecord| {
            let html = PrivateText::Filed {
                number: task.number,
                group: &group,
            }
            .render(self.lang);
            messages
                .into_iter()
                .chain([self.message(html, Vec::new())])
                .collect()
        };
        core_private::file(self.batch, &record, &self.ctx.reminders(), filed).await?;
        Ok(())
    }

    /// `/start task_ID`: the details of a task, for the one who holds it.
    async fn details_link(&self, task_id: i64) -> HandlerResult {
        self.batch.flush().await?;
        let task = self.ctx.ledger.task_by_id(task_id).await?;
        let refusal = self.message(PrivateText::DetailsNotYours.render(self.lang), Vec::new());
        core_private::details_asked(
            self.batch,
            self.person.id,
            self.lang,
            task.as_ref(),
            |theirs| {
                if theirs {
                    Vec::new()
                } else {
                    vec![refusal]
                }
            },
        )
        .await
    }

    /// The registered households of a group (id, flat), for one of its
    /// leads or admins, who may ask on their behalf; none for anyone else.
    async fn households(&self, chat_id: i64) -> LedgerResult<Vec<(i64, String)>> {
        let ledger = &self.ctx.ledger;
        let manages = crate::core::households::is_lead(ledger, chat_id, self.person.id).await?
            || Admins { bot: self.bot }
                .is_admin(chat_id, self.person.id)
                .await;
        if !manages {
            return Ok(Vec::new());
        }
        let households = crate::core::households::list(ledger, chat_id).await?;
        Ok(households.into_iter().map(|h| (h.id, h.flat)).collect())
    }

    async fn groups(&self) -> LedgerResult<Vec<(i64, String)>> {
        let members = Admins { bot: self.bot };
        core_private::groups_for(&self.ctx.ledger, &members, self.person.id).await
    }

    async fn group_title(&self, chat_id: i64) -> LedgerResult<String> {
        Ok(self
            .ctx
            .ledger
            .chat_title(chat_id)
            .await?
            .unwrap_or_else(|| chat_id.to_string()))
    }

    async fn is_member(&self, chat_id: i64) -> bool {
        Admins { bot: self.bot }
            .is_member(chat_id, self.person.id)
            .await
    }
}

/// What a message without a command answers: its text, or a photo or
/// voice message with its caption.
fn said_in(msg: &Message) -> Option<Answer<'_>> {
    match media_of(msg) {
        Some(media) => Some(Answer::Media(media, msg.caption().unwrap_or_default())),
        None => msg.text().map(Answer::Text),
    }
}

/// The photo (its largest size) or voice message `msg` carries.
pub(super) fn media_of(msg: &Message) -> Option<Media> {
    if let Some(photo) = msg.photo().and_then(|sizes| sizes.last()) {
        return Some(Media {
            kind: MediaKind::Photo,
            file_id: photo.file.id.0.clone(),
        });
    }
    msg.voice().map(|voice| Media {
        kind: MediaKind::Voice,
        file_id: voice.file.id.0.clone(),
    })
}
