//! Pacing new messages inside Telegram's limits, chat by chat.
//!
//! Telegram allows a bot about one message a second into one chat, 20 a
//! minute into one group and 30 a second in all
//! (<https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this>).
//! Only new messages count here (sendMessage, sendPhoto, sendVoice): edits,
//! deletions, reactions and button answers are not paced by these limits.
//!
//! A chat's sends come one at a time (the sender keeps a chat's lane in
//! order), so each takes the next free slot of its own chat and waits for
//! it, holding only that chat. Other chats and button answers go on: unlike
//! teloxide's `Throttle`, which freezes every chat after one 429, a chat
//! that is over its limit delays nobody else.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

const SECOND: Duration = Duration::from_secs(1);
/// A group's minute as kept: a second longer, since a message reaches
/// Telegram a little after its slot, and not always as late as the one
/// 20 messages before it (measured: 2 answers of 429 in 60 without it).
const GROUP_MINUTE: Duration = Duration::from_secs(61);

/// The limits kept, from `[telegram]` in the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// New messages a minute into one group.
    pub group_per_minute: u32,
    /// New messages a second into one chat.
    pub chat_per_second: u32,
    /// New messages a second in all.
    pub overall_per_second: u32,
}

/// The slots taken in the last minute, chat by chat and in all.
pub struct Pace {
    limits: Limits,
    taken: Mutex<Taken>,
}

#[derive(Default)]
struct Taken {
    /// Chat → when its recent messages go (or went), oldest first.
    chats: HashMap<i64, VecDeque<Instant>>,
    /// When messages to any chat went in the last second, oldest first.
    overall: VecDeque<Instant>,
}

impl Pace {
    pub fn new(limits: Limits) -> Pace {
        Pace {
            limits,
            taken: Mutex::new(Taken::default()),
        }
    }

    /// Waits until a new message may go to `chat_id` (a group when
    /// negative), and counts it as sent then.
    pub async fn turn(&self, chat_id: i64) {
        let slot = self.lock().chat_slot(chat_id, Instant::now(), self.limits);
        tokio::time::sleep_until(slot).await;
        loop {
            let wait = self
                .lock()
                .overall_slot(Instant::now(), self.limits.overall_per_second);
            match wait {
                None => return,
                Some(until) => tokio::time::sleep_until(until).await,
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Taken> {
        // Counts cannot be left half-written by a panic: use them as they are.
        self.taken
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Taken {
    /// The first moment from `now` at which `chat_id` has room, taken.
    fn chat_slot(&mut self, chat_id: i64, now: Instant, limits: Limits) -> Instant {
        // Forget chats quiet for a minute, now and then.
        if self.chats.len() > 1024 {
            self.chats
                .retain(|_, sent| sent.back().is_some_and(|last| *last + GROUP_MINUTE > now));
        }
        let sent = self.chats.entry(chat_id).or_default();
        while sent.front().is_some_and(|at| *at + GROUP_MINUTE <= now) {
            sent.pop_front();
        }
        let mut slot = now;
        let mut keep = |count: u32, span: Duration| {
            let count = usize::try_from(count).unwrap_or(usize::MAX).max(1);
            if sent.len() >= count {
                slot = slot.max(sent[sent.len() - count] + span);
            }
        };
        keep(limits.chat_per_second, SECOND);
        if chat_id < 0 {
            keep(limits.group_per_minute, GROUP_MINUTE);
        }
        sent.push_back(slot);
        slot
    }

    /// `None` when a message may go now (counted), else when to look again.
    fn overall_slot(&mut self, now: Instant, per_second: u32) -> Option<Instant> {
        while self.overall.front().is_some_and(|at| *at + SECOND <= now) {
            self.overall.pop_front();
        }
        if self.overall.len() < usize::try_from(per_second.max(1)).unwrap_or(usize::MAX) {
            self.overall.push_back(now);
            return None;
        }
        self.overall.front().map(|oldest| *oldest + SECOND)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TELEGRAM: Limits = Limits {
        group_per_minute: 20,
        chat_per_second: 1,
        overall_per_second: 30,
    };

    #[test]
    fn a_group_gets_one_a_second_and_twenty_a_minute() {
        let mut taken = Taken::default();
        let start = Instant::now();
        let slots: Vec<Duration> = (0..22)
            .map(|_| taken.chat_slot(-5, start, TELEGRAM) - start)
            .collect();
        for (i, slot) in slots.iter().take(20).enumerate() {
            assert_eq!(*slot, SECOND * u32::try_from(i).unwrap());
        }
        // The 21st waits until the first is a minute (and a second) old.
        assert_eq!(slots[20], GROUP_MINUTE);
        assert_eq!(slots[21], GROUP_MINUTE + SECOND);
    }

    #[test]
    fn one_busy_group_leaves_other_chats_alone() {
        let mut taken = Taken::default();
        let start = Instant::now();
        for _ in 0..40 {
            taken.chat_slot(-5, start, TELEGRAM);
        }
        assert_eq!(taken.chat_slot(-6, start, TELEGRAM), start);
        assert_eq!(taken.chat_slot(42, start, TELEGRAM), start);
        // A private chat has no minute's limit.
        let private: Vec<Instant> = (0..30)
            .map(|_| taken.chat_slot(43, start, TELEGRAM))
            .collect();
        assert_eq!(private[29] - start, SECOND * 29);
    }

    #[test]
    fn thirty_a_second_in_all() {
        let mut taken = Taken::default();
        let start = Instant::now();
        for _ in 0..30 {
            assert_eq!(taken.overall_slot(start, 30), None);
        }
        assert_eq!(taken.overall_slot(start, 30), Some(start + SECOND));
        assert_eq!(taken.overall_slot(start + SECOND, 30), None);
    }
}
