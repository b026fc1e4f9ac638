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

/// The URL of database `name` on the server `server` names (its other
/// parts, such as `?sslmode=`, kept).
pub fn database_url(server: &str, name: &str) -> String {
    let mut url = url::Url::parse(server).unwrap_or_else(|e| panic!("{SERVER}: {e}"));
    url.set_path(name);
    url.to_string()
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
/// A failure is said, not raised: this runs in `Drop` too, where a panic
/// during a test's own would abort the run.
fn run_blocking(work: impl std::future::Future<Output = ()> + Send + 'static) {
    let ran = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|runtime| runtime.block_on(work))
    })
    .join();
    if !matches!(ran, Ok(Ok(()))) {
        let _ = writeln!(std::io::stderr(), "a test database statement failed");
    }
}

/// Drops the test databases of runs whose process is gone (killed runs):
/// those of no process here, that nobody is connected to (a run on
/// another machine sharing the server keeps its own).
pub async fn drop_leftovers(server: &str) {
    let mut connection = PgConnection::connect(server)
        .await
        .unwrap_or_else(|e| panic!("{SERVER}={server}: {e}"));
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database AS d WHERE datname LIKE 'linli\\_test\\_%'
         AND NOT EXISTS (SELECT 1 FROM pg_stat_activity AS a WHERE a.datname = d.datname)",
    )
    .fetch_all(&mut connection)
    .await
    .unwrap();
    let _ = connection.close().await;
    for name in names {
        let pid = name.split('_').nth(2).unwrap_or_default();
        if !Path::new("/proc").join(pid).exists() {
            admin(server.to_owned(), format!("DROP DATABASE IF EXISTS {name}")).await;
        }
    }
}

/// The arguments of this run for the PostgreSQL pass's: its flags, and its
/// name filters unless one of them selects this very test (which would
/// leave nothing to run there).
fn pass_arguments() -> Vec<String> {
    /// libtest's options that take a value.
    const WITH_VALUE: [&str; 6] = [
        "--skip",
        "--test-threads",
        "--format",
        "--color",
        "--logfile",
        "-Z",
    ];
    let this = "database::the_whole_suite_passes_on_postgresql_too";
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut flags = Vec::new();
    let mut filters = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if WITH_VALUE.contains(&arg.as_str()) {
            flags.push(arg);
            flags.extend(args.next());
        } else if arg.starts_with('-') {
            flags.push(arg);
        } else {
            filters.push(arg);
        }
    }
    if filters.iter().any(|filter| this.contains(filter.as_str())) {
        flags.retain(|flag| flag != "--exact");
    } else {
        flags.extend(filters);
    }
    flags
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
    // The same tests as this run, but this one.
    let output = Command::new(std::env::current_exe().expect("this test binary"))
        .args(pass_arguments())
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
    assert!(
        !summary.contains("ok. 0 passed"),
        "the PostgreSQL pass ran no test: {summary}"
    );
    let _ = writeln!(std::io::stderr(), "PostgreSQL pass: {summary}");
}
