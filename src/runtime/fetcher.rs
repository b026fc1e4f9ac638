//! The update listener: long-polls `getUpdates` and stores every Update in
//! the inbox before confirming its offset to Telegram.
//!
//! Telegram forgets an Update only when a later `getUpdates` names an offset
//! past it, and this loop asks for that offset only after the batch is
//! committed: a crash at any point loses nothing, and what Telegram sends
//! again is recognised by its `update_id`. Updates are read as raw JSON, so
//! one that teloxide cannot parse is stored (and given up on by the
//! processor) instead of stalling the whole batch.

use std::time::Duration;

use std::sync::Arc;

use serde_json::{json, Value};
use teloxide::Bot;
use tokio::sync::{watch, Notify};

use crate::ledger::inbox::Fetched;
use crate::ledger::Ledger;

pub struct Fetcher {
    pub bot: Bot,
    pub ledger: Ledger,
    pub poll_timeout: Duration,
    /// The most Updates one poll asks for: one processor batch.
    pub batch_size: u32,
    /// The Update kinds to ask for (Telegram sends only these).
    pub allowed_updates: Vec<String>,
    /// Notified when Updates are stored.
    pub stored: Arc<Notify>,
    /// The processor's looks at the inbox: after storing a batch, the
    /// fetcher polls again only once the processor has looked (and taken
    /// the batch in hand), so that a backlog waits in Telegram.
    pub looks: watch::Receiver<u64>,
}

/// Why a poll failed.
#[derive(Debug)]
enum PollError {
    RetryAfter(Duration),
    Other(String),
}

impl Fetcher {
    /// Polls until `stop` turns true; a poll in flight is abandoned (its
    /// Updates are not confirmed, so Telegram sends them again).
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut offset: i64 = 0;
        let mut failures: u32 = 0;
        let mut looks = self.looks.clone();
        loop {
            let poll = tokio::select! {
                poll = self.poll(offset) => poll,
                _ = stop.wait_for(|stop| *stop) => return,
            };
            let pause = match poll {
                Ok(batch) if batch.is_empty() => {
                    failures = 0;
                    continue;
                }
                Ok(batch) => match self.ledger.store_updates(&batch).await {
                    Ok(_) => {
                        tracing::debug!(count = batch.len(), "updates stored");
                        failures = 0;
                        offset = batch
                            .iter()
                            .map(|u| u.update_id)
                            .max()
                            .unwrap_or(offset - 1)
                            + 1;
                        let seen = *looks.borrow_and_update();
                        self.stored.notify_one();
                        tokio::select! {
                            looked = looks.wait_for(|looks| *looks > seen) => {
                                if looked.is_err() {
                                    // The processor is gone: the bot is stopping.
                                    return;
                                }
                            }
                            _ = stop.wait_for(|stop| *stop) => return,
                        }
                        continue;
                    }
                    Err(error) => {
                        // Not confirmed: Telegram keeps them until we can store them.
                        tracing::error!(%error, "cannot store fetched updates; fetching them again");
                        failures += 1;
                        pause_after(failures)
                    }
                },
                Err(PollError::RetryAfter(wait)) => {
                    tracing::warn!(?wait, "getUpdates: Telegram asked to slow down");
                    wait
                }
                Err(PollError::Other(error)) => {
                    failures += 1;
                    let pause = pause_after(failures);
                    tracing::warn!(%error, retry_in = ?pause, "getUpdates failed");
                    pause
                }
            };
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                _ = stop.wait_for(|stop| *stop) => return,
            }
        }
    }

    async fn poll(&self, offset: i64) -> Result<Vec<Fetched>, PollError> {
        // Not `Url::join`: the token's colon would read as a URL scheme.
        let url = format!(
            "{}/bot{}/getUpdates",
            self.bot.api_url().as_str().trim_end_matches('/'),
            self.bot.token()
        );
        let body = json!({
            "offset": offset,
            "timeout": self.poll_timeout.as_secs(),
            "allowed_updates": self.allowed_updates,
            "limit": self.batch_size,
        });
        let response = self
            .bot
            .client()
            .post(url)
            .json(&body)
            .send()
            .await
            .map_err(|e| PollError::Other(format!("network: {}", e.without_url())))?;
        let status = response.status();
        let answer: Value = response
            .json()
            .await
            .map_err(|e| PollError::Other(format!("HTTP {status} without Telegram's JSON: {e}")))?;
        if answer["ok"] != json!(true) {
            if let Some(seconds) = answer["parameters"]["retry_after"].as_u64() {
                return Err(PollError::RetryAfter(Duration::from_secs(seconds)));
            }
            return Err(PollError::Other(format!(
                "HTTP {status}: {}",
                answer["description"].as_str().unwrap_or("no description")
            )));
        }
        let updates = answer["result"].as_array().cloned().unwrap_or_default();
        Ok(updates.into_iter().filter_map(fetched).collect())
    }
}

/// A stored form of one Update; `None` for one without an id (which
/// Telegram never sends, and which could not be confirmed anyway).
fn fetched(update: Value) -> Option<Fetched> {
    let update_id = update["update_id"].as_i64()?;
    Some(Fetched {
        update_id,
        chat_key: chat_key(&update),
        raw: update.to_string(),
    })
}

/// The chat an Update belongs to, so that one chat's Updates are handled in
/// order: the chat of its message, else its sender, else 0.
pub fn chat_key(update: &Value) -> i64 {
    let Some(body) = update
        .as_object()
        .and_then(|fields| fields.iter().find(|(name, _)| *name != "update_id"))
        .map(|(_, body)| body)
    else {
        return 0;
    };
    [
        &body["chat"]["id"],
        &body["message"]["chat"]["id"],
        &body["from"]["id"],
    ]
    .into_iter()
    .find_map(Value::as_i64)
    .unwrap_or(0)
}

/// A pause that doubles with each failure in a row, from 0.5 s up to 30 s.
fn pause_after(failures: u32) -> Duration {
    let first = Duration::from_millis(500);
    super::doubling(first, i64::from(failures) - 1, Duration::from_secs(30))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_are_keyed_by_their_chat() {
        let message = json!({"update_id": 1, "message": {"chat": {"id": -5}, "from": {"id": 7}}});
        assert_eq!(chat_key(&message), -5);
        let button = json!({"update_id": 2, "callback_query": {"from": {"id": 7}, "message": {"chat": {"id": -6}}}});
        assert_eq!(chat_key(&button), -6);
        let inline = json!({"update_id": 3, "inline_query": {"from": {"id": 7}}});
        assert_eq!(chat_key(&inline), 7);
        assert_eq!(chat_key(&json!({"update_id": 4})), 0);
        assert_eq!(chat_key(&json!("garbage")), 0);
    }

    #[test]
    fn an_update_without_an_id_is_not_stored() {
        assert!(fetched(json!({"message": {}})).is_none());
        assert_eq!(
            fetched(json!({"update_id": 9})).map(|f| f.update_id),
            Some(9)
        );
    }

    #[test]
    fn pauses_grow_and_are_capped() {
        assert_eq!(pause_after(1), Duration::from_millis(500));
        for failures in 1..7 {
            assert!(
                pause_after(failures + 1) > pause_after(failures),
                "{failures}"
            );
        }
        for failures in 7..40 {
            assert_eq!(pause_after(failures), Duration::from_secs(30), "{failures}");
        }
    }
}
