//! The handler tree: which handler each kind of Update goes to.
//!
//! teloxide asks Telegram only for the Update kinds this tree names, so
//! edited messages and the bot's own membership changes must appear here to
//! arrive at all. Every endpoint runs inside [`guarded`], so a bug that panics
//! costs one Update, not the dispatcher's worker for that chat.

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use teloxide::dispatching::{UpdateFilterExt, UpdateHandler};
use teloxide::prelude::*;
use teloxide::types::{ChatMemberUpdated, Me};

use super::{handlers, SharedContext, TgBot};

/// The tree; its dependencies are the bot, a [`SharedContext`] and [`Me`].
pub fn schema() -> UpdateHandler<Infallible> {
    dptree::entry()
        .branch(Update::filter_message().endpoint(
            |bot: TgBot, ctx: SharedContext, me: Me, msg: Message| {
                guarded("message", handlers::on_message(bot, ctx, me, msg))
            },
        ))
        .branch(Update::filter_edited_message().endpoint(
            |ctx: SharedContext, me: Me, msg: Message| {
                guarded("edited_message", handlers::on_edited_message(ctx, me, msg))
            },
        ))
        .branch(Update::filter_callback_query().endpoint(
            |bot: TgBot, ctx: SharedContext, query: CallbackQuery| {
                guarded("callback_query", handlers::on_callback(bot, ctx, query))
            },
        ))
        .branch(Update::filter_my_chat_member().endpoint(
            |ctx: SharedContext, update: ChatMemberUpdated| {
                guarded("my_chat_member", handlers::on_my_chat_member(ctx, update))
            },
        ))
}

/// Runs a handler, logging instead of unwinding if it panics.
async fn guarded(kind: &'static str, handler: impl Future<Output = ()>) -> Result<(), Infallible> {
    if let Err(panic) = AssertUnwindSafe(handler).catch_unwind().await {
        let reason = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(kind, %reason, "handler panicked; the update is dropped");
    }
    Ok(())
}
