//! Startup and shutdown: everything the bot is, built from [`Settings`].
//!
//! [`App::build`] opens the ledger (running migrations) and makes the bot;
//! [`App::run_until_stopped`] announces the command menu, then polls and
//! dispatches until the `shutdown` future resolves, and lets the work in
//! flight finish within `shutdown.grace_seconds`. Tests build the same App
//! with a temporary database and a fake Bot API.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use secrecy::ExposeSecret;
use teloxide::adaptors::throttle::Limits;
use teloxide::dispatching::Dispatcher;
use teloxide::prelude::*;
use teloxide::types::{BotCommand, Me};
use teloxide::update_listeners::Polling;
use teloxide::{ApiError, RequestError};
use tokio::sync::watch;

use crate::config::Settings;
use crate::domain::CommandName;
use crate::i18n::{Lang, Text};
use crate::ledger::Ledger;
use crate::telegram::send::Outlet;
use crate::telegram::{admins::AdminCache, schema::schema, Context, SharedContext, TgBot};

pub struct App {
    settings: Arc<Settings>,
    ledger: Ledger,
    bot: TgBot,
    outlet: Outlet,
}

impl App {
    /// Opens the ledger and makes the bot; fails on a missing token or an
    /// unusable database.
    pub async fn build(settings: Settings) -> anyhow::Result<App> {
        let token = settings
            .telegram
            .token
            .clone()
            .context("TELOXIDE_TOKEN is not set: give the token BotFather gave you")?;
        let ledger = Ledger::connect(&settings.database)
            .await
            .with_context(|| format!("cannot open the database {}", settings.database.url))?;
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
        let outlet = if settings.telegram.pacing {
            Outlet::Paced(bot.clone().throttle(Limits::default()))
        } else {
            Outlet::Direct(bot.clone())
        };
        Ok(App {
            settings: Arc::new(settings),
            ledger,
            bot,
            outlet,
        })
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Runs the bot until `shutdown` resolves, then stops fetching updates and
    /// waits (up to the grace period) for handlers in flight.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
        let stopped = move || {
            let mut stop_rx = stop_rx.clone();
            async move {
                // An error means the sender is gone, which also means stop.
                let _ = stop_rx.wait_for(|stop| *stop).await;
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

        let context: SharedContext = Arc::new(Context {
            ledger: self.ledger.clone(),
            limits: self.settings.limits(),
            admins: AdminCache::new(self.settings.admin_cache_ttl()),
            settings: self.settings.clone(),
            outlet: self.outlet.clone(),
        });
        let listener = Polling::builder(self.bot.clone())
            .timeout(Duration::from_secs(
                self.settings.telegram.poll_timeout_seconds,
            ))
            .delete_webhook()
            .await
            .build();
        let mut dispatcher = Dispatcher::builder(self.bot.clone(), schema())
            .dependencies(dptree::deps![context])
            .default_handler(|update| async move {
                tracing::debug!(id = update.id.0, "update of a kind linli does not use");
            })
            .build();

        let token = dispatcher.shutdown_token();
        let grace = self.settings.shutdown_grace();
        let signalled = stopped();
        tokio::spawn(async move {
            signalled.await;
            tracing::info!("stopping: no new updates, finishing those in flight");
            // The dispatcher may still be starting; it can only stop once running.
            loop {
                match token.shutdown() {
                    Ok(done) => return done.await,
                    Err(_idle) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });

        let dispatch = dispatcher.try_dispatch_with_listener(
            listener,
            LoggingErrorHandler::with_custom_text("fetching updates failed"),
        );
        // Whichever ends first: the dispatcher, having drained its workers
        // after the shutdown signal, or the grace period after that signal.
        tokio::select! {
            result = dispatch => result.context("the dispatcher could not start")?,
            () = async {
                stopped().await;
                tokio::time::sleep(grace).await;
            } => tracing::warn!(?grace, "work in flight did not finish within the grace period"),
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
                Err(RequestError::Api(ApiError::InvalidToken)) => {
                    anyhow::bail!(
                        "Telegram refused the token (TELOXIDE_TOKEN): check it with BotFather"
                    )
                }
                Err(error) => {
                    tracing::warn!(%error, retry_in = ?pause, "cannot reach Telegram yet");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(30));
                }
            }
        }
    }

    /// Sets the command menu, in English and (for Chinese users) Chinese.
    async fn publish_commands(&self) {
        for lang in [Lang::En, Lang::Zh] {
            let commands: Vec<BotCommand> = CommandName::MENU
                .iter()
                .map(|name| {
                    BotCommand::new(name.as_str(), Text::CommandDescription(*name).render(lang))
                })
                .collect();
            let mut request = self.bot.set_my_commands(commands);
            if lang == Lang::Zh {
                request = request.language_code("zh");
            }
            if let Err(error) = request.await {
                tracing::error!(%error, lang = lang.as_str(), "setMyCommands failed; the command menu may be missing");
            }
        }
    }
}
