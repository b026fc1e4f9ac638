//! linli's benchmark: speed, footprint and scale, next to the framework's
//! floor measured in the same run.
//!
//! - [`load`]: the real bot (fetcher, ledger, sender; pacing off) in a child
//!   process against the fake Bot API, K chats × M tasks, each task's life
//!   through buttons; the same load against the floor.
//! - [`floor`]: a bare teloxide bot answering every Update with one
//!   sendMessage and no database.
//! - [`scale`]: a ledger of a million tasks; the queries behind /open,
//!   /mine, /stats and a claim in its busiest chat; bytes per task; start-up.
//! - [`timers`]: 100,000 pending timers; the look for due ones and the idle
//!   bot's CPU time, against an empty timers table.
//! - [`burst`]: 60 `/need` in one minute into one group under Telegram's
//!   limit, with per-task announcements and in board mode.
//!
//! Each runs on SQLite by default, or on PostgreSQL with `--database`.
//!
//! `cargo run --release --features bench --bin linli-bench -- --help`.

mod burst;
mod database;
mod floor;
mod load;
mod report;
mod scale;
mod timers;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "linli-bench",
    about = "linli's benchmark against the framework's floor"
)]
struct Cli {
    #[command(subcommand)]
    serve: Option<Serve>,
    /// Chats in the load run.
    #[arg(long, default_value_t = 1000)]
    chats: usize,
    /// Tasks per chat in the load run.
    #[arg(long, default_value_t = 5)]
    tasks: usize,
    /// Runs of each load (linli and the floor, alternating); medians are reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Tasks in the ledger of the scale run.
    #[arg(long, default_value_t = 1_000_000)]
    ledger_tasks: i64,
    /// Pending timers in the ledger of the timers run.
    #[arg(long, default_value_t = 100_000)]
    timers: i64,
    /// Requests in the burst run (0: no burst run).
    #[arg(long, default_value_t = 60)]
    burst_requests: usize,
    /// Seconds the burst's requests are spread over.
    #[arg(long, default_value_t = 60)]
    burst_seconds: u64,
    /// Only the burst run.
    #[arg(long)]
    burst_only: bool,
    /// A run of seconds, for CI: 5 chats × 3 tasks, one run, 10,000 tasks,
    /// a burst of 10 requests in 5 seconds.
    #[arg(long)]
    quick: bool,
    /// A PostgreSQL server (`postgres://postgres@127.0.0.1:5432/postgres`):
    /// the runs keep their ledgers in fresh databases there, dropped after.
    /// Without it, in SQLite files in a temporary folder.
    #[arg(long, value_name = "URL")]
    database: Option<String>,
}

/// The bots the load runs against, started as child processes of this binary.
#[derive(Subcommand, Clone, Copy)]
enum Serve {
    /// linli itself, as `linli run` runs it.
    #[command(hide = true)]
    ServeLinli,
    /// The floor.
    #[command(hide = true)]
    ServeFloor,
}

fn main() -> anyhow::Result<()> {
    let mut cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new()?;
    match cli.serve {
        Some(Serve::ServeLinli) => return runtime.block_on(load::serve_linli()),
        Some(Serve::ServeFloor) => return runtime.block_on(floor::serve()),
        None => {}
    }
    if cli.quick {
        (cli.chats, cli.tasks, cli.runs, cli.ledger_tasks, cli.timers) = (5, 3, 1, 10_000, 1_000);
        (cli.burst_requests, cli.burst_seconds) = (10, 5);
    }
    runtime.block_on(async {
        let server = cli.database.as_deref();
        if let Some(server) = server {
            anyhow::ensure!(
                linli::config::is_postgres(server),
                "--database must be a postgres:// URL, not {server}"
            );
        }
        let burst = burst::compare(
            cli.burst_requests,
            std::time::Duration::from_secs(cli.burst_seconds),
            server,
        )
        .await?;
        if cli.burst_only {
            report::print_burst(&burst, cli.burst_seconds);
            return Ok(());
        }
        let load = load::compare(cli.chats, cli.tasks, cli.runs, server).await?;
        let scale = scale::measure(cli.ledger_tasks, server).await?;
        let timers = timers::measure(cli.timers, server).await?;
        let store = match server {
            Some(_) => "PostgreSQL",
            None => "SQLite",
        };
        report::print(&load, &scale, store, cli.chats, cli.tasks, cli.runs);
        report::print_timers(&timers);
        report::print_burst(&burst, cli.burst_seconds);
        Ok(())
    })
}
