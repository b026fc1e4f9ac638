//! The two stores behind the ledger, chosen by `DATABASE_URL` at start:
//! embedded SQLite (`sqlite:`) and PostgreSQL (`postgres://`).
//!
//! The ledger's queries are written once where both dialects accept them
//! (`$N` placeholders, `RETURNING`, `ON CONFLICT`, `IS DISTINCT FROM`) and
//! run on either store with [`either!`](crate::either); they are written per
//! store only where the dialects differ (SQLite's `json_each` and
//! multi-statement round trips, PostgreSQL's arrays, CTEs and row locks).
//! This module owns opening each store; sqlx's `Any` driver would spare the
//! enum but has no date and time types in 0.8.

use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{
    ConnectOptions as _, Connection as _, PgConnection, PgPool, Postgres, Sqlite, SqliteConnection,
    SqlitePool, Transaction,
};

use super::{LedgerError, LedgerResult};
use crate::config::DatabaseSettings;

/// One value per store: a pool, a transaction or a connection of SQLite or
/// of PostgreSQL.
#[derive(Debug, Clone, Copy)]
pub enum Backend<S, P> {
    Sqlite(S),
    Postgres(P),
}

/// Runs `$body` with `$c` bound to the SQLite or the PostgreSQL value that
/// `$backend` (a [`Backend`]) holds: for statements both dialects accept,
/// written once and type-checked for each store.
#[macro_export]
macro_rules! either {
    ($backend:expr, $c:ident => $body:expr) => {
        match $backend {
            $crate::ledger::Backend::Sqlite($c) => $body,
            $crate::ledger::Backend::Postgres($c) => $body,
        }
    };
}

/// A store's pools. SQLite has readers and one writer; PostgreSQL one pool.
#[derive(Clone)]
pub(crate) enum Store {
    Sqlite {
        /// Readers: WAL lets them run beside the writer.
        readers: SqlitePool,
        /// The one writer connection. Writes queue for it here, in order,
        /// instead of meeting in SQLite's busy handler, which sleeps in
        /// steps of milliseconds.
        writer: SqlitePool,
    },
    Postgres(PgPool),
}

/// A pool to run a statement on.
pub type Pools<'a> = Backend<&'a SqlitePool, &'a PgPool>;

/// A connection inside a transaction.
pub type Conn<'a> = Backend<&'a mut SqliteConnection, &'a mut PgConnection>;

/// A transaction of either store.
pub(crate) type Tx = Backend<Transaction<'static, Sqlite>, Transaction<'static, Postgres>>;

impl Tx {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            Backend::Sqlite(tx) => Backend::Sqlite(&mut **tx),
            Backend::Postgres(tx) => Backend::Postgres(&mut **tx),
        }
    }

    pub(crate) async fn commit(self) -> LedgerResult<()> {
        either!(self, tx => tx.commit().await?);
        Ok(())
    }
}

impl Store {
    /// Opens (creating an SQLite file when missing) the store of `settings`
    /// and applies its migrations.
    pub(crate) async fn connect(settings: &DatabaseSettings) -> LedgerResult<Store> {
        if settings.is_postgres() {
            let options = PgConnectOptions::from_str(&settings.url)?;
            // One connection first, for the migrations: a server that is
            // down or a login refused is said as such, at once, where a
            // pool would wait out its timeout and say only that.
            let mut first = options.connect().await?;
            POSTGRES_MIGRATIONS.run(&mut first).await?;
            first.close().await?;
            // The readers, and one each for the batch and the receipts
            // recorder, which hold theirs while readers come and go.
            let pool = PgPoolOptions::new()
                .max_connections(settings.max_connections + 2)
                .connect_with(options)
                .await?;
            return Ok(Store::Postgres(pool));
        }
        let options = SqliteConnectOptions::from_str(&settings.url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_millis(settings.busy_timeout_ms));
        prepare_file(options.get_filename())?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        SQLITE_MIGRATIONS.run(&writer).await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(settings.max_connections)
            .test_before_acquire(false)
            .connect_with(options.create_if_missing(false).read_only(true))
            .await?;
        Ok(Store::Sqlite { readers, writer })
    }

    /// Where reads go: SQLite's readers, or the PostgreSQL pool.
    pub(crate) fn readers(&self) -> Pools<'_> {
        match self {
            Store::Sqlite { readers, .. } => Backend::Sqlite(readers),
            Store::Postgres(pool) => Backend::Postgres(pool),
        }
    }

    /// Where writes outside a transaction go.
    pub(crate) fn writer(&self) -> Pools<'_> {
        match self {
            Store::Sqlite { writer, .. } => Backend::Sqlite(writer),
            Store::Postgres(pool) => Backend::Postgres(pool),
        }
    }

    /// Starts a transaction. On SQLite it holds the write lock from its first
    /// statement (`BEGIN IMMEDIATE`); on PostgreSQL the rows it changes are
    /// locked as it goes (and read `FOR UPDATE` where a change depends on them).
    pub(crate) async fn begin(&self) -> LedgerResult<Tx> {
        Ok(match self {
            Store::Sqlite { writer, .. } => {
                Backend::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?)
            }
            // Each statement sees what committed before it: a new task's
            // number is read after its chat's row is locked.
            Store::Postgres(pool) => Backend::Postgres(
                pool.begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
                    .await?,
            ),
        })
    }

    /// Closes every connection.
    pub(crate) async fn close(&self) {
        match self {
            Store::Sqlite { readers, writer } => {
                readers.close().await;
                writer.close().await;
            }
            Store::Postgres(pool) => pool.close().await,
        }
    }
}

/// The PostgreSQL advisory lock `linli run` holds (the bytes of "linli").
const RUN_LOCK_KEY: i64 = 0x6c_69_6e_6c_69;

/// How long a starting `linli run` waits for another to let go of a
/// PostgreSQL database (one killed a moment ago takes a moment to go).
const RUN_LOCK_WAIT: Duration = Duration::from_secs(15);

/// One `linli run` at a time handles a PostgreSQL database: the processes
/// would otherwise each handle every stored Update. Held as long as the
/// value lives; an SQLite file needs none (its folder is one machine's).
pub struct RunLock {
    _held: Option<PgConnection>,
}

impl RunLock {
    /// Takes the lock of the database of `settings`, waiting up to 15 s
    /// for another process to let go of it.
    pub(crate) async fn take(settings: &DatabaseSettings) -> LedgerResult<RunLock> {
        if !settings.is_postgres() {
            return Ok(RunLock { _held: None });
        }
        let mut connection = PgConnectOptions::from_str(&settings.url)?.connect().await?;
        let deadline = Instant::now() + RUN_LOCK_WAIT;
        let mut waiting = false;
        loop {
            let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(RUN_LOCK_KEY)
                .fetch_one(&mut connection)
                .await?;
            if taken {
                return Ok(RunLock {
                    _held: Some(connection),
                });
            }
            if Instant::now() >= deadline {
                return Err(LedgerError::InUse);
            }
            if !waiting {
                tracing::warn!(
                    "another linli process runs on this database; waiting for it to stop"
                );
                waiting = true;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// The SQLite schema's migrations (`migrations/sqlite/`), applied at start.
pub(crate) static SQLITE_MIGRATIONS: sqlx::migrate::Migrator =
    sqlx::migrate!("./migrations/sqlite");

/// The PostgreSQL schema's migrations (`migrations/postgres/`): the same
/// versions as SQLite's.
pub(crate) static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator =
    sqlx::migrate!("./migrations/postgres");

/// Creates the database's folder, and the file itself readable by its owner
/// only: it holds residents' flat numbers.
fn prepare_file(path: &Path) -> LedgerResult<()> {
    let file_error = |source| LedgerError::File {
        path: path.display().to_string(),
        source,
    };
    if path.as_os_str().is_empty() || path == Path::new(":memory:") || path.exists() {
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(file_error)?;
    }
    match owner_only_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(file_error(e)),
    }
}

/// Creates `path`, empty and readable by its owner only; fails if it exists.
pub(crate) fn owner_only_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop)
}
