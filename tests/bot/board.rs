//! The board end to end (interface.md, *Busy groups*): `/board`, board mode
//! with its reactions, a board deleted by hand, a board the bot may not
//! pin, a board of 150 tasks, and the unclaimed reminder re-posting it.

use chrono::{TimeDelta, Utc};
use fake_telegram::{Call, BOT_ID};
use linli::clock::Clock;
use linli::domain::Status;

use crate::helpers::*;

/// The message that shows the group's board, as the ledger keeps it.
async fn board_id(app: &TestApp) -> Option<i64> {
    let timing = app.ledger.chat_timing(GROUP).await.expect("ledger read");
    timing.board.message_id.map(i64::from)
}

/// What the board shows now (its text as sent, HTML).
async fn board_text(app: &TestApp) -> String {
    let id = board_id(app).await.expect("a board is kept");
    app.fake.message_text(GROUP, id).unwrap_or_default()
}

/// Waits until the board shows `ready` (drawn at most every 3 seconds).
async fn board_shows(app: &TestApp, what: &str, ready: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(id) = board_id(app).await {
            let text = app.fake.message_text(GROUP, id).unwrap_or_default();
            if ready(&text) {
                return text;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the board never showed {what}: {:?}",
            match board_id(app).await {
                Some(id) => app.fake.message_text(GROUP, id),
                None => None,
            }
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Boards posted in the group (new messages with the board's title).
fn boards_posted(app: &TestApp) -> Vec<Call> {
    boards_in(&app.fake)
}

/// The calls that posted or edited board message `id`, oldest first.
fn board_calls(app: &TestApp, id: i64) -> Vec<Call> {
    app.fake
        .calls()
        .into_iter()
        .filter(|c| c.succeeded() && c.chat_id() == Some(GROUP))
        .filter(|c| match c.method.as_str() {
            "editMessageText" => c.body["message_id"] == id,
            "sendMessage" => c.sent_message_id() == Some(id),
            _ => false,
        })
        .collect()
}

/// Waits until `count` boards have been posted in the group.
async fn boards_reach(app: &TestApp, count: usize) {
    let fake = app.fake.clone();
    app.fake
        .wait_for(&format!("{count} boards posted"), move |_| {
            boards_in(&fake).len() >= count
        })
        .await;
}

/// Boards posted in the group, as the fake saw them.
fn boards_in(fake: &fake_telegram::FakeTelegram) -> Vec<Call> {
    fake.calls_of("sendMessage")
        .into_iter()
        .filter(|c| c.succeeded() && c.chat_id() == Some(GROUP) && c.text().contains("Help board"))
        .collect()
}

/// Asserts that no task got an announcement of its own (a message with a
/// `claim:` button), in any chat.
fn assert_no_announcement(app: &TestApp) {
    let announced: Vec<Call> = app
        .fake
        .calls_of("sendMessage")
        .into_iter()
        .filter(|c| c.buttons().iter().any(|b| b.starts_with("claim:")))
        .collect();
    assert!(announced.is_empty(), "announced: {announced:?}");
}

/// Reactions set on message `id` of the group.
fn reactions_on(app: &TestApp, id: i64) -> Vec<Call> {
    app.fake
        .calls_of("setMessageReaction")
        .into_iter()
        .filter(|c| c.chat_id() == Some(GROUP) && c.body["message_id"] == id)
        .collect()
}

/// A group whose admin Ann turned board mode on; the bot is an admin when
/// `bot_admin` (so it may pin and delete).
async fn board_mode(app: &TestApp, bot_admin: bool) {
    app.fake.set_status(GROUP, ANN.id, "administrator");
    if bot_admin {
        app.fake.set_status(GROUP, BOT_ID, "administrator");
    }
    app.say(GROUP, ANN, "/settings board on");
    app.fake.settle().await;
    board_shows(app, "the empty board", |t| t.contains("Help board")).await;
}

#[tokio::test]
async fn the_board_through_a_life_cycle_with_reactions_instead_of_replies() {
    let app = TestApp::spawn().await;
    board_mode(&app, true).await;
    let posted = boards_posted(&app);
    assert_eq!(posted.len(), 1, "board mode posts the board once");
    let board = board_id(&app).await.unwrap();
    assert_eq!(app.fake.pinned(GROUP), Some(board), "pinned where it may");
    let pin = &app.fake.calls_of("pinChatMessage")[0];
    assert_eq!(pin.body["disable_notification"], true, "pinned silently");
    let ask = &posted[0].url_buttons()[0];
    assert!(
        ask.starts_with(&format!(
            "https://t.me/{}?start=ask_",
            fake_telegram::BOT_USERNAME
        )),
        "{ask}"
    );
    let before = sent_to(&app, GROUP).len();

    let need = app.say(GROUP, CY, "/need pickup 12-302 parcel at the north gate");
    let shown = board_shows(&app, "#1", |t| t.contains("#1")).await;
    assert!(
        shown.contains("12-302") && shown.contains("waiting"),
        "{shown}"
    );
    assert!(!shown.contains("north gate"), "the board shows no details");
    assert_eq!(app.fake.message_buttons(GROUP, board).unwrap(), ["board:1"]);
    app.fake.settle().await;
    assert_eq!(
        reactions_on(&app, need).len(),
        1,
        "the request is acknowledged"
    );
    assert_eq!(
        reactions_on(&app, need)[0].body["reaction"][0]["emoji"],
        "👍"
    );

    // Bo claims from the board; his /done is acknowledged the same way.
    let query = app.press(GROUP, BO, board, "board:1");
    board_shows(&app, "Bo's claim", |t| t.contains("🚶 Bo")).await;
    app.fake
        .wait_for("the claim's answer", |calls| {
            calls.iter().any(|c| {
                c.method == "answerCallbackQuery" && c.body["callback_query_id"] == query.as_str()
            })
        })
        .await;
    assert_eq!(app.task(GROUP, 1).await.state.status, Status::Claimed);
    let done = app.say(GROUP, BO, "/done 1");
    board_shows(&app, "no live task", |t| !t.contains("#1")).await;
    app.fake.settle().await;
    assert_eq!(reactions_on(&app, done).len(), 1);
    assert_eq!(app.task(GROUP, 1).await.state.status, Status::Done);

    // A private request: on the board without its flat.
    app.say(GROUP, ANN, "/settings hide_flats on");
    app.fake.settle().await;
    app.say(GROUP, LI, "/need medicine 7-701 ibuprofen");
    let shown = board_shows(&app, "#2", |t| t.contains("#2")).await;
    assert!(
        !shown.contains("7-701") && !shown.contains("ibuprofen"),
        "{shown}"
    );
    assert!(shown.contains("#2</b> 💊 Medicine · 🔒"), "{shown}");
    assert!(shown.contains("only to the volunteer"), "{shown}");
    app.fake.settle().await;

    // Only the settings replies were new messages: no announcement, no reply.
    let new: Vec<String> = sent_to(&app, GROUP)[before..]
        .iter()
        .map(|c| c.text().to_string())
        .collect();
    assert_eq!(new.len(), 1, "only the hide_flats reply is new: {new:?}");
    assert_no_announcement(&app);

    // In board mode /board is acknowledged like any command.
    let again = app.say(GROUP, ANN, "/board");
    boards_reach(&app, 2).await;
    app.fake.settle().await;
    assert_eq!(reactions_on(&app, again).len(), 1);
    assert_eq!(replies_to(&app.fake, GROUP, again), 0);
}

#[tokio::test]
async fn refusals_are_still_replied_and_a_chat_without_reactions_has_the_board_alone() {
    let app = TestApp::spawn().await;
    board_mode(&app, true).await;
    app.say(GROUP, ANN, "/need pickup 3-201");
    app.say(GROUP, BO, "/claim 1");
    board_shows(&app, "Bo's claim", |t| t.contains("🚶 Bo")).await;
    let cy_claims = app.say(GROUP, CY, "/claim 1");
    let unknown = app.say(GROUP, CY, "/done 9");
    app.fake.settle().await;
    assert_eq!(
        replies_to(&app.fake, GROUP, cy_claims),
        1,
        "a refusal is replied"
    );
    assert_eq!(replies_to(&app.fake, GROUP, unknown), 1);
    assert!(
        reactions_on(&app, cy_claims).is_empty(),
        "a refusal gets no 👍"
    );

    // A chat that allows no reactions: the board's edit is the answer.
    app.fake.refuse_reactions();
    let release = app.say(GROUP, BO, "/release 1");
    board_shows(&app, "#1 waiting again", |t| {
        t.contains("waiting") && !t.contains("🚶")
    })
    .await;
    app.fake.settle().await;
    let refused = reactions_on(&app, release);
    assert_eq!(refused.len(), 1, "tried once, not retried: {refused:?}");
    assert!(!refused[0].succeeded());
    assert_eq!(replies_to(&app.fake, GROUP, release), 0, "no reply instead");
    assert_eq!(app.task(GROUP, 1).await.state.status, Status::Open);
}

#[tokio::test]
async fn a_board_deleted_by_hand_is_posted_anew_and_one_the_bot_may_not_pin_still_works() {
    let app = TestApp::spawn().await;
    // The bot is no admin: it cannot pin.
    board_mode(&app, false).await;
    let first = board_id(&app).await.unwrap();
    let pins = app.fake.calls_of("pinChatMessage");
    assert_eq!(pins.len(), 1);
    assert!(!pins[0].succeeded(), "Telegram refused the pin");
    assert_eq!(app.fake.pinned(GROUP), None);
    app.say(GROUP, ANN, "/need pickup 3-201");
    board_shows(&app, "#1", |t| t.contains("#1")).await;
    assert_eq!(board_id(&app).await, Some(first), "edited, not re-posted");

    // Someone deletes the board; the next change posts a new one.
    app.fake.delete_by_hand(GROUP, first);
    app.say(GROUP, ANN, "/need rubbish 3-202");
    let shown = board_shows(&app, "#2 on a new board", |t| t.contains("#2")).await;
    assert!(shown.contains("#1"), "{shown}");
    let second = board_id(&app).await.unwrap();
    assert_ne!(second, first);
    assert_eq!(boards_posted(&app).len(), 2);
    // Still no announcement of its own for either task.
    assert_no_announcement(&app);
}

#[tokio::test]
async fn board_by_command_reposts_it_and_only_admins_may() {
    let app = TestApp::spawn().await;
    app.fake.set_status(GROUP, ANN.id, "administrator");
    // Without board mode, /board posts a board beside the announcements.
    app.say(GROUP, ANN, "/need pickup 3-201");
    app.fake.settle().await;
    let announced = app.announcement_id(GROUP, 1);
    let refused = app.say(GROUP, BO, "/board");
    app.fake.settle().await;
    assert_eq!(replies_to(&app.fake, GROUP, refused), 1, "only admins");
    assert!(boards_posted(&app).is_empty());
    app.say(GROUP, ANN, "/board");
    board_shows(&app, "#1", |t| t.contains("#1")).await;
    let first = board_id(&app).await.unwrap();

    // A change edits both the announcement and the board.
    app.say(GROUP, BO, "/claim 1");
    board_shows(&app, "Bo's claim", |t| t.contains("🚶 Bo")).await;
    app.fake.settle().await;
    assert!(app
        .fake
        .calls_of("editMessageText")
        .iter()
        .any(|c| c.body["message_id"] == announced));

    // /board again: a new board at the bottom, the old one deleted.
    let again = app.say(GROUP, ANN, "/board");
    boards_reach(&app, 2).await;
    app.fake.settle().await;
    let second = board_id(&app).await.unwrap();
    assert_ne!(second, first);
    assert!(
        !app.fake.message_exists(GROUP, first),
        "the old board is gone"
    );
    assert!(board_text(&app).await.contains("🚶 Bo"));
    assert_eq!(
        replies_to(&app.fake, GROUP, again),
        0,
        "the board is the answer"
    );
    assert!(reactions_on(&app, again).is_empty(), "not in board mode");

    // Where the old board cannot be deleted, it says where the board went.
    app.fake.fail_next(
        "deleteMessage",
        400,
        serde_json::json!({"ok": false, "error_code": 400,
                           "description": "Bad Request: message can't be deleted"}),
    );
    app.say(GROUP, ANN, "/board");
    boards_reach(&app, 3).await;
    app.fake.settle().await;
    let third = board_id(&app).await.unwrap();
    assert_ne!(third, second);
    let old = app.fake.message_text(GROUP, second).unwrap();
    assert!(old.contains("out of date"), "{old}");
    assert_eq!(app.fake.message_buttons(GROUP, second).unwrap().len(), 0);
}

#[tokio::test]
async fn the_board_follows_the_group_into_its_supergroup() {
    let app = TestApp::spawn().await;
    board_mode(&app, true).await;
    app.say(GROUP, ANN, "/need pickup 3-201");
    board_shows(&app, "#1", |t| t.contains("#1")).await;
    app.fake.settle().await;
    let supergroup = -1_009_876_543_210;
    app.migrate(GROUP, supergroup);
    app.fake
        .wait_for("a board in the supergroup", |calls| {
            calls.iter().any(|c| {
                c.method == "sendMessage"
                    && c.succeeded()
                    && c.chat_id() == Some(supergroup)
                    && c.text().contains("#1")
            })
        })
        .await;
    app.fake.settle().await;
    let timing = app.ledger.chat_timing(supergroup).await.unwrap();
    assert!(timing.board.on, "board mode follows");
    let board = i64::from(timing.board.message_id.expect("the new board is kept"));
    assert!(app.fake.message_exists(supergroup, board));
    // A change there edits that board, and still no announcement.
    app.say(supergroup, BO, "/claim 1");
    app.fake
        .wait_for("the supergroup's board edited", |calls| {
            calls.iter().any(|c| {
                c.method == "editMessageText"
                    && c.succeeded()
                    && c.chat_id() == Some(supergroup)
                    && c.body["message_id"] == board
                    && c.text().contains("🚶 Bo")
            })
        })
        .await;
    assert_no_announcement(&app);
}

#[tokio::test]
async fn a_board_of_150_tasks_fits_one_message() {
    let app = TestApp::spawn().await;
    board_mode(&app, true).await;
    let asked = app.burst(GROUP, 150);
    let shown = board_shows(&app, "150 tasks", |t| t.contains("150 waiting")).await;
    assert!(shown.encode_utf16().count() <= 4096, "{}", shown.len());
    assert!(shown.contains("more"), "says how many more: {shown}");
    let board = board_id(&app).await.unwrap();
    let drawn = board_calls(&app, board);
    let last = drawn.last().unwrap();
    let all_buttons = last.buttons().len() + last.url_buttons().len();
    assert!(all_buttons <= 100, "{all_buttons} buttons");
    assert_eq!(last.url_buttons().len(), 1, "ask for help");
    assert!(last.buttons().iter().all(|b| b.starts_with("board:")));
    assert!(last.buttons().len() >= 50);
    // 150 changes folded into a few edits, at least 3 seconds apart.
    assert!(drawn.len() < 20, "{} drawings", drawn.len());
    app.fake.settle().await;
    for id in asked {
        assert_eq!(reactions_on(&app, id).len(), 1, "request {id} acknowledged");
    }
    assert_eq!(app.task(GROUP, 150).await.state.status, Status::Open);
    assert_eq!(boards_posted(&app).len(), 1, "edited, never re-posted");
}

#[tokio::test]
async fn in_board_mode_the_unclaimed_reminder_reposts_the_board() {
    let start = Utc::now();
    let clock = Clock::manual(start);
    let app = TestApp::spawn_configured(
        |vars| {
            vars.insert("LINLI_REMINDERS__UNCLAIMED_AFTER".into(), "30m".into());
        },
        clock.clone(),
    )
    .await;
    board_mode(&app, true).await;
    app.say(GROUP, ANN, "/need pickup 3-201");
    board_shows(&app, "#1", |t| t.contains("#1")).await;
    let first = board_id(&app).await.unwrap();
    clock.advance(TimeDelta::minutes(31));
    boards_reach(&app, 2).await;
    app.fake.settle().await;
    let second = board_id(&app).await.unwrap();
    assert_ne!(second, first);
    assert!(!app.fake.message_exists(GROUP, first));
    assert_eq!(app.fake.pinned(GROUP), Some(second));
    let posts = sent_to(&app, GROUP);
    assert!(
        posts
            .iter()
            .all(|c| c.text().contains("Help board") || c.text().contains("board: on")),
        "nothing but the boards and the setting's reply: {posts:?}"
    );
}

#[tokio::test]
async fn the_board_does_not_wait_behind_the_groups_paced_replies() {
    // Telegram's pace: one new message a second into a chat.
    let app = TestApp::spawn_with(|vars| {
        vars.insert("LINLI_TELEGRAM__PACING".into(), "true".into());
    })
    .await;
    board_mode(&app, true).await;
    // Eight refusals queue eight replies, paced over eight seconds.
    let refused: Vec<i64> = (0..8).map(|_| app.say(GROUP, CY, "/done 99")).collect();
    app.say(GROUP, ANN, "/need pickup 3-201");
    let started = std::time::Instant::now();
    board_shows(&app, "#1", |t| t.contains("#1")).await;
    let waited = started.elapsed();
    let replied = refused
        .iter()
        .filter(|id| replies_to(&app.fake, GROUP, **id) == 1)
        .count();
    assert!(
        waited < std::time::Duration::from_secs(5) && replied < 8,
        "the board waited {waited:?}, behind {replied} replies"
    );
    let fake = app.fake.clone();
    app.fake
        .wait_for("every refusal replied", |_| {
            refused.iter().all(|id| replies_to(&fake, GROUP, *id) == 1)
        })
        .await;
}

#[tokio::test]
async fn a_429_on_the_boards_edit_is_waited_out_and_a_removed_bot_gives_up_only_that_group() {
    let app = TestApp::spawn().await;
    board_mode(&app, true).await;
    app.say(GROUP, ANN, "/need pickup 3-201");
    board_shows(&app, "#1", |t| t.contains("#1")).await;
    app.fake.settle().await;
    app.fake.fail_next(
        "editMessageText",
        429,
        serde_json::json!({"ok": false, "error_code": 429,
                           "description": "Too Many Requests: retry after 1",
                           "parameters": {"retry_after": 1}}),
    );
    app.say(GROUP, ANN, "/need rubbish 3-202");
    board_shows(&app, "#2 after the pause", |t| t.contains("#2")).await;
    assert!(app
        .fake
        .calls_of("editMessageText")
        .iter()
        .any(|c| c.answer["error_code"] == 429));

    // The bot is removed from the group: its board is given up there, and
    // only there: another group's buttons are still answered.
    app.fake.fail_next(
        "editMessageText",
        403,
        serde_json::json!({"ok": false, "error_code": 403,
                           "description": "Forbidden: bot was kicked from the supergroup chat"}),
    );
    app.say(GROUP, ANN, "/need medicine 3-203");
    app.fake
        .wait_for("the refused edit", |calls| {
            calls
                .iter()
                .any(|c| c.method == "editMessageText" && c.answer["error_code"] == 403)
        })
        .await;
    app.fake.settle().await;
    let other = -1_005_555_555;
    app.say(other, ANN, "/need pickup 1-1");
    app.fake.settle().await;
    let query = app.press(other, BO, app.announcement_id(other, 1), "claim:1");
    app.fake
        .wait_for("the other group's button answered", |calls| {
            calls.iter().any(|c| {
                c.method == "answerCallbackQuery"
                    && c.succeeded()
                    && c.body["callback_query_id"] == query.as_str()
            })
        })
        .await;
    app.fake.settle().await;
    let refused_edits = app
        .fake
        .calls_of("editMessageText")
        .iter()
        .filter(|c| c.chat_id() == Some(GROUP) && c.answer["error_code"] == 403)
        .count();
    assert_eq!(refused_edits, 1, "given up, not retried");
    assert_eq!(app.task(other, 1).await.state.status, Status::Claimed);
    let mut tx = app.ledger.begin().await.unwrap();
    assert!(!tx.chat_active(GROUP).await.unwrap(), "that group is left");
    assert!(tx.chat_active(other).await.unwrap());
}
