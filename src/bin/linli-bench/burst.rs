//! The burst run (issue 12): N `/need` spread over S seconds into one
//! group, against the fake Bot API with Telegram's limit on (20 new
//! messages a minute per group, 429 with `retry_after` above it) and the
//! bot's pacing on, as it runs in production; once with per-task
//! announcements, once in board mode.
//!
//! For each request it records when it was pushed, when it was first
//! acknowledged (its announcement, or a reaction on it) and when the
//! group could first see it (its announcement, or a board showing its
//! number).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_telegram::{message, Call, FakeTelegram, BOT_ID};
use serde_json::{json, Value};

use crate::database::RunDatabase;
use crate::load::{first_poll, peak_rss_kib, spawn_bot_paced, Subject};

/// The group of the burst, and its admin (who turns board mode on).
const GROUP: i64 = -1_001_000_000_001;
const ADMIN: i64 = 10;

/// How the group hears of new tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Announcements,
    Board,
}

/// What one burst measured.
#[derive(Debug, Clone)]
pub struct BurstResult {
    pub mode: Mode,
    pub requests: usize,
    /// From each request to its first acknowledgement; `None`: never.
    pub acknowledged: Vec<Option<Duration>>,
    /// From each request to the first message showing it; `None`: never.
    pub shown: Vec<Option<Duration>>,
    /// New messages in the group during the burst (the board itself too).
    pub new_messages: usize,
    /// Boards posted (in board mode, the one board).
    pub boards_posted: usize,
    /// Edits of the board or announcements.
    pub edits: usize,
    /// 429 answers met.
    pub too_many: usize,
    pub peak_rss_kib: u64,
}

impl BurstResult {
    /// Requests never acknowledged or never shown.
    pub fn dropped(&self) -> usize {
        self.acknowledged
            .iter()
            .zip(&self.shown)
            .filter(|(ack, shown)| ack.is_none() || shown.is_none())
            .count()
    }

    /// The `q` quantile of `times` (those that happened), and the maximum.
    pub fn quantile(times: &[Option<Duration>], q: f64) -> Duration {
        let mut sorted: Vec<Duration> = times.iter().flatten().copied().collect();
        sorted.sort();
        let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
        sorted.get(index).copied().unwrap_or_default()
    }

    /// New group messages per task, not counting boards posted.
    pub fn messages_per_task(&self) -> f64 {
        (self.new_messages - self.boards_posted) as f64 / self.requests as f64
    }
}

/// When each request was pushed and first answered, from the fake's calls.
#[derive(Default)]
struct Watch {
    /// Request message id → task number (the nth request files task n).
    numbers: HashMap<i64, u32>,
    pushed: HashMap<i64, Instant>,
    acknowledged: HashMap<i64, Instant>,
    /// Task number → when a message first showed it.
    shown: HashMap<u32, Instant>,
}

impl Watch {
    fn saw(&mut self, call: &Call) {
        let now = Instant::now();
        if !call.succeeded() || call.chat_id() != Some(GROUP) {
            return;
        }
        let text = call.text();
        match call.method.as_str() {
            "setMessageReaction" => {
                if let Some(id) = call.body["message_id"].as_i64() {
                    self.acknowledged.entry(id).or_insert(now);
                }
            }
            "sendMessage" | "editMessageText" if is_board(call) => {
                for number in board_numbers(text) {
                    self.shown.entry(number).or_insert(now);
                }
            }
            "sendMessage" => {
                let answered = call.body["reply_parameters"]["message_id"].as_i64();
                if let Some(id) = answered {
                    self.acknowledged.entry(id).or_insert(now);
                    if let Some(number) = self.numbers.get(&id) {
                        self.shown.entry(*number).or_insert(now);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Whether a call posts or edits the board (its "ask for help" button
/// opens an `ask_` deep link), in whatever language.
fn is_board(call: &Call) -> bool {
    call.url_buttons()
        .iter()
        .any(|url| url.contains("start=ask_"))
}

/// The task numbers a board's text shows (`<b>#N</b>`).
fn board_numbers(text: &str) -> Vec<u32> {
    text.split("<b>#")
        .skip(1)
        .filter_map(|rest| rest.split_once("</b>")?.0.parse().ok())
        .collect()
}

fn resident(id: i64) -> Value {
    json!({"id": id, "is_bot": false, "first_name": format!("Resident {id}"), "language_code": "en"})
}

/// Runs the burst in each mode, announcements first; none for 0 requests.
pub async fn compare(
    requests: usize,
    over: Duration,
    server: Option<&str>,
) -> anyhow::Result<Vec<BurstResult>> {
    let mut results = Vec::new();
    if requests == 0 {
        return Ok(results);
    }
    for mode in [Mode::Announcements, Mode::Board] {
        eprintln!("burst: {requests} requests in {over:?}, {mode:?}");
        results.push(run(mode, requests, over, server).await?);
    }
    Ok(results)
}

async fn run(
    mode: Mode,
    requests: usize,
    over: Duration,
    server: Option<&str>,
) -> anyhow::Result<BurstResult> {
    let fake = FakeTelegram::start().await;
    fake.limit_rate(20, Duration::from_secs(60));
    fake.set_status(GROUP, ADMIN, "administrator");
    fake.set_status(GROUP, BOT_ID, "administrator");
    let database = RunDatabase::create(server).await?;
    let mut child = spawn_bot_paced(Subject::Linli, &fake, &database.url(), true)?;
    let watch = Arc::new(Mutex::new(Watch::default()));
    let watching = watch.clone();
    fake.set_hook(Arc::new(move |_, call| {
        watching.lock().unwrap_or_else(|p| p.into_inner()).saw(call);
    }));
    let say = |from: i64, text: &str| {
        let id = fake.next_message_id(GROUP);
        fake.push_update(json!({"message": message(GROUP, id, resident(from), text)}));
        id
    };
    if mode == Mode::Board {
        say(ADMIN, "/settings board on");
        fake.wait_for("the board", |calls| {
            calls.iter().any(|c| c.succeeded() && is_board(c))
        })
        .await;
    } else {
        first_poll(&fake).await?;
    }
    // Let the setting's reply and the first drawing pass.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let before = fake.calls().len();
    let gap = over / u32::try_from(requests.max(1)).unwrap_or(u32::MAX);
    let start = Instant::now();
    for n in 1..=requests {
        tokio::time::sleep_until((start + gap * u32::try_from(n - 1).unwrap_or(0)).into()).await;
        let id = say(n as i64 % 7 + 100, &format!("/need pickup {n}-101 parcel"));
        let mut watch = watch.lock().unwrap_or_else(|p| p.into_inner());
        watch.numbers.insert(id, n as u32);
        watch.pushed.insert(id, Instant::now());
    }
    // Wait until every request was acknowledged and shown, or give up.
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let done = {
            let watch = watch.lock().unwrap_or_else(|p| p.into_inner());
            watch.acknowledged.len() >= requests && watch.shown.len() >= requests
        };
        if done || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let peak_rss_kib = peak_rss_kib(&child);
    let _ = child.kill();
    let _ = child.wait();
    database.remove().await?;

    let calls = fake.calls();
    let during = &calls[before..];
    let in_group = |c: &&Call| c.succeeded() && c.chat_id() == Some(GROUP);
    let watch = watch.lock().unwrap_or_else(|p| p.into_inner());
    let mut acknowledged = Vec::new();
    let mut shown = Vec::new();
    for (id, pushed) in &watch.pushed {
        acknowledged.push(watch.acknowledged.get(id).map(|at| *at - *pushed));
        let number = watch.numbers[id];
        shown.push(watch.shown.get(&number).map(|at| *at - *pushed));
    }
    Ok(BurstResult {
        mode,
        requests,
        acknowledged,
        shown,
        new_messages: during
            .iter()
            .filter(in_group)
            .filter(|c| c.method == "sendMessage")
            .count(),
        boards_posted: during
            .iter()
            .filter(in_group)
            .filter(|c| c.method == "sendMessage" && is_board(c))
            .count(),
        edits: during
            .iter()
            .filter(in_group)
            .filter(|c| c.method == "editMessageText")
            .count(),
        too_many: during
            .iter()
            .filter(|c| c.answer["error_code"] == 429)
            .count(),
        peak_rss_kib,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_boards_numbers_are_read_from_its_text() {
        let text = "📋 <b>Help board</b> · 2 waiting\n<b>#1</b> 📦 Pickup\n<b>#12</b> x";
        assert_eq!(board_numbers(text), [1, 12]);
    }
}
