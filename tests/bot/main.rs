//! End-to-end tests: the real App (or binary) against a fake Bot API on
//! loopback, asserting the Bot API calls the bot made and the ledger's rows.

mod database;
mod helpers;

mod board;
mod chat_contract;
mod crash;
mod followup;
mod forgetting;
mod fuzz;
mod households;
mod input;
mod ledger;
mod lifecycle;
mod migrations;
mod operator;
mod private;
mod process;
mod refusals;
mod reliability;
mod telegram_errors;
