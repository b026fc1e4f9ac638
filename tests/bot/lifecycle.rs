//! A task's whole life, by buttons and by commands, and what it leaves in
//! the ledger.

use crate::helpers::{TestApp, ANN, BO, GROUP};

#[tokio::test]
async fn a_task_lives_its_whole_life_through_buttons() {
    let app = TestApp::spawn().await;
    let request = app.say(
        GROUP,
        ANN,
        "/need pickup 12-302 JD parcel at the north gate",
    );
    let sent = app.fake.wait_for_calls("sendMessage", 1).await;
    let announcement = &sent[0];
    assert_eq!(announcement.chat_id(), Some(GROUP));
    assert_eq!(announcement.body["parse_mode"], "HTML");
    assert_eq!(announcement.body["reply_parameters"]["message_id"], request);
    for part in [
        "#1",
        "Pickup",
        "12-302",
        "JD parcel at the north gate",
        "Ann",
    ] {
        assert!(
            announcement.text().contains(part),
            "{part} missing: {}",
            announcement.text()
        );
    }
    assert_eq!(announcement.buttons(), vec!["claim:1"]);
    let id = app.announcement_id(GROUP, 1);

    app.press(GROUP, BO, id, "claim:1");
    let edits = app.fake.wait_for_calls("editMessageText", 1).await;
    assert_eq!(edits[0].body["message_id"], id);
    assert!(
        edits[0].text().contains("Bo is on it"),
        "{}",
        edits[0].text()
    );
    assert_eq!(edits[0].buttons(), vec!["claim:1", "done:1", "release:1"]);
    let answers = app.fake.wait_for_calls("answerCallbackQuery", 1).await;
    assert_ne!(
        answers[0].body["show_alert"], true,
        "success is not an alert"
    );

    app.press(GROUP, BO, id, "done:1");
    let edits = app.fake.wait_for_calls("editMessageText", 2).await;
    assert!(
        edits[1].text().contains("Done by Bo"),
        "{}",
        edits[1].text()
    );
    assert_eq!(
        edits[1].buttons(),
        ["received:1", "missing:1"],
        "a done task keeps only its requester's receipt buttons"
    );
    assert!(
        !edits[1].text().contains("12-302"),
        "the flat leaves the chat once done"
    );
    app.fake.settle().await;
    assert_eq!(
        app.fake.calls_of("sendMessage").len(),
        1,
        "buttons post nothing new"
    );
    assert_eq!(app.fake.calls_of("answerCallbackQuery").len(), 2);

    let task = app.task(GROUP, 1).await;
    assert_eq!(task.state.status.as_str(), "done");
    assert_eq!(task.state.claimer.map(|u| u.0), Some(BO.id));
    assert_eq!(task.state.requester.0, ANN.id);
    assert_eq!(task.flat, "12-302");
    assert_eq!(task.announcement_message_id, Some(id as i32));
    assert!(task.claimed_at.is_some() && task.done_at.is_some());
    assert_eq!(
        app.event_names(GROUP, 1).await,
        ["created", "claimed", "done"]
    );
}

#[tokio::test]
async fn a_task_lives_its_whole_life_through_commands() {
    let app = TestApp::spawn().await;
    app.say(GROUP, ANN, "/need 倒垃圾 3号楼201");
    app.fake.wait_for_calls("sendMessage", 1).await;
    let id = app.announcement_id(GROUP, 1);

    app.say(GROUP, BO, "/claim 1");
    let edits = app.fake.wait_for_calls("editMessageText", 1).await;
    assert_eq!(edits[0].body["message_id"], id);
    assert_eq!(edits[0].buttons(), vec!["claim:1", "done:1", "release:1"]);
    let sent = app.fake.wait_for_calls("sendMessage", 2).await;
    assert!(
        sent[1].text().contains("#1"),
        "one short reply: {}",
        sent[1].text()
    );

    app.say(GROUP, BO, "/release #1");
    let edits = app.fake.wait_for_calls("editMessageText", 2).await;
    assert_eq!(edits[1].buttons(), vec!["claim:1"]);

    app.say(GROUP, BO, "/claim@linli_test_bot 1");
    app.fake.wait_for_calls("editMessageText", 3).await;
    app.say(GROUP, BO, "/done 1 left it at the door, <ring> & go");
    let edits = app.fake.wait_for_calls("editMessageText", 4).await;
    assert_eq!(edits[3].buttons(), ["received:1", "missing:1"]);
    assert!(
        edits[3]
            .text()
            .contains("left it at the door, &lt;ring&gt; &amp; go"),
        "the note is shown, escaped: {}",
        edits[3].text()
    );
    app.fake.settle().await;
    // One announcement plus one reply per command.
    assert_eq!(app.fake.calls_of("sendMessage").len(), 5);

    let task = app.task(GROUP, 1).await;
    assert_eq!(task.kind.as_str(), "rubbish");
    assert_eq!(task.flat, "3号楼201");
    assert_eq!(
        task.done_note.as_deref(),
        Some("left it at the door, <ring> & go")
    );
    assert_eq!(
        app.event_names(GROUP, 1).await,
        ["created", "claimed", "released", "claimed", "done"]
    );
}

#[tokio::test]
async fn the_requester_cancels_and_numbers_stay_dense() {
    let app = TestApp::spawn().await;
    app.say(GROUP, ANN, "/need medicine 1-101 ibuprofen");
    app.say(GROUP, ANN, "/request food 1-101 rice");
    app.fake.wait_for_calls("sendMessage", 2).await;
    app.say(GROUP, ANN, "/cancel 2");
    let edits = app.fake.wait_for_calls("editMessageText", 1).await;
    assert!(edits[0].buttons().is_empty());
    assert!(edits[0].text().contains("Cancelled"), "{}", edits[0].text());
    app.say(GROUP, BO, "/need other 2-202 walk the dog");
    app.fake.settle().await;
    let numbers: Vec<u32> = app
        .ledger
        .export(Some(GROUP))
        .await
        .unwrap()
        .iter()
        .map(|t| t.number.get())
        .collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert_eq!(app.task(GROUP, 2).await.state.status.as_str(), "cancelled");
    assert!(app.task(GROUP, 2).await.cancelled_at.is_some());
}

#[tokio::test]
async fn numbering_continues_after_a_restart() {
    let mut app = TestApp::spawn().await;
    app.say(GROUP, ANN, "/need pickup 1-1");
    app.say(GROUP, ANN, "/need pickup 1-2");
    app.fake.wait_for_calls("sendMessage", 2).await;
    app.fake.settle().await;
    app.restart().await;
    app.say(GROUP, BO, "/need pickup 1-3");
    let sent = app.fake.wait_for_calls("sendMessage", 3).await;
    assert!(sent[2].text().contains("#3"), "{}", sent[2].text());
    assert_eq!(sent[2].buttons(), vec!["claim:3"]);
    // The restarted bot still edits announcements posted before the restart.
    app.say(GROUP, BO, "/claim 1");
    let edits = app.fake.wait_for_calls("editMessageText", 1).await;
    assert_eq!(edits[0].body["message_id"], app.announcement_id(GROUP, 1));
}

#[tokio::test]
async fn changes_are_stamped_by_the_injected_clock() {
    let clock = linli::clock::Clock::manual(chrono::Utc::now() - chrono::TimeDelta::days(3));
    let at = clock.now();
    let app = TestApp::spawn_with_clock(clock.clone()).await;
    app.say(GROUP, ANN, "/need pickup 1-1");
    app.fake.wait_for_calls("sendMessage", 1).await;
    clock.advance(chrono::TimeDelta::minutes(90));
    app.press(GROUP, BO, app.announcement_id(GROUP, 1), "claim:1");
    app.fake.wait_for_calls("answerCallbackQuery", 1).await;
    app.fake.settle().await;
    let task = app.task(GROUP, 1).await;
    assert_eq!(task.claimed_at, Some(at + chrono::TimeDelta::minutes(90)));
    let events = app.ledger.events(task.id).await.unwrap();
    assert_eq!(events[1].at, at + chrono::TimeDelta::minutes(90));
}
