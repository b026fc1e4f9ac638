//! Filing a request for help, and editing it while it waits.

use super::{board, followup};
use crate::domain::{NewTask, Reminders, Status, TaskNumber, UsageError};
use crate::ledger::{Batch, LedgerResult, NewTaskRecord, Outgoing, Person, TaskRecord};

/// Records a new task and queues its announcement, answering the request's
/// message (in board mode: the board, and a reaction on that message), and
/// its reminders (over the operator's `reminders`), in one
/// unit of `batch`.
pub async fn file(
    batch: &Batch,
    record: &NewTaskRecord<'_>,
    reminders: &Reminders,
) -> LedgerResult<TaskRecord> {
    let mut tx = batch.begin().await?;
    let task = tx.create_task(record).await?;
    let board = followup::after_filing(&mut tx, &task, reminders).await?;
    // In a chat that hides flats the task is private, and the /need message
    // that shows the flat goes once the task is recorded.
    let hidden = task.private && record.source_message_id != 0;
    let asked = (!hidden).then_some(record.source_message_id);
    board::show(&mut tx, &task, board, asked);
    if let Some(message_id) = asked.filter(|_| board.on) {
        tx.send(board::acknowledge(task.chat_id, message_id));
    }
    if hidden {
        tx.send(Outgoing::Delete {
            chat_id: task.chat_id,
            message_id: record.source_message_id,
        });
    }
    tx.commit().await?;
    tracing::info!(chat_id = task.chat_id, number = task.number.get(), kind = %task.kind, "task created");
    Ok(task)
}

/// What came of an edited request.
#[derive(Debug)]
pub enum Edited {
    /// The message filed no task: nothing to do.
    NoTask,
    /// The task now says what the message says; its announcement follows.
    Applied,
    /// The edit cannot be applied: the task has moved on from open.
    NotOpen(TaskNumber, Status),
    /// The message was edited into a mistake.
    Invalid(UsageError),
}

/// Applies an edit of the message `message_id` of a chat to the task it
/// filed, if that task is still open; `respond` says what to answer, all in
/// one unit of `batch`.
pub async fn edit(
    batch: &Batch,
    chat_id: i64,
    message_id: i32,
    edited: Result<NewTask, UsageError>,
    actor: &Person,
    respond: impl FnOnce(&Edited) -> Option<Outgoing>,
) -> LedgerResult<Edited> {
    let mut tx = batch.begin().await?;
    let Some(task) = tx.find_by_source_message(chat_id, message_id).await? else {
        return Ok(Edited::NoTask);
    };
    let outcome = match edited {
        Err(error) => Edited::Invalid(error),
        Ok(new) => {
            let at = tx.now();
            match tx.edit_open_task(&task, &new, actor, at).await? {
                Some(updated) => {
                    let board = tx.chat_timing(chat_id).await?.board;
                    board::show(&mut tx, &updated, board, None);
                    Edited::Applied
                }
                None => Edited::NotOpen(task.number, task.state.status),
            }
        }
    };
    if let Some(answer) = respond(&outcome) {
        tx.send(answer);
    }
    tx.commit().await?;
    Ok(outcome)
}
