//! The handler tree: which handler each kind of Update goes to.
//!
//! The fetcher asks Telegram only for the Update kinds in
//! [`ALLOWED_UPDATES`], which must name every kind this tree handles.

use teloxide::dispatching::{DpHandlerDescription, UpdateFilterExt};
use teloxide::prelude::*;

use super::handlers::{self, HandlerResult};

/// The tree's type: each branch ends in a handler's [`HandlerResult`].
pub type UpdateTree = dptree::Handler<'static, HandlerResult, DpHandlerDescription>;

/// The tree; its dependencies are the bot, a [`super::SharedContext`],
/// [`teloxide::types::Me`], the Update and the [`crate::ledger::Batch`] its
/// handler writes in.
pub fn schema() -> UpdateTree {
    dptree::entry()
        .branch(Update::filter_message().endpoint(handlers::on_message))
        .branch(Update::filter_edited_message().endpoint(handlers::on_edited_message))
        .branch(Update::filter_callback_query().endpoint(handlers::on_callback))
        .branch(Update::filter_my_chat_member().endpoint(handlers::on_my_chat_member))
}

/// The Update kinds the tree handles, as `getUpdates` names them. Keep in
/// step with [`schema`]: Telegram sends no other kinds.
pub const ALLOWED_UPDATES: [&str; 4] = [
    "message",
    "edited_message",
    "callback_query",
    "my_chat_member",
];
