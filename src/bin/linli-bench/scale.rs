//! The scale run: a ledger of a million tasks over a thousand chats, one of
//! them busy, built in one statement per table; then the queries behind
//! /open, /mine and /stats and a whole claim in the busy chat, the database
//! bytes per task, and the bot's start-up on that database.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use fake_telegram::FakeTelegram;

use linli::config::Settings;
use linli::core::{act, AdminCheck, Request};
use linli::domain::{Action, Kind, NewTask, TaskNumber, UserId};
use linli::i18n::Lang;
use linli::ledger::{Backend, Batch, Ledger, NewTaskRecord, Person};

use crate::database::RunDatabase;
use crate::load::{spawn_bot, Subject};

/// Chats in the ledger; chat 0 is the busy one, with a tenth of all tasks.
const CHATS: i64 = 1000;
const BUSY_CHAT: i64 = -1_002_000_000_000;
/// How often each query is timed.
const SAMPLES: usize = 101;

#[derive(Debug, Clone)]
pub struct ScaleResult {
    pub tasks: i64,
    pub busy_chat_tasks: i64,
    pub prefill: Duration,
    pub open: Duration,
    pub mine: Duration,
    pub stats: Duration,
    pub claim: Duration,
    pub bytes_per_task: f64,
    pub startup: Duration,
}

struct NoAdmins;

impl AdminCheck for NoAdmins {
    async fn is_admin(&self, _chat_id: i64, _user: UserId) -> bool {
        false
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

async fn time<F, Fut, T>(mut run: F) -> anyhow::Result<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let mut samples = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let start = Instant::now();
        run().await?;
        samples.push(start.elapsed());
    }
    Ok(median(samples))
}

/// Fills the ledger with `tasks` tasks: 90 % done, 5 % cancelled, 3 % open,
/// 2 % claimed, numbered densely per chat, each with its events. The same
/// statements on both stores, but for how a series of numbers is made.
async fn prefill(ledger: &Ledger, tasks: i64) -> anyhow::Result<()> {
    let series = match ledger.writer() {
        Backend::Sqlite(_) => {
            "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < $1 - 1)"
        }
        Backend::Postgres(_) => "WITH s(i) AS (SELECT generate_series(0, $1 - 1))",
    };
    let day = |minutes: i64| {
        chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .map(|at| at.to_utc() + chrono::TimeDelta::minutes(minutes))
    };
    let (asked, claimed, done, cancelled) = (day(0)?, day(10)?, day(40)?, day(5)?);
    let chats = format!(
        "INSERT INTO chats (id, title, created_at)
         {series} SELECT $2 - i, 'Compound ' || i, $3 FROM s"
    );
    let tasks_sql = format!(
        "INSERT INTO tasks (chat_id, number, kind, flat, details, status, requester_id,
                            requester_name, claimer_id, claimer_name, lang, source_message_id,
                            created_at, claimed_at, done_at, cancelled_at)
         {series},
         t AS (SELECT i, CASE WHEN i % 10 = 0 THEN 0 ELSE 1 + i % ($2 - 1) END AS chat,
                      (i / 10) % 100 AS bucket FROM s)
         SELECT $3 - chat, ROW_NUMBER() OVER (PARTITION BY chat ORDER BY i),
                'pickup', (i % 40) || '-' || (i % 700), 'parcel at the north gate',
                CASE WHEN bucket < 90 THEN 'done' WHEN bucket < 95 THEN 'cancelled'
                     WHEN bucket < 98 THEN 'open' ELSE 'claimed' END,
                1000000 + i % 5000, 'Neighbour',
                CASE WHEN bucket < 90 OR bucket >= 98 THEN 2000000 + i % 2000 END,
                CASE WHEN bucket < 90 OR bucket >= 98 THEN 'Helper' END,
                'en', i + 1, $4,
                CASE WHEN bucket < 90 OR bucket >= 98 THEN $5 END,
                CASE WHEN bucket < 90 THEN $6 END,
                CASE WHEN bucket >= 90 AND bucket < 95 THEN $7 END
         FROM t"
    );
    const EVENTS: &str = "INSERT INTO events (task_id, action, actor_id, actor_name, at)
         SELECT id, 'created', requester_id, requester_name, created_at FROM tasks
         UNION ALL
         SELECT id, 'claimed', claimer_id, claimer_name, claimed_at FROM tasks WHERE claimer_id IS NOT NULL
         UNION ALL
         SELECT id, 'done', claimer_id, claimer_name, done_at FROM tasks WHERE status = 'done'
         UNION ALL
         SELECT id, 'cancelled', requester_id, requester_name, cancelled_at FROM tasks WHERE status = 'cancelled'";
    linli::either!(ledger.writer(), pool => {
        let mut tx = pool.begin().await?;
        sqlx::query(&chats)
            .bind(CHATS)
            .bind(BUSY_CHAT)
            .bind(asked)
            .execute(&mut *tx)
            .await?;
        sqlx::query(&tasks_sql)
            .bind(tasks)
            .bind(CHATS)
            .bind(BUSY_CHAT)
            .bind(asked)
            .bind(claimed)
            .bind(done)
            .bind(cancelled)
            .execute(&mut *tx)
            .await?;
        sqlx::query(EVENTS).execute(&mut *tx).await?;
        tx.commit().await?;
        sqlx::query("ANALYZE").execute(pool).await?;
    });
    Ok(())
}

/// Measures a ledger of `tasks` tasks on the PostgreSQL `server` when
/// given, else in an SQLite file.
pub async fn measure(tasks: i64, server: Option<&str>) -> anyhow::Result<ScaleResult> {
    let database = RunDatabase::create(server).await?;
    let vars = HashMap::from([("DATABASE_URL".to_string(), database.url())]);
    let settings = Settings::from_vars(&vars)?;
    let ledger = Ledger::connect(&settings.database).await?;

    eprintln!("scale run: filling a ledger of {tasks} tasks");
    let started = Instant::now();
    prefill(&ledger, tasks).await?;
    let prefill_time = started.elapsed();

    let (busy_chat_tasks, volunteer): (i64, i64) = linli::either!(ledger.readers(), p => {
        let busy_chat_tasks = sqlx::query_scalar("SELECT COUNT(*) FROM tasks WHERE chat_id = $1")
            .bind(BUSY_CHAT)
            .fetch_one(p)
            .await?;
        let volunteer = sqlx::query_scalar(
            "SELECT claimer_id FROM tasks WHERE chat_id = $1 AND status = 'claimed' LIMIT 1",
        )
        .bind(BUSY_CHAT)
        .fetch_one(p)
        .await?;
        (busy_chat_tasks, volunteer)
    });
    let zone = settings.chat.time_zone;
    let limit = settings.chat.list_limit;

    eprintln!("scale run: timing the chat commands");
    let open = time(|| async { Ok(ledger.live_tasks(BUSY_CHAT, limit).await?) }).await?;
    let mine = time(|| async {
        Ok(ledger
            .claimed_by(UserId(volunteer), Some(BUSY_CHAT), limit, zone)
            .await?)
    })
    .await?;
    let stats = time(|| async { Ok(ledger.stats(BUSY_CHAT, 10).await?) }).await?;

    // A claim as a button press makes it: read, decide, change, event,
    // messages to send, all in one transaction, on a task just asked for.
    let requester = Person {
        id: UserId(1),
        name: "Ann".into(),
    };
    let volunteer = Person {
        id: UserId(2),
        name: "Bo".into(),
    };
    let new_task = NewTask {
        kind: Kind::Pickup,
        flat: "1-1".into(),
        details: String::new(),
    };
    // A claim also sets its claimer's "still on it?" timer.
    let reminders = settings.reminders();
    let mut claims = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let mut tx = ledger.begin().await?;
        let task = tx
            .create_task(&NewTaskRecord {
                chat_id: BUSY_CHAT,
                chat_title: None,
                task: &new_task,
                requester: &requester,
                default_lang: Lang::En,
                thread_id: None,
                source_message_id: 1,
                at: Utc::now(),
                private: false,
                media: None,
            })
            .await?;
        tx.commit().await?;
        let request = Request {
            chat_id: BUSY_CHAT,
            number: TaskNumber::new(task.number.get()).expect("numbered"),
            action: Action::Claim,
            actor: &volunteer,
            note: None,
        };
        let started = Instant::now();
        let batch = Batch::new(ledger.clone());
        act(&batch, &NoAdmins, &reminders, &request, |_, _| Vec::new()).await?;
        batch.commit().await?;
        claims.push(started.elapsed());
    }
    let claim = median(claims);

    if let Backend::Sqlite(writer) = ledger.writer() {
        // The WAL's pages into the file, so that its size is the ledger's.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(writer)
            .await?;
    }
    let bytes_per_task = database.size().await? as f64 / tasks as f64;
    ledger.close().await;

    eprintln!("scale run: timing start-up");
    let mut startups = Vec::new();
    for _ in 0..5 {
        let fake = FakeTelegram::start().await;
        let started = Instant::now();
        let mut child = spawn_bot(Subject::Linli, &fake, &database.url())?;
        let first_poll = loop {
            if let Some(at) = fake.first_poll_at() {
                break at;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(30),
                "the bot never polled"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        startups.push(first_poll.duration_since(started));
        let _ = child.kill();
        let _ = child.wait();
    }

    database.remove().await?;

    Ok(ScaleResult {
        tasks,
        busy_chat_tasks,
        prefill: prefill_time,
        open,
        mine,
        stats,
        claim,
        bytes_per_task,
        startup: median(startups),
    })
}
