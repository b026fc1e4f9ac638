//! The `linli` command: `run` (the default), `export`, `check` and `backup`.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use linli::app::App;
use linli::config::Settings;
use linli::export::{self, Format};
use linli::ledger::Ledger;

#[derive(Parser)]
#[command(
    name = "linli",
    version,
    about = "A Telegram bot for neighbours who help households that cannot go out"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Action>,
}

#[derive(Subcommand)]
enum Action {
    /// Run the bot (the default).
    Run,
    /// Write the ledger to standard output (reads the database only).
    Export {
        /// Only this chat's tasks.
        #[arg(long, allow_hyphen_values = true)]
        chat: Option<i64>,
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
    },
    /// Check the settings and the database, applying migrations.
    Check,
    /// Write a consistent copy of the database to PATH (safe while the bot runs).
    Backup {
        /// Where the copy goes: in a folder that exists, and not there yet.
        /// It is made readable by its owner only.
        path: std::path::PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A missing .env is normal; a broken one is reported by the settings that need it.
    let _ = dotenvy::dotenv();
    linli::telemetry::init(std::io::stderr);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => return fail(&format!("cannot start the async runtime: {error}")),
    };
    let result = runtime.block_on(async {
        let settings = Settings::load()?;
        match cli.command.unwrap_or(Action::Run) {
            Action::Run => {
                App::build(settings)
                    .await?
                    .run_until_stopped(stop_signal())
                    .await
            }
            Action::Export { chat, format } => {
                let tasks = export::read(&settings.database, chat).await?;
                export::write(&tasks, format, std::io::stdout().lock())
            }
            Action::Backup { path } => {
                let ledger = open(&settings).await?;
                linli::backup::backup(&ledger, &settings.database, &path).await?;
                println!(
                    "backed up {} to {}",
                    settings.database.shown(),
                    path.display()
                );
                Ok(())
            }
            Action::Check => {
                open(&settings).await?;
                println!(
                    "settings and database {} are fine",
                    settings.database.shown()
                );
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&one_line(&error)),
    }
}

/// `error` and its causes, each said once, in one line. Many causes are
/// already part of the message of the error above them (sqlx's and
/// thiserror's `{0}` messages repeat their source), so a cause whose text
/// the line already holds is not added again.
fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line.lines()
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The ledger, creating and migrating the database as needed.
async fn open(settings: &Settings) -> anyhow::Result<Ledger> {
    Ledger::connect(&settings.database)
        .await
        .with_context(|| format!("cannot open the database {}", settings.database.shown()))
}

fn fail(message: &str) -> ExitCode {
    eprintln!("linli: {message}");
    ExitCode::FAILURE
}

/// Resolves at SIGINT or SIGTERM.
async fn stop_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(error) => {
                    tracing::error!(%error, "cannot listen for SIGTERM; only SIGINT stops the bot");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
