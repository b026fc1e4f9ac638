//! The floor: the least a teloxide bot can do with the same load. It answers
//! every message with one sendMessage replying to it, and every button press
//! with one sendMessage naming the press; no database, no pacing.

use teloxide::dispatching::UpdateFilterExt;
use teloxide::prelude::*;
use teloxide::types::ReplyParameters;
use teloxide::RequestError;

pub async fn serve() -> anyhow::Result<()> {
    // TELOXIDE_TOKEN and TELOXIDE_API_URL, as the bench sets them.
    let bot = Bot::from_env();
    let handler = dptree::entry()
        .branch(
            Update::filter_message().endpoint(|bot: Bot, msg: Message| async move {
                bot.send_message(msg.chat.id, "ok")
                    .reply_parameters(ReplyParameters::new(msg.id))
                    .await?;
                Ok::<(), RequestError>(())
            }),
        )
        .branch(Update::filter_callback_query().endpoint(
            |bot: Bot, query: CallbackQuery| async move {
                if let Some(message) = &query.message {
                    bot.send_message(message.chat().id, query.id.0.clone())
                        .await?;
                }
                Ok::<(), RequestError>(())
            },
        ));
    Dispatcher::builder(bot, handler).build().dispatch().await;
    Ok(())
}
