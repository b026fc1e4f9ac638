//! Forgetting end to end: after `privacy.forget_after`, and at once with
//! `/forgetme`, no table holds a finished task's flat, details or note;
//! counts and times stay, and the export shows the fields empty.

use chrono::{TimeDelta, Utc};
use linli::clock::Clock;
use linli::either;
use linli::ledger::Ledger;
use sqlx::Row;

use crate::helpers::*;

const FLAT: &str = "9栋909";
const DETAILS: &str = "secret-details-xyz";
const NOTE: &str = "left-with-neighbour-qq";

/// Every text value of every table that holds one of `needles`, as
/// "table: value".
async fn where_it_stays(app: &TestApp, needles: &[&str]) -> Vec<String> {
    let ledger: &Ledger = &app.ledger;
    let tables: Vec<String> = either!(ledger.readers(), p => {
        let sql = if app.db.is_postgres() {
            "SELECT tablename::TEXT FROM pg_tables WHERE schemaname = current_schema()"
        } else {
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        };
        sqlx::query_scalar(sql).fetch_all(p).await.unwrap()
    });
    let mut found = Vec::new();
    for table in tables {
        let texts: Vec<String> = either!(ledger.readers(), p => {
            let rows = sqlx::query(&format!("SELECT * FROM {table}")).fetch_all(p).await.unwrap();
            rows.iter()
                .flat_map(|row| {
                    (0..row.columns().len())
                        .filter_map(|i| row.try_get::<Option<String>, _>(i).ok().flatten())
                        .collect::<Vec<_>>()
                })
                .collect()
        });
        for text in texts {
            if needles.iter().any(|needle| text.contains(needle)) {
                found.push(format!("{table}: {text}"));
            }
        }
    }
    found
}

#[tokio::test]
async fn after_forget_after_no_table_holds_a_finished_tasks_words() {
    let clock = Clock::manual(Utc::now());
    let mut app = TestApp::spawn_with_clock(clock.clone()).await;
    app.add_bot(GROUP, ANN);
    // A public request, and a private one asked step by step.
    app.say(GROUP, ANN, &format!("/need medicine {FLAT} {DETAILS}"));
    app.fake.settle().await;
    app.say(LI.id, LI, &format!("/need pickup {FLAT} {DETAILS}"));
    app.fake.settle().await;
    let confirm = app
        .fake
        .calls_of("sendMessage")
        .into_iter()
        .rfind(|c| c.chat_id() == Some(LI.id))
        .unwrap();
    app.press(LI.id, LI, confirm.sent_message_id().unwrap(), "send:");
    app.fake.settle().await;
    app.say(GROUP, BO, "/claim 1 2");
    app.fake.settle().await;
    app.say(GROUP, BO, &format!("/done 1 {NOTE}"));
    app.say(GROUP, BO, &format!("/done 2 {NOTE}"));
    // A third stays open: its words are still needed.
    app.say(GROUP, CY, "/need rubbish 7-707 still-needed-abc");
    app.fake.settle().await;
    let before = where_it_stays(&app, &[FLAT, DETAILS, NOTE]).await;
    assert!(before.iter().any(|t| t.starts_with("tasks")), "{before:?}");
    assert!(before.iter().any(|t| t.starts_with("inbox")), "{before:?}");
    // Not yet: 29 days on, a restart (which forgets at start) keeps them.
    clock.advance(TimeDelta::days(29));
    app.restart().await;
    app.fake.settle().await;
    assert_eq!(app.task(GROUP, 1).await.flat, FLAT);
    // Past 30 days: gone from every table (forgotten at start).
    clock.advance(TimeDelta::days(2));
    app.restart().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let after = where_it_stays(&app, &[FLAT, DETAILS, NOTE]).await;
        if after.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still kept: {after:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let exported = app.ledger.export(None).await.unwrap();
    assert_eq!(exported.len(), 3);
    for task in &exported[..2] {
        assert_eq!((task.flat.as_str(), task.details.as_str()), ("", ""));
        assert_eq!(task.done_note, None);
        assert!(
            task.done_at.is_some() && task.claimed_at.is_some(),
            "times stay"
        );
    }
    assert_eq!(exported[2].flat, "7-707", "an open task keeps its flat");
    assert_eq!(
        app.event_names(GROUP, 1).await,
        ["created", "claimed", "done"]
    );
    let stats = linli::core::reads::stats(&app.ledger, GROUP).await.unwrap();
    assert_eq!((stats.done, stats.open), (2, 1), "counts stay");
}

#[tokio::test]
async fn forgetme_erases_ones_finished_requests_at_once() {
    let app = TestApp::spawn().await;
    app.add_bot(GROUP, ANN);
    app.say(GROUP, ANN, &format!("/need medicine {FLAT} {DETAILS}"));
    app.say(GROUP, ANN, "/need pickup 1-101 open-one-def");
    app.say(GROUP, BO, "/need pickup 2-202 bos-own-ghi");
    app.fake.settle().await;
    app.say(GROUP, BO, "/claim 1 3");
    app.fake.settle().await;
    app.say(GROUP, BO, &format!("/done 1 {NOTE}"));
    app.say(GROUP, BO, "/done 3");
    app.fake.settle().await;
    app.say(GROUP, ANN, "/forgetme");
    app.fake.settle().await;
    assert_eq!(
        app.task(GROUP, 1).await.flat,
        FLAT,
        "only in the private chat"
    );
    app.say(ANN.id, ANN, "/forgetme");
    app.fake.settle().await;
    let reply = app
        .fake
        .calls_of("sendMessage")
        .into_iter()
        .rfind(|c| c.chat_id() == Some(ANN.id))
        .unwrap();
    assert!(
        reply.text().contains("your 1 finished requests"),
        "{}",
        reply.text()
    );
    let after = where_it_stays(&app, &[FLAT, DETAILS, NOTE]).await;
    assert!(after.is_empty(), "still kept: {after:?}");
    // Ann's open request and Bo's finished one keep theirs.
    assert_eq!(app.task(GROUP, 2).await.flat, "1-101");
    assert_eq!(app.task(GROUP, 3).await.flat, "2-202");
}

#[tokio::test]
async fn with_forgetting_off_only_old_drafts_go() {
    let clock = Clock::manual(Utc::now());
    let app = TestApp::spawn_with_clock(clock.clone()).await;
    app.add_bot(GROUP, ANN);
    app.say(GROUP, ANN, &format!("/need medicine {FLAT} {DETAILS}"));
    app.fake.settle().await;
    app.say(GROUP, BO, "/claim 1");
    app.fake.settle().await;
    app.say(GROUP, BO, "/done 1");
    app.say(LI.id, LI, "/need pickup 3-3");
    app.fake.settle().await;
    clock.advance(TimeDelta::days(400));
    let ledger = app.ledger.clone().with_clock(clock.clone());
    let forgotten = linli::core::privacy::forget_due(&ledger, None)
        .await
        .expect("forgetting off works on both stores");
    assert_eq!(forgotten.tasks, 0);
    assert_eq!(app.task(GROUP, 1).await.flat, FLAT);
    let drafts: i64 = either!(app.ledger.readers(), p =>
        sqlx::query_scalar("SELECT COUNT(*) FROM drafts").fetch_one(p).await.unwrap());
    assert_eq!(drafts, 0, "a day-old draft goes all the same");
}
