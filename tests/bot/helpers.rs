//! Spawning linli for a test: a temporary database, the fake Bot API, and
//! the real App (or the real binary) pointed at both; plus builders for the
//! Update JSON that Telegram would send.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use linli::app::App;
use linli::clock::Clock;
use linli::config::Settings;
use linli::ledger::{Ledger, TaskRecord};

pub use crate::database::TestDatabase;
pub use fake_telegram::message;
use fake_telegram::{callback_query, command_entities, FakeTelegram, TOKEN};

pub const GROUP: i64 = -1_001_234_567_890;

/// A resident of the test group.
#[derive(Debug, Clone, Copy)]
pub struct Resident {
    pub id: i64,
    pub first_name: &'static str,
    pub language: &'static str,
}

pub const ANN: Resident = Resident {
    id: 101,
    first_name: "Ann",
    language: "en",
};
pub const BO: Resident = Resident {
    id: 102,
    first_name: "Bo",
    language: "en",
};
pub const CY: Resident = Resident {
    id: 103,
    first_name: "Cy",
    language: "en",
};
pub const LI: Resident = Resident {
    id: 104,
    first_name: "李雷",
    language: "zh-hans",
};

impl Resident {
    pub fn json(&self) -> Value {
        json!({"id": self.id, "is_bot": false, "first_name": self.first_name, "language_code": self.language})
    }
}

/// The environment linli reads, for the database `db`.
pub fn environment(fake: &FakeTelegram, db: &TestDatabase) -> HashMap<String, String> {
    [
        ("TELOXIDE_TOKEN", TOKEN.to_string()),
        ("TELOXIDE_API_URL", fake.url.clone()),
        ("DATABASE_URL", db.url.clone()),
        ("LINLI_TELEGRAM__PACING", "false".to_string()),
        ("LINLI_TELEGRAM__POLL_TIMEOUT_SECONDS", "1".to_string()),
        ("LINLI_TELEGRAM__REQUEST_TIMEOUT_SECONDS", "10".to_string()),
        ("LINLI_SHUTDOWN__GRACE_SECONDS", "5".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

pub struct TestApp {
    pub fake: FakeTelegram,
    pub ledger: Ledger,
    pub db: TestDatabase,
    _dir: TempDir,
    stop: Option<oneshot::Sender<()>>,
    running: Option<JoinHandle<anyhow::Result<()>>>,
    clock: Clock,
    /// The settings it runs with, kept for restarts.
    vars: HashMap<String, String>,
}

impl TestApp {
    /// The bot with default settings against a fresh fake and database.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// The bot telling time by `clock`, with default settings.
    pub async fn spawn_with_clock(clock: Clock) -> TestApp {
        Self::spawn_configured(|_| {}, clock).await
    }

    /// The same, with extra settings.
    pub async fn spawn_with(configure: impl FnOnce(&mut HashMap<String, String>)) -> TestApp {
        Self::spawn_configured(configure, Clock::system()).await
    }

    /// The bot telling time by `clock`, with extra settings.
    pub async fn spawn_configured(
        configure: impl FnOnce(&mut HashMap<String, String>),
        clock: Clock,
    ) -> TestApp {
        linli::telemetry::init(tracing_subscriber_test_writer);
        let fake = FakeTelegram::start().await;
        let dir = tempfile::tempdir().expect("temp dir");
        let db = TestDatabase::new(&dir.path().join("data").join("linli.db"));
        let mut vars = environment(&fake, &db);
        configure(&mut vars);
        let mut app = TestApp {
            ledger: Ledger::connect(&Settings::from_vars(&vars).unwrap().database)
                .await
                .expect("ledger"),
            fake,
            db,
            _dir: dir,
            stop: None,
            running: None,
            clock,
            vars: vars.clone(),
        };
        app.start(vars).await;
        app
    }

    async fn start(&mut self, vars: HashMap<String, String>) {
        let settings = Settings::from_vars(&vars).expect("settings");
        let app = App::build_with_clock(settings, self.clock.clone())
            .await
            .expect("app builds");
        let (stop, stopped) = oneshot::channel::<()>();
        self.running = Some(tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        })));
        self.stop = Some(stop);
        let calls_before = self.fake.calls_of("getMe").len();
        self.fake.wait_for_calls("getMe", calls_before + 1).await;
    }

    /// Stops the bot as SIGTERM would and waits for it to finish.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(running) = self.running.take() {
            running.await.expect("app task").expect("app ran cleanly");
        }
    }

    /// Stops the bot and starts it again on the same database and fake.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.start_again().await;
    }

    /// Starts a stopped bot again, with the settings it had.
    pub async fn start_again(&mut self) {
        self.start(self.vars.clone()).await;
    }

    /// `from` sends `text` in `chat`; returns the message id.
    pub fn say(&self, chat: i64, from: Resident, text: &str) -> i64 {
        let id = self.fake.next_message_id(chat);
        self.fake
            .push_update(json!({"message": message(chat, id, from.json(), text)}));
        id
    }

    /// `count` requests posted at once in `chat`; their message ids.
    pub fn burst(&self, chat: i64, count: usize) -> Vec<i64> {
        (0..count)
            .map(|i| self.say(chat, ANN, &format!("/need pickup {i}-1")))
            .collect()
    }

    /// `from` posts a photo with `caption`.
    pub fn say_with_photo(&self, chat: i64, from: Resident, caption: &str) -> i64 {
        let id = self.fake.next_message_id(chat);
        let mut msg = message(chat, id, from.json(), "");
        let fields = msg.as_object_mut().unwrap();
        fields.remove("text");
        fields.remove("entities");
        msg["caption"] = json!(caption);
        msg["caption_entities"] = command_entities(caption);
        msg["photo"] =
            json!([{"file_id": "AgAD", "file_unique_id": "AQAD", "width": 90, "height": 90}]);
        self.fake.push_update(json!({"message": msg}));
        id
    }

    /// `from` edits their earlier message `id` to say `text`.
    pub fn edit(&self, chat: i64, from: Resident, id: i64, text: &str) {
        let mut msg = message(chat, id, from.json(), text);
        msg["edit_date"] = json!(chrono::Utc::now().timestamp());
        self.fake.push_update(json!({"edited_message": msg}));
    }

    /// The bot is added to group `chat` by `by`, as Telegram tells it.
    pub fn add_bot(&self, chat: i64, by: Resident) {
        let bot = json!({"id": fake_telegram::BOT_ID, "is_bot": true, "first_name": "Linli", "username": fake_telegram::BOT_USERNAME});
        self.fake.push_update(json!({"my_chat_member": {
            "chat": fake_telegram::chat_json(chat),
            "from": by.json(),
            "date": chrono::Utc::now().timestamp(),
            "old_chat_member": {"status": "left", "user": bot},
            "new_chat_member": {"status": "member", "user": bot}
        }}));
    }

    /// An anonymous admin (posting as the group) sends `text` in `chat`;
    /// returns the message id.
    pub fn anonymous_admin_says(&self, chat: i64, text: &str) -> i64 {
        let id = self.fake.next_message_id(chat);
        let anonymous = json!({"id": 1087968824, "is_bot": true, "first_name": "Group", "username": "GroupAnonymousBot"});
        let mut msg = message(chat, id, anonymous, text);
        msg["sender_chat"] = fake_telegram::chat_json(chat);
        self.fake.push_update(json!({"message": msg}));
        id
    }

    /// Group `old` became supergroup `new`, as Telegram tells it: a service
    /// message in each.
    pub fn migrate(&self, old: i64, new: i64) {
        for (chat, key, other) in [
            (old, "migrate_to_chat_id", new),
            (new, "migrate_from_chat_id", old),
        ] {
            let id = self.fake.next_message_id(chat);
            let mut service = message(chat, id, ANN.json(), "");
            service.as_object_mut().unwrap().remove("text");
            service.as_object_mut().unwrap().remove("entities");
            service[key] = json!(other);
            self.fake.push_update(json!({"message": service}));
        }
    }

    /// `from` presses the button with `data` under the bot's message `message_id`.
    pub fn press(&self, chat: i64, from: Resident, message_id: i64, data: &str) -> String {
        let query_id = format!("q{}-{}-{}", from.id, message_id, uuid_like());
        self.fake
            .push_update(json!({"callback_query": callback_query(chat, from.json(), message_id, &query_id, data)}));
        query_id
    }

    /// The message id of task `number`'s first announcement in `chat`.
    pub fn announcement_id(&self, chat: i64, number: u32) -> i64 {
        let want = format!("claim:{number}");
        self.fake
            .calls_of("sendMessage")
            .iter()
            .find(|c| c.chat_id() == Some(chat) && c.buttons().contains(&want) && c.succeeded())
            .and_then(|c| c.sent_message_id())
            .unwrap_or_else(|| panic!("no announcement for #{number} in {chat}"))
    }

    pub async fn task(&self, chat: i64, number: u32) -> TaskRecord {
        self.ledger
            .find_task(chat, linli::domain::TaskNumber::new(number).unwrap())
            .await
            .expect("ledger read")
            .unwrap_or_else(|| panic!("task #{number} not in the ledger"))
    }

    pub async fn event_names(&self, chat: i64, number: u32) -> Vec<String> {
        let task = self.task(chat, number).await;
        self.ledger
            .events(task.id)
            .await
            .expect("events")
            .into_iter()
            .map(|e| e.action)
            .collect()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.abort();
        }
    }
}

fn tracing_subscriber_test_writer() -> std::io::Sink {
    std::io::sink()
}

fn uuid_like() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The `linli` binary, with nothing of this process's environment but PATH.
pub fn linli() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_linli"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

/// Starts `linli run` with `vars`, its output discarded.
pub fn run_bot(vars: &HashMap<String, String>) -> Child {
    linli()
        .envs(vars)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The bot's successful messages to `chat` (texts, photos, voice).
pub fn sent_to(app: &TestApp, chat: i64) -> Vec<fake_telegram::Call> {
    app.fake
        .calls()
        .into_iter()
        .filter(|c| {
            matches!(c.method.as_str(), "sendMessage" | "sendPhoto" | "sendVoice")
                && c.chat_id() == Some(chat)
                && c.succeeded()
        })
        .collect()
}

/// How many messages the bot got into `chat` in reply to message `id`.
pub fn replies_to(fake: &FakeTelegram, chat: i64, id: i64) -> usize {
    fake.calls_of("sendMessage")
        .iter()
        .filter(|c| c.succeeded() && c.chat_id() == Some(chat))
        .filter(|c| c.body["reply_parameters"]["message_id"] == id)
        .count()
}
