//! Timers at the chat edge: the group's reminder of unclaimed tasks and
//! its daily digest put into words, and a due timer handed to the core
//! the way an Update is.

use chrono::{DateTime, Utc};
use teloxide::types::Me;

use super::handlers::person;
use super::{keyboards, SharedContext};
use crate::core::timers::{self, Digest, Say};
use crate::domain::{Lang, Reminders, TaskCard};
use crate::i18n::followup::FollowText;
use crate::i18n::pages;
use crate::ledger::timers::Timer;
use crate::ledger::{Batch, LedgerResult, Outgoing, TaskRecord};

/// Fires `timer` in one unit of `batch`, the bot (`me`) acting for itself.
pub async fn handle(
    ctx: &SharedContext,
    me: &Me,
    batch: &Batch,
    timer: &Timer,
) -> LedgerResult<()> {
    let speaker = Speaker {
        now: ctx.ledger.clock().now(),
        hide_flats: ctx.ledger.hides_flats(timer.chat_id).await?,
    };
    let bot = person(&me.user);
    let default_lang = ctx.settings.chat.default_language;
    timers::fire(batch, timer, &bot, &ctx.reminders(), default_lang, &speaker).await
}

/// Writes reminders and digests as the group may read them.
struct Speaker {
    now: DateTime<Utc>,
    /// The chat hides flats: the digest counts households, not names them.
    hide_flats: bool,
}

impl Speaker {
    /// What the group may see of `task`, with how long it has waited or
    /// been claimed.
    fn card(&self, task: &TaskRecord, reminders: &Reminders) -> TaskCard {
        let mut card = task.group_card(reminders.time_zone);
        card.since = Some(task.age(self.now));
        card
    }
}

/// `html` as messages into a chat, split within Telegram's limit, with
/// `buttons` under the last.
fn messages(chat_id: i64, html: &str, buttons: crate::ledger::outbox::Buttons) -> Vec<Outgoing> {
    let mut out: Vec<Outgoing> = pages(html)
        .into_iter()
        .map(|page| Outgoing::Message {
            chat_id,
            thread_id: None,
            reply_to: None,
            html: page,
            buttons: Vec::new(),
        })
        .collect();
    if let Some(Outgoing::Message { buttons: last, .. }) = out.last_mut() {
        *last = buttons;
    }
    out
}

impl Say for Speaker {
    fn unclaimed(
        &self,
        chat_id: i64,
        tasks: &[TaskRecord],
        count: u64,
        lang: Lang,
        reminders: &Reminders,
    ) -> Vec<Outgoing> {
        let cards: Vec<TaskCard> = tasks.iter().map(|t| self.card(t, reminders)).collect();
        let after = reminders.unclaimed_after.unwrap_or_default();
        let html = FollowText::Unclaimed {
            cards: &cards,
            more: count.saturating_sub(cards.len() as u64),
            after,
        }
        .render(lang);
        let numbers: Vec<_> = tasks.iter().map(|task| task.number).collect();
        messages(chat_id, &html, keyboards::claims(&numbers))
    }

    fn digest(
        &self,
        chat_id: i64,
        digest: &Digest,
        lang: Lang,
        reminders: &Reminders,
    ) -> Vec<Outgoing> {
        let zone = reminders.time_zone;
        let done: Vec<TaskCard> = digest.done.iter().map(|t| t.group_card(zone)).collect();
        let live: Vec<TaskCard> = digest
            .live
            .iter()
            .map(|t| self.card(t, reminders))
            .collect();
        let html = FollowText::Digest {
            done: &done,
            done_count: digest.done_count,
            live: &live,
            live_count: digest.live_count,
            ending: &digest.ending,
            hide_flats: self.hide_flats,
        }
        .render(lang);
        messages(chat_id, &html, Vec::new())
    }
}
