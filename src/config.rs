//! Settings: what the bot is configured with, and where each value comes from.
//!
//! Layers, later ones winning: `config/default.toml` (compiled into the binary,
//! so it runs from any folder), the TOML file named by `LINLI_CONFIG`, then
//! `LINLI_<SECTION>__<KEY>` environment variables. `DATABASE_URL`,
//! `TELOXIDE_TOKEN` and `TELOXIDE_API_URL` are read as they are named.
//! The token is kept in a [`SecretString`] so it never reaches a log line.

use std::collections::HashMap;
use std::time::Duration;

use config::{Config, Environment, File, FileFormat};
use secrecy::SecretString;
use serde::Deserialize;

use crate::domain::Limits;
use crate::i18n::Lang;

const DEFAULTS: &str = include_str!("../config/default.toml");

/// Everything the bot is built from.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub chat: ChatSettings,
    pub telegram: TelegramSettings,
    pub shutdown: ShutdownSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: String,
    pub busy_timeout_ms: u64,
    pub max_connections: u32,
    pub handled_retention_hours: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ChatSettings {
    pub default_language: Lang,
    pub time_zone: chrono_tz::Tz,
    pub details_max_chars: usize,
    pub flat_max_chars: usize,
    pub admin_cache_seconds: u64,
    pub list_limit: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TelegramSettings {
    /// From `TELOXIDE_TOKEN`; required by `linli run` only.
    #[serde(skip)]
    pub token: Option<SecretString>,
    /// From `TELOXIDE_API_URL`; Telegram's own address when unset.
    #[serde(skip)]
    pub api_url: Option<url::Url>,
    pub pacing: bool,
    pub group_messages_per_minute: u32,
    pub chat_messages_per_second: u32,
    pub messages_per_second: u32,
    pub updates_per_batch: u32,
    pub poll_timeout_seconds: u64,
    pub request_timeout_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ShutdownSettings {
    pub grace_seconds: u64,
}

/// The file layers as serde sees them; the environment-only values are added after.
#[derive(Deserialize)]
struct Layers {
    database: DatabaseSettings,
    chat: ChatSettings,
    telegram: TelegramSettings,
    shutdown: ShutdownSettings,
}

/// A setting that cannot be used, said in one line for the operator.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(String);

impl Settings {
    /// Reads every layer from the process environment.
    pub fn load() -> Result<Self, SettingsError> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Reads every layer, taking environment variables from `vars` (tests pass their own).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, SettingsError> {
        let var = |name: &str| vars.get(name).filter(|v| !v.trim().is_empty()).cloned();
        let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
        if let Some(path) = var("LINLI_CONFIG") {
            if !std::path::Path::new(&path).is_file() {
                return Err(SettingsError(format!(
                    "LINLI_CONFIG names {path}, which is not a readable file"
                )));
            }
            builder = builder.add_source(File::new(&path, FileFormat::Toml));
        }
        // `LINLI_CONFIG` lands on a top-level key `config`, which nothing reads.
        builder = builder.add_source(
            Environment::with_prefix("LINLI")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true)
                .source(Some(vars.clone().into_iter().collect())),
        );
        let layers: Layers = builder
            .build()
            .and_then(Config::try_deserialize)
            .map_err(|e| SettingsError(format!("bad settings: {e}")))?;

        let mut settings = Settings {
            database: layers.database,
            chat: layers.chat,
            telegram: layers.telegram,
            shutdown: layers.shutdown,
        };
        if let Some(url) = var("DATABASE_URL") {
            settings.database.url = url;
        }
        settings.telegram.token = var("TELOXIDE_TOKEN").map(SecretString::from);
        if let Some(raw) = var("TELOXIDE_API_URL") {
            let parsed = url::Url::parse(&raw).map_err(|e| {
                SettingsError(format!("TELOXIDE_API_URL {raw:?} is not a URL: {e}"))
            })?;
            settings.telegram.api_url = Some(parsed);
        }
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        let fail = |msg: &str| Err(SettingsError(format!("bad settings: {msg}")));
        if !self.database.url.starts_with("sqlite:") {
            return fail("database.url (or DATABASE_URL) must start with sqlite:");
        }
        if self.database.max_connections == 0 {
            return fail("database.max_connections must be at least 1");
        }
        if self.chat.flat_max_chars == 0 || self.chat.details_max_chars == 0 {
            return fail("chat.flat_max_chars and chat.details_max_chars must be at least 1");
        }
        let pace = &self.telegram;
        if pace.group_messages_per_minute == 0
            || pace.chat_messages_per_second == 0
            || pace.messages_per_second == 0
        {
            return fail("the telegram.*_per_* pacing limits must be at least 1");
        }
        if !(1..=100).contains(&self.telegram.updates_per_batch) {
            return fail(
                "telegram.updates_per_batch must be from 1 to 100 (Telegram's getUpdates limit)",
            );
        }
        if self.telegram.request_timeout_seconds <= self.telegram.poll_timeout_seconds {
            return fail("telegram.request_timeout_seconds must be longer than telegram.poll_timeout_seconds");
        }
        Ok(())
    }

    /// The limits the command parser enforces.
    pub fn limits(&self) -> Limits {
        Limits {
            flat_max_chars: self.chat.flat_max_chars,
            details_max_chars: self.chat.details_max_chars,
        }
    }

    pub fn admin_cache_ttl(&self) -> Duration {
        Duration::from_secs(self.chat.admin_cache_seconds)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown.grace_seconds)
    }
}
