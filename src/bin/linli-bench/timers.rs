//! The timers run: what 100,000 pending timers (questions, releases,
//! reminders, digests waiting to fall due) cost the runtime. It measures
//! the look for due timers that the processor makes twice a second, and
//! the bot's CPU time per idle second (read from `/proc`), on an empty
//! timers table and on a full one: both should stay flat.

use std::time::{Duration, Instant};

use chrono::Utc;
use fake_telegram::FakeTelegram;

use linli::config::Settings;
use linli::ledger::{Backend, Ledger};

use crate::database::RunDatabase;
use crate::load::{spawn_bot, Subject};

/// How often the look for due timers is timed.
const SAMPLES: usize = 201;
/// How long the idle bot's CPU time is watched.
const IDLE: Duration = Duration::from_secs(10);

/// One side of the comparison: `pending` timers waiting.
#[derive(Debug, Clone)]
pub struct TimersSide {
    pub pending: i64,
    /// Median time of one look for due timers (none is due).
    pub look: Duration,
    /// The bot's CPU time per idle second.
    pub idle_cpu_per_second: Duration,
}

#[derive(Debug, Clone)]
pub struct TimersResult {
    pub empty: TimersSide,
    pub full: TimersSide,
}

/// Measures an empty timers table, then one with `pending` timers, on the
/// PostgreSQL `server` when given, else in an SQLite file.
pub async fn measure(pending: i64, server: Option<&str>) -> anyhow::Result<TimersResult> {
    let database = RunDatabase::create(server).await?;
    let vars = std::collections::HashMap::from([("DATABASE_URL".to_string(), database.url())]);
    let settings = Settings::from_vars(&vars)?;
    let ledger = Ledger::connect(&settings.database).await?;
    eprintln!("timers run: an empty timers table");
    let empty = side(&ledger, &database, 0).await?;
    eprintln!("timers run: {pending} pending timers");
    fill(&ledger, pending).await?;
    let full = side(&ledger, &database, pending).await?;
    ledger.close().await;
    database.remove().await?;
    Ok(TimersResult { empty, full })
}

/// `pending` timers due from tomorrow on, a second apart, one per task id,
/// in one statement.
async fn fill(ledger: &Ledger, pending: i64) -> anyhow::Result<()> {
    let series = match ledger.writer() {
        Backend::Sqlite(_) => {
            "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < $1 - 1)"
        }
        Backend::Postgres(_) => "WITH s(i) AS (SELECT generate_series(0, $1 - 1))",
    };
    let sql = format!(
        "INSERT INTO timers (kind, chat_id, task_id, claimer_id, due_at)
         {series} SELECT 'check_claim', -1000 - i % 1000, i + 1, 5000 + i, $2 FROM s"
    );
    let tomorrow = Utc::now() + chrono::TimeDelta::days(1);
    linli::either!(ledger.writer(), pool => {
        sqlx::query(&sql).bind(pending).bind(tomorrow).execute(pool).await?;
        sqlx::query("ANALYZE").execute(pool).await?;
    });
    Ok(())
}

async fn side(ledger: &Ledger, database: &RunDatabase, pending: i64) -> anyhow::Result<TimersSide> {
    let mut looks = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        let due = ledger.timers_due(Utc::now(), 8).await?;
        looks.push(started.elapsed());
        anyhow::ensure!(due.is_empty(), "a timer fell due in the benchmark");
    }
    looks.sort();
    let fake = FakeTelegram::start().await;
    let mut bot = spawn_bot(Subject::Linli, &fake, &database.url())?;
    let started = Instant::now();
    while fake.first_poll_at().is_none() {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "the bot never polled"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Past start-up (menus, the first look at everything) before watching.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = cpu_time(bot.id())?;
    tokio::time::sleep(IDLE).await;
    let after = cpu_time(bot.id())?;
    let _ = bot.kill();
    let _ = bot.wait();
    Ok(TimersSide {
        pending,
        look: looks[looks.len() / 2],
        idle_cpu_per_second: (after.saturating_sub(before)).div_f64(IDLE.as_secs_f64()),
    })
}

/// The CPU time (user and system) process `pid` has used, from
/// `/proc/PID/stat` (fields 14 and 15, in clock ticks of 1/100 s on Linux).
fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may hold spaces: count fields after its ')'.
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| -> anyhow::Result<u64> {
        Ok(fields
            .get(i)
            .ok_or_else(|| anyhow::anyhow!("short /proc stat"))?
            .parse()?)
    };
    // Fields 14 and 15 of the whole line are 12 and 13 after the name.
    Ok(Duration::from_millis((ticks(11)? + ticks(12)?) * 10))
}
