//! The processor: takes stored Updates from the inbox, a chat at a time and
//! in order within a chat, and runs each through the handler tree.
//!
//! A handler records its effects and its Update's handled mark in one
//! transaction. The processor covers the rest:
//! - an Update the tree does not handle, or that its handler ignores, is
//!   marked handled here;
//! - a handler error (the database was busy, say) is retried a few times
//!   with a pause, then the Update is given up;
//! - a handler panic gives the Update up at once: it is poisoned, and the
//!   chat's later Updates must not wait behind it.
//!
//! Given-up Updates keep their cause in the inbox, and the sender is told
//! something went wrong where that is possible.

use std::ops::ControlFlow;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::FutureExt;
use teloxide::types::{Me, Update, UpdateKind};
use tokio::sync::{mpsc, watch};

use super::handlers::Handled;
use super::lanes::{Finish, Lanes, Wake};
use super::schema::UpdateTree;
use super::{SharedContext, TgBot, UpdateRef};
use crate::i18n::{Lang, Text};
use crate::ledger::outbox::ANSWERS_LANE;
use crate::ledger::{LedgerResult, Outgoing};

/// How often a failing handler is tried before its Update is given up.
const MAX_ATTEMPTS: i64 = 3;

pub struct Processor {
    pub bot: TgBot,
    pub ctx: SharedContext,
    pub me: Me,
    pub handler: Arc<UpdateTree>,
    /// Told the chat of each Update handled, and the answers lane, so that
    /// the sender looks there.
    pub sender: Wake,
}

impl Processor {
    /// Handles Updates until `stop` turns true; the Update in hand finishes.
    /// `stored` names the chats of newly stored Updates.
    pub async fn run(
        self: Arc<Self>,
        stored: mpsc::UnboundedReceiver<i64>,
        stop: watch::Receiver<bool>,
    ) {
        let lanes = Lanes {
            name: "processor",
            woken: stored,
            stop: stop.clone(),
            finish: Finish::OnStop,
            tick: Duration::from_millis(500),
            max_workers: 32,
        };
        let scan = || async {
            self.ctx.ledger.inbox_keys().await.unwrap_or_else(|error| {
                tracing::error!(%error, "cannot read the inbox");
                Vec::new()
            })
        };
        lanes
            .run(scan, |chat_key| {
                let processor = self.clone();
                let stop = stop.clone();
                async move { processor.drain_chat(chat_key, stop).await }
            })
            .await;
    }

    async fn drain_chat(&self, chat_key: i64, stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            let head = match self.ctx.ledger.inbox_head(chat_key).await {
                Ok(Some(head)) => head,
                Ok(None) => return,
                Err(error) => {
                    tracing::error!(chat_key, %error, "cannot read the inbox");
                    return;
                }
            };
            if head.retry_at.is_some_and(|at| at > Utc::now()) {
                return;
            }
            let handled = self
                .handle_stored(head.update_id, &head.raw, head.attempts)
                .await;
            // Whatever the handler queued waits in this chat's lane or in
            // the answers lane.
            let _ = self.sender.send(chat_key);
            let _ = self.sender.send(ANSWERS_LANE);
            if let Err(error) = handled {
                tracing::error!(chat_key, update_id = head.update_id, %error, "cannot record an update's fate");
                return;
            }
        }
    }

    /// Handles one stored Update; the one function between the inbox and
    /// the handler tree.
    pub async fn handle_stored(
        &self,
        update_id: i64,
        raw: &str,
        attempts: i64,
    ) -> LedgerResult<()> {
        let ledger = &self.ctx.ledger;
        let update: Update = match serde_json::from_str(raw) {
            Ok(update) => update,
            Err(error) => {
                tracing::warn!(update_id, %error, "an update that cannot be read; skipped");
                return ledger
                    .inbox_give_up(update_id, Some(&format!("unreadable: {error}")))
                    .await;
            }
        };
        let deps = teloxide::dptree::deps![
            self.bot.clone(),
            self.ctx.clone(),
            self.me.clone(),
            update.clone(),
            UpdateRef(update_id)
        ];
        let outcome = AssertUnwindSafe(self.handler.dispatch(deps))
            .catch_unwind()
            .await;
        let failure = match outcome {
            // The handler committed the mark with its effect.
            Ok(ControlFlow::Break(Ok(Handled::Recorded))) => return Ok(()),
            // Nothing for the bot: marked here.
            Ok(ControlFlow::Break(Ok(Handled::Ignored))) | Ok(ControlFlow::Continue(_)) => {
                return ledger.inbox_give_up(update_id, None).await;
            }
            Ok(ControlFlow::Break(Err(error))) if attempts + 1 < MAX_ATTEMPTS => {
                tracing::warn!(update_id, %error, "handler failed; will retry");
                let at = Utc::now() + chrono::TimeDelta::seconds(1 << attempts.clamp(0, 10));
                return ledger.inbox_retry(update_id, at, &error.to_string()).await;
            }
            Ok(ControlFlow::Break(Err(error))) => {
                format!("handler failed {MAX_ATTEMPTS} times: {error}")
            }
            Err(panic) => {
                let reason = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                format!("handler panicked: {reason}")
            }
        };
        tracing::error!(update_id, %failure, "giving up on an update");
        ledger.inbox_give_up(update_id, Some(&failure)).await?;
        self.apologise(&update).await
    }

    /// Tells the sender of a given-up Update that it was not carried out.
    async fn apologise(&self, update: &Update) -> LedgerResult<()> {
        let default = self.ctx.settings.chat.default_language;
        let outgoing = match &update.kind {
            UpdateKind::Message(msg) | UpdateKind::EditedMessage(msg) => {
                let lang = Lang::for_sender(
                    msg.from.as_ref().and_then(|u| u.language_code.as_deref()),
                    default,
                );
                Outgoing::Message {
                    chat_id: msg.chat.id.0,
                    thread_id: msg
                        .thread_id
                        .filter(|_| msg.is_topic_message)
                        .map(|t| t.0 .0),
                    reply_to: Some(msg.id.0),
                    html: Text::InternalError.render(lang),
                }
            }
            UpdateKind::CallbackQuery(query) => {
                let lang = Lang::for_sender(query.from.language_code.as_deref(), default);
                Outgoing::Answer {
                    callback_query_id: query.id.0.clone(),
                    text: super::send::html_to_plain(&Text::InternalError.render(lang)),
                    alert: true,
                }
            }
            _ => return Ok(()),
        };
        let mut tx = self.ctx.ledger.begin().await?;
        tx.send(outgoing).await?;
        tx.commit().await?;
        Ok(())
    }
}
