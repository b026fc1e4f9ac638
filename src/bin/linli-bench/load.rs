//! The load run: K chats × M tasks, each task's whole life through buttons
//! (`/need`, then 🙋 claim, then ✅ done), fed as fast as the bot takes them:
//! the fake answers like Telegram and, like a quick neighbour, presses the
//! next button the moment the bot's answer arrives.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use fake_telegram::{callback_query, message, Call, FakeTelegram, TOKEN};
use serde_json::{json, Value};

use linli::app::App;
use linli::config::Settings;

use crate::database::RunDatabase;

/// What one run measured.
#[derive(Debug, Clone)]
pub struct LoadResult {
    pub updates: usize,
    pub elapsed: Duration,
    /// From an Update offered by getUpdates to the bot's first call answering it.
    pub latencies: Vec<Duration>,
    /// Bot API calls per task, start-up calls left out.
    pub calls_per_task: f64,
    /// New messages in the chats per task.
    pub messages_per_task: f64,
    /// The bot process's peak resident memory, in KiB.
    pub peak_rss_kib: u64,
}

impl LoadResult {
    pub fn updates_per_second(&self) -> f64 {
        self.updates as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted.get(index).copied().unwrap_or_default()
    }
}

pub struct Comparison {
    pub linli: Vec<LoadResult>,
    pub floor: Vec<LoadResult>,
}

#[derive(Debug, Clone, Copy)]
pub enum Subject {
    Linli,
    Floor,
}

/// Runs linli and the floor `runs` times each, alternating; linli's ledger
/// on the PostgreSQL `server` when given, else in an SQLite file.
pub async fn compare(
    chats: usize,
    tasks: usize,
    runs: usize,
    server: Option<&str>,
) -> anyhow::Result<Comparison> {
    let mut comparison = Comparison {
        linli: Vec::new(),
        floor: Vec::new(),
    };
    for run in 1..=runs {
        eprintln!("load run {run}/{runs}: linli");
        comparison
            .linli
            .push(run_once(Subject::Linli, chats, tasks, server).await?);
        eprintln!("load run {run}/{runs}: floor");
        comparison
            .floor
            .push(run_once(Subject::Floor, chats, tasks, server).await?);
    }
    Ok(comparison)
}

/// Starts a bot as a child of this binary against `fake`, with the settings
/// of a benchmark: pacing off, a short long-poll.
pub fn spawn_bot(subject: Subject, fake: &FakeTelegram, database: &str) -> anyhow::Result<Child> {
    spawn_bot_paced(subject, fake, database, false)
}

/// [`spawn_bot`], with the bot's pacing on (as in production) or off.
pub fn spawn_bot_paced(
    subject: Subject,
    fake: &FakeTelegram,
    database: &str,
    pacing: bool,
) -> anyhow::Result<Child> {
    let serve = match subject {
        Subject::Linli => "serve-linli",
        Subject::Floor => "serve-floor",
    };
    // The bot's own settings may be varied from outside (LINLI_*), except
    // those the benchmark fixes below.
    let settings = std::env::vars().filter(|(name, _)| name.starts_with("LINLI_"));
    Command::new(std::env::current_exe()?)
        .arg(serve)
        .env_clear()
        .envs(settings)
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("TELOXIDE_API_URL", &fake.url)
        .env("DATABASE_URL", database)
        .env("LINLI_TELEGRAM__PACING", pacing.to_string())
        .env("LINLI_TELEGRAM__POLL_TIMEOUT_SECONDS", "1")
        .env(
            "RUST_LOG",
            std::env::var("LINLI_BENCH_LOG").unwrap_or_else(|_| "error".into()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot start the bot")
}

/// Waits for the bot's first getUpdates (at most 30 seconds).
pub async fn first_poll(fake: &FakeTelegram) -> anyhow::Result<()> {
    let ready = Instant::now();
    while fake.first_poll_at().is_none() {
        anyhow::ensure!(
            ready.elapsed() < Duration::from_secs(30),
            "the bot never polled"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

/// The bot's peak resident memory (VmHWM), in KiB.
pub fn peak_rss_kib(child: &Child) -> u64 {
    std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn chat_id(index: usize) -> i64 {
    -1_001_000_000_000 - index as i64
}

fn resident(id: i64) -> Value {
    json!({"id": id, "is_bot": false, "first_name": format!("Resident {id}"), "language_code": "en"})
}

/// What the driver knows: each request's task, and each task's announcement.
#[derive(Default)]
struct Driver {
    /// (chat, /need message id) → task number.
    requests: HashMap<(i64, i64), u32>,
    /// (chat, task number) → the message under which the buttons are.
    announcements: HashMap<(i64, u32), i64>,
}

/// A button press id names what it presses: `claim:chat:n` or `done:chat:n`.
fn press_id(action: &str, chat: i64, number: u32) -> String {
    format!("{action}:{chat}:{number}")
}

/// Reacts to the bot's calls as residents would.
fn react(driver: &Mutex<Driver>, fake: &FakeTelegram, call: &Call) {
    if !call.succeeded() {
        return;
    }
    let mut driver = driver.lock().unwrap_or_else(|p| p.into_inner());
    let (Some(chat), reply_to) = (
        call.chat_id(),
        call.body["reply_parameters"]["message_id"].as_i64(),
    ) else {
        // A button answer from linli: answerCallbackQuery names the press.
        if let Some(id) = call.body["callback_query_id"].as_str() {
            press_done_after(&driver, fake, id);
        }
        return;
    };
    if call.method != "sendMessage" {
        return;
    }
    if let Some(&number) = reply_to.and_then(|id| driver.requests.get(&(chat, id))) {
        // The announcement (or the floor's reply): press 🙋.
        let under = call.sent_message_id().unwrap_or(1);
        driver.announcements.insert((chat, number), under);
        let id = press_id("claim", chat, number);
        let data = format!("claim:{number}");
        fake.push_update(
            json!({"callback_query": callback_query(chat, resident(2), under, &id, &data)}),
        );
    } else {
        // The floor answers a press with a message naming it.
        press_done_after(&driver, fake, call.text());
    }
}

fn press_done_after(driver: &Driver, fake: &FakeTelegram, answered: &str) {
    let mut parts = answered.split(':');
    let (Some("claim"), Some(chat), Some(number)) = (parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let (Ok(chat), Ok(number)) = (chat.parse::<i64>(), number.parse::<u32>()) else {
        return;
    };
    let under = driver
        .announcements
        .get(&(chat, number))
        .copied()
        .unwrap_or(1);
    let id = press_id("done", chat, number);
    let data = format!("done:{number}");
    fake.push_update(
        json!({"callback_query": callback_query(chat, resident(2), under, &id, &data)}),
    );
}

async fn run_once(
    subject: Subject,
    chats: usize,
    tasks: usize,
    server: Option<&str>,
) -> anyhow::Result<LoadResult> {
    let fake = FakeTelegram::start().await;
    let database = RunDatabase::create(server).await?;
    let mut child = spawn_bot(subject, &fake, &database.url())?;
    first_poll(&fake).await?;

    let driver = Arc::new(Mutex::new(Driver::default()));
    let reacting = driver.clone();
    fake.set_hook(Arc::new(move |fake, call| react(&reacting, fake, call)));
    let mut requests = Vec::with_capacity(chats * tasks);
    {
        let mut driver = driver.lock().unwrap_or_else(|p| p.into_inner());
        for number in 1..=tasks as u32 {
            for index in 0..chats {
                let chat = chat_id(index);
                let id = fake.next_message_id(chat);
                driver.requests.insert((chat, id), number);
                let text = format!("/need pickup {number}-{index} parcel at the north gate");
                requests.push(json!({"message": message(chat, id, resident(1), &text)}));
            }
        }
    }
    let updates = 3 * chats * tasks;
    let setup_calls = fake.calls().len();
    let start = Instant::now();
    fake.push_updates(requests);
    while fake.latencies().len() < updates {
        if start.elapsed() > Duration::from_secs(600) {
            let _ = child.kill();
            anyhow::bail!(
                "{subject:?} answered {} of {updates} updates in 10 minutes",
                fake.latencies().len()
            );
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let elapsed = start.elapsed();
    // Let edits still on their way arrive before counting calls.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let peak_rss_kib = peak_rss_kib(&child);
    let _ = child.kill();
    let _ = child.wait();
    database.remove().await?;

    let calls = fake.calls();
    let task_count = (chats * tasks) as f64;
    let working: Vec<&Call> = calls[setup_calls..]
        .iter()
        .filter(|c| !["getMe", "setMyCommands", "deleteWebhook"].contains(&c.method.as_str()))
        .collect();
    let new_messages = working
        .iter()
        .filter(|c| c.method == "sendMessage" && c.succeeded())
        .count();
    Ok(LoadResult {
        updates,
        elapsed,
        latencies: fake.latencies(),
        calls_per_task: working.len() as f64 / task_count,
        messages_per_task: new_messages as f64 / task_count,
        peak_rss_kib,
    })
}

/// linli as `linli run` runs it, in a child process of the benchmark.
pub async fn serve_linli() -> anyhow::Result<()> {
    linli::telemetry::init(std::io::stderr);
    let settings = Settings::load()?;
    App::build(settings)
        .await?
        .run_until_stopped(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
