//! The schema per backend: `migrations/sqlite/` and `migrations/postgres/`
//! hold the same versions, and the PostgreSQL schema keeps the ledger's
//! rules (append-only events, counts kept by triggers).
//!
//! The PostgreSQL schema is checked in the PostgreSQL pass (`database.rs`).

use std::collections::BTreeSet;
use std::path::Path;

use sqlx::PgPool;

use crate::helpers::TestDatabase;

/// The migration files of one backend, by name (version and description).
fn migration_names(backend: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sql"))
        .collect()
}

#[test]
fn both_backends_have_the_same_migrations() {
    let sqlite = migration_names("sqlite");
    let postgres = migration_names("postgres");
    assert!(sqlite.len() >= 5, "{sqlite:?}");
    assert_eq!(sqlite, postgres);
}

#[tokio::test]
async fn the_postgres_schema_keeps_the_ledgers_rules() {
    // In the PostgreSQL pass only; SQLite's triggers are tested in ledger.rs.
    let db = TestDatabase::new(Path::new("unused.db"));
    if !db.is_postgres() {
        return;
    }
    let pool = &PgPool::connect(&db.url).await.unwrap();
    sqlx::migrate!("./migrations/postgres")
        .run(pool)
        .await
        .unwrap();
    let now = chrono::Utc::now();
    sqlx::query("INSERT INTO chats (id, title, created_at) VALUES (-100, 'Residents', $1)")
        .bind(now)
        .execute(pool)
        .await
        .unwrap();
    let task: i64 = sqlx::query_scalar(
        "INSERT INTO tasks (chat_id, number, kind, flat, status, requester_id, requester_name,
                            lang, source_message_id, created_at)
         VALUES (-100, 1, 'pickup', '1-1', 'open', 1, 'Ann', 'en', 1, $1) RETURNING id",
    )
    .bind(now)
    .fetch_one(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO events (task_id, action, actor_id, actor_name, at)
         VALUES ($1, 'created', 1, 'Ann', $2)",
    )
    .bind(task)
    .bind(now)
    .execute(pool)
    .await
    .unwrap();
    // Events are append-only, whichever way one tries.
    for statement in [
        "UPDATE events SET actor_name = 'x'",
        "DELETE FROM events",
        "TRUNCATE events",
    ] {
        let refused = sqlx::query(statement).execute(pool).await.unwrap_err();
        assert!(
            refused.to_string().contains("append-only"),
            "{statement}: {refused}"
        );
    }
    // The counts follow a task through its life, and its chat through a move.
    sqlx::query(
        "UPDATE tasks SET status = 'done', claimer_id = 2, claimer_name = 'Bo' WHERE id = $1",
    )
    .bind(task)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("UPDATE chats SET id = -1000100 WHERE id = -100")
        .execute(pool)
        .await
        .unwrap();
    let counts: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT chat_id, status, tasks FROM chat_status_counts WHERE tasks <> 0 ORDER BY status",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(counts, [(-1_000_100, "done".to_string(), 1)]);
    let helpers: Vec<(i64, i64, Option<String>, i64)> =
        sqlx::query_as("SELECT chat_id, claimer_id, name, done FROM helper_counts WHERE done <> 0")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(helpers, [(-1_000_100, 2, Some("Bo".to_string()), 1)]);
    pool.close().await;
}
