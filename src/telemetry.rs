//! Logging: `tracing` with a `RUST_LOG` filter (default `info`), written to
//! the sink the caller chooses, so tests can keep quiet. teloxide's own
//! `log` records arrive through tracing-subscriber's log bridge.
//!
//! Colours are used only when stderr (where the binary logs) is a terminal:
//! a log file or a pipe gets plain text, with no ANSI escape codes.

use std::io::IsTerminal;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; a second call (another test) is a no-op.
pub fn init<W>(sink: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    // PostgreSQL's notices (such as "relation … already exists, skipping"
    // at each start's migration check) are not news for an operator.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx::postgres::notice=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(sink)
        .try_init();
}
