//! The `linli` binary itself: bad starts, clean stops, `check` and `export`.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{
    environment, linli, message, replies_to, run_bot, TestDatabase, ANN, BO, GROUP,
};
use fake_telegram::FakeTelegram;

/// Runs `command` to its end; it must succeed (else its stderr says why).
fn succeeded(command: &mut Command) -> std::process::Output {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Sends SIGTERM and waits (at most 10 s) for the bot to exit.
async fn terminate(mut child: std::process::Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "SIGTERM did not stop the bot"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn a_missing_token_is_one_clear_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let output = linli()
        .current_dir(dir.path())
        .env(
            "DATABASE_URL",
            format!("sqlite:{}/x.db", dir.path().display()),
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("TELOXIDE_TOKEN"), "{stderr}");
    assert!(!stderr.contains("panicked"));
}

#[test]
fn bad_settings_are_one_clear_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    for (name, value, expected) in [
        ("LINLI_CONFIG", "/nonexistent/linli.toml", "LINLI_CONFIG"),
        ("LINLI_CHAT__DEFAULT_LANGUAGE", "fr", "default_language"),
        ("LINLI_CHAT__TIME_ZONE", "Mars/Olympus", "time_zone"),
        ("DATABASE_URL", "mysql://x", "sqlite:"),
        // Nothing listens there; the password is not shown.
        (
            "DATABASE_URL",
            "postgres://me:secret@127.0.0.1:1/linli",
            "postgres://me:***@127.0.0.1:1/linli",
        ),
    ] {
        let output = linli()
            .current_dir(dir.path())
            .arg("check")
            .env(name, value)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{name}={value}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{name}: {stderr}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
        assert!(!stderr.contains("secret"), "{name}: {stderr}");
    }
    let output = linli()
        .current_dir(dir.path())
        .arg("check")
        .env("DATABASE_URL", "sqlite:/proc/nope/linli.db")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn check_creates_the_database_with_its_folder_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    succeeded(linli().current_dir(dir.path()).arg("check"));
    let db = dir.path().join("data/linli.db");
    assert!(db.exists(), "the default database sqlite:data/linli.db");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&db).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

/// Runs the real binary against the fake: a task is created and claimed,
/// SIGTERM stops it with exit 0, and `export` reads the ledger in JSON and CSV.
#[tokio::test]
async fn the_binary_runs_stops_on_sigterm_and_exports() {
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::new(&dir.path().join("linli.db"));
    let vars = environment(&fake, &db);
    let child = run_bot(&vars);
    let id = fake.next_message_id(GROUP);
    fake.push_update(serde_json::json!({"message": message(GROUP, id, ANN.json(), "/need pickup 12-302 JD parcel")}));
    let id = fake.next_message_id(GROUP);
    fake.push_update(serde_json::json!({"message": message(GROUP, id, BO.json(), "/claim 1")}));
    // The announcement shows the claim: edited, or (if the sender caught up
    // only after both changes) posted that way at once.
    fake.wait_for("the claim shown", |calls| {
        calls
            .iter()
            .any(|c| c.succeeded() && c.buttons() == ["claim:1", "done:1", "release:1"])
    })
    .await;

    let status = terminate(child).await;
    assert_eq!(status.code(), Some(0));

    let output = succeeded(linli().envs(&vars).args(["export", "--format", "json"]));
    let tasks: Value = serde_json::from_slice(&output.stdout).unwrap();
    let task = &tasks[0];
    assert_eq!(tasks.as_array().unwrap().len(), 1);
    assert_eq!(task["chat_id"], GROUP);
    assert_eq!(task["number"], 1);
    assert_eq!(task["kind"], "pickup");
    assert_eq!(task["flat"], "12-302");
    assert_eq!(task["details"], "JD parcel");
    assert_eq!(task["status"], "claimed");
    assert_eq!(task["requester_id"], ANN.id);
    assert_eq!(task["claimer_id"], BO.id);
    assert!(task["done_at"].is_null());
    for field in ["created_at", "claimed_at"] {
        let text = task[field].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(text).is_ok() && text.ends_with('Z'),
            "{field}: {text}"
        );
    }

    let output = succeeded(linli().envs(&vars).args([
        "export",
        "--chat",
        &GROUP.to_string(),
        "--format",
        "csv",
    ]));
    let csv = String::from_utf8(output.stdout).unwrap();
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("chat_id,number,kind,flat,details,status,requester_id"));
    assert!(lines.next().unwrap().contains("12-302"));
    let output = succeeded(linli().envs(&vars).args(["export", "--chat", "-1"]));
    assert_eq!(
        serde_json::from_slice::<Value>(&output.stdout).unwrap(),
        serde_json::json!([])
    );
}

/// SIGTERM while messages are still on their way: the bot stops fetching,
/// sends what it had queued, and exits 0.
#[tokio::test]
async fn sigterm_drains_the_outbox_before_exiting() {
    let fake = FakeTelegram::start().await;
    fake.set_delay(Duration::from_millis(300));
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::new(&dir.path().join("linli.db"));
    let vars = environment(&fake, &database);
    let child = run_bot(&vars);
    let chats = [
        -1_001_000_000_011i64,
        -1_001_000_000_012,
        -1_001_000_000_013,
    ];
    let mut requests = Vec::new();
    for chat in chats {
        for flat in ["1-1", "1-2"] {
            let id = fake.next_message_id(chat);
            fake.push_update(serde_json::json!({"message": message(chat, id, ANN.json(), &format!("/need pickup {flat}"))}));
            requests.push((chat, id));
        }
    }
    fake.wait_for_calls("sendMessage", 1).await;
    // Every request is stored and handled by now; most replies are not sent.
    let db = linli::ledger::Ledger::connect(
        &linli::config::Settings::from_vars(&vars).unwrap().database,
    )
    .await
    .unwrap();
    let started = Instant::now();
    while db.inbox_waiting().await.unwrap() > 0 || db.export(None).await.unwrap().len() < 6 {
        assert!(started.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        db.outbox_waiting().await.unwrap() > 0,
        "something is still to send"
    );
    let status = terminate(child).await;
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        db.outbox_waiting().await.unwrap(),
        0,
        "the outbox was drained"
    );
    // Each request answered once, before the exit.
    for (chat, id) in requests {
        assert_eq!(replies_to(&fake, chat, id), 1, "request {id} in {chat}");
    }
}

/// `linli backup` copies the database while the bot runs; the copy opens.
#[tokio::test]
async fn backup_makes_a_consistent_copy_while_the_bot_runs() {
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::new(&dir.path().join("linli.db"));
    let vars = environment(&fake, &db);
    let mut child = run_bot(&vars);
    let id = fake.next_message_id(GROUP);
    fake.push_update(
        serde_json::json!({"message": message(GROUP, id, ANN.json(), "/need pickup 1-1")}),
    );
    fake.wait_for_calls("sendMessage", 1).await;
    let copy = dir.path().join("copy.db");
    if db.is_postgres() {
        // Where pg_dump is not installed, the refusal says how to back up.
        let refused = linli()
            .envs(&vars)
            .env("PATH", dir.path())
            .arg("backup")
            .arg(&copy)
            .output()
            .unwrap();
        assert_eq!(refused.status.code(), Some(1));
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(said.contains("pg_dump --format=custom"), "{said}");
        assert!(!copy.exists(), "nothing is left behind");
    }
    succeeded(linli().envs(&vars).arg("backup").arg(&copy));
    let _ = child.kill();
    let _ = child.wait();
    if db.is_postgres() {
        // PostgreSQL's own dump (custom format, for pg_restore), owner-only.
        let dump = std::fs::read(&copy).unwrap();
        assert!(dump.starts_with(b"PGDMP"), "a pg_dump archive");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // Restored into a database of its own, it holds the task.
        let restored = TestDatabase::new(&dir.path().join("restored.db"));
        let status = Command::new("pg_restore")
            .arg("--no-owner")
            .arg("--dbname")
            .arg(&restored.url)
            .arg(&copy)
            .status()
            .unwrap();
        assert!(status.success(), "pg_restore");
        let output = succeeded(
            linli()
                .env("DATABASE_URL", &restored.url)
                .args(["export", "--format", "json"]),
        );
        let tasks: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(tasks[0]["flat"], "1-1");
    } else {
        let output = succeeded(
            linli()
                .env("DATABASE_URL", format!("sqlite:{}", copy.display()))
                .args(["export", "--format", "json"]),
        );
        let tasks: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(tasks[0]["flat"], "1-1");
        assert_eq!(tasks.as_array().map(Vec::len), Some(1));
    }
    // A second backup to the same path is refused, not overwritten.
    let before = std::fs::read(&copy).unwrap();
    let again = linli()
        .envs(&vars)
        .arg("backup")
        .arg(&copy)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        before,
        "the copy is untouched"
    );
}

/// On PostgreSQL one `linli run` at a time uses a database: a second one
/// waits a while for the first to stop, then says why it cannot run.
#[tokio::test]
async fn a_second_bot_on_one_postgresql_database_is_refused() {
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::new(&dir.path().join("linli.db"));
    if !db.is_postgres() {
        return; // An SQLite file is one machine's; nothing to share.
    }
    let vars = environment(&fake, &db);
    let mut first = run_bot(&vars);
    // It has the lock once it asks Telegram anything.
    fake.wait_for_calls("getMe", 1).await;
    let second = linli().envs(&vars).output().unwrap();
    let _ = first.kill();
    let _ = first.wait();
    assert_eq!(second.status.code(), Some(1));
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(
        said.contains("another `linli run` uses this PostgreSQL database"),
        "{said}"
    );
}

/// A PostgreSQL server on another machine is reached over TLS when the URL
/// asks for it (`sslmode=require`), where the server offers it.
#[tokio::test]
async fn postgresql_is_reached_over_tls_when_the_url_asks() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::new(&dir.path().join("linli.db"));
    if !db.is_postgres() {
        return;
    }
    let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    let offered: String = sqlx::query_scalar("SHOW ssl")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    let _ = sqlx::Connection::close(connection).await;
    if offered != "on" {
        return; // This server has no certificate to offer.
    }
    let url = format!("{}?sslmode=require", db.url);
    let output = succeeded(linli().env("DATABASE_URL", &url).arg("check"));
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.contains("sslmode=require are fine"), "{said}");
}
