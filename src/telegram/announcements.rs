//! The one message each task has in its chat: posted when the task is
//! created, edited in place at every change, posted anew only if it is gone.

use teloxide::types::{ChatId, MessageId, ThreadId};

use super::send::{self, Destination, Edited};
use super::{keyboards, Context};
use crate::i18n::Text;
use crate::ledger::TaskRecord;

fn thread(task: &TaskRecord) -> Option<ThreadId> {
    task.thread_id.map(|id| ThreadId(MessageId(id)))
}

/// Posts the task's announcement (answering `reply_to`, the request) and
/// remembers its message id.
pub async fn post(ctx: &Context, task: &TaskRecord, reply_to: Option<MessageId>) {
    let html = Text::Announcement(&ctx.card(task)).render(task.lang);
    let keyboard = keyboards::for_task(task.number, task.state.status, task.lang);
    let to = Destination {
        chat_id: ChatId(task.chat_id),
        thread_id: thread(task),
        reply_to,
    };
    let Some(message) = send::send_html(ctx, to, &html, keyboard).await else {
        return;
    };
    if let Err(error) = ctx.ledger.set_announcement(task.id, message.id.0).await {
        tracing::error!(task = task.id, %error, "could not remember the announcement");
    }
}

/// Brings the announcement up to date with `task`, posting a new one if the
/// old one is gone.
pub async fn refresh(ctx: &Context, task: &TaskRecord) {
    let Some(message_id) = task.announcement_message_id else {
        return post(ctx, task, None).await;
    };
    let html = Text::Announcement(&ctx.card(task)).render(task.lang);
    let keyboard = keyboards::for_task(task.number, task.state.status, task.lang);
    let chat_id = ChatId(task.chat_id);
    match send::edit_html(ctx, chat_id, MessageId(message_id), &html, keyboard).await {
        Edited::Yes | Edited::Failed => {}
        Edited::Gone => {
            // The chat may have moved: post where the task now lives.
            match ctx.ledger.find_task_by_id(task.id).await {
                Ok(Some(current)) => post(ctx, &current, None).await,
                Ok(None) => {}
                Err(error) => tracing::error!(task = task.id, %error, "could not re-read task"),
            }
        }
    }
}
