//! The sender: takes the outbox lane by lane and delivers it to Telegram,
//! retrying until Telegram accepts or definitively refuses.
//!
//! - 429: the row waits `retry_after`, and so does the rest of its lane.
//! - network trouble and 5xx: the row waits with a doubling pause, capped.
//! - an announcement whose message is gone is posted anew.
//! - `migrate_to_chat_id`: the chat moves, and its rows go to the new id.
//! - 403 (bot removed or blocked) in a group: the chat is marked inactive
//!   and what waited for it is given up; its ledger stays.
//! - 403 in a private chat (never started, blocked): that person is marked
//!   unreachable and only their waiting messages are given up.
//! - any other refusal: the row is given up, with the cause logged.
//!
//! The sender delivers a chat's rows in order, one in flight at a time,
//! and chats side by side, up to [`IN_FLIGHT`] deliveries at once; button
//! answers keep no order and go side by side too. It keeps in memory which
//! chats may have something due (named when their messages are queued, and
//! again when their delivery in flight ends; every chat with waiting rows
//! at each tick), and reads their first rows, and the tasks the
//! announcements among them show, in one statement each. A row is marked
//! sent right after Telegram accepts it, by a [`Receipt`] that commits with
//! those of the deliveries running beside it; its chat goes on once that is
//! committed. Announcements are rendered from the task's current state, and
//! one delivery retires every announcement row the state covers, so a burst
//! of changes is one edit. A chat's board is drawn the same way
//! ([`super::board`]); boards and reactions wait with the button answers,
//! outside the chats' lanes (one drawing of a chat's board at a time).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use teloxide::types::{ChatId, MessageId, ThreadId};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::config::Settings;
use crate::core;
use crate::domain::{Lang, Notice, Status, UserId};
use crate::i18n::followup::FollowText;
use crate::i18n::private::PrivateText;
use crate::i18n::Text;
use crate::ledger::outbox::ANSWERS_LANE;
use crate::ledger::receipts::{Receipt, Receipts};
use crate::ledger::{Batch, Ledger, LedgerResult, OutboxRow, Outgoing, TaskRecord};
use crate::telegram::keyboards;
use crate::telegram::send::{caption_len, Destination, Failure, Outlet, CAPTION_MAX_UTF16};

/// Names lanes (chats, or [`ANSWERS_LANE`]) that may have something due.
pub type Wake = mpsc::UnboundedSender<i64>;

/// The longest pause between two tries of one row.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The most deliveries running at once.
const IN_FLIGHT: usize = 512;

/// How often the sender looks at every lane with waiting rows (retries
/// come due, rows left by the last run).
const TICK: Duration = Duration::from_millis(250);

pub struct Sender {
    pub ledger: Ledger,
    pub outlet: Outlet,
    pub settings: Arc<Settings>,
    /// Where deliveries are recorded.
    pub receipts: Receipts,
    /// The bot's username, which links to its private chat name.
    pub bot_username: String,
    /// When each board was last drawn.
    pub board_pace: super::board::BoardPace,
}

/// What a delivery in flight holds: its chat's lane; for a button answer
/// or reaction, its row; for a board, that chat's board (one drawing of a
/// board at a time, beside the chat's other messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Hold {
    Lane(i64),
    Answer(i64),
    Board(i64),
}

impl Hold {
    fn of(row: &OutboxRow) -> Hold {
        match (row.lane, row.chat_id) {
            (ANSWERS_LANE, Some(chat_id)) if row.kind == "board" => Hold::Board(chat_id),
            (ANSWERS_LANE, _) => Hold::Answer(row.id),
            (lane, _) => Hold::Lane(lane),
        }
    }
}

/// The deliveries in flight, and the lanes that may have something due.
#[derive(Default)]
struct Dispatch {
    deliveries: JoinSet<()>,
    running: HashMap<tokio::task::Id, Hold>,
    held: HashSet<Hold>,
    ready: HashSet<i64>,
}

impl Dispatch {
    fn room(&self) -> usize {
        IN_FLIGHT.saturating_sub(self.deliveries.len())
    }

    /// Frees what an ended delivery held; its lane may have more.
    fn ended(&mut self, ended: Result<(tokio::task::Id, ()), tokio::task::JoinError>) {
        let id = match ended {
            Ok((id, ())) => id,
            Err(error) => {
                tracing::error!(%error, "a delivery died; its row is tried again");
                error.id()
            }
        };
        if let Some(hold) = self.running.remove(&id) {
            self.held.remove(&hold);
            self.ready.insert(match hold {
                Hold::Lane(lane) => lane,
                Hold::Answer(_) | Hold::Board(_) => ANSWERS_LANE,
            });
        }
    }
}

impl Sender {
    /// Delivers until `drain` turns true and nothing is left to send;
    /// `queued` names lanes with new messages.
    pub async fn run(
        self,
        mut queued: mpsc::UnboundedReceiver<i64>,
        mut drain: watch::Receiver<bool>,
    ) {
        let sender = Arc::new(self);
        let mut dispatch = Dispatch::default();
        let mut scan = true;
        // One clock for the whole run: the scan comes round however busy
        // the other events keep the loop.
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let draining = *drain.borrow();
            if scan {
                scan = false;
                match sender.ledger.outbox_lanes().await {
                    Ok(lanes) => dispatch.ready.extend(lanes),
                    Err(error) => tracing::error!(%error, "cannot read the outbox"),
                }
            }
            // Everything that happened meanwhile, in one look.
            while let Ok(lane) = queued.try_recv() {
                dispatch.ready.insert(lane);
            }
            while let Some(ended) = dispatch.deliveries.try_join_next_with_id() {
                dispatch.ended(ended);
            }
            sender.start_due(&mut dispatch).await;
            if draining && dispatch.deliveries.is_empty() && sender.nothing_waits().await {
                break;
            }
            tokio::select! {
                Some(lane) = queued.recv() => {
                    dispatch.ready.insert(lane);
                }
                Some(ended) = dispatch.deliveries.join_next_with_id() => dispatch.ended(ended),
                _ = tick.tick() => scan = true,
                _ = drain.changed(), if !draining => scan = true,
            }
        }
    }

    /// Starts delivering what is due in the ready lanes, as room allows.
    async fn start_due(self: &Arc<Self>, dispatch: &mut Dispatch) {
        let room = dispatch.room();
        if room == 0 || dispatch.ready.is_empty() {
            return;
        }
        let now = self.ledger.clock().now();
        let lanes: Vec<i64> = dispatch
            .ready
            .iter()
            .copied()
            .filter(|lane| *lane != ANSWERS_LANE && !dispatch.held.contains(&Hold::Lane(*lane)))
            .collect();
        let heads = self.ledger.outbox_heads(&lanes, now).await;
        let answers = if dispatch.ready.contains(&ANSWERS_LANE) {
            // Answers in flight are still waiting rows: read past them.
            let limit = u32::try_from(room + dispatch.held.len()).unwrap_or(u32::MAX);
            self.ledger.outbox_answers(now, limit).await.map(Some)
        } else {
            Ok(None)
        };
        let (heads, answers) = match (heads, answers) {
            (Ok(heads), Ok(answers)) => (heads, answers),
            (Err(error), _) | (_, Err(error)) => {
                // The lanes stay ready: the next look tries again.
                tracing::error!(%error, "cannot read the outbox");
                return;
            }
        };
        // Looked at: a lane is ready again when named, or when its
        // delivery ends (an answer's makes the answers lane ready).
        dispatch.ready.clear();
        let rows: Vec<OutboxRow> = heads
            .into_iter()
            .chain(answers.into_iter().flatten())
            .filter(|row| !dispatch.held.contains(&Hold::of(row)))
            .collect();
        // What does not fit is looked at again when room is made.
        dispatch
            .ready
            .extend(rows.iter().skip(room).map(|row| row.lane));
        let rows: Vec<OutboxRow> = rows.into_iter().take(room).collect();
        let shown: Vec<i64> = rows
            .iter()
            .filter(|row| row.kind == "announce")
            .filter_map(|row| row.task_id)
            .collect();
        let mut snapshots = match self.ledger.announcement_snapshots(&shown).await {
            Ok(snapshots) => snapshots,
            Err(error) => {
                tracing::error!(%error, "cannot read the tasks to announce");
                dispatch.ready.extend(rows.iter().map(|row| row.lane));
                return;
            }
        };
        for row in rows {
            let hold = Hold::of(&row);
            if !dispatch.held.insert(hold) {
                // A second board row of a chat read in the same look: the
                // first one's drawing covers it, or it goes next.
                dispatch.ready.insert(row.lane);
                continue;
            }
            let snapshot = row.task_id.and_then(|task| snapshots.remove(&task));
            let delivery = self.clone();
            let id = dispatch
                .deliveries
                .spawn(async move { delivery.deliver(&row, snapshot).await })
                .id();
            dispatch.running.insert(id, hold);
        }
    }

    async fn nothing_waits(&self) -> bool {
        match self.ledger.outbox_waiting().await {
            Ok(waiting) => waiting == 0,
            Err(error) => {
                tracing::error!(%error, "cannot read the outbox");
                false
            }
        }
    }

    /// Delivers one row and records what came of it.
    async fn deliver(&self, row: &OutboxRow, snapshot: Option<(TaskRecord, i64)>) {
        tracing::debug!(row = row.id, lane = row.lane, "delivering");
        let recorded = match self.attempt(row, snapshot).await {
            Ok(Some(receipt)) => self.receipts.record(receipt).await,
            Ok(None) => Ok(()),
            Err(error) => Err(error),
        };
        if let Err(error) = recorded {
            tracing::error!(lane = row.lane, row = row.id, %error, "cannot record a delivery; the row will be sent again");
        }
    }

    /// One attempt at a row: what to record, if anything is left to.
    async fn attempt(
        &self,
        row: &OutboxRow,
        snapshot: Option<(TaskRecord, i64)>,
    ) -> LedgerResult<Option<Receipt>> {
        let Some(outgoing) = row.outgoing() else {
            return Ok(Some(Receipt::Failed {
                row: row.id,
                error: "malformed outbox row".into(),
            }));
        };
        let sent = Receipt::Sent { row: row.id };
        let failure = match &outgoing {
            Outgoing::Message {
                chat_id,
                thread_id,
                reply_to,
                html,
                buttons,
            } => {
                let to = Destination {
                    chat_id: ChatId(*chat_id),
                    thread_id: thread_id.map(|id| ThreadId(MessageId(id))),
                    reply_to: reply_to.map(MessageId),
                };
                let markup = keyboards::markup(buttons);
                match self.outlet.send_html(to, html, markup.as_ref()).await {
                    Ok(_) => return Ok(Some(sent)),
                    Err(failure) => failure,
                }
            }
            Outgoing::Answer {
                callback_query_id,
                text,
                alert,
                url,
            } => match self
                .outlet
                .answer_button(callback_query_id, text, *alert, url.as_deref())
                .await
            {
                Ok(()) => return Ok(Some(sent)),
                Err(failure) => failure,
            },
            Outgoing::Delete {
                chat_id,
                message_id,
            } => match self
                .outlet
                .delete(ChatId(*chat_id), MessageId(*message_id))
                .await
            {
                Ok(()) => return Ok(Some(sent)),
                // Without the right to delete, the message stays: the
                // task is private all the same.
                Err(Failure::Refused(error)) => {
                    tracing::info!(chat_id, %error, "cannot delete a /need message; it stays");
                    return Ok(Some(sent));
                }
                Err(failure) => failure,
            },
            Outgoing::Details {
                task_id,
                chat_id,
                lang,
            } => match self.details(*task_id, *chat_id, *lang).await? {
                Ok(()) => return Ok(Some(sent)),
                Err(failure) => failure,
            },
            Outgoing::Notice {
                task_id,
                chat_id,
                notice,
                lang,
            } => match self.notice(*task_id, *chat_id, *notice, *lang).await? {
                Ok(()) => return Ok(Some(sent)),
                // A claimer who blocked the bot is still asked: in the group.
                Err(Failure::BotRemoved(error)) if notice.needs_the_claimer() && *chat_id > 0 => {
                    let batch = Batch::new(self.ledger.clone());
                    core::followup::say_in_group_instead(&batch, *task_id, *notice).await?;
                    batch.commit().await?;
                    Failure::BotRemoved(error)
                }
                Err(failure) => failure,
            },
            Outgoing::Edit {
                chat_id,
                message_id,
                html,
                buttons,
            } => {
                let markup = keyboards::markup(buttons);
                let (chat, message) = (ChatId(*chat_id), MessageId(*message_id));
                match self
                    .outlet
                    .edit_html(chat, message, html, markup.as_ref())
                    .await
                {
                    // A message deleted meanwhile has nothing left to bring up to date.
                    Ok(()) | Err(Failure::Gone) => return Ok(Some(sent)),
                    Err(failure) => failure,
                }
            }
            Outgoing::Board { chat_id, .. } => match self.board(row, *chat_id).await? {
                Ok(receipt) => return Ok(Some(receipt)),
                Err(failure) => failure,
            },
            Outgoing::React {
                chat_id,
                message_id,
            } => match self.react(row, *chat_id, *message_id).await {
                Ok(receipt) => return Ok(Some(receipt)),
                Err(failure) => failure,
            },
            Outgoing::Announce { reply_to, .. } => {
                match self.announce(row, snapshot, *reply_to).await {
                    Ok(receipt) => return Ok(Some(receipt)),
                    Err(failure) => failure,
                }
            }
        };
        self.after_failure(row, failure).await
    }

    /// Posts or updates a task's announcement: what to record, or why not.
    async fn announce(
        &self,
        row: &OutboxRow,
        snapshot: Option<(TaskRecord, i64)>,
        reply_to: Option<i32>,
    ) -> Result<Receipt, Failure> {
        let Some((task, newest)) = snapshot else {
            // Another delivery already covered this row, or the board
            // shows the task instead.
            return Ok(Receipt::Sent { row: row.id });
        };
        let html =
            Text::Announcement(&task.group_card(self.settings.chat.time_zone)).render(task.lang);
        let keyboard = keyboards::for_task(task.number, task.state, task.lang);
        let chat_id = ChatId(task.chat_id);
        let announced = |posted| Receipt::Announced {
            task_id: task.id,
            chat_id: task.chat_id,
            newest,
            posted,
        };
        if let Some(message_id) = task.announcement_message_id {
            match self
                .outlet
                .edit_html(chat_id, MessageId(message_id), &html, keyboard.as_ref())
                .await
            {
                Ok(()) => return Ok(announced(None)),
                Err(Failure::Gone) => {
                    tracing::warn!(
                        task = task.id,
                        message_id,
                        "the announcement is gone; posting it again"
                    );
                }
                Err(failure) => return Err(failure),
            }
        }
        let to = Destination {
            chat_id,
            thread_id: task.thread_id.map(|id| ThreadId(MessageId(id))),
            // Only the first announcement answers the request.
            reply_to: reply_to
                .filter(|_| task.announcement_message_id.is_none())
                .map(MessageId),
        };
        self.outlet
            .send_html(to, &html, keyboard.as_ref())
            .await
            .map(|message_id| announced(Some(message_id.0)))
    }

    /// Sends a private request's flat and details (with its photo or voice
    /// message) to `claimer`, if they still hold it; otherwise nothing.
    async fn details(
        &self,
        task_id: i64,
        claimer: i64,
        lang: Lang,
    ) -> LedgerResult<Result<(), Failure>> {
        let Some((task, group)) = self.task_and_group(task_id).await? else {
            return Ok(Ok(()));
        };
        if !core::private::holds(&task, UserId(claimer)) {
            tracing::debug!(task_id, "the task moved on before its details went out");
            return Ok(Ok(()));
        }
        let mut card = task.card(self.settings.chat.time_zone);
        let render = |card: &crate::domain::TaskCard| {
            PrivateText::Details {
                card,
                requester_id: task.state.requester.0,
                group: &group,
            }
            .render(lang)
        };
        let mut html = render(&card);
        // A caption is shorter than a message: the details are cut to fit.
        while task.media.is_some() && caption_len(&html) > CAPTION_MAX_UTF16 {
            let excess = caption_len(&html) - CAPTION_MAX_UTF16;
            let keep = card.details.chars().count().saturating_sub(excess + 1);
            if keep == 0 {
                break;
            }
            card.details = card.details.chars().take(keep).collect::<String>() + "…";
            html = render(&card);
        }
        let chat_id = ChatId(claimer);
        let sent = match &task.media {
            Some(media) => self.outlet.send_media(chat_id, media, &html).await,
            None => {
                let to = Destination {
                    chat_id,
                    thread_id: None,
                    reply_to: None,
                };
                self.outlet.send_html(to, &html, None).await
            }
        };
        Ok(sent.map(drop))
    }

    /// Tells a requester or claimer `notice` about a task, in their private
    /// chat `to`, or in the task's group naming its claimer when `to` is
    /// that group. One meant for the claimer goes only while the task is
    /// claimed (by `to`, when private); the receipt question only while it
    /// is done and not yet received.
    async fn notice(
        &self,
        task_id: i64,
        to: i64,
        notice: Notice,
        lang: Lang,
    ) -> LedgerResult<Result<(), Failure>> {
        let Some((task, group)) = self.task_and_group(task_id).await? else {
            return Ok(Ok(()));
        };
        let in_group = to == task.chat_id;
        let state = task.state;
        let current = match notice {
            Notice::Done => state.status == Status::Done && !state.received,
            _ if notice.needs_the_claimer() => {
                state.status == Status::Claimed && (in_group || state.claimer == Some(UserId(to)))
            }
            _ => true,
        };
        if !current {
            tracing::debug!(
                task_id,
                notice = notice.as_str(),
                "the task moved on before its notice went out"
            );
            return Ok(Ok(()));
        }
        let card = task.group_card(self.settings.chat.time_zone);
        let claimer = match (in_group, state.claimer, task.claimer_name.as_deref()) {
            (true, Some(id), Some(name)) => Some((id.0, name)),
            _ => None,
        };
        let html = FollowText::Notice {
            notice,
            card: &card,
            group: &group,
            mention: claimer,
        }
        .render(lang);
        let buttons = keyboards::for_notice(notice, task.id, lang);
        let to = Destination {
            chat_id: ChatId(to),
            thread_id: task
                .thread_id
                .filter(|_| in_group)
                .map(|id| ThreadId(MessageId(id))),
            reply_to: task
                .announcement_message_id
                .filter(|_| in_group)
                .map(MessageId),
        };
        let markup = keyboards::markup(&buttons);
        Ok(self
            .outlet
            .send_html(to, &html, markup.as_ref())
            .await
            .map(drop))
    }

    /// Task `task_id` and the title of its group, as messages about it
    /// name it; `None` when there is no such task.
    async fn task_and_group(&self, task_id: i64) -> LedgerResult<Option<(TaskRecord, String)>> {
        let Some(task) = self.ledger.task_by_id(task_id).await? else {
            return Ok(None);
        };
        let group = self.ledger.chat_title(task.chat_id).await?;
        Ok(Some((task, group.unwrap_or_default())))
    }

    /// What to do about a failed attempt; the receipt to record, if any.
    async fn after_failure(
        &self,
        row: &OutboxRow,
        failure: Failure,
    ) -> LedgerResult<Option<Receipt>> {
        let retry = |wait: Duration, error: String| Receipt::Retry {
            row: row.id,
            at: self.ledger.clock().now()
                + chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::MAX),
            error,
        };
        // The chat the row speaks to: its lane's, or, in the answers lane,
        // the chat a board or reaction names (a button answer names none).
        let chat = match row.lane {
            ANSWERS_LANE => row.chat_id,
            lane => Some(lane),
        };
        Ok(Some(match failure {
            Failure::RetryAfter(wait) => {
                tracing::warn!(lane = row.lane, ?wait, "Telegram asked to slow down");
                retry(wait, "429 Too Many Requests".into())
            }
            Failure::Transient(error) => {
                let wait = backoff(row.attempts);
                tracing::warn!(lane = row.lane, %error, ?wait, "Bot API call failed; will retry");
                retry(wait, error)
            }
            // A button answer names no chat: only the row is given up.
            Failure::Migrated(_) | Failure::BotRemoved(_) if chat.is_none() => {
                tracing::error!(
                    row = row.id,
                    ?failure,
                    "a button answer was refused; giving it up"
                );
                Receipt::Failed {
                    row: row.id,
                    error: format!("{failure:?}"),
                }
            }
            Failure::Migrated(new_chat) => {
                let batch = Batch::new(self.ledger.clone());
                core::chats::migrate(&batch, chat.unwrap_or(row.lane), new_chat.0).await?;
                batch.commit().await?;
                return Ok(None);
            }
            Failure::BotRemoved(error) => {
                let chat = chat.unwrap_or(row.lane);
                let batch = Batch::new(self.ledger.clone());
                if chat > 0 {
                    // A private chat: it concerns that person alone. What
                    // caused the message stands; only what waits for them
                    // is given up.
                    tracing::warn!(user = chat, %error, "the bot cannot write to this person privately");
                    core::private::unreachable(&batch, UserId(chat)).await?;
                } else {
                    tracing::warn!(chat_id = chat, %error, "the bot cannot post in this chat any more; marking it inactive");
                    core::chats::membership(&batch, chat, None, None).await?;
                }
                batch.commit().await?;
                let dropped = self.ledger.outbox_abandon_lane(chat, &error).await?;
                tracing::warn!(chat_id = chat, dropped, "messages for the chat given up");
                return Ok(None);
            }
            Failure::Gone => {
                tracing::warn!(lane = row.lane, row = row.id, "message gone; nothing to do");
                Receipt::Sent { row: row.id }
            }
            Failure::Refused(error) => {
                tracing::error!(lane = row.lane, row = row.id, %error, "Telegram refused a message; giving it up");
                Receipt::Failed { row: row.id, error }
            }
        }))
    }
}

/// Half a second, doubling with each attempt, at most [`MAX_BACKOFF`].
fn backoff(attempts: i64) -> Duration {
    super::doubling(Duration::from_millis(500), attempts, MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(0), Duration::from_millis(500));
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(4));
        assert_eq!(backoff(30), MAX_BACKOFF);
        assert_eq!(backoff(-1), Duration::from_millis(500));
    }
}
