//! Follow-through end to end (interface.md, *Follow-through*): the
//! requester's receipt, private notices, the timers (reminders, "still on
//! it?", auto-release, the digest) on a clock that moves only when the test
//! says so, per-chat settings with buttons, and what `/open` and `/mine`
//! show of time.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use fake_telegram::{Call, BOT_ID};
use linli::clock::Clock;
use linli::domain::Status;

use crate::helpers::*;

/// How long the processor may take to notice a timer that fell due (it
/// looks twice a second), with room for a loaded machine.
const NOTICED: Duration = Duration::from_millis(1500);

/// A bot on a manual clock starting at `start`, with extra settings.
async fn on_clock(start: DateTime<Utc>, settings: &[(&str, &str)]) -> (TestApp, Clock) {
    let clock = Clock::manual(start);
    let settings: Vec<(String, String)> = settings
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let app = TestApp::spawn_configured(|vars| vars.extend(settings), clock.clone()).await;
    (app, clock)
}

/// Ann asks, and Bo, who started the bot, claims #1 (no unclaimed
/// reminders to get in the way).
async fn bo_on_a_task() -> (TestApp, Clock) {
    let (app, clock) = on_clock(Utc::now(), &[("LINLI_REMINDERS__UNCLAIMED_AFTER", "off")]).await;
    starts_the_bot(&app, BO).await;
    app.say(GROUP, ANN, "/need pickup 12-302");
    app.say(GROUP, BO, "/claim 1");
    app.fake.settle().await;
    (app, clock)
}

/// `who` writes to the bot privately, so that it may write to them.
async fn starts_the_bot(app: &TestApp, who: Resident) {
    app.say(who.id, who, "/start");
    app.fake.settle().await;
}

/// Messages to `chat` whose text contains `needle`.
fn said_to(app: &TestApp, chat: i64, needle: &str) -> Vec<Call> {
    sent_to(app, chat)
        .into_iter()
        .filter(|c| c.text().contains(needle))
        .collect()
}

/// Waits until a message to `chat` contains `needle`; returns it.
async fn wait_said(app: &TestApp, chat: i64, needle: &str) -> Call {
    app.fake
        .wait_for(&format!("“{needle}” in {chat}"), |calls| {
            calls.iter().any(|c| {
                c.method == "sendMessage"
                    && c.succeeded()
                    && c.chat_id() == Some(chat)
                    && c.text().contains(needle)
            })
        })
        .await;
    said_to(app, chat, needle).pop().unwrap()
}

/// The newest edit of message `id` in `chat`.
fn last_edit(app: &TestApp, chat: i64, id: i64) -> Option<Call> {
    app.fake
        .calls_of("editMessageText")
        .into_iter()
        .rfind(|c| c.chat_id() == Some(chat) && c.body["message_id"] == id)
}

/// The answer given to button press `query_id`.
async fn answer_to(app: &TestApp, query_id: &str) -> Call {
    app.fake
        .wait_for(&format!("an answer to {query_id}"), |calls| {
            calls.iter().any(|c| {
                c.method == "answerCallbackQuery" && c.body["callback_query_id"] == query_id
            })
        })
        .await
        .into_iter()
        .rfind(|c| c.method == "answerCallbackQuery" && c.body["callback_query_id"] == query_id)
        .unwrap()
}

/// The task as `linli export --format json` shows it, by number.
fn exported(app: &TestApp, number: u64) -> serde_json::Value {
    let output = linli()
        .args(["export", "--format", "json"])
        .env("DATABASE_URL", &app.db.url)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let tasks: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    tasks
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["number"] == number)
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn the_requester_has_the_last_word_on_a_done_task() {
    let app = TestApp::spawn().await;
    app.say(GROUP, ANN, "/need medicine 12-302 insulin");
    app.fake.settle().await;
    let card = app.announcement_id(GROUP, 1);
    app.say(GROUP, BO, "/claim 1");
    app.say(GROUP, BO, "/done 1");
    app.fake.settle().await;
    let done = last_edit(&app, GROUP, card).unwrap();
    assert_eq!(done.buttons(), ["received:1", "missing:1"]);

    // Neither the volunteer nor a neighbour may answer for the requester.
    for who in [BO, CY] {
        let query = app.press(GROUP, who, card, "received:1");
        let refused = answer_to(&app, &query).await;
        assert_eq!(refused.body["show_alert"], true, "{refused:?}");
    }
    assert_eq!(app.task(GROUP, 1).await.received_at, None);

    // Not received: back with Bo, who never wrote to the bot, so he is
    // named in the group, under the announcement.
    let query = app.press(GROUP, ANN, card, "missing:1");
    answer_to(&app, &query).await;
    app.fake.settle().await;
    let task = app.task(GROUP, 1).await;
    assert_eq!(task.state.status, Status::Claimed);
    assert_eq!(task.state.claimer.map(|u| u.0), Some(BO.id));
    assert_eq!(task.done_at, None);
    let told = wait_said(&app, GROUP, &format!("tg://user?id={}", BO.id)).await;
    assert_eq!(told.body["reply_parameters"]["message_id"], card);
    assert_eq!(
        last_edit(&app, GROUP, card).unwrap().buttons(),
        ["claim:1", "done:1", "release:1"]
    );

    // Done again, and received: no buttons left, and the export says when.
    app.say(GROUP, BO, "/done 1");
    app.fake.settle().await;
    let query = app.press(GROUP, ANN, card, "received:1");
    assert_eq!(answer_to(&app, &query).await.body["show_alert"], false);
    app.fake.settle().await;
    let task = app.task(GROUP, 1).await;
    assert!(task.received_at.is_some());
    assert!(last_edit(&app, GROUP, card).unwrap().buttons().is_empty());
    assert_eq!(
        app.event_names(GROUP, 1).await,
        [
            "created",
            "claimed",
            "done",
            "not_received",
            "done",
            "received"
        ]
    );
    assert!(exported(&app, 1)["received_at"].is_string());
    let again = app.press(GROUP, ANN, card, "missing:1");
    assert_eq!(answer_to(&app, &again).await.body["show_alert"], true);
}

#[tokio::test]
async fn a_building_lead_confirms_for_a_household() {
    let app = TestApp::spawn().await;
    app.fake.set_status(GROUP, CY.id, "administrator");
    let bo_said = app.say(GROUP, BO, "hello");
    app.fake.settle().await;
    // Cy (admin) names Bo a lead, as a reply to Bo's message.
    let id = app.fake.next_message_id(GROUP);
    let mut lead = fake_telegram::message(GROUP, id, CY.json(), "/lead");
    lead["reply_to_message"] = fake_telegram::message(GROUP, bo_said, BO.json(), "hello");
    app.fake.push_update(serde_json::json!({"message": lead}));
    app.say(GROUP, ANN, "/need groceries 3-101 rice");
    app.fake.settle().await;
    app.say(GROUP, LI, "/claim 1");
    app.say(GROUP, LI, "/done 1");
    app.fake.settle().await;
    let card = app.announcement_id(GROUP, 1);
    let query = app.press(GROUP, BO, card, "received:1");
    assert_eq!(answer_to(&app, &query).await.body["show_alert"], false);
    app.fake.settle().await;
    assert!(app.task(GROUP, 1).await.received_at.is_some());
}

#[tokio::test]
async fn requester_and_claimer_are_told_privately_when_the_bot_may_write_to_them() {
    let app = TestApp::spawn().await;
    app.fake.set_status(GROUP, CY.id, "administrator");
    starts_the_bot(&app, ANN).await;
    starts_the_bot(&app, BO).await;
    app.say(GROUP, ANN, "/need pickup 12-302 parcel");
    app.fake.settle().await;
    app.say(GROUP, BO, "/claim 1");
    wait_said(&app, ANN.id, "was taken by Bo").await;

    // An admin releases it: Bo is told; claimed again and cancelled: told.
    app.say(GROUP, CY, "/release 1");
    app.fake.settle().await;
    assert_eq!(said_to(&app, BO.id, "released by an admin").len(), 1);
    app.say(GROUP, BO, "/claim 1");
    app.fake.settle().await;
    app.say(GROUP, ANN, "/cancel 1");
    app.fake.settle().await;
    assert_eq!(said_to(&app, BO.id, "was cancelled").len(), 1);

    // Done: the requester is asked privately, with the receipt buttons of
    // that task, which work from the private chat too.
    app.say(GROUP, ANN, "/need pickup 12-302 parcel");
    app.fake.settle().await;
    app.say(GROUP, BO, "/claim 2");
    app.say(GROUP, BO, "/done 2");
    app.fake.settle().await;
    let task = app.task(GROUP, 2).await;
    let asked = said_to(&app, ANN.id, "Was it done as you asked?")
        .pop()
        .unwrap();
    let received = format!("received:t{}", task.id);
    assert_eq!(
        asked.buttons(),
        [received.clone(), format!("missing:t{}", task.id)]
    );
    let query = app.press(ANN.id, ANN, asked.sent_message_id().unwrap(), &received);
    assert_eq!(answer_to(&app, &query).await.body["show_alert"], false);
    app.fake.settle().await;
    assert!(app.task(GROUP, 2).await.received_at.is_some());

    // Li never wrote to the bot: nothing is tried, and the claim stands.
    app.say(GROUP, LI, "/need rubbish 4-404");
    app.fake.settle().await;
    app.say(GROUP, BO, "/claim 3");
    app.fake.settle().await;
    assert!(app
        .fake
        .calls_of("sendMessage")
        .iter()
        .all(|c| c.chat_id() != Some(LI.id)));
    assert_eq!(app.task(GROUP, 3).await.state.status, Status::Claimed);
}

#[tokio::test]
async fn open_tasks_are_listed_once_per_interval_and_not_before() {
    let (app, clock) = on_clock(Utc::now(), &[]).await;
    app.say(GROUP, ANN, "/need pickup 12-302 parcel");
    app.fake.settle().await;
    let reminders = |app: &TestApp| said_to(app, GROUP, "⏰").len();
    clock.advance(TimeDelta::minutes(29));
    tokio::time::sleep(NOTICED).await;
    assert_eq!(reminders(&app), 0, "not before unclaimed_after");
    clock.advance(TimeDelta::minutes(2));
    let reminder = wait_said(&app, GROUP, "⏰").await;
    assert_eq!(reminder.buttons(), ["claim:1"]);
    tokio::time::sleep(NOTICED).await;
    assert_eq!(reminders(&app), 1, "once");
    clock.advance(TimeDelta::minutes(29));
    tokio::time::sleep(NOTICED).await;
    assert_eq!(reminders(&app), 1, "at most once per interval");
    clock.advance(TimeDelta::minutes(2));
    app.fake
        .wait_for("a second reminder", |_| reminders(&app) == 2)
        .await;
    // The reminder's button claims the task.
    let query = app.press(GROUP, BO, reminder.sent_message_id().unwrap(), "claim:1");
    answer_to(&app, &query).await;
    app.fake.settle().await;
    assert_eq!(app.task(GROUP, 1).await.state.status, Status::Claimed);
    clock.advance(TimeDelta::hours(2));
    tokio::time::sleep(NOTICED).await;
    assert_eq!(reminders(&app), 2, "nothing open, nothing listed");
}

#[tokio::test]
async fn an_unanswered_question_releases_the_task_and_keep_starts_the_time_again() {
    let (app, clock) = on_clock(Utc::now(), &[("LINLI_REMINDERS__UNCLAIMED_AFTER", "off")]).await;
    starts_the_bot(&app, BO).await;
    app.say(GROUP, ANN, "/need medicine 12-302 insulin");
    app.fake.settle().await;
    let card = app.announcement_id(GROUP, 1);
    app.say(GROUP, BO, "/claim 1");
    app.fake.settle().await;
    let task_id = app.task(GROUP, 1).await.id;
    let keep = format!("keep:t{task_id}");

    clock.advance(TimeDelta::minutes(179));
    tokio::time::sleep(NOTICED).await;
    assert!(
        said_to(&app, BO.id, "⏰").is_empty(),
        "not before check_claim_after"
    );
    clock.advance(TimeDelta::minutes(2));
    let question = wait_said(&app, BO.id, "⏰").await;
    assert_eq!(
        question.buttons(),
        [keep.clone(), format!("release:t{task_id}")]
    );

    // "Still on it": not released after auto_release_after; asked again
    // check_claim_after after the answer.
    let query = app.press(BO.id, BO, question.sent_message_id().unwrap(), &keep);
    assert_eq!(answer_to(&app, &query).await.body["show_alert"], false);
    app.fake.settle().await;
    clock.advance(TimeDelta::minutes(121));
    tokio::time::sleep(NOTICED).await;
    assert_eq!(app.task(GROUP, 1).await.state.status, Status::Claimed);
    assert_eq!(said_to(&app, BO.id, "⏰").len(), 1);
    clock.advance(TimeDelta::minutes(60));
    app.fake
        .wait_for("the question again", |_| {
            said_to(&app, BO.id, "⏰").len() == 2
        })
        .await;

    // No answer this time: released by the bot, the card open again, Bo told.
    clock.advance(TimeDelta::minutes(121));
    wait_said(&app, BO.id, "↩️").await;
    let task = app.task(GROUP, 1).await;
    assert_eq!(task.state.status, Status::Open);
    let events = app.ledger.events(task.id).await.unwrap();
    let released = events.last().unwrap();
    assert_eq!(
        (released.action.as_str(), released.actor_id),
        ("released", BOT_ID)
    );
    app.fake.settle().await;
    assert_eq!(last_edit(&app, GROUP, card).unwrap().buttons(), ["claim:1"]);
}

#[tokio::test]
async fn a_timer_does_nothing_once_its_task_moved_on() {
    let (app, clock) = on_clock(Utc::now(), &[]).await;
    starts_the_bot(&app, BO).await;
    app.say(GROUP, ANN, "/need pickup 12-302");
    app.say(GROUP, BO, "/claim 1");
    app.fake.settle().await;
    app.say(GROUP, BO, "/done 1");
    app.fake.settle().await;
    let before = app.fake.calls().len();
    clock.advance(TimeDelta::hours(6));
    tokio::time::sleep(NOTICED).await;
    app.fake.settle().await;
    let after: Vec<String> = app.fake.calls()[before..]
        .iter()
        .filter(|c| c.method != "getUpdates")
        .map(|c| format!("{} {}", c.method, c.body))
        .collect();
    // Only the digest may speak (it is not yet 20:00 everywhere).
    assert!(
        after.iter().all(|c| c.contains("🗓")),
        "a question or reminder about a done task: {after:?}"
    );
}

#[tokio::test]
async fn a_timer_set_before_a_restart_fires_once_after_it() {
    let (mut app, clock) = bo_on_a_task().await;
    clock.advance(TimeDelta::hours(1));
    app.restart().await;
    clock.advance(TimeDelta::minutes(121));
    wait_said(&app, BO.id, "⏰").await;
    app.restart().await;
    tokio::time::sleep(NOTICED).await;
    assert_eq!(said_to(&app, BO.id, "⏰").len(), 1);
}

#[tokio::test]
async fn downtime_over_many_periods_fires_each_timer_once() {
    let (mut app, clock) = on_clock(Utc::now(), &[]).await;
    app.say(GROUP, ANN, "/need pickup 12-302");
    app.fake.settle().await;
    app.stop().await;
    // Down for three days: ~144 reminder periods and three digests.
    clock.advance(TimeDelta::days(3));
    app.start_again().await;
    app.fake
        .wait_for("the reminder and the digest", |_| {
            !said_to(&app, GROUP, "⏰").is_empty() && !said_to(&app, GROUP, "🗓").is_empty()
        })
        .await;
    tokio::time::sleep(NOTICED).await;
    app.fake.settle().await;
    assert_eq!(said_to(&app, GROUP, "⏰").len(), 1);
    assert_eq!(said_to(&app, GROUP, "🗓").len(), 1);
}

#[tokio::test]
async fn the_digest_comes_at_local_time_across_a_dst_change() {
    // Berlin's clocks go forward on 28 March 2027: 20:00 there is 19:00
    // UTC on the Saturday and 18:00 UTC on the Sunday.
    let start: DateTime<Utc> = "2027-03-27T12:00:00Z".parse().unwrap();
    let (app, clock) = on_clock(
        start,
        &[
            ("LINLI_CHAT__TIME_ZONE", "Europe/Berlin"),
            ("LINLI_REMINDERS__UNCLAIMED_AFTER", "off"),
        ],
    )
    .await;
    app.say(GROUP, ANN, "/need pickup 12-302 parcel");
    app.fake.settle().await;
    let digests = |app: &TestApp| said_to(app, GROUP, "🗓").len();
    clock.advance(TimeDelta::minutes(6 * 60 + 59));
    tokio::time::sleep(NOTICED).await;
    assert_eq!(digests(&app), 0, "18:59 UTC is 19:59 in Berlin");
    clock.advance(TimeDelta::minutes(2));
    let digest = wait_said(&app, GROUP, "🗓").await;
    assert!(digest.text().contains("#1"), "{}", digest.text());
    // Sunday 17:59 UTC is 19:59 in summer time; 18:01 is past 20:00.
    clock.advance(TimeDelta::minutes(22 * 60 + 58));
    tokio::time::sleep(NOTICED).await;
    assert_eq!(digests(&app), 1);
    clock.advance(TimeDelta::minutes(2));
    app.fake
        .wait_for("Sunday's digest", |_| digests(&app) == 2)
        .await;
}

#[tokio::test]
async fn the_digest_thanks_helpers_and_names_households_ending_tomorrow() {
    let start: DateTime<Utc> = "2027-01-10T10:00:00Z".parse().unwrap();
    let (app, clock) = on_clock(start, &[("LINLI_REMINDERS__UNCLAIMED_AFTER", "off")]).await;
    app.fake.set_status(GROUP, CY.id, "administrator");
    app.say(GROUP, CY, "/household 9-901 until 2027-01-11 alone");
    app.say(GROUP, ANN, "/need pickup 12-302 parcel");
    app.say(GROUP, ANN, "/need rubbish 12-302");
    app.fake.settle().await;
    app.say(GROUP, BO, "/claim 1");
    app.say(GROUP, BO, "/done 1");
    app.fake.settle().await;
    // 20:00 in Shanghai is 12:00 UTC.
    clock.advance(TimeDelta::hours(2) + TimeDelta::minutes(1));
    let digest = wait_said(&app, GROUP, "🗓").await;
    let text = digest.text();
    for needle in ["#1", "Bo", "#2", "9-901"] {
        assert!(text.contains(needle), "{needle} missing from {text}");
    }
    assert!(
        !text.contains("alone"),
        "a household's note stays out: {text}"
    );
}

#[tokio::test]
async fn settings_show_buttons_and_only_an_admin_changes_them() {
    let app = TestApp::spawn().await;
    app.fake.set_status(GROUP, CY.id, "administrator");
    app.say(GROUP, ANN, "/settings");
    app.fake.settle().await;
    let panel = said_to(&app, GROUP, "unclaimed_after").pop().unwrap();
    let panel_id = panel.sent_message_id().unwrap();
    assert!(panel
        .buttons()
        .contains(&"set:unclaimed_after 1h".to_string()));
    let query = app.press(GROUP, ANN, panel_id, "set:unclaimed_after 1h");
    assert_eq!(answer_to(&app, &query).await.body["show_alert"], true);
    let query = app.press(GROUP, CY, panel_id, "set:unclaimed_after 1h");
    assert_eq!(answer_to(&app, &query).await.body["show_alert"], false);
    app.fake.settle().await;
    let edited = last_edit(&app, GROUP, panel_id).unwrap();
    assert!(
        edited.text().contains("unclaimed_after: 1h"),
        "{}",
        edited.text()
    );
    let timing = app.ledger.chat_timing(GROUP).await.unwrap();
    assert_eq!(timing.unclaimed_after, Some(Some(TimeDelta::hours(1))));

    app.say(GROUP, CY, "/settings digest_at 8:30");
    app.say(GROUP, CY, "/settings time_zone Europe/Berlin");
    app.say(GROUP, CY, "/settings check_claim_after off");
    let bad = app.say(GROUP, CY, "/settings time_zone Mars/Base");
    let not_admin = app.say(GROUP, ANN, "/settings digest_at off");
    app.fake.settle().await;
    let timing = app.ledger.chat_timing(GROUP).await.unwrap();
    assert_eq!(
        timing.digest_at,
        Some(chrono::NaiveTime::from_hms_opt(8, 30, 0))
    );
    assert_eq!(timing.time_zone, Some(chrono_tz::Europe::Berlin));
    assert_eq!(timing.check_claim_after, Some(None));
    for (id, needle) in [(bad, "Mars/Base"), (not_admin, "admin")] {
        let reply = sent_to(&app, GROUP)
            .into_iter()
            .find(|c| c.body["reply_parameters"]["message_id"] == id)
            .unwrap();
        assert!(reply.text().contains(needle), "{}", reply.text());
    }
}

#[tokio::test]
async fn open_shows_how_long_and_mine_lists_what_i_asked_for() {
    let (app, clock) = on_clock(Utc::now(), &[]).await;
    app.say(GROUP, ANN, "/need pickup 12-302 parcel");
    app.say(GROUP, ANN, "/need rubbish 12-302");
    app.fake.settle().await;
    app.say(GROUP, BO, "/claim 2");
    app.fake.settle().await;
    // Asked at the message's date (whole seconds of the wall clock),
    // claimed at the bot's clock: half a minute's room for both.
    clock.advance(TimeDelta::seconds(125 * 60 + 30));
    let asked = app.say(GROUP, CY, "/open");
    app.fake.settle().await;
    let open = sent_to(&app, GROUP)
        .into_iter()
        .find(|c| c.body["reply_parameters"]["message_id"] == asked)
        .unwrap();
    assert!(open.text().contains("waiting 2h 5m"), "{}", open.text());
    assert!(
        open.text().contains("Bo, claimed 2h 5m ago"),
        "{}",
        open.text()
    );

    app.say(ANN.id, ANN, "/mine");
    app.fake.settle().await;
    let mine = sent_to(&app, ANN.id).pop().unwrap();
    assert!(mine.text().contains("Asked by me"), "{}", mine.text());
    assert!(mine.text().contains("#1") && mine.text().contains("#2"));
}

/// The real binary, with waits in seconds: claim, question, no answer,
/// released by the bot, the card updated and the claimer told.
#[tokio::test]
async fn the_binary_releases_an_unanswered_claim() {
    let fake = fake_telegram::FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::new(&dir.path().join("linli.db"));
    let mut vars = environment(&fake, &db);
    vars.extend(
        [
            ("LINLI_REMINDERS__UNCLAIMED_AFTER", "off"),
            ("LINLI_REMINDERS__CHECK_CLAIM_AFTER", "2s"),
            ("LINLI_REMINDERS__AUTO_RELEASE_AFTER", "2s"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let mut bot = run_bot(&vars);
    let push = |chat: i64, who: Resident, text: &str| {
        let id = fake.next_message_id(chat);
        fake.push_update(
            serde_json::json!({"message": fake_telegram::message(chat, id, who.json(), text)}),
        );
    };
    push(BO.id, BO, "/start");
    push(GROUP, ANN, "/need medicine 12-302 insulin");
    fake.settle().await;
    push(GROUP, BO, "/claim 1");
    let said = |needle: &'static str| {
        move |calls: &[Call]| {
            calls.iter().any(|c| {
                c.method == "sendMessage" && c.chat_id() == Some(BO.id) && c.text().contains(needle)
            })
        }
    };
    fake.wait_for("the question", said("⏰")).await;
    fake.wait_for("the release notice", said("↩️")).await;
    fake.settle().await;
    let edits = fake.calls_of("editMessageText");
    let last = edits.last().unwrap();
    assert_eq!(last.buttons(), ["claim:1"]);
    let _ = bot.kill();
    let _ = bot.wait();
    let output = linli()
        .args(["export", "--format", "json"])
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    let tasks: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(tasks[0]["status"], "open");
    assert_eq!(tasks[0]["claimer_id"], serde_json::Value::Null);
}

/// A timer whose work keeps failing (here: its task's row cannot be read)
/// is tried again after a pause and given up after three attempts, keeping
/// its cause; the chat's other timers and Updates are not held up.
#[tokio::test]
async fn a_failing_timer_is_retried_then_given_up_and_holds_nothing_up() {
    let (app, clock) = bo_on_a_task().await;
    let task = app.task(GROUP, 1).await;
    // A second task whose kind the ledger cannot read, with a question due.
    linli::either!(app.ledger.writer(), p => {
        sqlx::query(
            "INSERT INTO tasks (chat_id, number, kind, flat, details, status, requester_id,
                                requester_name, claimer_id, claimer_name, lang,
                                source_message_id, created_at, claimed_at)
             SELECT chat_id, 2, 'taxi', flat, details, status, requester_id, requester_name,
                    claimer_id, claimer_name, lang, 0, created_at, claimed_at
             FROM tasks WHERE id = $1",
        )
        .bind(task.id)
        .execute(p)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO timers (kind, chat_id, task_id, claimer_id, due_at)
             SELECT 'check_claim', chat_id, id, claimer_id, $1 FROM tasks WHERE number = 2",
        )
        .bind(clock.now())
        .execute(p)
        .await
        .unwrap();
    });
    let state = || async {
        let row: (String, i64, Option<String>) = linli::either!(app.ledger.readers(), p =>
            sqlx::query_as(
                "SELECT state, attempts, error FROM timers WHERE kind = 'check_claim'
                 AND task_id <> $1",
            )
            .bind(task.id)
            .fetch_one(p)
            .await
            .unwrap());
        row
    };
    // Each retry waits longer (1 s, 2 s): the clock moves them along.
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if state().await.0 == "failed" {
            break;
        }
        clock.advance(TimeDelta::seconds(5));
    }
    let (given_up, attempts, error) = state().await;
    assert_eq!((given_up.as_str(), attempts), ("failed", 3));
    assert!(error.unwrap_or_default().contains("kind"));
    // The good task's question still comes, and a new request is answered.
    clock.advance(TimeDelta::hours(3));
    wait_said(&app, BO.id, "⏰").await;
    app.say(GROUP, ANN, "/need rubbish 12-302");
    app.fake.settle().await;
    assert!(app.announcement_id(GROUP, 3) > 0);
}

/// A claimer who blocked the bot after claiming is still asked "still on
/// it?": Telegram's 403 sends the question to the group, naming them.
#[tokio::test]
async fn a_claimer_who_blocked_the_bot_is_asked_in_the_group() {
    let (app, clock) = bo_on_a_task().await;
    let task_id = app.task(GROUP, 1).await.id;
    app.fake.block(BO.id);
    clock.advance(TimeDelta::minutes(181));
    let asked = wait_said(&app, GROUP, &format!("tg://user?id={}", BO.id)).await;
    assert!(asked.text().contains("⏰"), "{}", asked.text());
    assert_eq!(
        asked.buttons(),
        [format!("keep:t{task_id}"), format!("release:t{task_id}")]
    );
    // Bo answers there.
    let query = app.press(
        GROUP,
        BO,
        asked.sent_message_id().unwrap(),
        &format!("keep:t{task_id}"),
    );
    assert_eq!(answer_to(&app, &query).await.body["show_alert"], false);
    // Someone else's press is refused.
    let query = app.press(
        GROUP,
        CY,
        asked.sent_message_id().unwrap(),
        &format!("keep:t{task_id}"),
    );
    assert_eq!(answer_to(&app, &query).await.body["show_alert"], true);
}

/// A claim from before reminders existed (no timer at all, as after the
/// upgrade) is watched from the first start on.
#[tokio::test]
async fn claims_from_before_reminders_are_asked_about_after_the_upgrade() {
    let (mut app, clock) = bo_on_a_task().await;
    app.stop().await;
    linli::either!(app.ledger.writer(), p => sqlx::query("DELETE FROM timers")
        .execute(p)
        .await
        .map(drop)
        .unwrap());
    app.start_again().await;
    app.fake.settle().await;
    clock.advance(TimeDelta::minutes(181));
    wait_said(&app, BO.id, "⏰").await;
}
