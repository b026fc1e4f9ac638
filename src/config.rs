//! Settings: what the bot is configured with, and where each value comes from.
//!
//! Layers, later ones winning: `config/default.toml` (compiled into the binary,
//! so it runs from any folder), the TOML file named by `LINLI_CONFIG`, then
//! `LINLI_<SECTION>__<KEY>` environment variables. `DATABASE_URL`,
//! `TELOXIDE_TOKEN` and `TELOXIDE_API_URL` are read as they are named.
//! The token is kept in a [`SecretString`] so it never reaches a log line.
//!
//! The keys of `config/default.toml` are the only settings. A key in the file
//! or a `LINLI_` variable that is none of them is refused, with the nearest
//! known one; so is a value of the wrong kind or outside its range
//! ([`RANGES`]). Each refusal is one line that names the key, given before
//! anything is opened.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use config::{File, FileFormat, Map, Source, Value, ValueKind};
use secrecy::SecretString;

use crate::domain::{Lang, Limits};

/// The defaults, and the list of every setting there is.
const DEFAULTS: &str = include_str!("../config/default.toml");

/// What the name of every variable of ours starts with.
const PREFIX: &str = "LINLI_";

/// Our variables that are not settings: the settings file, and the log
/// filter the benchmark gives the bots it starts (which pass it on).
const OTHER_VARIABLES: [&str; 3] = ["LINLI_CONFIG", "LINLI_BENCH_LOG", "LINLI_TEST_POSTGRES"];

/// The languages `chat.default_language` may name.
const LANGUAGES: [Lang; 2] = [Lang::En, Lang::Zh];

/// The allowed range of each whole-number setting, both ends included. The
/// comments of `config/default.toml` and the README's table state the same
/// ranges (a test checks that they do).
pub const RANGES: [(&str, u64, u64); 13] = [
    ("database.busy_timeout_ms", 1, 600_000),
    ("database.max_connections", 1, 64),
    // Telegram may deliver an unconfirmed Update again for up to 24 hours,
    // and its inbox row is what recognises it.
    ("database.handled_retention_hours", 24, 8_760),
    ("chat.details_max_chars", 1, 1_000),
    ("chat.flat_max_chars", 1, 100),
    ("chat.list_limit", 1, 100),
    ("telegram.group_messages_per_minute", 1, 1_200),
    ("telegram.chat_messages_per_second", 1, 100),
    ("telegram.messages_per_second", 1, 1_000),
    // Telegram's own limit for one getUpdates.
    ("telegram.updates_per_batch", 1, 100),
    ("telegram.poll_timeout_seconds", 1, 300),
    ("telegram.request_timeout_seconds", 2, 600),
    ("shutdown.grace_seconds", 0, 600),
];

/// Everything the bot is built from.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `[database]`.
    pub database: DatabaseSettings,
    /// `[chat]`.
    pub chat: ChatSettings,
    /// `[telegram]`, with the token and the Bot API address.
    pub telegram: TelegramSettings,
    /// `[shutdown]`.
    pub shutdown: ShutdownSettings,
    /// `[privacy]`.
    pub privacy: PrivacySettings,
    /// `[reminders]`: each chat's defaults (`/settings` changes them per chat).
    pub reminders: ReminderSettings,
}

/// `[reminders]`: how the bot follows tasks up, unless a chat set its own.
/// Each wait is `None` when `off`.
#[derive(Debug, Clone)]
pub struct ReminderSettings {
    /// How long a task waits unclaimed before it is listed in its group.
    pub unclaimed_after: Option<Duration>,
    /// How long a claim runs before its claimer is asked "still on it?".
    pub check_claim_after: Option<Duration>,
    /// How long the question waits for an answer before the bot releases
    /// the task.
    pub auto_release_after: Option<Duration>,
    /// The time of day of the daily digest, in the chat's time zone.
    pub digest_at: Option<chrono::NaiveTime>,
}

/// `[privacy]`: how long what residents wrote is kept.
#[derive(Debug, Clone)]
pub struct PrivacySettings {
    /// How long after a task finished its flat, details and notes are
    /// erased; `None` (`off`) keeps them.
    pub forget_after: Option<Duration>,
}

/// `[database]`: where the ledger is and how it is opened.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// A `sqlite:` URL (the embedded store) or a `postgres://` one;
    /// `DATABASE_URL` wins over `database.url`. It may hold a password:
    /// show [`DatabaseSettings::shown`] instead.
    pub url: String,
    /// How long an SQLite write waits for another writer, in milliseconds.
    pub busy_timeout_ms: u64,
    /// Connections in the pool: SQLite's readers (it has one writer
    /// besides), or all of PostgreSQL's.
    pub max_connections: u32,
    /// How long handled inbox and outbox rows are kept, in hours.
    pub handled_retention_hours: u64,
}

impl DatabaseSettings {
    /// Whether the ledger is in PostgreSQL (else in an SQLite file).
    pub fn is_postgres(&self) -> bool {
        is_postgres(&self.url)
    }

    /// The URL as it may be shown or logged: a password in it is `***`.
    pub fn shown(&self) -> String {
        without_password(&self.url)
    }
}

/// Whether `url` names a PostgreSQL database (`postgres://` or `postgresql://`).
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// `url` with its password, if it has one (before the host, or as a
/// `password=` parameter, which sqlx also reads), replaced by `***`.
pub fn without_password(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return without_userinfo_password(url);
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    if parsed.query_pairs().any(|(key, _)| key == "password") {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(key, value)| {
                let value = if key == "password" {
                    "***".into()
                } else {
                    value
                };
                (key.into_owned(), value.into_owned())
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

/// The password of a URL that does not parse (a `#` or `/` in it, not
/// percent-encoded, say) replaced by `***`: what lies between the first `:`
/// after `scheme://` and the last `@`.
fn without_userinfo_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// `[chat]`: how the bot speaks and what it accepts.
#[derive(Debug, Clone)]
pub struct ChatSettings {
    /// The group's language until an admin or the bot's adder gives one;
    /// also for a sender whose own is neither English nor Chinese.
    pub default_language: Lang,
    /// The zone of the times shown in chat.
    pub time_zone: chrono_tz::Tz,
    /// Longest DETAILS of `/need` and NOTE of `/done`, in characters.
    pub details_max_chars: usize,
    /// Longest FLAT, in characters.
    pub flat_max_chars: usize,
    /// Most tasks listed in one reply.
    pub list_limit: u32,
}

/// `[telegram]`: the Bot API, its pace and its polling.
#[derive(Debug, Clone)]
pub struct TelegramSettings {
    /// From `TELOXIDE_TOKEN`; required by `linli run` only.
    pub token: Option<SecretString>,
    /// From `TELOXIDE_API_URL`; Telegram's own address when unset.
    pub api_url: Option<url::Url>,
    /// Whether new messages are paced within the three limits below.
    pub pacing: bool,
    /// Most messages a minute into one group.
    pub group_messages_per_minute: u32,
    /// Most messages a second into one chat.
    pub chat_messages_per_second: u32,
    /// Most messages a second in all.
    pub messages_per_second: u32,
    /// Updates fetched by one getUpdates and handled in one transaction.
    pub updates_per_batch: u32,
    /// Long-polling timeout of getUpdates, in seconds.
    pub poll_timeout_seconds: u64,
    /// How long one Bot API request may take, in seconds.
    pub request_timeout_seconds: u64,
}

/// `[shutdown]`.
#[derive(Debug, Clone)]
pub struct ShutdownSettings {
    /// How long a stop waits for the work in hand, in seconds.
    pub grace_seconds: u64,
}

/// A setting that cannot be used, said in one line for the operator.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(String);

impl Settings {
    /// Reads every layer from the process environment.
    pub fn load() -> Result<Self, SettingsError> {
        // Lossy, so that a variable that is not UTF-8 cannot panic here; one
        // of ours would then be refused as a bad value.
        let vars = std::env::vars_os()
            .map(|(name, value)| {
                (
                    name.to_string_lossy().into_owned(),
                    value.to_string_lossy().into_owned(),
                )
            })
            .collect();
        Self::from_vars(&vars)
    }

    /// Reads every layer, taking environment variables from `vars` (tests pass their own).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, SettingsError> {
        let var = |name: &str| {
            vars.get(name)
                .map(String::as_str)
                .filter(|v| !v.trim().is_empty())
        };
        let defaults = parse_toml(DEFAULTS)
            .map_err(|e| SettingsError(format!("config/default.toml is broken: {e}")))?;
        let keys = leaves(&defaults, "");
        let env = settings_in(vars, &keys)?;
        let file = match var("LINLI_CONFIG") {
            Some(path) => Some((path, read_file(path, &defaults, &keys)?)),
            None => None,
        };
        let layers = Layers {
            defaults: &defaults,
            file: file.as_ref().map(|(path, tree)| (*path, tree)),
            env: &env,
        };
        let mut settings = layers.settings(var("DATABASE_URL"))?;
        settings.telegram.token = var("TELOXIDE_TOKEN").map(SecretString::from);
        if let Some(raw) = var("TELOXIDE_API_URL") {
            let parsed = url::Url::parse(raw).map_err(|e| {
                SettingsError(format!("TELOXIDE_API_URL {raw:?} is not a URL: {e}"))
            })?;
            settings.telegram.api_url = Some(parsed);
        }
        Ok(settings)
    }

    /// The limits the command parser enforces.
    pub fn limits(&self) -> Limits {
        Limits {
            flat_max_chars: self.chat.flat_max_chars,
            details_max_chars: self.chat.details_max_chars,
        }
    }

    /// A chat's reminders when it set none of its own.
    pub fn reminders(&self) -> crate::domain::Reminders {
        let wait = |d: Option<Duration>| d.and_then(|d| chrono::TimeDelta::from_std(d).ok());
        let r = &self.reminders;
        crate::domain::Reminders {
            unclaimed_after: wait(r.unclaimed_after),
            check_claim_after: wait(r.check_claim_after),
            auto_release_after: wait(r.auto_release_after),
            digest_at: r.digest_at,
            time_zone: self.chat.time_zone,
        }
    }

    /// How long a stop waits for the work in hand.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown.grace_seconds)
    }
}

/// The environment variable that sets `key` (`chat.list_limit` is
/// `LINLI_CHAT__LIST_LIMIT`).
fn variable(key: &str) -> String {
    format!("{PREFIX}{}", key.replace('.', "__").to_ascii_uppercase())
}

/// The settings among `vars`, by key, each with its variable's name and
/// value. An empty variable counts as unset; a `LINLI_` variable that is
/// neither a setting nor one of [`OTHER_VARIABLES`] is refused. Names are
/// matched ignoring case, as the `config` crate matched them.
fn settings_in<'v>(
    vars: &'v HashMap<String, String>,
    keys: &[String],
) -> Result<BTreeMap<String, (&'v str, &'v str)>, SettingsError> {
    let mut names: Vec<&String> = vars
        .keys()
        .filter(|name| name.to_ascii_uppercase().starts_with(PREFIX))
        .collect();
    names.sort();
    let mut settings = BTreeMap::new();
    for name in names {
        let upper = name.to_ascii_uppercase();
        if OTHER_VARIABLES.contains(&upper.as_str()) {
            continue;
        }
        let Some(key) = keys.iter().find(|key| variable(key) == upper) else {
            // A name with `__` is meant as a setting: look among those only.
            let others = if upper.contains("__") {
                [].as_slice()
            } else {
                OTHER_VARIABLES.as_slice()
            };
            let known = keys
                .iter()
                .map(|key| variable(key))
                .chain(others.iter().map(|name| name.to_string()));
            return Err(SettingsError(format!(
                "unknown setting {name}; did you mean {}?",
                nearest(&in_known_section(&upper, keys), known)
            )));
        };
        let value = vars[name].as_str();
        if !value.trim().is_empty() {
            settings.insert(key.clone(), (name.as_str(), value));
        }
    }
    Ok(settings)
}

/// `LINLI_SECTION__KEY` with an unknown SECTION put in the nearest known
/// one, so that the nearest setting is looked for in that section.
fn in_known_section(name: &str, keys: &[String]) -> String {
    let Some((section, key)) = name
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.split_once("__"))
    else {
        return name.to_owned();
    };
    let mut sections: Vec<String> = keys
        .iter()
        .filter_map(|key| key.split_once('.'))
        .map(|(section, _)| section.to_ascii_uppercase())
        .collect();
    sections.dedup();
    if sections.iter().any(|known| known == section) {
        return name.to_owned();
    }
    format!("{PREFIX}{}__{key}", nearest(section, &sections))
}

/// The file named by `LINLI_CONFIG` as a tree, after checking that every key
/// in it is one of `defaults`.
fn read_file(
    path: &str,
    defaults: &Map<String, Value>,
    keys: &[String],
) -> Result<Map<String, Value>, SettingsError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| SettingsError(format!("cannot read LINLI_CONFIG file {path}: {e}")))?;
    let tree = parse_toml(&text)
        .map_err(|e| SettingsError(format!("LINLI_CONFIG file {path} is not valid TOML: {e}")))?;
    check_keys(&tree, defaults, "", path, keys)?;
    Ok(tree)
}

/// `text` as a TOML tree; an error in one line.
fn parse_toml(text: &str) -> Result<Map<String, Value>, String> {
    File::from_str(text, FileFormat::Toml)
        .collect()
        .map_err(|e| one_line(&e.to_string()))
}

/// A message that may span lines as one line. TOML's errors draw the text
/// they point at under their first line: the drawing is left out.
fn one_line(message: &str) -> String {
    let drawing = |line: &str| {
        line.starts_with(['|', '^'])
            || line
                .split_once(" |")
                .is_some_and(|(number, _)| number.chars().all(|c| c.is_ascii_digit()))
    };
    message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !drawing(line))
        .collect::<Vec<_>>()
        .join(": ")
}

/// The keys of `tree` in order.
fn sorted(tree: &Map<String, Value>) -> Vec<&String> {
    let mut names: Vec<&String> = tree.keys().collect();
    names.sort();
    names
}

/// `prefix.name`, or `name` at the top.
fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Every value (not section) of `tree` under `prefix`, as a dotted key, in order.
fn leaves(tree: &Map<String, Value>, prefix: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for name in sorted(tree) {
        let key = join(prefix, name);
        match &tree[name].kind {
            ValueKind::Table(inner) => keys.extend(leaves(inner, &key)),
            _ => keys.push(key),
        }
    }
    keys
}

/// Refuses the first key of the file at `path` (its part `tree`, under
/// `prefix`) that `known` (the same part of the defaults) does not have,
/// naming the nearest one that it has. A value's kind is checked when it is read.
fn check_keys(
    tree: &Map<String, Value>,
    known: &Map<String, Value>,
    prefix: &str,
    path: &str,
    keys: &[String],
) -> Result<(), SettingsError> {
    for name in sorted(tree) {
        let key = join(prefix, name);
        let refuse = |message: String| Err(SettingsError(message));
        match (known.get(name).map(|v| &v.kind), &tree[name].kind) {
            (None, ValueKind::Table(_)) => {
                let sections = sorted(known)
                    .into_iter()
                    .filter(|section| matches!(known[*section].kind, ValueKind::Table(_)))
                    .map(|section| join(prefix, section));
                return refuse(format!(
                    "unknown section [{key}] in {path}; did you mean [{}]?",
                    nearest(&key, sections)
                ));
            }
            (None, _) => {
                return refuse(format!(
                    "unknown key {key} in {path}; did you mean {}?",
                    nearest(&key, keys)
                ))
            }
            (Some(ValueKind::Table(known)), ValueKind::Table(inner)) => {
                check_keys(inner, known, &key, path, keys)?;
            }
            (Some(ValueKind::Table(_)), _) => {
                return refuse(format!(
                    "{key} in {path} must be a section [{key}], not a single value"
                ))
            }
            (Some(_), _) => {}
        }
    }
    Ok(())
}

/// The candidate closest to `name`, ignoring case (the first of equals).
fn nearest<S: AsRef<str>>(name: &str, candidates: impl IntoIterator<Item = S>) -> String {
    candidates
        .into_iter()
        .min_by_key(|candidate| distance(name, candidate.as_ref()))
        .map(|candidate| candidate.as_ref().to_owned())
        .unwrap_or_default()
}

/// How many letters must be added, removed, changed, or swapped with their
/// neighbour to turn `a` into `b`, ignoring case (the optimal string
/// alignment distance).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    // rows[i][j]: the distance from the first i letters of a to the first j of b.
    let mut rows: Vec<Vec<usize>> = (0..=a.len())
        .map(|i| (0..=b.len()).map(|j| if i == 0 { j } else { i }).collect())
        .collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let changed = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + changed);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// The value at dotted `key` in `tree`.
fn lookup<'t>(tree: &'t Map<String, Value>, key: &str) -> Option<&'t Value> {
    let (section, rest) = match key.split_once('.') {
        Some((section, rest)) => (section, Some(rest)),
        None => (key, None),
    };
    let value = tree.get(section)?;
    match (rest, &value.kind) {
        (None, _) => Some(value),
        (Some(rest), ValueKind::Table(inner)) => lookup(inner, rest),
        (Some(_), _) => None,
    }
}

/// The three layers, read key by key.
struct Layers<'a> {
    defaults: &'a Map<String, Value>,
    /// The `LINLI_CONFIG` file's path and tree.
    file: Option<(&'a str, &'a Map<String, Value>)>,
    /// Settings from the environment: key → (variable, value).
    env: &'a BTreeMap<String, (&'a str, &'a str)>,
}

/// One setting's value as the layer that won holds it.
enum Raw<'a> {
    /// An environment variable's text.
    Text(&'a str),
    /// A value of a TOML file.
    Toml(&'a Value),
}

/// One setting's value, and where it was set.
struct Found<'a> {
    raw: Raw<'a>,
    /// ` (set by VARIABLE)`, ` (set in FILE)`, or nothing for a default.
    origin: String,
}

impl Found<'_> {
    fn text(&self) -> Option<&str> {
        match &self.raw {
            Raw::Text(text) => Some(text),
            Raw::Toml(Value {
                kind: ValueKind::String(text),
                ..
            }) => Some(text),
            Raw::Toml(_) => None,
        }
    }

    /// A whole number that is not negative; a TOML string holding one is taken too.
    fn whole(&self) -> Option<u64> {
        let Raw::Toml(value) = &self.raw else {
            return self.text()?.trim().parse().ok();
        };
        match &value.kind {
            ValueKind::I64(n) => u64::try_from(*n).ok(),
            ValueKind::U64(n) => Some(*n),
            ValueKind::I128(n) => u64::try_from(*n).ok(),
            ValueKind::U128(n) => u64::try_from(*n).ok(),
            _ => self.text()?.trim().parse().ok(),
        }
    }

    fn flag(&self) -> Option<bool> {
        match &self.raw {
            Raw::Toml(Value {
                kind: ValueKind::Boolean(flag),
                ..
            }) => Some(*flag),
            _ => self.text()?.trim().to_ascii_lowercase().parse().ok(),
        }
    }

    /// The value as the operator wrote it: text in quotes, numbers and
    /// `true` or `false` without.
    fn shown(&self) -> String {
        let Raw::Toml(value) = &self.raw else {
            let text = self.text().unwrap_or_default();
            let plain = text.parse::<f64>().is_ok() || text.parse::<bool>().is_ok();
            return if plain {
                text.to_owned()
            } else {
                format!("{text:?}")
            };
        };
        match &value.kind {
            ValueKind::String(text) => format!("{text:?}"),
            ValueKind::Table(_) => "a section".to_owned(),
            ValueKind::Array(_) => "a list".to_owned(),
            ValueKind::Nil => "nothing".to_owned(),
            _ => value.to_string(),
        }
    }

    /// `key must be EXPECTED, not VALUE (set by …)`.
    fn refuse(&self, key: &str, expected: &str) -> SettingsError {
        SettingsError(format!(
            "{key} must be {expected}, not {}{}",
            self.shown(),
            self.origin
        ))
    }
}

impl Layers<'_> {
    /// `key` from the last layer that sets it.
    fn find(&self, key: &str) -> Result<Found<'_>, SettingsError> {
        if let Some((name, text)) = self.env.get(key) {
            return Ok(Found {
                raw: Raw::Text(text),
                origin: format!(" (set by {name})"),
            });
        }
        if let Some((path, value)) = self
            .file
            .and_then(|(path, tree)| Some((path, lookup(tree, key)?)))
        {
            return Ok(Found {
                raw: Raw::Toml(value),
                origin: format!(" (set in {path})"),
            });
        }
        let value = lookup(self.defaults, key)
            .ok_or_else(|| SettingsError(format!("config/default.toml has no {key}")))?;
        Ok(Found {
            raw: Raw::Toml(value),
            origin: String::new(),
        })
    }

    /// A whole number within the key's [`RANGES`] entry.
    fn number<T: TryFrom<u64>>(&self, key: &str) -> Result<T, SettingsError> {
        let &(_, min, max) = RANGES
            .iter()
            .find(|(name, ..)| *name == key)
            .ok_or_else(|| SettingsError(format!("{key} has no range in RANGES")))?;
        let found = self.find(key)?;
        found
            .whole()
            .filter(|n| (min..=max).contains(n))
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| found.refuse(key, &format!("a whole number from {min} to {max}")))
    }

    fn flag(&self, key: &str) -> Result<bool, SettingsError> {
        let found = self.find(key)?;
        found
            .flag()
            .ok_or_else(|| found.refuse(key, "true or false"))
    }

    fn language(&self, key: &str) -> Result<Lang, SettingsError> {
        let found = self.find(key)?;
        found.text().and_then(Lang::from_code).ok_or_else(|| {
            let names: Vec<String> = LANGUAGES
                .iter()
                .map(|lang| format!("{:?}", lang.as_str()))
                .collect();
            found.refuse(key, &names.join(" or "))
        })
    }

    /// A duration as interface.md writes them (`90s`, `30m`, `3h`, `2d`),
    /// more than none, or `off` (`None`).
    fn duration_or_off(&self, key: &str) -> Result<Option<Duration>, SettingsError> {
        let found = self.find(key)?;
        let text = found.text().map(str::trim).unwrap_or_default();
        if text.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        humantime::parse_duration(text)
            .ok()
            .filter(|d| !d.is_zero())
            .map(Some)
            .ok_or_else(|| {
                found.refuse(
                    key,
                    "a duration such as \"30d\", \"12h\" or \"90m\", or \"off\"",
                )
            })
    }

    /// A reminder's wait: a duration of at most a year, or `off` (`None`).
    fn wait_or_off(&self, key: &str) -> Result<Option<Duration>, SettingsError> {
        let found = self.find(key)?;
        match found.text().and_then(crate::domain::reminders::parse_wait) {
            Some(wait) => Ok(wait.and_then(|w| w.to_std().ok())),
            None => Err(found.refuse(
                key,
                "a duration of at most a year such as \"90s\", \"30m\", \"3h\" or \"2d\", or \"off\"",
            )),
        }
    }

    /// A time of day, `HH:MM`, or `off` (`None`).
    fn time_of_day_or_off(&self, key: &str) -> Result<Option<chrono::NaiveTime>, SettingsError> {
        let found = self.find(key)?;
        found
            .text()
            .and_then(crate::domain::reminders::parse_time_of_day)
            .ok_or_else(|| found.refuse(key, "a time of day such as \"20:00\", or \"off\""))
    }

    fn time_zone(&self, key: &str) -> Result<chrono_tz::Tz, SettingsError> {
        let found = self.find(key)?;
        found
            .text()
            .and_then(|name| name.trim().parse().ok())
            .ok_or_else(|| {
                found.refuse(
                    key,
                    "an IANA time zone name such as \"Asia/Shanghai\" or \"Europe/Berlin\"",
                )
            })
    }

    /// `database.url`, or `database_url` (from `DATABASE_URL`) when set.
    fn database_url(&self, database_url: Option<&str>) -> Result<String, SettingsError> {
        let key = "database.url";
        let found = match database_url {
            Some(url) => Found {
                raw: Raw::Text(url),
                origin: " (set by DATABASE_URL)".to_owned(),
            },
            None => self.find(key)?,
        };
        found
            .text()
            .filter(|url| url.starts_with("sqlite:") || is_postgres(url))
            .map(str::to_owned)
            .ok_or_else(|| {
                // Said without a password it may hold.
                let refused = Found {
                    raw: Raw::Text(&without_password(found.text().unwrap_or_default())),
                    origin: found.origin.clone(),
                }
                .refuse(
                    key,
                    "an SQLite URL starting with \"sqlite:\" \
                     or a PostgreSQL URL starting with \"postgres://\"",
                );
                refused
            })
    }

    /// Every setting but the token and the Bot API address.
    fn settings(&self, database_url: Option<&str>) -> Result<Settings, SettingsError> {
        let settings = Settings {
            database: DatabaseSettings {
                url: self.database_url(database_url)?,
                busy_timeout_ms: self.number("database.busy_timeout_ms")?,
                max_connections: self.number("database.max_connections")?,
                handled_retention_hours: self.number("database.handled_retention_hours")?,
            },
            chat: ChatSettings {
                default_language: self.language("chat.default_language")?,
                time_zone: self.time_zone("chat.time_zone")?,
                details_max_chars: self.number("chat.details_max_chars")?,
                flat_max_chars: self.number("chat.flat_max_chars")?,
                list_limit: self.number("chat.list_limit")?,
            },
            telegram: TelegramSettings {
                token: None,
                api_url: None,
                pacing: self.flag("telegram.pacing")?,
                group_messages_per_minute: self.number("telegram.group_messages_per_minute")?,
                chat_messages_per_second: self.number("telegram.chat_messages_per_second")?,
                messages_per_second: self.number("telegram.messages_per_second")?,
                updates_per_batch: self.number("telegram.updates_per_batch")?,
                poll_timeout_seconds: self.number("telegram.poll_timeout_seconds")?,
                request_timeout_seconds: self.number("telegram.request_timeout_seconds")?,
            },
            shutdown: ShutdownSettings {
                grace_seconds: self.number("shutdown.grace_seconds")?,
            },
            privacy: PrivacySettings {
                forget_after: self.duration_or_off("privacy.forget_after")?,
            },
            reminders: ReminderSettings {
                unclaimed_after: self.wait_or_off("reminders.unclaimed_after")?,
                check_claim_after: self.wait_or_off("reminders.check_claim_after")?,
                auto_release_after: self.wait_or_off("reminders.auto_release_after")?,
                digest_at: self.time_of_day_or_off("reminders.digest_at")?,
            },
        };
        let poll = settings.telegram.poll_timeout_seconds;
        if settings.telegram.request_timeout_seconds <= poll {
            let key = "telegram.request_timeout_seconds";
            return Err(self.find(key)?.refuse(
                key,
                &format!("longer than telegram.poll_timeout_seconds ({poll})"),
            ));
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    fn refusal(pairs: &[(&str, &str)]) -> String {
        Settings::from_vars(&vars(pairs)).unwrap_err().to_string()
    }

    /// Every key the defaults have, exactly: a key added to
    /// `config/default.toml` must be read here, and the other way round.
    #[test]
    fn the_settings_read_are_exactly_the_keys_of_the_defaults() {
        let keys = leaves(&parse_toml(DEFAULTS).unwrap(), "");
        let mut read: Vec<String> = RANGES.iter().map(|(key, ..)| key.to_string()).collect();
        read.extend(
            [
                "database.url",
                "chat.default_language",
                "chat.time_zone",
                "telegram.pacing",
                "privacy.forget_after",
                "reminders.unclaimed_after",
                "reminders.check_claim_after",
                "reminders.auto_release_after",
                "reminders.digest_at",
            ]
            .map(String::from),
        );
        read.sort();
        assert_eq!(keys, read);
        let settings = Settings::from_vars(&HashMap::new()).unwrap();
        assert_eq!(settings.chat.list_limit, 30);
        assert_eq!(settings.database.url, "sqlite:data/linli.db");
    }

    /// Each range is stated next to its key in `config/default.toml` and in
    /// the README's table, as `(MIN-MAX)` or `(MIN-MAX; …)`.
    #[test]
    fn every_range_is_documented_where_its_key_is() {
        let readme = include_str!("../README.md");
        for (key, min, max) in RANGES {
            // `(MIN-MAX)`, or `(MIN-MAX; a remark)`.
            let states = |text: &str| {
                [')', ';']
                    .iter()
                    .any(|end| text.contains(&format!("({min}-{max}{end}")))
            };
            let (section, name) = key.split_once('.').unwrap();
            let lines: Vec<&str> = DEFAULTS.lines().collect();
            let start = lines
                .iter()
                .position(|line| *line == format!("[{section}]"))
                .unwrap();
            let at = start
                + lines[start..]
                    .iter()
                    .position(|line| line.starts_with(&format!("{name} = ")))
                    .unwrap();
            let comment: Vec<&str> = lines[..at]
                .iter()
                .rev()
                .take_while(|line| line.starts_with('#'))
                .copied()
                .collect();
            let comment = comment.join(" ");
            assert!(states(&comment), "{key}: {comment}");
            let row = readme
                .lines()
                .find(|line| line.starts_with(&format!("| `{key}` |")))
                .unwrap_or_else(|| panic!("README has no row for {key}"));
            assert!(states(row), "README, {key}: {row}");
        }
    }

    #[test]
    fn an_unknown_variable_is_refused_with_the_nearest_setting() {
        for (name, nearest) in [
            (
                "LINLI_CHAT__DEFAULT_LANGAUGE",
                "LINLI_CHAT__DEFAULT_LANGUAGE",
            ),
            (
                "LINLI_CHAT_DEFAULT_LANGUAGE",
                "LINLI_CHAT__DEFAULT_LANGUAGE",
            ),
            ("LINLI_CHATT__LIST_LIMIT", "LINLI_CHAT__LIST_LIMIT"),
            ("LINLI_CONFG", "LINLI_CONFIG"),
            ("LINLI_TELEGRAMM__BATCH", "LINLI_TELEGRAM__PACING"),
            ("LINLI_CHATT__TIMEZONE", "LINLI_CHAT__TIME_ZONE"),
        ] {
            assert_eq!(
                refusal(&[(name, "zh")]),
                format!("unknown setting {name}; did you mean {nearest}?")
            );
        }
        // Ours but not settings; and an empty setting counts as unset.
        let settings = Settings::from_vars(&vars(&[
            ("LINLI_BENCH_LOG", "debug"),
            ("LINLI_CHAT__LIST_LIMIT", ""),
            ("linli_chat__default_language", "zh"),
        ]))
        .unwrap();
        assert_eq!(settings.chat.list_limit, 30);
        assert_eq!(settings.chat.default_language, Lang::Zh);
    }

    #[test]
    fn a_value_out_of_range_names_its_key_range_and_variable() {
        assert_eq!(
            refusal(&[("LINLI_CHAT__LIST_LIMIT", "0")]),
            "chat.list_limit must be a whole number from 1 to 100, not 0 \
             (set by LINLI_CHAT__LIST_LIMIT)"
        );
        assert_eq!(
            refusal(&[("LINLI_DATABASE__HANDLED_RETENTION_HOURS", "1")]),
            "database.handled_retention_hours must be a whole number from 24 to 8760, \
             not 1 (set by LINLI_DATABASE__HANDLED_RETENTION_HOURS)"
        );
        assert_eq!(
            refusal(&[("LINLI_TELEGRAM__POLL_TIMEOUT_SECONDS", "ten")]),
            "telegram.poll_timeout_seconds must be a whole number from 1 to 300, \
             not \"ten\" (set by LINLI_TELEGRAM__POLL_TIMEOUT_SECONDS)"
        );
        assert_eq!(
            refusal(&[("LINLI_TELEGRAM__PACING", "maybe")]),
            "telegram.pacing must be true or false, not \"maybe\" (set by LINLI_TELEGRAM__PACING)"
        );
        assert_eq!(
            refusal(&[("LINLI_TELEGRAM__REQUEST_TIMEOUT_SECONDS", "5")]),
            "telegram.request_timeout_seconds must be longer than \
             telegram.poll_timeout_seconds (10), not 5 \
             (set by LINLI_TELEGRAM__REQUEST_TIMEOUT_SECONDS)"
        );
        assert_eq!(
            refusal(&[("DATABASE_URL", "mysql://x")]),
            "database.url must be an SQLite URL starting with \"sqlite:\" \
             or a PostgreSQL URL starting with \"postgres://\", \
             not \"mysql://x\" (set by DATABASE_URL)"
        );
    }

    #[test]
    fn a_database_password_is_never_shown() {
        assert_eq!(
            without_password("postgres://linli:s3cret@db:5432/linli?sslmode=require"),
            "postgres://linli:***@db:5432/linli?sslmode=require"
        );
        assert_eq!(
            without_password("postgres://linli@db/linli?password=s3cret&sslmode=require"),
            "postgres://linli@db/linli?password=***&sslmode=require"
        );
        assert_eq!(
            without_password("sqlite:data/linli.db"),
            "sqlite:data/linli.db"
        );
        let refused = refusal(&[("DATABASE_URL", "postgre://u:s3cret@db/linli")]);
        assert!(!refused.contains("s3cret"), "{refused}");
    }

    #[test]
    fn a_bad_language_or_time_zone_says_what_is_expected() {
        assert_eq!(
            refusal(&[("LINLI_CHAT__DEFAULT_LANGUAGE", "fr")]),
            "chat.default_language must be \"en\" or \"zh\", not \"fr\" \
             (set by LINLI_CHAT__DEFAULT_LANGUAGE)"
        );
        assert!(
            refusal(&[("LINLI_CHAT__TIME_ZONE", "Mars/Base")]).starts_with(
                "chat.time_zone must be an IANA time zone name such as \"Asia/Shanghai\""
            )
        );
    }

    #[test]
    fn forgetting_takes_a_duration_or_off() {
        let forget = |value: &str| {
            Settings::from_vars(&vars(&[("LINLI_PRIVACY__FORGET_AFTER", value)]))
                .map(|s| s.privacy.forget_after)
        };
        assert_eq!(forget("2d").unwrap(), Some(Duration::from_secs(2 * 86_400)));
        assert_eq!(forget("90s").unwrap(), Some(Duration::from_secs(90)));
        assert_eq!(forget("OFF").unwrap(), None);
        let default = Settings::from_vars(&vars(&[])).unwrap();
        assert_eq!(
            default.privacy.forget_after,
            Some(Duration::from_secs(30 * 86_400))
        );
        assert!(refusal(&[("LINLI_PRIVACY__FORGET_AFTER", "0s")])
            .starts_with("privacy.forget_after must be a duration"));
        assert!(refusal(&[("LINLI_PRIVACY__FORGET_AFTER", "soon")]).contains("\"off\""));
    }

    #[test]
    fn the_file_layer_is_checked_key_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("linli.toml");
        let path_text = path.display().to_string();
        let with_file = |text: &str| {
            std::fs::write(&path, text).unwrap();
            Settings::from_vars(&vars(&[("LINLI_CONFIG", &path_text)]))
        };
        let refused = |text: &str| with_file(text).unwrap_err().to_string();
        assert_eq!(
            refused("[chat]\ntimezone = \"Europe/Berlin\"\n"),
            format!("unknown key chat.timezone in {path_text}; did you mean chat.time_zone?")
        );
        assert_eq!(
            refused("[chatt]\nlist_limit = 5\n"),
            format!("unknown section [chatt] in {path_text}; did you mean [chat]?")
        );
        assert_eq!(
            refused("chat = 5\n"),
            format!("chat in {path_text} must be a section [chat], not a single value")
        );
        assert_eq!(
            refused("[chat]\nlist_limit = 0\n"),
            format!(
                "chat.list_limit must be a whole number from 1 to 100, not 0 (set in {path_text})"
            )
        );
        assert_eq!(
            refused("[chat]\nlist_limit = 2.5\n"),
            format!(
                "chat.list_limit must be a whole number from 1 to 100, not 2.5 (set in {path_text})"
            )
        );
        let broken = refused("[chat\n");
        assert!(
            broken.starts_with(&format!(
                "LINLI_CONFIG file {path_text} is not valid TOML: "
            )),
            "{broken}"
        );
        assert_eq!(broken.lines().count(), 1, "{broken}");
        let settings =
            with_file("[chat]\nlist_limit = 5\ntime_zone = \"Europe/Berlin\"\n").unwrap();
        assert_eq!(settings.chat.list_limit, 5);
        assert_eq!(settings.chat.time_zone, chrono_tz::Europe::Berlin);
    }

    #[test]
    fn distance_counts_added_removed_changed_and_swapped_letters() {
        assert_eq!(distance("timezone", "time_zone"), 1);
        assert_eq!(distance("LANGAUGE", "language"), 1);
        assert_eq!(distance("abc", "xbcd"), 2);
        assert_eq!(distance("", "abc"), 3);
    }
}
