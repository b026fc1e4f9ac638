//! Every Bot API call that speaks to a chat, with Telegram's answers handled
//! in one place.
//!
//! - 429 `retry_after`: wait as told and send again (a few times).
//! - network trouble and 5xx: a couple of retries with a growing pause.
//! - 400 "can't parse entities": send the same words as plain text.
//! - "message is not modified": the message already says this; success.
//! - "message to edit not found": reported, so the caller posts a new one.
//! - 403 (bot kicked or blocked): the chat is marked inactive in the ledger.
//! - `migrate_to_chat_id`: the chat's tasks move, and the send goes there.
//!
//! Every failure that remains is logged with its cause.

use std::future::Future;
use std::time::Duration;

use teloxide::adaptors::Throttle;
use teloxide::payloads::{AnswerCallbackQuerySetters, EditMessageTextSetters, SendMessageSetters};
use teloxide::prelude::*;
use teloxide::requests::Requester;
use teloxide::types::{
    CallbackQueryId, InlineKeyboardMarkup, LinkPreviewOptions, MessageId, ParseMode,
    ReplyParameters, ThreadId,
};
use teloxide::{ApiError, RequestError};

use super::Context;

/// What messages leave through: paced inside Telegram's limits by teloxide's
/// `Throttle` (which also waits out 429s), or sent at once for benchmarks.
#[derive(Clone)]
pub enum Outlet {
    Paced(Throttle<Bot>),
    Direct(Bot),
}

/// How many times a request is sent again after a 429.
const MAX_RETRY_AFTER: usize = 5;
/// How many times a request is sent again after a network error or a 5xx.
const MAX_TRANSIENT_RETRIES: u32 = 2;

/// Where a message goes.
#[derive(Debug, Clone, Copy)]
pub struct Destination {
    pub chat_id: ChatId,
    /// The forum topic, when the conversation is in one.
    pub thread_id: Option<ThreadId>,
    /// The message this one answers, if any.
    pub reply_to: Option<MessageId>,
}

/// The result of editing a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edited {
    /// The message now says what was asked (or already did).
    Yes,
    /// The message is gone (deleted by an admin, or the chat moved).
    Gone,
    /// Telegram refused for another reason, which is logged.
    Failed,
}

/// Turns HTML of our own making into the plain text it shows: used where
/// Telegram takes no markup (button alerts) or refused ours.
pub fn html_to_plain(html: &str) -> String {
    let mut plain = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => plain.push(c),
            _ => {}
        }
    }
    plain
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Sends `attempt(plain)` until Telegram accepts or definitively refuses.
/// `plain` turns true once Telegram could not parse our HTML.
async fn with_retries<T, F, Fut>(what: &str, mut attempt: F) -> Result<T, RequestError>
where
    F: FnMut(bool) -> Fut,
    Fut: Future<Output = Result<T, RequestError>>,
{
    let mut plain = false;
    let mut waits = 0;
    let mut transient = 0;
    loop {
        match attempt(plain).await {
            Err(RequestError::RetryAfter(seconds)) if waits < MAX_RETRY_AFTER => {
                waits += 1;
                tracing::warn!(what, retry_after = ?seconds.duration(), "Telegram asked to slow down");
                tokio::time::sleep(seconds.duration()).await;
            }
            Err(RequestError::Api(ApiError::CantParseEntities(cause))) if !plain => {
                tracing::error!(what, %cause, "Telegram could not parse our HTML; sending plain text");
                plain = true;
            }
            Err(error) if is_transient(&error) && transient < MAX_TRANSIENT_RETRIES => {
                transient += 1;
                tracing::warn!(what, %error, attempt = transient, "Bot API call failed; retrying");
                tokio::time::sleep(Duration::from_millis(500) * 2u32.pow(transient)).await;
            }
            result => return result,
        }
    }
}

fn is_transient(error: &RequestError) -> bool {
    match error {
        RequestError::Network(_) | RequestError::Io(_) => true,
        RequestError::Api(ApiError::Unknown(text)) => {
            text.contains("Internal Server Error")
                || text.contains("Bad Gateway")
                || text.contains("Too Many")
        }
        _ => false,
    }
}

fn is_bot_removed(error: &RequestError) -> bool {
    matches!(
        error,
        RequestError::Api(
            ApiError::BotKicked
                | ApiError::BotKickedFromSupergroup
                | ApiError::BotBlocked
                | ApiError::UserDeactivated
                | ApiError::CantInitiateConversation
                | ApiError::CantTalkWithBots
                | ApiError::ChatNotFound
        )
    )
}

/// Logs a refusal that remains, and records what it means for the chat.
async fn report(ctx: &Context, what: &str, chat_id: ChatId, error: &RequestError) {
    if is_bot_removed(error) {
        tracing::warn!(what, chat_id = chat_id.0, %error, "the bot cannot post in this chat any more; marking it inactive");
        if let Err(e) = ctx.ledger.set_chat_active(chat_id.0, false).await {
            tracing::error!(chat_id = chat_id.0, error = %e, "could not mark the chat inactive");
        }
    } else {
        tracing::error!(what, chat_id = chat_id.0, %error, "Telegram refused a call");
    }
}

/// Moves the chat's tasks when Telegram says the group became a supergroup.
async fn follow_migration(ctx: &Context, from: ChatId, to: ChatId) {
    match ctx.ledger.migrate_chat(from.0, to.0).await {
        Ok(moved) => tracing::info!(from = from.0, to = to.0, moved, "chat migrated"),
        Err(error) => tracing::error!(from = from.0, to = to.0, %error, "could not migrate chat"),
    }
    ctx.admins.forget_chat(from.0);
}

/// Sends an HTML message; `None` when Telegram refused (already logged).
pub async fn send_html(
    ctx: &Context,
    to: Destination,
    html: &str,
    keyboard: Option<InlineKeyboardMarkup>,
) -> Option<Message> {
    let mut to = to;
    for _ in 0..2 {
        let result = with_retries("sendMessage", |plain| {
            let keyboard = keyboard.clone();
            async move {
                match &ctx.outlet {
                    Outlet::Paced(bot) => send_via(bot, to, html, keyboard, plain).await,
                    Outlet::Direct(bot) => send_via(bot, to, html, keyboard, plain).await,
                }
            }
        })
        .await;
        match result {
            Ok(message) => return Some(message),
            Err(RequestError::MigrateToChatId(new_chat)) => {
                follow_migration(ctx, to.chat_id, new_chat).await;
                // The old message cannot be replied to in the new chat.
                to = Destination {
                    chat_id: new_chat,
                    thread_id: None,
                    reply_to: None,
                };
            }
            Err(error) => {
                report(ctx, "sendMessage", to.chat_id, &error).await;
                return None;
            }
        }
    }
    None
}

async fn send_via<R>(
    bot: &R,
    to: Destination,
    html: &str,
    keyboard: Option<InlineKeyboardMarkup>,
    plain: bool,
) -> Result<Message, RequestError>
where
    R: Requester<Err = RequestError>,
{
    let mut request = if plain {
        bot.send_message(to.chat_id, html_to_plain(html))
    } else {
        bot.send_message(to.chat_id, html)
            .parse_mode(ParseMode::Html)
    };
    request = request.link_preview_options(no_preview());
    if let Some(thread) = to.thread_id {
        request = request.message_thread_id(thread);
    }
    if let Some(message_id) = to.reply_to {
        request = request
            .reply_parameters(ReplyParameters::new(message_id).allow_sending_without_reply());
    }
    if let Some(keyboard) = keyboard {
        request = request.reply_markup(keyboard);
    }
    request.send().await
}

/// Replaces the text and buttons of a message the bot sent.
pub async fn edit_html(
    ctx: &Context,
    chat_id: ChatId,
    message_id: MessageId,
    html: &str,
    keyboard: Option<InlineKeyboardMarkup>,
) -> Edited {
    let result = with_retries("editMessageText", |plain| {
        let keyboard = keyboard.clone();
        async move {
            match &ctx.outlet {
                Outlet::Paced(bot) => {
                    edit_via(bot, chat_id, message_id, html, keyboard, plain).await
                }
                Outlet::Direct(bot) => {
                    edit_via(bot, chat_id, message_id, html, keyboard, plain).await
                }
            }
        }
    })
    .await;
    match result {
        Ok(()) | Err(RequestError::Api(ApiError::MessageNotModified)) => Edited::Yes,
        Err(RequestError::Api(
            ApiError::MessageToEditNotFound
            | ApiError::MessageIdInvalid
            | ApiError::MessageCantBeEdited,
        )) => {
            tracing::warn!(
                chat_id = chat_id.0,
                message_id = message_id.0,
                "announcement is gone; a new one will be posted"
            );
            Edited::Gone
        }
        Err(RequestError::MigrateToChatId(new_chat)) => {
            follow_migration(ctx, chat_id, new_chat).await;
            Edited::Gone
        }
        Err(error) => {
            report(ctx, "editMessageText", chat_id, &error).await;
            Edited::Failed
        }
    }
}

async fn edit_via<R>(
    bot: &R,
    chat_id: ChatId,
    message_id: MessageId,
    html: &str,
    keyboard: Option<InlineKeyboardMarkup>,
    plain: bool,
) -> Result<(), RequestError>
where
    R: Requester<Err = RequestError>,
{
    let mut request = if plain {
        bot.edit_message_text(chat_id, message_id, html_to_plain(html))
    } else {
        bot.edit_message_text(chat_id, message_id, html)
            .parse_mode(ParseMode::Html)
    };
    request = request.link_preview_options(no_preview());
    if let Some(keyboard) = keyboard {
        request = request.reply_markup(keyboard);
    }
    request.send().await.map(drop)
}

/// Answers a button press: a brief notice, or with `alert` a dialog the user
/// must dismiss (used for refusals).
pub async fn answer_button(ctx: &Context, query_id: &CallbackQueryId, html: &str, alert: bool) {
    // Telegram shows at most 200 characters here, and no markup.
    let text: String = html_to_plain(html).chars().take(200).collect();
    let result = with_retries("answerCallbackQuery", |_| {
        let text = text.clone();
        async move {
            match &ctx.outlet {
                Outlet::Paced(bot) => answer_via(bot, query_id, text, alert).await,
                Outlet::Direct(bot) => answer_via(bot, query_id, text, alert).await,
            }
        }
    })
    .await;
    if let Err(error) = result {
        tracing::error!(%error, "answerCallbackQuery failed");
    }
}

async fn answer_via<R>(
    bot: &R,
    query_id: &CallbackQueryId,
    text: String,
    alert: bool,
) -> Result<(), RequestError>
where
    R: Requester<Err = RequestError>,
{
    bot.answer_callback_query(query_id.clone())
        .text(text)
        .show_alert(alert)
        .send()
        .await
        .map(drop)
}

fn no_preview() -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_the_text_it_shows() {
        assert_eq!(
            html_to_plain("<b>#1 · Pickup</b>\nBo &amp; Co &lt;x&gt;"),
            "#1 · Pickup\nBo & Co <x>"
        );
        assert_eq!(html_to_plain("a &amp;lt; b"), "a &lt; b");
    }
}
