//! The database a test runs on, and the PostgreSQL pass.
//!
//! By default every test runs on an SQLite file in its own folder. With
//! `LINLI_TEST_POSTGRES` naming a server (`postgres://postgres@127.0.0.1:5432/postgres`),
//! [`the_whole_suite_passes_on_postgresql_too`] runs this test binary once
//! more with [`PASS`] set, and there every test gets a PostgreSQL database of
//! its own, dropped when the test ends; databases left by killed runs are
//! dropped when the pass starts. Without the variable the run says once that
//! the PostgreSQL pass was skipped.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;

use sqlx::{Connection as _, PgConnection};

/// Set (to `postgres`) in the PostgreSQL pass's run of this binary.
const PASS: &str = "LINLI_TEST_PASS";

/// The server the PostgreSQL pass uses.
const SERVER: &str = "LINLI_TEST_POSTGRES";

/// Whether this run is the PostgreSQL pass.
pub fn postgres_pass() -> bool {
    std::env::var(PASS).is_ok_and(|pass| pass == "postgres")
}

/// The PostgreSQL server of `LINLI_TEST_POSTGRES`, if set.
pub fn postgres_server() -> Option<String> {
    std::env::var(SERVER)
        .ok()
        .filter(|server| !server.is_empty())
}

/// A test's database: `url` is what `DATABASE_URL` is set to.
pub struct TestDatabase {
    pub url: String,
    /// On PostgreSQL, the server and the database's name, to drop it.
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// The SQLite file `file`, or in the PostgreSQL pass a new database.
    pub fn new(file: &Path) -> TestDatabase {
        match postgres_server().filter(|_| postgres_pass()) {
            Some(server) => {
                let name = format!(
                    "linli_test_{}_{}",
                    std::process::id(),
                    rand::random::<u32>()
                );
                let url = database_url(&server, &name);
                run_blocking(admin(server.clone(), format!("CREATE DATABASE {name}")));
                TestDatabase {
                    url,
                    postgres: Some((server, name)),
                }
            }
            None => TestDatabase::sqlite(file),
        }
    }

    /// The SQLite file `file`, in every pass: for what only SQLite has
    /// (files and their modes).
    pub fn sqlite(file: &Path) -> TestDatabase {
        TestDatabase {
            url: format!("sqlite:{}", file.display()),
            postgres: None,
        }
    }

    /// Whether the database is PostgreSQL's.
    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((server, name)) = self.postgres.take() {
            run_blocking(admin(
                server,
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            ));
        }
    }
}

/// The URL of database `name` on the server `server` names.
pub fn database_url(server: &str, name: &str) -> String {
    match server.rsplit_once('/') {
        Some((base, _)) if base.contains("://") && !base.ends_with('/') => {
            format!("{base}/{name}")
        }
        _ => panic!("{SERVER} has no database part: {server}"),
    }
}

/// Runs `statement` on the server's own database.
pub async fn admin(server: String, statement: String) {
    let mut connection = PgConnection::connect(&server)
        .await
        .unwrap_or_else(|e| panic!("{SERVER}={server}: {e}"));
    sqlx::query(&statement)
        .execute(&mut connection)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
    let _ = connection.close().await;
}

/// Runs `work` to its end from sync code, inside a runtime or not.
fn run_blocking(work: impl std::future::Future<Output = ()> + Send + 'static) {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(work)
    })
    .join()
    .expect("the database statement ran");
}

/// Drops the test databases of runs whose process is gone (killed runs).
pub async fn drop_leftovers(server: &str) {
    let mut connection = PgConnection::connect(server)
        .await
        .unwrap_or_else(|e| panic!("{SERVER}={server}: {e}"));
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'linli_test_%'")
            .fetch_all(&mut connection)
            .await
            .unwrap();
    let _ = connection.close().await;
    for name in names {
        let pid = name.split('_').nth(2).unwrap_or_default();
        if !Path::new("/proc").join(pid).exists() {
            admin(
                server.to_owned(),
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await;
        }
    }
}

/// Runs every other test of this binary again, on PostgreSQL.
#[tokio::test]
async fn the_whole_suite_passes_on_postgresql_too() {
    if postgres_pass() {
        return;
    }
    let Some(server) = postgres_server() else {
        // Written past the test harness's capture, so that the run says it.
        let _ = writeln!(
            std::io::stderr(),
            "PostgreSQL pass skipped: {SERVER} is not set"
        );
        return;
    };
    drop_leftovers(&server).await;
    // The same tests as this run (its filters and flags), but this one.
    let output = Command::new(std::env::current_exe().expect("this test binary"))
        .args(std::env::args().skip(1))
        .args([
            "--skip",
            "database::the_whole_suite_passes_on_postgresql_too",
        ])
        .env(PASS, "postgres")
        .output()
        .expect("the PostgreSQL pass runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout
        .lines()
        .filter(|line| line.starts_with("test result:"))
        .collect::<Vec<_>>()
        .join("; ");
    assert!(
        output.status.success(),
        "the PostgreSQL pass failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let _ = writeln!(std::io::stderr(), "PostgreSQL pass: {summary}");
}
