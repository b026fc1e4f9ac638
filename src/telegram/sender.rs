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
//! A row is marked sent right after Telegram accepts it, by a [`Receipt`]
//! that commits with those of the deliveries running beside it; the lane
//! goes on once it is committed. Announcements are rendered from the task's
//! current state, and one delivery retires every announcement row the state
//! covers, so a burst of changes is one edit. Button answers keep no order:
//! their lane sends what is due side by side.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::future::join_all;
use teloxide::types::{ChatId, MessageId, ThreadId};
use tokio::sync::{mpsc, watch};

use super::keyboards;
use super::lanes::{Finish, Lanes, Wake};
use super::send::{Destination, Failure, Outlet};
use crate::config::Settings;
use crate::i18n::Text;
use crate::ledger::receipts::{Receipt, Receipts};
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
    /// Where deliveries are recorded.
    pub receipts: Receipts,
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
            let due = match self.ledger.outbox_due(lane, Utc::now()).await {
                Ok(due) => due,
                Err(error) => {
                    tracing::error!(lane, %error, "cannot read the outbox");
                    return;
                }
            };
            let delivered = join_all(due.rows.iter().map(|row| self.deliver(row))).await;
            if let Some(error) = delivered.into_iter().find_map(Result::err) {
                tracing::error!(lane, %error, "cannot record a delivery");
                return;
            }
            // Rows queued from now on name the lane again; retries that
            // come due are found by the runner's scan.
            if due.rows.is_empty() || !due.more {
                return;
            }
        }
    }

    async fn deliver(&self, row: &OutboxRow) -> LedgerResult<()> {
        tracing::debug!(row = row.id, lane = row.lane, "delivering");
        match self.attempt(row).await? {
            Some(receipt) => self.receipts.record(receipt).await,
            None => Ok(()),
        }
    }

    /// One attempt at a row: what to record, if anything is left to.
    async fn attempt(&self, row: &OutboxRow) -> LedgerResult<Option<Receipt>> {
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
            } => {
                let to = Destination {
                    chat_id: ChatId(*chat_id),
                    thread_id: thread_id.map(|id| ThreadId(MessageId(id))),
                    reply_to: reply_to.map(MessageId),
                };
                match self.outlet.send_html(to, html, None).await {
                    Ok(_) => return Ok(Some(sent)),
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
                Ok(()) => return Ok(Some(sent)),
                Err(failure) => failure,
            },
            Outgoing::Announce {
                task_id, reply_to, ..
            } => match self.announce(row, *task_id, *reply_to).await? {
                Ok(receipt) => return Ok(Some(receipt)),
                Err(failure) => failure,
            },
        };
        self.after_failure(row, failure).await
    }

    /// Posts or updates a task's announcement: what to record, or why not.
    async fn announce(
        &self,
        row: &OutboxRow,
        task_id: i64,
        reply_to: Option<i32>,
    ) -> LedgerResult<Result<Receipt, Failure>> {
        let Some((task, newest)) = self.ledger.announcement_snapshot(task_id).await? else {
            // Another delivery already covered this row.
            return Ok(Ok(Receipt::Sent { row: row.id }));
        };
        let html = Text::Announcement(&task.card(self.settings.chat.time_zone)).render(task.lang);
        let keyboard = keyboards::for_task(task.number, task.state.status, task.lang);
        let chat_id = ChatId(task.chat_id);
        let announced = |posted| Receipt::Announced {
            task_id: task.id,
            newest,
            posted,
        };
        if let Some(message_id) = task.announcement_message_id {
            match self
                .outlet
                .edit_html(chat_id, MessageId(message_id), &html, keyboard.as_ref())
                .await
            {
                Ok(()) => return Ok(Ok(announced(None))),
                Err(Failure::Gone) => {
                    tracing::warn!(
                        task = task.id,
                        message_id,
                        "the announcement is gone; posting it again"
                    );
                }
                Err(failure) => return Ok(Err(failure)),
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
        Ok(self
            .outlet
            .send_html(to, &html, keyboard.as_ref())
            .await
            .map(|message_id| announced(Some(message_id.0))))
    }

    /// What to do about a failed attempt; the receipt to record, if any.
    async fn after_failure(
        &self,
        row: &OutboxRow,
        failure: Failure,
    ) -> LedgerResult<Option<Receipt>> {
        let retry = |wait: Duration, error: String| Receipt::Retry {
            row: row.id,
            at: Utc::now() + chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::MAX),
            error,
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
            Failure::Migrated(new_chat) => {
                let moved = self.ledger.migrate_chat(row.lane, new_chat.0).await?;
                tracing::info!(
                    from = row.lane,
                    to = new_chat.0,
                    moved,
                    "chat migrated; sending there"
                );
                let _ = self.wake.send(new_chat.0);
                return Ok(None);
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
