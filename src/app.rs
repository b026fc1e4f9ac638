//! Startup and shutdown: everything the bot is, built from [`Settings`].
//!
//! [`App::build`] opens the ledger (running migrations) and makes the bot;
//! [`App::run_until_stopped`] publishes the command menu and runs the three
//! loops around the ledger until the `shutdown` future resolves:
//! - the fetcher stores Updates in the inbox;
//! - the processor runs them through the handlers, a chat at a time;
//! - the sender delivers the outbox to Telegram.
//!
//! On shutdown the fetcher stops at once, the processor finishes the
//! Updates in hand, and the sender drains what they queued, all within
//! `shutdown.grace_seconds`. Whatever is left stays in the inbox and outbox
//! for the next start. Tests build the same App with a temporary database
//! and a fake Bot API.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use secrecy::ExposeSecret;
use teloxide::prelude::*;
use teloxide::types::Me;
use teloxide::{ApiError, RequestError};
use tokio::sync::{mpsc, watch, Notify};

use crate::clock::Clock;
use crate::config::Settings;
use crate::ledger::receipts::Receipts;
use crate::ledger::{Ledger, RunLock};
use crate::runtime::fetcher::Fetcher;
use crate::runtime::processor::Processor;
use crate::runtime::sender::Sender;
use crate::telegram::pace::{Limits, Pace};
use crate::telegram::schema::{schema, ALLOWED_UPDATES};
use crate::telegram::send::Outlet;
use crate::telegram::{Context, TgBot};

/// How often handled inbox and outbox rows past their retention are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(600);

pub struct App {
    settings: Arc<Settings>,
    ledger: Ledger,
    bot: TgBot,
    outlet: Outlet,
    /// Held while the bot runs: one process at a time on a PostgreSQL database.
    _run_lock: RunLock,
}

impl App {
    /// Opens the ledger and makes the bot; fails on a missing token or an
    /// unusable database.
    pub async fn build(settings: Settings) -> anyhow::Result<App> {
        App::build_with_clock(settings, Clock::system()).await
    }

    /// The same, telling time by `clock` (tests pass a manual one).
    pub async fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<App> {
        let token = settings
            .telegram
            .token
            .clone()
            .context("TELOXIDE_TOKEN is not set: give the token BotFather gave you")?;
        let ledger = Ledger::connect(&settings.database)
            .await
            .with_context(|| format!("cannot open the database {}", settings.database.shown()))?
            .with_clock(clock);
        let run_lock = ledger
            .lock_for_run(&settings.database)
            .await
            .with_context(|| format!("cannot run on the database {}", settings.database.shown()))?;
        let client = teloxide::net::default_reqwest_settings()
            .timeout(Duration::from_secs(
                settings.telegram.request_timeout_seconds,
            ))
            .build()
            .context("cannot build the HTTP client")?;
        let mut bot = Bot::with_client(token.expose_secret(), client);
        if let Some(url) = &settings.telegram.api_url {
            bot = bot.set_api_url(url.clone());
        }
        let pace = &settings.telegram;
        let outlet = Outlet {
            bot: bot.clone(),
            pace: pace.pacing.then(|| {
                Arc::new(Pace::new(Limits {
                    group_per_minute: pace.group_messages_per_minute,
                    chat_per_second: pace.chat_messages_per_second,
                    overall_per_second: pace.messages_per_second,
                }))
            }),
        };
        Ok(App {
            settings: Arc::new(settings),
            ledger,
            bot,
            outlet,
            _run_lock: run_lock,
        })
    }

    /// Runs the bot until `shutdown` resolves, then stops as described above.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop) = watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
        let stopped = {
            let stop = stop.clone();
            move || {
                let mut stop = stop.clone();
                async move {
                    // An error means the sender is gone, which also means stop.
                    let _ = stop.wait_for(|stop| *stop).await;
                }
            }
        };

        let me = tokio::select! {
            me = self.wait_for_me() => me?,
            () = stopped() => return Ok(()),
        };
        tracing::info!(
            username = me.user.username.as_deref().unwrap_or("?"),
            "connected to Telegram"
        );
        self.publish_commands().await;

        let bot_username = me.user.username.clone().unwrap_or_default();
        let stored = Arc::new(Notify::new());
        let (looks_tx, looks) = watch::channel(0);
        let (queued, queued_lanes) = mpsc::unbounded_channel();
        let handler = Arc::new(schema());
        let fetcher = Fetcher {
            bot: self.bot.clone(),
            ledger: self.ledger.clone(),
            poll_timeout: Duration::from_secs(self.settings.telegram.poll_timeout_seconds),
            batch_size: self.settings.telegram.updates_per_batch,
            allowed_updates: ALLOWED_UPDATES.map(String::from).to_vec(),
            stored: stored.clone(),
            looks,
        };
        let processor = Arc::new(Processor {
            bot: self.bot.clone(),
            ctx: Arc::new(Context {
                ledger: self.ledger.clone(),
                limits: self.settings.limits(),
                settings: self.settings.clone(),
            }),
            me,
            handler,
            batch_size: self.settings.telegram.updates_per_batch,
            sender: queued.clone(),
        });
        let sender = Sender {
            ledger: self.ledger.clone(),
            outlet: self.outlet.clone(),
            settings: self.settings.clone(),
            receipts: Receipts::start(self.ledger.clone()),
            bot_username,
            board_pace: Default::default(),
        };
        let (drain_tx, drain) = watch::channel(false);
        let fetching = tokio::spawn(fetcher.run(stop.clone()));
        let processing = tokio::spawn(processor.run(stored, looks_tx, stop.clone()));
        let sending = tokio::spawn(sender.run(queued_lanes, drain));
        let pruning = tokio::spawn(prune(self.ledger.clone(), self.settings.clone()));

        stopped().await;
        tracing::info!("stopping: no new updates; finishing the work in hand");
        let grace = self.settings.shutdown_grace();
        let finished = tokio::time::timeout(grace, async {
            let _ = fetching.await;
            let _ = processing.await;
            let _ = drain_tx.send(true);
            let _ = sending.await;
        })
        .await;
        pruning.abort();
        if finished.is_err() {
            tracing::warn!(?grace, "work in hand did not finish within the grace period; it stays queued for the next start");
        }
        tracing::info!("stopped");
        Ok(())
    }

    /// Asks Telegram who the bot is, retrying while Telegram is unreachable.
    async fn wait_for_me(&self) -> anyhow::Result<Me> {
        let mut pause = Duration::from_millis(500);
        loop {
            match self.bot.get_me().await {
                Ok(me) if me.user.username.is_some() => return Ok(me),
                Ok(_) => anyhow::bail!("Telegram says the bot has no username; check the token"),
                Err(RequestError::Api(ApiError::InvalidToken)) => anyhow::bail!(
                    "Telegram refused the token (TELOXIDE_TOKEN): check it with BotFather"
                ),
                Err(error) => {
                    tracing::warn!(%error, retry_in = ?pause, "cannot reach Telegram yet");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(30));
                }
            }
        }
    }

    /// Sets the command menus and the description, and removes any
    /// webhook, which would make getUpdates fail.
    async fn publish_commands(&self) {
        if let Err(error) = self.bot.delete_webhook().await {
            tracing::error!(%error, "deleteWebhook failed; getUpdates may be refused while a webhook is set");
        }
        crate::telegram::menu::publish(&self.bot).await;
    }
}

/// Deletes handled inbox and outbox rows past their retention, forgets
/// what tasks finished `privacy.forget_after` ago said, and sets the
/// digest and reminder timers of groups that have none, at start and now
/// and then.
async fn prune(ledger: Ledger, settings: Arc<Settings>) {
    let retention = chrono::TimeDelta::hours(
        i64::try_from(settings.database.handled_retention_hours).unwrap_or(i64::MAX / 3600),
    );
    let mut first = true;
    loop {
        match ledger.prune_handled(retention).await {
            Ok((inbox, outbox)) if inbox + outbox > 0 => {
                tracing::info!(inbox, outbox, "pruned handled rows")
            }
            Err(error) => tracing::error!(%error, "pruning failed"),
            _ => {}
        }
        if let Err(error) =
            crate::core::privacy::forget_due(&ledger, settings.privacy.forget_after).await
        {
            tracing::error!(%error, "forgetting failed; it is tried again later");
        }
        let reminders = settings.reminders();
        // Claims from before reminders are looked for once, at start.
        match crate::core::timers::ensure_chat_timers(&ledger, &reminders, first).await {
            Ok(set) if set > 0 => tracing::info!(set, "reminder and digest timers set"),
            Err(error) => {
                tracing::error!(%error, "cannot set the groups' timers; tried again later")
            }
            _ => {}
        }
        first = false;
        tokio::time::sleep(PRUNE_EVERY).await;
    }
}
