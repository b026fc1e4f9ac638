//! linli (邻里, "neighbours"): a Telegram bot that keeps a residents' group's
//! requests for help in order, with a ledger of every change in embedded
//! SQLite or in PostgreSQL.
//!
//! # Layout
//! - [`domain`] — the rules, pure: commands and kinds, task states and who
//!   may change them, what messages show. No Telegram, no SQL.
//! - [`i18n`] — every text users see, in English and Chinese, as HTML.
//! - [`ledger`] — the storage port: tasks, append-only events, inbox,
//!   outbox and their queries, with two stores behind it (SQLite and
//!   PostgreSQL, chosen by `DATABASE_URL`; `ledger::Backend`). It never
//!   imports `i18n` or `telegram`.
//! - [`core`] — the use cases, the only writer of tasks and chats (the
//!   runtime keeps only its bookkeeping): each
//!   records an Update's changes and the messages they call for in one
//!   unit of work.
//! - [`runtime`] — fetcher → inbox → processor → outbox → sender.
//! - [`telegram`] — the edge, which only translates: Updates into core
//!   calls, messages into Bot API calls.
//! - [`clock`] — the one source of time, injected so tests can pause it.
//! - [`config`] — [`config::Settings`] from defaults, a file and the environment.
//! - [`app`] — builds everything from Settings; runs until told to stop.
//! - [`export`] — the ledger as JSON or CSV for the residents' committee.
//! - [`backup`] — `linli backup`: a copy of the ledger (SQLite's
//!   `VACUUM INTO`, or PostgreSQL's `pg_dump`).
//! - [`telemetry`] — logging.

pub mod app;
pub mod backup;
pub mod clock;
pub mod config;
pub mod core;
pub mod domain;
pub mod export;
pub mod i18n;
pub mod ledger;
pub mod runtime;
pub mod telegram;
pub mod telemetry;
