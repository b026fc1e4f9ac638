//! The sender: takes the outbox lane by lane and delivers it to Telegram,
//! retrying until Telegram accepts or definitively refuses.
//!
//! - 429: the row waits `retry_after`, and so does the rest of its lane.
//! - network trouble and 5xx: the row waits with a doubling pause, capped.
//! - an announcement whose message is gone is posted anew.
//! - `migrate_to_chat_id`: the chat moves, and its rows go to the new id.
//! - 403 (bot removed or blocked): the chat is marked inactive and what
//!   waited for it is given up; its ledger stays.
//! - any other refusal: the row is given up, with the cause logged.
//!
//! A row is marked sent right after Telegram accepts it. Announcements are
//! rendered from the task's current state, and one delivery retires every
//! announcement row the state covers, so a burst of changes is one edit.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use teloxide::types::{ChatId, MessageId, ThreadId};
use tokio::sync::{mpsc, watch};

use super::keyboards;
use super::lanes::{Finish, Lanes, Wake};
use super::send::{Destination, Failure, Outlet};
use crate::config::Settings;
use crate::i18n::Text;
use crate::ledger::{Ledger, LedgerResult, OutboxRow, Outgoing};

/// The longest pause between two tries of one row.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct Sender {
    pub ledger: Ledger,
    pub outlet: Outlet,
    pub settings: Arc<Settings>,
    /// Names lanes to look at again (a migrated chat's new lane).
    pub wake: Wake,
}

impl Sender {
    /// Delivers until `drain` turns true and nothing is left to send;
    /// `queued` names lanes with new messages.
    pub async fn run(self, queued: mpsc::UnboundedReceiver<i64>, drain: watch::Receiver<bool>) {
        let lanes = Lanes {
            name: "sender",
            woken: queued,
            stop: drain,
            finish: Finish::WhenDrained,
            tick: Duration::from_millis(250),
            max_workers: 64,
        };
        let scan = || async {
            self.ledger.outbox_lanes().await.unwrap_or_else(|error| {
                tracing::error!(%error, "cannot read the outbox");
                Vec::new()
            })
        };
        lanes
            .run(scan, |lane| {
                let sender = self.clone();
                async move { sender.drain_lane(lane).await }
            })
            .await;
    }

    async fn drain_lane(&self, lane: i64) {
        loop {
            let head = match self.ledger.outbox_head(lane).await {
                Ok(Some(head)) => head,
                Ok(None) => return,
                Err(error) => {
                    tracing::error!(lane, %error, "cannot read the outbox");
                    return;
                }
            };
            if head.next_attempt_at.is_some_and(|at| at > Utc::now()) {
                return;
            }
            if let Err(error) = self.deliver(&head).await {
                tracing::error!(lane, row = head.id, %error, "cannot record a delivery");
                return;
            }
        }
    }

    async fn deliver(&self, row: &OutboxRow) -> LedgerResult<()> {
        tracing::debug!(row = row.id, lane = row.lane, "delivering");
        let Some(outgoing) = row.outgoing() else {
            return self
                .ledger
                .outbox_failed(row.id, "malformed outbox row")
                .await;
        };
        let result = match &outgoing {
            Outgoing::Message {
                chat_id,
                thread_id,
                reply_to,
                html,
            } => {
                let to = Destination {
                    chat_id: ChatId(*chat_id),
                    thread_id: thread_id.map(|id| ThreadId(MessageId(id))),
                    reply_to: reply_to.map(MessageId),
                };
                match self.outlet.send_html(to, html, None).await {
                    Ok(_) => return self.ledger.outbox_sent(row.id).await,
                    Err(failure) => failure,
                }
            }
            Outgoing::Answer {
                callback_query_id,
                text,
                alert,
            } => match self
                .outlet
                .answer_button(callback_query_id, text, *alert)
                .await
            {
                Ok(()) => return self.ledger.outbox_sent(row.id).await,
                Err(failure) => failure,
            },
            Outgoing::Announce {
                task_id, reply_to, ..
            } => match self.announce(row, *task_id, *reply_to).await? {
                None => return Ok(()),
                Some(failure) => failure,
            },
        };
        self.after_failure(row, result).await
    }

    /// Posts or updates a task's announcement; the failure, if any.
    async fn announce(
        &self,
        row: &OutboxRow,
        task_id: i64,
        reply_to: Option<i32>,
    ) -> LedgerResult<Option<Failure>> {
        let Some((task, newest)) = self.ledger.announcement_snapshot(task_id).await? else {
            // Another delivery already covered this row.
            self.ledger.outbox_sent(row.id).await?;
            return Ok(None);
        };
        let html = Text::Announcement(&task.card(self.settings.chat.time_zone)).render(task.lang);
        let keyboard = keyboards::for_task(task.number, task.state.status, task.lang);
        let chat_id = ChatId(task.chat_id);
        if let Some(message_id) = task.announcement_message_id {
            match self
                .outlet
                .edit_html(chat_id, MessageId(message_id), &html, keyboard.as_ref())
                .await
            {
                Ok(()) => {
                    self.ledger.announcement_sent(task.id, newest, None).await?;
                    return Ok(None);
                }
                Err(Failure::Gone) => {
                    tracing::warn!(
                        task = task.id,
                        message_id,
                        "the announcement is gone; posting it again"
                    );
                }
                Err(failure) => return Ok(Some(failure)),
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
        match self.outlet.send_html(to, &html, keyboard.as_ref()).await {
            Ok(message_id) => {
                self.ledger
                    .announcement_sent(task.id, newest, Some(message_id.0))
                    .await?;
                Ok(None)
            }
            Err(failure) => Ok(Some(failure)),
        }
    }

    async fn after_failure(&self, row: &OutboxRow, failure: Failure) -> LedgerResult<()> {
        match failure {
            Failure::RetryAfter(wait) => {
                tracing::warn!(lane = row.lane, ?wait, "Telegram asked to slow down");
                self.retry(row, wait, "429 Too Many Requests").await
            }
            Failure::Transient(error) => {
                let wait = backoff(row.attempts);
                tracing::warn!(lane = row.lane, %error, ?wait, "Bot API call failed; will retry");
                self.retry(row, wait, &error).await
            }
            Failure::Migrated(new_chat) => {
                let moved = self.ledger.migrate_chat(row.lane, new_chat.0).await?;
                tracing::info!(
                    from = row.lane,
                    to = new_chat.0,
                    moved,
                    "chat migrated; sending there"
                );
                let _ = self.wake.send(new_chat.0);
                Ok(())
            }
            Failure::BotRemoved(error) => {
                tracing::warn!(chat_id = row.lane, %error, "the bot cannot post in this chat any more; marking it inactive");
                self.ledger.set_chat_active(row.lane, false).await?;
                let dropped = self.ledger.outbox_abandon_lane(row.lane, &error).await?;
                tracing::warn!(
                    chat_id = row.lane,
                    dropped,
                    "messages for the chat given up"
                );
                Ok(())
            }
            Failure::Gone => {
                tracing::warn!(lane = row.lane, row = row.id, "message gone; nothing to do");
                self.ledger.outbox_sent(row.id).await
            }
            Failure::Refused(error) => {
                tracing::error!(lane = row.lane, row = row.id, %error, "Telegram refused a message; giving it up");
                self.ledger.outbox_failed(row.id, &error).await
            }
        }
    }

    async fn retry(&self, row: &OutboxRow, wait: Duration, error: &str) -> LedgerResult<()> {
        let at = Utc::now() + chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::MAX);
        self.ledger.outbox_retry(row.id, at, error).await
    }
}

/// Half a second, doubling with each attempt, at most [`MAX_BACKOFF`].
fn backoff(attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.clamp(0, 16)).unwrap_or(16);
    (Duration::from_millis(500) * 2u32.pow(exponent)).min(MAX_BACKOFF)
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
