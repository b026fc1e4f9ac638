//! One attempt at each Bot API call that speaks to a chat, with Telegram's
//! answer sorted into what the sender must do next ([`Failure`]).
//!
//! Handled here, within the attempt: 400 "can't parse entities" (the same
//! words go again as plain text) and "message is not modified" (the message
//! already says this: success). Everything else is the sender's to decide.

use std::time::Duration;

use std::sync::Arc;

use teloxide::payloads::{
    AnswerCallbackQuerySetters, EditMessageTextSetters, PinChatMessageSetters, SendMessageSetters,
    SendPhotoSetters, SendVoiceSetters, SetMessageReactionSetters, UnpinChatMessageSetters,
};
use teloxide::prelude::*;
use teloxide::requests::Requester;
use teloxide::types::{
    CallbackQueryId, FileId, InlineKeyboardMarkup, InputFile, LinkPreviewOptions, MessageId,
    ParseMode, ReactionType, ReplyParameters, ThreadId,
};
use teloxide::{ApiError, RequestError};

use super::pace::Pace;
use crate::domain::{Media, MediaKind};

/// What messages leave through: the bot, with new messages paced inside
/// Telegram's limits chat by chat ([`Pace`]), or sent at once for
/// benchmarks (`pace` is `None`).
#[derive(Clone)]
pub struct Outlet {
    pub bot: Bot,
    pub pace: Option<Arc<Pace>>,
}

/// Where a message goes.
#[derive(Debug, Clone, Copy)]
pub struct Destination {
    pub chat_id: ChatId,
    /// The forum topic, when the conversation is in one.
    pub thread_id: Option<ThreadId>,
    /// The message this one answers, if any.
    pub reply_to: Option<MessageId>,
}

/// Why an attempt did not deliver, sorted by what to do about it.
#[derive(Debug, Clone)]
pub enum Failure {
    /// 429: try again after this long.
    RetryAfter(Duration),
    /// Network trouble or a 5xx: try again later.
    Transient(String),
    /// The message to edit is gone (deleted, or in a chat that moved).
    Gone,
    /// The group became a supergroup with this id.
    Migrated(ChatId),
    /// The bot was removed or blocked: nothing more can go to this chat.
    BotRemoved(String),
    /// Telegram refused this request for good.
    Refused(String),
}

fn classify(error: RequestError) -> Failure {
    match error {
        RequestError::RetryAfter(seconds) => Failure::RetryAfter(seconds.duration()),
        RequestError::MigrateToChatId(chat) => Failure::Migrated(chat),
        RequestError::Network(_) | RequestError::Io(_) => Failure::Transient(error.to_string()),
        RequestError::Api(
            ApiError::MessageToEditNotFound
            | ApiError::MessageIdInvalid
            | ApiError::MessageCantBeEdited,
        ) => Failure::Gone,
        RequestError::Api(
            ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::BotKickedFromChannel
            | ApiError::BotBlocked
            | ApiError::UserDeactivated
            | ApiError::CantInitiateConversation
            | ApiError::CantTalkWithBots
            | ApiError::ChatNotFound
            | ApiError::NotEnoughRightsToPostMessages
            | ApiError::GroupDeactivated,
        ) => Failure::BotRemoved(error.to_string()),
        // teloxide 0.17 knows some 403s by other words than Telegram's
        // ("Forbidden: bot can't initiate conversation with a user"):
        // every 403 means the bot may not write there.
        RequestError::Api(ApiError::Unknown(ref text)) if text.starts_with("Forbidden") => {
            Failure::BotRemoved(error.to_string())
        }
        // A 5xx arrives as an error teloxide does not know by name.
        RequestError::Api(ApiError::Unknown(ref text)) if is_server_error(text) => {
            Failure::Transient(error.to_string())
        }
        // A body that is not Telegram's JSON is what a proxy or a failing
        // server answers; it may pass.
        RequestError::InvalidJson { .. } => Failure::Transient(error.to_string()),
        other => Failure::Refused(other.to_string()),
    }
}

fn is_server_error(text: &str) -> bool {
    [
        "Internal Server Error",
        "Bad Gateway",
        "Service Unavailable",
        "Gateway Timeout",
    ]
    .iter()
    .any(|marker| text.contains(marker))
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

/// Runs `attempt` with HTML, and once more as plain text if Telegram could
/// not parse the HTML.
async fn html_or_plain<T, F, Fut>(what: &str, attempt: F) -> Result<T, RequestError>
where
    F: Fn(bool) -> Fut,
    Fut: std::future::Future<Output = Result<T, RequestError>>,
{
    match attempt(false).await {
        Err(RequestError::Api(ApiError::CantParseEntities(cause))) => {
            tracing::error!(what, %cause, "Telegram could not parse our HTML; sending plain text");
            attempt(true).await
        }
        result => result,
    }
}

impl Outlet {
    /// Sends an HTML message; the id Telegram gave it.
    pub async fn send_html(
        &self,
        to: Destination,
        html: &str,
        keyboard: Option<&InlineKeyboardMarkup>,
    ) -> Result<MessageId, Failure> {
        self.turn(to.chat_id).await;
        html_or_plain("sendMessage", |plain| {
            send_via(&self.bot, to, html, keyboard, plain)
        })
        .await
        .map_err(classify)
    }

    /// Waits until a new message may go to `chat_id`, when pacing.
    async fn turn(&self, chat_id: ChatId) {
        if let Some(pace) = &self.pace {
            pace.turn(chat_id.0).await;
        }
    }

    /// Replaces the text and buttons of a message the bot sent.
    pub async fn edit_html(
        &self,
        chat_id: ChatId,
        message_id: MessageId,
        html: &str,
        keyboard: Option<&InlineKeyboardMarkup>,
    ) -> Result<(), Failure> {
        let result = html_or_plain("editMessageText", |plain| {
            edit_via(&self.bot, chat_id, message_id, html, keyboard, plain)
        })
        .await;
        match result {
            Ok(()) | Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(()),
            Err(error) => Err(classify(error)),
        }
    }

    /// Answers a button press: a brief notice, or with `alert` a dialog;
    /// with `url` (a `t.me/<bot>?start=` link, the only kind Telegram
    /// allows here) the person's app opens it.
    pub async fn answer_button(
        &self,
        query_id: &str,
        text: &str,
        alert: bool,
        url: Option<&str>,
    ) -> Result<(), Failure> {
        // Telegram shows at most 200 characters here, and no markup.
        let text: String = text.chars().take(200).collect();
        let query_id = CallbackQueryId(query_id.to_string());
        let url = url.and_then(|url| url.parse().ok());
        answer_via(&self.bot, query_id, text, alert, url)
            .await
            .map_err(classify)
    }

    /// Deletes a message: a bot may delete others' messages in a group only
    /// with the right to (Telegram answers 400 otherwise: `Refused`).
    pub async fn delete(&self, chat_id: ChatId, message_id: MessageId) -> Result<(), Failure> {
        match self.bot.delete_message(chat_id, message_id).await {
            // Already gone: what was asked is done.
            Ok(_) | Err(RequestError::Api(ApiError::MessageToDeleteNotFound)) => Ok(()),
            Err(error) => Err(classify(error)),
        }
    }

    /// Reacts to a message with `emoji` (one of Telegram's standard
    /// reactions). A chat that allows no such reaction answers 400
    /// `REACTION_INVALID` (`Refused`).
    pub async fn react(
        &self,
        chat_id: ChatId,
        message_id: MessageId,
        emoji: &str,
    ) -> Result<(), Failure> {
        let reaction = vec![ReactionType::Emoji {
            emoji: emoji.to_string(),
        }];
        self.bot
            .set_message_reaction(chat_id, message_id)
            .reaction(reaction)
            .await
            .map(drop)
            .map_err(classify)
    }

    /// Pins a message without notifying the members. Without the right to
    /// pin, Telegram answers 400 (`Refused`).
    pub async fn pin(&self, chat_id: ChatId, message_id: MessageId) -> Result<(), Failure> {
        self.bot
            .pin_chat_message(chat_id, message_id)
            .disable_notification(true)
            .await
            .map(drop)
            .map_err(classify)
    }

    /// Unpins a message. Without the right to pin, Telegram answers 400
    /// (`Refused`).
    pub async fn unpin(&self, chat_id: ChatId, message_id: MessageId) -> Result<(), Failure> {
        self.bot
            .unpin_chat_message(chat_id)
            .message_id(message_id)
            .await
            .map(drop)
            .map_err(classify)
    }

    /// Sends a photo or voice message by Telegram's `file_id`, with an
    /// HTML caption (at most 1024 characters, as Telegram allows).
    pub async fn send_media(
        &self,
        chat_id: ChatId,
        media: &Media,
        caption: &str,
    ) -> Result<MessageId, Failure> {
        self.turn(chat_id).await;
        html_or_plain("sendPhoto/sendVoice", |plain| {
            media_via(&self.bot, chat_id, media, caption, plain)
        })
        .await
        .map_err(classify)
    }
}

async fn send_via<R>(
    bot: &R,
    to: Destination,
    html: &str,
    keyboard: Option<&InlineKeyboardMarkup>,
    plain: bool,
) -> Result<MessageId, RequestError>
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
        request = request.reply_markup(keyboard.clone());
    }
    request.send().await.map(|message| message.id)
}

async fn edit_via<R>(
    bot: &R,
    chat_id: ChatId,
    message_id: MessageId,
    html: &str,
    keyboard: Option<&InlineKeyboardMarkup>,
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
        request = request.reply_markup(keyboard.clone());
    }
    request.send().await.map(drop)
}

async fn answer_via<R>(
    bot: &R,
    query_id: CallbackQueryId,
    text: String,
    alert: bool,
    url: Option<url::Url>,
) -> Result<(), RequestError>
where
    R: Requester<Err = RequestError>,
{
    let mut request = bot.answer_callback_query(query_id).show_alert(alert);
    if !text.is_empty() {
        request = request.text(text);
    }
    if let Some(url) = url {
        request = request.url(url);
    }
    request.send().await.map(drop)
}

/// The longest media caption Telegram takes, in UTF-16 units of its text
/// (the markup not counted).
pub const CAPTION_MAX_UTF16: usize = 1024;

/// How long `html` is as a caption: the UTF-16 units of the text it shows.
pub fn caption_len(html: &str) -> usize {
    html_to_plain(html).encode_utf16().count()
}

async fn media_via<R>(
    bot: &R,
    chat_id: ChatId,
    media: &Media,
    caption: &str,
    plain: bool,
) -> Result<MessageId, RequestError>
where
    R: Requester<Err = RequestError>,
{
    let file = InputFile::file_id(FileId(media.file_id.clone()));
    // A caption over Telegram's limit is sent as plain text, cut (the
    // sender fits its captions, so this is a last resort).
    let plain = plain || caption_len(caption) > CAPTION_MAX_UTF16;
    let caption = if plain {
        let mut units = 0;
        html_to_plain(caption)
            .chars()
            .take_while(|c| {
                units += c.len_utf16();
                units <= CAPTION_MAX_UTF16
            })
            .collect()
    } else {
        caption.to_string()
    };
    let sent = match media.kind {
        MediaKind::Photo => {
            let mut request = bot.send_photo(chat_id, file).caption(caption);
            if !plain {
                request = request.parse_mode(ParseMode::Html);
            }
            request.send().await?
        }
        MediaKind::Voice => {
            let mut request = bot.send_voice(chat_id, file).caption(caption);
            if !plain {
                request = request.parse_mode(ParseMode::Html);
            }
            request.send().await?
        }
    };
    Ok(sent.id)
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

    #[test]
    fn telegram_errors_are_sorted_by_what_to_do() {
        let api = |e| RequestError::Api(e);
        assert!(matches!(
            classify(api(ApiError::MessageToEditNotFound)),
            Failure::Gone
        ));
        assert!(matches!(
            classify(api(ApiError::BotKicked)),
            Failure::BotRemoved(_)
        ));
        assert!(matches!(
            classify(api(ApiError::Unknown(
                "Forbidden: bot can't initiate conversation with a user".into()
            ))),
            Failure::BotRemoved(_)
        ));
        assert!(matches!(
            classify(api(ApiError::Unknown("Internal Server Error".into()))),
            Failure::Transient(_)
        ));
        assert!(matches!(
            classify(api(ApiError::Unknown("Bad Request: something".into()))),
            Failure::Refused(_)
        ));
        assert!(matches!(
            classify(RequestError::MigrateToChatId(ChatId(-100))),
            Failure::Migrated(ChatId(-100))
        ));
    }
}
