//! Firing a timer that fell due: each is one unit of work, which also
//! deletes the timer or moves it on, so that it fires once however often
//! the bot restarts; one that fell due during downtime fires once, when
//! the bot is back, and moves on from then.
//!
//! A timer whose task moved on (released, done, claimed by someone else),
//! whose feature the chat turned off, or whose group the bot left is
//! deleted and does nothing.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use super::followup;
use crate::domain::reminders::later;
use crate::domain::{
    decide, Action, BoardState, Lang, Notice, Person, Reminders, Status, TimerKind,
};
use crate::ledger::households::Household;
use crate::ledger::timers::Timer;
use crate::ledger::{Batch, Change, Ledger, LedgerResult, LedgerTx, Outgoing, TaskRecord};

/// Most claims from before reminders given a question at one start.
const UNWATCHED_AT_START: u32 = 10_000;

/// Most tasks one reminder or digest section lists.
pub const LISTED: u32 = 30;

/// The digest's look back when a chat has had none yet.
const FIRST_DIGEST_LOOKS_BACK: TimeDelta = TimeDelta::days(1);

/// What a chat's digest says.
#[derive(Debug, Clone)]
pub struct Digest {
    /// Done since the last digest, in the order they were done (the first
    /// [`LISTED`]), and how many in all.
    pub done: Vec<TaskRecord>,
    pub done_count: u64,
    /// Still open or claimed (the first [`LISTED`]), and how many in all.
    pub live: Vec<TaskRecord>,
    pub live_count: u64,
    /// Households whose registration ends the next day.
    pub ending: Vec<Household>,
}

impl Digest {
    fn says_something(&self) -> bool {
        !(self.done.is_empty() && self.live.is_empty() && self.ending.is_empty())
    }
}

/// Puts the group's reminders and digests into words (the chat edge does).
pub trait Say {
    /// The list of tasks open longer than the chat's `unclaimed_after`
    /// (the first [`LISTED`]; `count` in all).
    fn unclaimed(
        &self,
        chat_id: i64,
        tasks: &[TaskRecord],
        count: u64,
        lang: Lang,
        reminders: &Reminders,
    ) -> Vec<Outgoing>;
    /// The daily digest.
    fn digest(
        &self,
        chat_id: i64,
        digest: &Digest,
        lang: Lang,
        reminders: &Reminders,
    ) -> Vec<Outgoing>;
}

/// Fires `timer` in one unit of `batch`: `bot` acts when it releases a
/// task, `defaults` are the operator's reminders, `chat_lang` the
/// language of a chat that chose none.
pub async fn fire(
    batch: &Batch,
    timer: &Timer,
    bot: &Person,
    defaults: &Reminders,
    chat_lang: Lang,
    say: &impl Say,
) -> LedgerResult<()> {
    let mut tx = batch.begin().await?;
    if !tx.timer_is_current(timer).await? {
        // Moved or deleted by an Update earlier in this batch.
        return Ok(());
    }
    if !tx.chat_active(timer.chat_id).await? {
        // The bot left the group: nothing to say there, nor to release.
        tx.timer_fired(timer, None, None).await?;
        return tx.commit().await;
    }
    let timing = tx.chat_timing(timer.chat_id).await?;
    let reminders = timing.over(defaults);
    match timer.kind {
        TimerKind::Unclaimed => {
            unclaimed(&mut tx, timer, &reminders, timing.board, chat_lang, say).await?
        }
        TimerKind::Digest => digest(&mut tx, timer, &reminders, chat_lang, say).await?,
        TimerKind::CheckClaim => check_claim(&mut tx, timer, &reminders).await?,
        TimerKind::AutoRelease => {
            auto_release(&mut tx, timer, &reminders, timing.board, bot).await?
        }
    }
    tx.commit().await?;
    tracing::info!(
        kind = timer.kind.as_str(),
        chat_id = timer.chat_id,
        "timer fired"
    );
    Ok(())
}

/// Lists the chat's tasks open longer than `unclaimed_after` (in board
/// mode, posts the board anew at the bottom of the chat instead), and sets
/// the next look: an interval on when some had waited, else when the
/// oldest open task will have waited that long.
async fn unclaimed(
    tx: &mut LedgerTx,
    timer: &Timer,
    reminders: &Reminders,
    board: BoardState,
    chat_lang: Lang,
    say: &impl Say,
) -> LedgerResult<()> {
    let now = tx.now();
    let Some(after) = reminders.unclaimed_after else {
        return tx.timer_fired(timer, None, None).await;
    };
    let open = tx.tasks_in(timer.chat_id, &["open"], LISTED).await?;
    let Some(oldest) = open.iter().map(|task| task.created_at).min() else {
        return tx.timer_fired(timer, None, None).await;
    };
    let waited: Vec<TaskRecord> = open
        .into_iter()
        .filter(|task| now - task.created_at >= after)
        .collect();
    if waited.is_empty() {
        let next = later(oldest, after).max(timer.fired_at.map_or(now, |at| later(at, after)));
        return tx.timer_fired(timer, Some(next.max(now)), None).await;
    }
    if board.on {
        tx.send(Outgoing::Board {
            chat_id: timer.chat_id,
            repost: true,
        });
    } else {
        let lang = tx.chat_lang(timer.chat_id, chat_lang).await?;
        let count = tx
            .count_live(timer.chat_id, false, Some(now - after))
            .await?;
        for message in say.unclaimed(timer.chat_id, &waited, count, lang, reminders) {
            tx.send(message);
        }
    }
    tx.timer_fired(timer, Some(later(now, after)), Some(now))
        .await
}

/// Posts the digest when it has something to say, and sets tomorrow's.
async fn digest(
    tx: &mut LedgerTx,
    timer: &Timer,
    reminders: &Reminders,
    chat_lang: Lang,
    say: &impl Say,
) -> LedgerResult<()> {
    let now = tx.now();
    let Some(next) = reminders.next_digest(now) else {
        return tx.timer_fired(timer, None, None).await;
    };
    let since = timer.fired_at.unwrap_or(now - FIRST_DIGEST_LOOKS_BACK);
    // The day after the digest's own day, also when it fires late.
    let tomorrow = tomorrow(timer.due_at, reminders);
    let digest = Digest {
        done: tx.done_since(timer.chat_id, since, LISTED).await?,
        done_count: tx.count_done_since(timer.chat_id, since).await?,
        live: tx
            .tasks_in(timer.chat_id, &["open", "claimed"], LISTED)
            .await?,
        live_count: tx.count_live(timer.chat_id, true, None).await?,
        ending: match tomorrow {
            Some(day) => tx.households_until(timer.chat_id, day).await?,
            None => Vec::new(),
        },
    };
    if !digest.says_something() {
        return tx.timer_fired(timer, Some(next), None).await;
    }
    let lang = tx.chat_lang(timer.chat_id, chat_lang).await?;
    for message in say.digest(timer.chat_id, &digest, lang, reminders) {
        tx.send(message);
    }
    tx.timer_fired(timer, Some(next), Some(now)).await
}

/// The day after `at` in the chat's time zone.
fn tomorrow(at: DateTime<Utc>, reminders: &Reminders) -> Option<NaiveDate> {
    at.with_timezone(&reminders.time_zone)
        .date_naive()
        .succ_opt()
}

/// The task `timer` concerns, if its claimer still holds it.
async fn still_held(tx: &mut LedgerTx, timer: &Timer) -> LedgerResult<Option<TaskRecord>> {
    let Some(task_id) = timer.task_id else {
        return Ok(None);
    };
    Ok(tx
        .task(task_id)
        .await?
        .filter(|task| task.state.status == Status::Claimed && task.state.claimer == timer.claimer))
}

/// Asks the claimer "still on it?", and sets the release if they do not
/// answer.
async fn check_claim(tx: &mut LedgerTx, timer: &Timer, reminders: &Reminders) -> LedgerResult<()> {
    tx.timer_fired(timer, None, None).await?;
    let Some(task) = still_held(tx, timer).await? else {
        return Ok(());
    };
    if reminders.check_claim_after.is_none() {
        return Ok(());
    }
    if let Some(claimer) = task.state.claimer {
        followup::tell(tx, &task, claimer, Notice::StillOnIt).await?;
    }
    if let (Some(after), Some(claimer)) = (reminders.auto_release_after, task.state.claimer) {
        let due = later(tx.now(), after);
        tx.set_timer(
            TimerKind::AutoRelease,
            task.chat_id,
            Some((task.id, claimer)),
            due,
        )
        .await?;
    }
    Ok(())
}

/// Releases a task whose claimer did not answer, with the bot as actor:
/// the announcement follows and the claimer is told.
async fn auto_release(
    tx: &mut LedgerTx,
    timer: &Timer,
    reminders: &Reminders,
    board: BoardState,
    bot: &Person,
) -> LedgerResult<()> {
    tx.timer_fired(timer, None, None).await?;
    let Some(task) = still_held(tx, timer).await? else {
        return Ok(());
    };
    if reminders.auto_release_after.is_none() {
        return Ok(());
    }
    let Ok(next) = decide(task.state, Action::Release, bot.id, true) else {
        return Ok(());
    };
    let change = Change {
        action: Action::Release,
        next,
        actor: bot,
        note: None,
        at: tx.now(),
    };
    let Some(released) = tx.apply(&task, &change).await? else {
        return Ok(());
    };
    super::board::show(tx, &released, board, None);
    if let Some(claimer) = task.state.claimer {
        followup::tell(tx, &released, claimer, Notice::ReleasedByBot).await?;
    }
    tx.clear_task_timers(task.id, None).await?;
    let now = tx.now();
    followup::list_unclaimed_later(tx, task.chat_id, reminders, now).await
}

/// Sets the digest of every group that has none, the unclaimed reminder
/// of every group with open tasks that has none (groups from before
/// reminders, or joined since), and with `claims`, when no timer was ever
/// set (the first start with reminders), the question about every claim,
/// over the operator's `defaults`. Run at start (with `claims`) and now
/// and then. (Later, a claim without a timer was asked already, or claimed
/// while its group asked nobody: `/settings check_claim_after` covers it.)
pub async fn ensure_chat_timers(
    ledger: &Ledger,
    defaults: &Reminders,
    claims: bool,
) -> LedgerResult<u64> {
    let mut set = 0;
    if claims && ledger.no_timer_yet().await? {
        let mut tx = ledger.begin().await?;
        let now = tx.now();
        for task in tx.unwatched_claims(None, UNWATCHED_AT_START).await? {
            let reminders = tx.chat_timing(task.chat_id).await?.over(defaults);
            if reminders.check_claim_after.is_some() {
                followup::check_claim_later(&mut tx, &task, &reminders, now).await?;
                set += 1;
            }
        }
        tx.commit().await?;
    }
    for (kind, open_only) in [(TimerKind::Digest, false), (TimerKind::Unclaimed, true)] {
        for chat_id in ledger.chats_without_timer(kind, open_only).await? {
            let now = ledger.clock().now();
            let reminders = ledger.chat_timing(chat_id).await?.over(defaults);
            let due = match kind {
                TimerKind::Digest => reminders.next_digest(now),
                _ => reminders.unclaimed_after.map(|after| later(now, after)),
            };
            if let Some(due) = due {
                let mut tx = ledger.begin().await?;
                tx.ensure_chat_timers(chat_id, &[(kind, due)]).await?;
                tx.commit().await?;
                set += 1;
            }
        }
    }
    Ok(set)
}
