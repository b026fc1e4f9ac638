//! Everything the interface refuses is refused with an explanation, and
//! changes nothing.

use crate::helpers::{Resident, TestApp, ANN, BO, CY, GROUP, LI};
use fake_telegram::Call;

/// Sends `text` as `from` and returns the bot's one message answering it.
async fn answer_to(app: &TestApp, from: Resident, text: &str) -> Call {
    let before = app.fake.calls_of("sendMessage").len();
    let id = app.say(GROUP, from, text);
    let sent = app.fake.wait_for_calls("sendMessage", before + 1).await;
    let answer = sent[before].clone();
    assert_eq!(
        answer.body["reply_parameters"]["message_id"], id,
        "answers {text}"
    );
    answer
}

/// Sends `text` as `from` and returns the bot's short reply, which has no buttons.
async fn reply_to(app: &TestApp, from: Resident, text: &str) -> String {
    let reply = answer_to(app, from, text).await;
    assert!(reply.buttons().is_empty(), "{text} got buttons");
    reply.text().to_string()
}

/// Posts a request and waits for its announcement.
async fn need(app: &TestApp, text: &str) {
    let announcement = answer_to(app, ANN, text).await;
    assert!(announcement.buttons()[0].starts_with("claim:"));
}

#[tokio::test]
async fn bad_requests_are_explained_and_create_nothing() {
    let app = TestApp::spawn().await;
    let cases = [
        ("/need taxi 1-1", "I don't know the kind “taxi”"),
        (
            &format!("/need pickup {}", "9".repeat(33)),
            "at most 32 characters",
        ),
        (
            &format!("/need pickup 1-1 {}", "x".repeat(501)),
            "at most 500 characters",
        ),
        ("/claim", "Which task?"),
        ("/claim first", "is not a task number"),
        ("/claim 7", "There is no task #7"),
    ];
    for (text, expected) in cases {
        let reply = reply_to(&app, ANN, text).await;
        assert!(reply.contains(expected), "{text}: {reply}");
    }
    app.fake.settle().await;
    assert!(app.ledger.export(None).await.unwrap().is_empty());
    assert!(app.fake.calls_of("editMessageText").is_empty());
}

#[tokio::test]
async fn wrong_state_and_wrong_person_are_refused() {
    let app = TestApp::spawn().await;
    need(&app, "/need groceries 5-501 milk").await;
    assert!(reply_to(&app, BO, "/done 1")
        .await
        .contains("not claimed yet"));
    assert!(reply_to(&app, BO, "/release 1")
        .await
        .contains("not claimed yet"));
    assert!(reply_to(&app, BO, "/cancel 1")
        .await
        .contains("Only the person who asked"));
    reply_to(&app, BO, "/claim 1").await;
    assert!(reply_to(&app, BO, "/claim 1")
        .await
        .contains("already claimed #1"));
    assert!(reply_to(&app, CY, "/claim 1")
        .await
        .contains("already claimed by Bo"));
    assert!(reply_to(&app, CY, "/done 1").await.contains("Only Bo"));
    assert!(reply_to(&app, CY, "/release 1").await.contains("Only Bo"));
    reply_to(&app, BO, "/done 1").await;
    assert!(reply_to(&app, ANN, "/cancel 1")
        .await
        .contains("already done"));
    assert!(reply_to(&app, BO, "/claim 1")
        .await
        .contains("already done"));
    app.fake.settle().await;

    // Only the claim and the done changed the task.
    assert_eq!(
        app.event_names(GROUP, 1).await,
        ["created", "claimed", "done"]
    );
    assert_eq!(app.fake.calls_of("editMessageText").len(), 2);
    // Cy is a plain member: Telegram was asked, once per refusal at most.
    let asked = app.fake.calls_of("getChatMember");
    assert!(!asked.is_empty());
    assert!(asked
        .iter()
        .all(|c| c.body["user_id"] == CY.id || c.body["user_id"] == BO.id));
}

#[tokio::test]
async fn admins_may_release_finish_and_cancel_what_is_not_theirs() {
    let app = TestApp::spawn().await;
    app.fake.set_status(GROUP, CY.id, "administrator");
    app.fake.set_status(GROUP, LI.id, "creator");
    need(&app, "/need pickup 1-1").await;
    need(&app, "/need pickup 1-2").await;
    reply_to(&app, BO, "/claim 1").await;
    assert!(reply_to(&app, CY, "/release 1")
        .await
        .contains("#1 is open again"));
    reply_to(&app, BO, "/claim 1").await;
    assert!(reply_to(&app, CY, "/done 1").await.contains("#1 is done"));
    assert!(reply_to(&app, LI, "/cancel 2").await.contains("#2 已取消"));
    app.fake.settle().await;
    let done = app.task(GROUP, 1).await;
    assert_eq!(
        done.state.claimer.map(|u| u.0),
        Some(BO.id),
        "the volunteer keeps the credit"
    );
    assert_eq!(app.task(GROUP, 2).await.state.status.as_str(), "cancelled");
}

#[tokio::test]
async fn a_second_button_press_on_a_claimed_task_gets_an_alert() {
    let app = TestApp::spawn().await;
    app.say(GROUP, ANN, "/need rubbish 2-201");
    app.fake.wait_for_calls("sendMessage", 1).await;
    let id = app.announcement_id(GROUP, 1);
    app.press(GROUP, BO, id, "claim:1");
    app.fake.wait_for_calls("editMessageText", 1).await;
    let second = app.press(GROUP, CY, id, "claim:1");
    let answers = app.fake.wait_for_calls("answerCallbackQuery", 2).await;
    let answer = answers
        .iter()
        .find(|c| c.body["callback_query_id"] == second.as_str())
        .unwrap();
    assert_eq!(answer.body["show_alert"], true);
    assert!(answer.body["text"]
        .as_str()
        .unwrap()
        .contains("already claimed by Bo"));
    // Pressing someone else's Done is refused too.
    let third = app.press(GROUP, CY, id, "done:1");
    let answers = app.fake.wait_for_calls("answerCallbackQuery", 3).await;
    let answer = answers
        .iter()
        .find(|c| c.body["callback_query_id"] == third.as_str())
        .unwrap();
    assert_eq!(answer.body["show_alert"], true);
    app.fake.settle().await;
    assert_eq!(app.fake.calls_of("editMessageText").len(), 1);
    assert_eq!(
        app.task(GROUP, 1).await.state.claimer.map(|u| u.0),
        Some(BO.id)
    );
}

#[tokio::test]
async fn forged_and_stale_buttons_get_an_alert_and_later_updates_still_work() {
    let app = TestApp::spawn().await;
    let forged = app.press(GROUP, BO, 1, "claim:abc");
    let unknown = app.press(GROUP, BO, 1, "claim:42");
    let junk = app.press(GROUP, BO, 1, "\u{0}💥");
    let answers = app.fake.wait_for_calls("answerCallbackQuery", 3).await;
    for id in [forged, unknown, junk] {
        let answer = answers
            .iter()
            .find(|c| c.body["callback_query_id"] == id.as_str())
            .unwrap();
        assert_eq!(answer.body["show_alert"], true, "{id}");
        assert!(!answer.body["text"].as_str().unwrap().is_empty());
    }
    app.say(GROUP, ANN, "/need pickup 1-1");
    app.fake.wait_for_calls("sendMessage", 1).await;
    assert!(app.ledger.export(None).await.unwrap().len() == 1);
}
