//! The ledger for the residents' committee: tasks as JSON or CSV.
//!
//! JSON is an array of tasks with the fields `interface.md` promises; CSV
//! has the same columns. Times are RFC 3339 in UTC.
//!
//! The export only reads: it opens the database read-only and applies no
//! migrations, so it works on a database file (or folder) it may not write,
//! with a PostgreSQL role that may only read, and beside the running bot.

use std::io::Write;
use std::path::Path;
use std::str::FromStr;

use anyhow::Context as _;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _, Executor as _, PgConnection};

use crate::config::DatabaseSettings;
use crate::either;
use crate::ledger::{records, Backend, Conn, TaskRecord, TaskRow};
use crate::ledger::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};

/// The formats `linli export --format` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Csv,
}

/// The columns, in order; CSV writes them even when there are no tasks.
const COLUMNS: [&str; 17] = [
    "chat_id",
    "number",
    "kind",
    "flat",
    "details",
    "status",
    "requester_id",
    "requester_name",
    "claimer_id",
    "claimer_name",
    "done_note",
    "created_at",
    "claimed_at",
    "done_at",
    "cancelled_at",
    "received_at",
    "private",
];

/// One exported task; its fields are [`COLUMNS`].
#[derive(Debug, Serialize)]
pub struct ExportedTask {
    pub chat_id: i64,
    pub number: u32,
    pub kind: &'static str,
    pub flat: String,
    pub details: String,
    pub status: &'static str,
    pub requester_id: i64,
    pub requester_name: String,
    pub claimer_id: Option<i64>,
    pub claimer_name: Option<String>,
    pub done_note: Option<String>,
    pub created_at: String,
    pub claimed_at: Option<String>,
    pub done_at: Option<String>,
    pub cancelled_at: Option<String>,
    /// When the requester confirmed receipt (follow-through; none yet).
    pub received_at: Option<String>,
    /// Asked for privately: the group never saw its flat or details.
    pub private: bool,
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl From<&TaskRecord> for ExportedTask {
    fn from(task: &TaskRecord) -> Self {
        ExportedTask {
            chat_id: task.chat_id,
            number: task.number.get(),
            kind: task.kind.as_str(),
            flat: task.flat.clone(),
            details: task.details.clone(),
            status: task.state.status.as_str(),
            requester_id: task.state.requester.0,
            requester_name: task.requester_name.clone(),
            claimer_id: task.state.claimer.map(|u| u.0),
            claimer_name: task.claimer_name.clone(),
            done_note: task.done_note.clone(),
            created_at: rfc3339(task.created_at),
            claimed_at: task.claimed_at.map(rfc3339),
            done_at: task.done_at.map(rfc3339),
            cancelled_at: task.cancelled_at.map(rfc3339),
            received_at: task.received_at.map(rfc3339),
            private: task.private,
        }
    }
}

/// Every task, or one chat's, in chat and number order, read from the
/// database of `settings` without writing to it. A database that is missing,
/// or that lacks a migration this linli has, is refused: `linli check`
/// creates and migrates it.
pub async fn read(
    settings: &DatabaseSettings,
    chat_id: Option<i64>,
) -> anyhow::Result<Vec<TaskRecord>> {
    let url = &settings.url;
    if settings.is_postgres() {
        return read_postgres(url, chat_id).await;
    }
    let options = SqliteConnectOptions::from_str(url)
        .with_context(|| format!("{url} is not an SQLite URL"))?
        .read_only(true);
    let file = options.get_filename().to_path_buf();
    if !file.is_file() {
        anyhow::bail!(
            "the database {} does not exist (`linli check` creates it)",
            file.display()
        );
    }
    let mut wal = file.clone().into_os_string();
    wal.push("-wal");
    let snapshot = match Snapshot::take(options.clone(), chat_id).await {
        // SQLite reads a WAL database through its -shm file, which it
        // cannot make in a folder it may not write. With no -wal file there
        // is no writer, and nothing beyond the file itself to read.
        Err(error) if cannot_open(&error) && !Path::new(&wal).exists() => {
            Snapshot::take(options.immutable(true), chat_id).await
        }
        taken => taken,
    }
    .with_context(|| format!("cannot read the database {}", file.display()))?;
    snapshot.tasks(&file.display().to_string())
}

/// [`read`] from a PostgreSQL database, in one read-only transaction.
async fn read_postgres(url: &str, chat_id: Option<i64>) -> anyhow::Result<Vec<TaskRecord>> {
    let shown = crate::config::without_password(url);
    let snapshot = async {
        let mut connection = PgConnection::connect(url).await?;
        connection
            .execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await?;
        let snapshot = Snapshot::read(Backend::Postgres(&mut connection), chat_id).await?;
        connection.execute("COMMIT").await?;
        connection.close().await?;
        Ok::<_, sqlx::Error>(snapshot)
    }
    .await
    .with_context(|| format!("cannot read the database {shown}"))?;
    snapshot.tasks(&shown)
}

/// How many of `migrator`'s migrations are not among `applied`.
fn missing(migrator: &Migrator, applied: &[i64]) -> usize {
    migrator
        .iter()
        .filter(|migration| !migration.migration_type.is_down_migration())
        .filter(|migration| !applied.contains(&migration.version))
        .count()
}

/// SQLite's `SQLITE_CANTOPEN` (14) or `SQLITE_READONLY` (8), with or
/// without an extended code: what a WAL database gives a reader that
/// cannot make its -shm file.
fn cannot_open(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|error| error.code())
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| matches!(code & 0xff, 8 | 14))
}

/// What an export reads, through one read-only connection.
struct Snapshot {
    /// linli's migrations that the database has not had.
    missing_migrations: usize,
    /// The tasks, when no migration is missing.
    tasks: Vec<TaskRow>,
}

impl Snapshot {
    /// The tasks, or why a database `shown` lacking migrations is refused.
    fn tasks(self, shown: &str) -> anyhow::Result<Vec<TaskRecord>> {
        if self.missing_migrations > 0 {
            anyhow::bail!(
                "the database {shown} lacks {} of linli's migrations; \
                 `linli check` (or starting the bot) applies them",
                self.missing_migrations
            );
        }
        Ok(records(self.tasks)?)
    }

    /// Opens an SQLite database with `options` and reads it.
    async fn take(
        options: SqliteConnectOptions,
        chat_id: Option<i64>,
    ) -> Result<Snapshot, sqlx::Error> {
        let mut connection = options.connect().await?;
        let snapshot = Snapshot::read(Backend::Sqlite(&mut connection), chat_id).await?;
        connection.close().await?;
        Ok(snapshot)
    }

    /// Which of linli's migrations the database on `connection` lacks and,
    /// when it lacks none, its tasks (every chat's, or `chat_id`'s).
    async fn read(connection: Conn<'_>, chat_id: Option<i64>) -> Result<Snapshot, sqlx::Error> {
        let (has_migrations, migrator) = match &connection {
            Backend::Sqlite(_) => (
                "SELECT EXISTS (SELECT 1 FROM sqlite_master \
                 WHERE type = 'table' AND name = '_sqlx_migrations')",
                &SQLITE_MIGRATIONS,
            ),
            Backend::Postgres(_) => (
                "SELECT to_regclass('_sqlx_migrations') IS NOT NULL",
                &POSTGRES_MIGRATIONS,
            ),
        };
        either!(connection, c => {
            let migrated: bool = sqlx::query_scalar(has_migrations).fetch_one(&mut *c).await?;
            let applied: Vec<i64> = if migrated {
                sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                    .fetch_all(&mut *c)
                    .await?
            } else {
                Vec::new()
            };
            let missing_migrations = missing(migrator, &applied);
            let tasks = if missing_migrations == 0 {
                sqlx::query_as(crate::ledger::EXPORT_TASKS)
                    .bind(chat_id)
                    .fetch_all(&mut *c)
                    .await?
            } else {
                Vec::new()
            };
            Ok(Snapshot {
                missing_migrations,
                tasks,
            })
        })
    }
}

/// Writes `tasks` to `out` in `format`.
pub fn write(tasks: &[TaskRecord], format: Format, out: impl Write) -> anyhow::Result<()> {
    let rows: Vec<ExportedTask> = tasks.iter().map(ExportedTask::from).collect();
    match format {
        Format::Json => {
            let mut out = out;
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        Format::Csv => {
            let mut writer = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(out);
            writer.write_record(COLUMNS)?;
            for row in &rows {
                writer.serialize(row)?;
            }
            writer.flush()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_columns_are_the_fields_of_an_exported_task_in_order() {
        let task = ExportedTask {
            chat_id: -1,
            number: 1,
            kind: "pickup",
            flat: "1-1".into(),
            details: String::new(),
            status: "open",
            requester_id: 1,
            requester_name: "Ann".into(),
            claimer_id: None,
            claimer_name: None,
            done_note: None,
            created_at: "2026-11-28T00:00:00Z".into(),
            claimed_at: None,
            done_at: None,
            cancelled_at: None,
            received_at: None,
            private: false,
        };
        // csv's own header, taken from the struct, in the struct's order.
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.serialize(&task).unwrap();
        let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
        assert_eq!(text.lines().next(), Some(COLUMNS.join(",").as_str()));
    }

    #[test]
    fn an_empty_csv_export_still_has_its_header() {
        let mut out = Vec::new();
        write(&[], Format::Csv, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap().trim(), COLUMNS.join(","));
    }
}
