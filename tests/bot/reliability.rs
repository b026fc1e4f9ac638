//! Telegram's transient errors, races in one batch, poisoned Updates, and
//! bursts paced inside Telegram's limits.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{message, replies_to, TestApp, ANN, BO, CY, GROUP, LI};
use fake_telegram::chat_json;

#[tokio::test]
async fn a_5xx_is_retried_until_telegram_accepts() {
    let app = TestApp::spawn().await;
    app.fake.fail_next(
        "sendMessage",
        500,
        json!({"ok": false, "error_code": 500, "description": "Internal Server Error"}),
    );
    app.say(GROUP, ANN, "/need pickup 1-1");
    // teloxide itself pauses 10 s on a 5xx before the sender retries.
    let sent = app.fake.wait_for_calls("sendMessage", 2).await;
    assert!(sent[1].succeeded());
    assert_eq!(sent[1].buttons(), vec!["claim:1"]);
    // One announcement in the chat, and the ledger knows which.
    app.fake.settle().await;
    let posted: Vec<_> = app
        .fake
        .calls_of("sendMessage")
        .into_iter()
        .filter(|c| c.succeeded())
        .collect();
    assert_eq!(posted.len(), 1);
    let task = app.ledger.export(None).await.unwrap().remove(0);
    assert_eq!(
        task.announcement_message_id.map(i64::from),
        posted[0].sent_message_id()
    );
}

#[tokio::test]
async fn claims_racing_in_one_batch_have_one_winner_and_explained_losers() {
    let app = TestApp::spawn().await;
    app.say(GROUP, ANN, "/need medicine 3-301 insulin");
    app.fake.wait_for_calls("sendMessage", 1).await;
    let id = app.announcement_id(GROUP, 1);
    app.fake.settle().await;
    // Three claims arrive in one getUpdates batch: two buttons and a command.
    let first = app.press(GROUP, BO, id, "claim:1");
    let command = app.say(GROUP, CY, "/claim 1");
    let third = app.press(GROUP, LI, id, "claim:1");
    app.fake.settle().await;

    assert_eq!(
        app.task(GROUP, 1).await.state.claimer.map(|u| u.0),
        Some(BO.id)
    );
    assert_eq!(app.event_names(GROUP, 1).await, ["created", "claimed"]);
    let answers = app.fake.calls_of("answerCallbackQuery");
    let answer_to = |id: &str| {
        answers
            .iter()
            .find(|c| c.body["callback_query_id"] == id)
            .unwrap()
            .clone()
    };
    assert_ne!(answer_to(&first).body["show_alert"], true);
    assert_eq!(answer_to(&third).body["show_alert"], true);
    assert!(answer_to(&third).body["text"]
        .as_str()
        .unwrap()
        .contains("已被 Bo 认领"));
    let reply = app
        .fake
        .calls_of("sendMessage")
        .into_iter()
        .find(|c| c.body["reply_parameters"]["message_id"] == command)
        .expect("the command is answered");
    assert!(
        reply.text().contains("already claimed by Bo"),
        "{}",
        reply.text()
    );
}

#[tokio::test]
async fn poisoned_updates_do_not_hold_up_their_chat() {
    let app = TestApp::spawn().await;
    // Stored but not JSON at all (the fetcher keeps what Telegram sent).
    app.ledger
        .store_updates(&[linli::ledger::inbox::Fetched {
            update_id: 0,
            chat_key: GROUP,
            raw: "{not json".into(),
        }])
        .await
        .unwrap();
    // Updates teloxide cannot read as any kind it knows.
    app.fake
        .push_update(json!({"message": {"message_id": 1, "chat": chat_json(GROUP), "text": 5}}));
    app.fake.push_update(json!({"message": "garbage"}));
    app.fake
        .push_update(json!({"callback_query": {"id": 7, "data": ["claim:1"]}}));
    app.say(GROUP, ANN, "/need pickup 1-1");
    app.fake.wait_for_calls("sendMessage", 1).await;
    app.fake.settle().await;
    let rows: Vec<(bool, Option<String>)> =
        linli::either!(app.ledger.readers(), p => sqlx::query_as("SELECT handled_at IS NOT NULL, error FROM inbox ORDER BY update_id")
            .fetch_all(p)
            .await)
            .unwrap();
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|(handled, _)| *handled), "{rows:?}");
    assert!(
        rows[0].1.as_deref().unwrap().starts_with("unreadable"),
        "{rows:?}"
    );
    assert_eq!(rows[4].1, None);
    assert_eq!(
        app.fake.calls_of("sendMessage").len(),
        1,
        "the garbage got no answer"
    );
    assert_eq!(app.ledger.export(None).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_same_update_delivered_twice_is_applied_once() {
    let app = TestApp::spawn().await;
    let id = app.fake.next_message_id(GROUP);
    let update =
        json!({"update_id": 4242, "message": message(GROUP, id, ANN.json(), "/need pickup 1-1")});
    app.ledger
        .store_updates(&[linli::ledger::inbox::Fetched {
            update_id: 4242,
            chat_key: GROUP,
            raw: update.to_string(),
        }])
        .await
        .unwrap();
    app.fake.wait_for_calls("sendMessage", 1).await;
    app.fake.settle().await;
    // Telegram sends it again (say its offset was never confirmed).
    app.fake.push_update_as_is(update);
    app.say(GROUP, ANN, "/open");
    app.fake.wait_for_calls("sendMessage", 2).await;
    app.fake.settle().await;
    assert_eq!(app.ledger.export(None).await.unwrap().len(), 1);
    assert_eq!(app.fake.calls_of("sendMessage").len(), 2);
}

#[tokio::test]
async fn sixty_requests_at_once_in_one_group_are_paced_and_all_get_through() {
    // Telegram's limit, scaled from 20 a minute to 10 a second so the test is quick.
    let app = TestApp::spawn_with(|vars| {
        vars.insert("LINLI_TELEGRAM__PACING".into(), "true".into());
        vars.insert(
            "LINLI_TELEGRAM__CHAT_MESSAGES_PER_SECOND".into(),
            "10".into(),
        );
        vars.insert(
            "LINLI_TELEGRAM__GROUP_MESSAGES_PER_MINUTE".into(),
            "600".into(),
        );
    })
    .await;
    app.fake.limit_rate(12, Duration::from_secs(1));
    let requests = app.burst(GROUP, 60);
    let sent = app
        .fake
        .wait_for("60 announcements", |calls| {
            calls
                .iter()
                .filter(|c| c.method == "sendMessage" && c.succeeded())
                .count()
                >= 60
        })
        .await;
    let too_many = sent
        .iter()
        .filter(|c| c.method == "sendMessage" && c.answer["error_code"] == 429)
        .count();
    assert!(too_many <= 3, "{too_many} answers of 429");
    app.fake.settle().await;
    let tasks = app.ledger.export(None).await.unwrap();
    assert_eq!(tasks.len(), 60);
    assert!(tasks.iter().all(|t| t.announcement_message_id.is_some()));
    for id in requests {
        assert_eq!(replies_to(&app.fake, GROUP, id), 1, "request {id}");
    }
}

#[tokio::test]
async fn without_pacing_the_same_burst_meets_429s_and_still_all_get_through() {
    let app = TestApp::spawn().await;
    app.fake.limit_rate(12, Duration::from_secs(1));
    let requests = app.burst(GROUP, 30);
    let sent = app
        .fake
        .wait_for("30 announcements", |calls| {
            calls
                .iter()
                .filter(|c| c.method == "sendMessage" && c.succeeded())
                .count()
                >= 30
        })
        .await;
    assert!(
        sent.iter().any(|c| c.answer["error_code"] == 429),
        "the fake limits as Telegram does"
    );
    app.fake.settle().await;
    for id in requests {
        assert_eq!(replies_to(&app.fake, GROUP, id), 1, "request {id}");
    }
}

#[tokio::test]
async fn one_groups_burst_delays_neither_other_groups_nor_button_answers() {
    // Telegram's real limits: 20 new messages a minute into one group.
    let app = TestApp::spawn_with(|vars| {
        vars.insert("LINLI_TELEGRAM__PACING".into(), "true".into());
        vars.insert(
            "LINLI_TELEGRAM__CHAT_MESSAGES_PER_SECOND".into(),
            "100".into(),
        );
    })
    .await;
    app.fake.limit_rate(20, Duration::from_secs(60));
    app.burst(GROUP, 25);
    app.fake
        .wait_for("20 announcements", |calls| {
            calls
                .iter()
                .filter(|c| c.method == "sendMessage" && c.chat_id() == Some(GROUP))
                .count()
                >= 20
        })
        .await;
    // The group is now at its limit: its last five wait a minute. Another
    // group and a button under the busy one are answered at once.
    let started = std::time::Instant::now();
    let other = -1_009_999;
    let asked = app.say(other, BO, "/need rubbish 9-9");
    let pressed = app.press(GROUP, CY, app.announcement_id(GROUP, 1), "claim:1");
    app.fake
        .wait_for(
            "the other group's announcement and the button's answer",
            |calls| {
                let announced = calls.iter().any(|c| {
                    c.method == "sendMessage"
                        && c.succeeded()
                        && c.body["reply_parameters"]["message_id"] == asked
                });
                let answered = calls.iter().any(|c| {
                    c.method == "answerCallbackQuery"
                        && c.body["callback_query_id"] == pressed.as_str()
                });
                announced && answered
            },
        )
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let too_many = app
        .fake
        .calls_of("sendMessage")
        .iter()
        .filter(|c| c.answer["error_code"] == 429)
        .count();
    assert_eq!(too_many, 0, "paced inside the limit, not by 429s");
    let in_group = app
        .fake
        .calls_of("sendMessage")
        .iter()
        .filter(|c| c.chat_id() == Some(GROUP))
        .count();
    assert_eq!(in_group, 20, "the rest of the burst waits its turn");
}
