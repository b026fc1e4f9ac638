//! Telegram's real errors, injected into the fake: the bot waits, retries,
//! falls back or records what they mean, and never goes silent.

use serde_json::json;

use crate::helpers::{TestApp, ANN, BO, GROUP};

#[tokio::test]
async fn a_429_is_waited_out_and_the_announcement_still_arrives() {
    let app = TestApp::spawn().await;
    app.fake.fail_next(
        "sendMessage",
        429,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}}),
    );
    app.say(GROUP, ANN, "/need pickup 1-1");
    let sent = app.fake.wait_for_calls("sendMessage", 2).await;
    assert!(!sent[0].succeeded());
    assert!(sent[1].succeeded());
    assert_eq!(sent[1].buttons(), vec!["claim:1"]);
    app.fake.settle().await;
    assert_eq!(
        app.task(GROUP, 1).await.announcement_message_id,
        sent[1].sent_message_id().map(|id| id as i32)
    );
}

#[tokio::test]
async fn the_same_429_under_pacing_is_waited_out_and_retried() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("LINLI_TELEGRAM__PACING".into(), "true".into());
    })
    .await;
    app.fake.fail_next(
        "sendMessage",
        429,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}}),
    );
    app.say(GROUP, ANN, "/need pickup 1-1");
    let sent = app.fake.wait_for_calls("sendMessage", 2).await;
    assert!(sent[1].succeeded());
}

#[tokio::test]
async fn html_telegram_cannot_parse_is_sent_again_as_plain_text() {
    let app = TestApp::spawn().await;
    app.fake.fail_next(
        "sendMessage",
        400,
        json!({"ok": false, "error_code": 400, "description": "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0"}),
    );
    app.say(GROUP, ANN, "/need pickup 1-1 <x> & co");
    let sent = app.fake.wait_for_calls("sendMessage", 2).await;
    assert!(sent[1].succeeded());
    assert!(sent[1].body.get("parse_mode").is_none());
    assert!(
        sent[1].text().contains("<x> & co"),
        "plain text, unescaped: {}",
        sent[1].text()
    );
    assert_eq!(sent[1].buttons(), vec!["claim:1"]);
}

#[tokio::test]
async fn message_not_modified_counts_as_success() {
    let app = TestApp::spawn().await;
    app.say(GROUP, ANN, "/need pickup 1-1");
    app.fake.wait_for_calls("sendMessage", 1).await;
    app.fake.fail_next(
        "editMessageText",
        400,
        json!({"ok": false, "error_code": 400, "description": "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"}),
    );
    app.say(GROUP, BO, "/claim 1");
    app.fake.wait_for_calls("sendMessage", 2).await;
    app.fake.settle().await;
    // One edit, not retried, and no fresh announcement.
    assert_eq!(app.fake.calls_of("editMessageText").len(), 1);
    assert_eq!(app.fake.calls_of("sendMessage").len(), 2);
    assert_eq!(app.task(GROUP, 1).await.state.status.as_str(), "claimed");
}

#[tokio::test]
async fn a_deleted_announcement_is_posted_again() {
    let app = TestApp::spawn().await;
    app.say(GROUP, ANN, "/need pickup 1-1");
    app.fake.wait_for_calls("sendMessage", 1).await;
    let old = app.announcement_id(GROUP, 1);
    app.fake.fail_next(
        "editMessageText",
        400,
        json!({"ok": false, "error_code": 400, "description": "Bad Request: message to edit not found"}),
    );
    app.say(GROUP, BO, "/claim 1");
    let sent = app.fake.wait_for_calls("sendMessage", 3).await;
    let fresh = sent
        .iter()
        .find(|c| c.buttons() == ["claim:1", "done:1", "release:1"])
        .expect("a fresh announcement");
    app.fake.settle().await;
    let stored = app.task(GROUP, 1).await.announcement_message_id;
    assert_eq!(stored, fresh.sent_message_id().map(|id| id as i32));
    assert_ne!(stored, Some(old as i32));
}

#[tokio::test]
async fn a_bot_kicked_from_the_group_marks_the_chat_inactive_and_keeps_the_ledger() {
    let app = TestApp::spawn().await;
    app.fake.fail_next(
        "sendMessage",
        403,
        json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was kicked from the supergroup chat"}),
    );
    app.say(GROUP, ANN, "/need pickup 1-1");
    app.fake.wait_for_calls("sendMessage", 1).await;
    app.fake.settle().await;
    let active: bool = linli::either!(app.ledger.readers(), p => sqlx::query_scalar("SELECT active FROM chats WHERE id = $1")
        .bind(GROUP)
        .fetch_one(p)
        .await)
        .unwrap();
    assert!(!active);
    assert_eq!(app.task(GROUP, 1).await.announcement_message_id, None);
    // Not retried: a kicked bot cannot post.
    assert_eq!(app.fake.calls_of("sendMessage").len(), 1);
}

#[tokio::test]
async fn a_send_answered_with_migrate_to_chat_id_follows_the_chat() {
    let app = TestApp::spawn().await;
    let old = -4_000_000_002;
    let new = -1_008_888_888_888;
    app.fake.fail_next(
        "sendMessage",
        400,
        json!({"ok": false, "error_code": 400, "description": "Bad Request: group chat was upgraded to a supergroup chat", "parameters": {"migrate_to_chat_id": new}}),
    );
    app.say(old, ANN, "/need pickup 1-1");
    let sent = app.fake.wait_for_calls("sendMessage", 2).await;
    assert_eq!(sent[1].chat_id(), Some(new));
    assert!(sent[1].succeeded());
    app.fake.settle().await;
    assert_eq!(
        app.task(new, 1).await.announcement_message_id,
        sent[1].sent_message_id().map(|id| id as i32)
    );
}
