//! Private requests end to end (interface.md, *Private requests*): asked
//! step by step in a private chat, filed for the group without its flat,
//! details or requester, and given to the claimer alone.

use chrono::{TimeDelta, Utc};
use fake_telegram::{Call, BOT_USERNAME};
use linli::clock::Clock;
use linli::domain::Status;

use crate::helpers::*;

/// The bot's last message to `chat`.
fn last_to(app: &TestApp, chat: i64) -> Call {
    sent_to(app, chat)
        .pop()
        .unwrap_or_else(|| panic!("nothing sent to {chat}"))
}

/// `from` presses the button with `data` under the bot's latest message in
/// `chat` that has it; returns the query id.
async fn press(app: &TestApp, chat: i64, from: Resident, data: &str) -> String {
    let message = sent_to(app, chat)
        .into_iter()
        .rev()
        .find(|c| c.buttons().iter().any(|b| b == data))
        .unwrap_or_else(|| panic!("no button {data} in {chat}"));
    let id = app.press(chat, from, message.sent_message_id().unwrap(), data);
    app.fake.settle().await;
    id
}

/// Says `text` and waits until the bot is done answering.
async fn say(app: &TestApp, chat: i64, from: Resident, text: &str) {
    app.say(chat, from, text);
    app.fake.settle().await;
}

/// The answer to button press `query_id`.
fn answer_of(app: &TestApp, query_id: &str) -> Call {
    app.fake
        .calls_of("answerCallbackQuery")
        .into_iter()
        .find(|c| c.body["callback_query_id"] == query_id)
        .unwrap_or_else(|| panic!("press {query_id} not answered"))
}

/// Everything the bot said into `chat` (messages, edits), as shown.
fn group_texts(app: &TestApp, chat: i64) -> Vec<String> {
    app.fake
        .calls()
        .into_iter()
        .filter(|c| c.chat_id() == Some(chat) && c.method != "getChatMember")
        .map(|c| c.shown().to_string())
        .collect()
}

/// Ann files a private request for 3号楼201 in the group, with a photo,
/// entering from the group's `/need`; returns the task.
async fn ann_asks_privately(app: &TestApp) -> linli::ledger::TaskRecord {
    app.add_bot(GROUP, ANN);
    say(app, GROUP, ANN, "/need").await;
    let pointer = last_to(app, GROUP);
    let link = format!("https://t.me/{BOT_USERNAME}?start=ask_{GROUP}");
    assert_eq!(pointer.url_buttons(), [link], "{}", pointer.body);
    assert!(
        pointer.text().contains("private chat"),
        "{}",
        pointer.text()
    );
    // The link opens the private chat with `/start ask_<group>`.
    say(app, ANN.id, ANN, &format!("/start ask_{GROUP}")).await;
    let kinds = last_to(app, ANN.id);
    assert!(
        kinds.text().contains("What do you need"),
        "{}",
        kinds.text()
    );
    assert!(kinds.buttons().contains(&"kind:medicine".to_string()));
    let pressed = press(app, ANN.id, ANN, "kind:medicine").await;
    assert_eq!(answer_of(app, &pressed).body["show_alert"], false);
    assert!(last_to(app, ANN.id).text().contains("Which flat"));
    say(app, ANN.id, ANN, "3号楼 201").await;
    assert!(last_to(app, ANN.id)
        .buttons()
        .contains(&"skip:".to_string()));
    app.say_with_photo(ANN.id, ANN, "insulin, in the fridge door");
    app.fake.settle().await;
    let confirm = last_to(app, ANN.id);
    assert!(
        confirm.text().contains("3号楼201") && confirm.text().contains("with your photo"),
        "{}",
        confirm.text()
    );
    assert!(
        app.ledger.export(None).await.unwrap().is_empty(),
        "not filed before send"
    );
    press(app, ANN.id, ANN, "send:").await;
    let filed = last_to(app, ANN.id);
    assert!(
        filed.text().contains("Sent to Residents as #1"),
        "{}",
        filed.text()
    );
    let task = app.task(GROUP, 1).await;
    assert!(task.private);
    assert_eq!(
        (task.flat.as_str(), task.details.as_str()),
        ("3号楼201", "insulin, in the fridge door")
    );
    assert_eq!(
        task.media.as_ref().map(|m| m.file_id.as_str()),
        Some("AgAD")
    );
    task
}

/// No message into the group shows Ann's flat, details or name.
fn assert_group_never_saw_it(app: &TestApp) {
    for text in group_texts(app, GROUP) {
        for secret in ["3号楼201", "insulin", "Ann"] {
            assert!(!text.contains(secret), "the group saw {secret:?}: {text}");
        }
    }
}

#[tokio::test]
async fn a_private_request_reaches_only_its_claimer() {
    let app = TestApp::spawn().await;
    let task = ann_asks_privately(&app).await;
    let announcement = last_to(&app, GROUP);
    assert!(announcement.text().contains("#1") && announcement.text().contains("Medicine"));
    assert!(
        announcement.text().contains("volunteer who takes it"),
        "{}",
        announcement.text()
    );
    // Bo never started the bot: the claim stands, and its answer opens the
    // private chat, whose /start brings the details.
    let claim = press(&app, GROUP, BO, "claim:1").await;
    let answer = answer_of(&app, &claim);
    let link = format!("https://t.me/{BOT_USERNAME}?start=task_{}", task.id);
    assert_eq!(answer.body["url"], link.as_str(), "{}", answer.body);
    assert_eq!(app.task(GROUP, 1).await.state.status, Status::Claimed);
    assert!(sent_to(&app, BO.id).is_empty());
    // Cy, not the claimer, is refused the same link.
    say(&app, CY.id, CY, &format!("/start task_{}", task.id)).await;
    let refused = last_to(&app, CY.id);
    assert!(
        refused.shown().contains("Only the volunteer"),
        "{}",
        refused.shown()
    );
    assert!(!refused.shown().contains("3号楼201"));
    say(&app, BO.id, BO, &format!("/start task_{}", task.id)).await;
    let details = last_to(&app, BO.id);
    assert_eq!(details.method, "sendPhoto", "{}", details.body);
    assert_eq!(details.body["photo"], "AgAD");
    let caption = details.body["caption"].as_str().unwrap();
    for expected in [
        "3号楼201",
        "insulin, in the fridge door",
        "tg://user?id=101",
        "Ann",
    ] {
        assert!(caption.contains(expected), "{expected}: {caption}");
    }
    // Lists and later versions of the announcement stay as discreet.
    say(&app, GROUP, CY, "/open").await;
    assert!(last_to(&app, GROUP).text().contains("#1"));
    say(&app, GROUP, BO, "/mine").await;
    say(&app, GROUP, BO, "/done 1").await;
    say(&app, GROUP, CY, "/claim 1").await;
    assert!(app.fake.calls_of("editMessageText").len() >= 2);
    assert_group_never_saw_it(&app);
    let exported = app.ledger.export(None).await.unwrap();
    assert!(exported[0].private);
}

#[tokio::test]
async fn a_claimer_the_bot_can_write_to_gets_the_details_at_once() {
    let app = TestApp::spawn().await;
    ann_asks_privately(&app).await;
    // Bo wrote to the bot before: the details follow the claim by command.
    say(&app, BO.id, BO, "/mine").await;
    say(&app, GROUP, BO, "/claim 1").await;
    let reply = sent_to(&app, GROUP)
        .into_iter()
        .rev()
        .find(|c| c.text().contains("You are on #1"))
        .expect("the claim is answered");
    assert!(
        reply.text().contains("sent you the flat"),
        "{}",
        reply.text()
    );
    let details = last_to(&app, BO.id);
    assert!(details.shown().contains("3号楼201"), "{}", details.body);
    // Released and claimed by Cy, who never started the bot: a URL button.
    say(&app, GROUP, BO, "/release 1").await;
    say(&app, GROUP, CY, "/claim 1").await;
    let reply = last_to(&app, GROUP);
    assert!(
        reply.text().contains("Open a chat with me"),
        "{}",
        reply.text()
    );
    assert_eq!(reply.url_buttons().len(), 1);
    assert!(reply.url_buttons()[0].contains("?start=task_"));
    // Bo's old link no longer works for him.
    let task = app.task(GROUP, 1).await;
    say(&app, BO.id, BO, &format!("/start task_{}", task.id)).await;
    assert!(last_to(&app, BO.id).shown().contains("Only the volunteer"));
    assert_group_never_saw_it(&app);
}

#[tokio::test]
async fn a_claimer_who_blocked_the_bot_keeps_the_claim_and_the_group_goes_on() {
    let app = TestApp::spawn().await;
    ann_asks_privately(&app).await;
    say(&app, BO.id, BO, "/mine").await;
    app.fake.block(BO.id);
    let claim = press(&app, GROUP, BO, "claim:1").await;
    assert!(answer_of(&app, &claim).body["text"]
        .as_str()
        .unwrap()
        .contains("You are on #1"));
    assert_eq!(app.task(GROUP, 1).await.state.status, Status::Claimed);
    let refused = app
        .fake
        .calls_of("sendPhoto")
        .into_iter()
        .filter(|c| c.chat_id() == Some(BO.id) && c.answer["error_code"] == 403)
        .count();
    assert_eq!(refused, 1, "the details were tried once");
    // The 403 concerns Bo alone: the group still gets its messages.
    say(&app, GROUP, CY, "/need rubbish 7-7").await;
    assert!(last_to(&app, GROUP).text().contains("#2"));
    assert!(!app
        .ledger
        .reachable(linli::domain::UserId(BO.id))
        .await
        .unwrap());
    // The next claim by Bo answers with the link instead.
    let second = press(&app, GROUP, BO, "claim:2").await;
    assert!(
        answer_of(&app, &second).body["url"].is_null(),
        "a public task has no link"
    );
    assert_group_never_saw_it(&app);
}

#[tokio::test]
async fn writing_to_the_bot_begins_the_steps_typed_flat_abort_and_restart() {
    let mut app = TestApp::spawn().await;
    app.add_bot(GROUP, ANN);
    // Plain words in Chinese: the steps begin in Chinese, in the one group.
    say(&app, LI.id, LI, "你好，我想请人帮忙拿快递").await;
    let kinds = last_to(&app, LI.id);
    assert!(kinds.text().contains("需要什么帮助"), "{}", kinds.text());
    app.restart().await;
    press(&app, LI.id, LI, "kind:pickup").await;
    say(&app, LI.id, LI, "12 302 third floor").await;
    let twice = sent_to(&app, LI.id);
    assert!(
        twice[twice.len() - 2].text().contains("不要有空格"),
        "{:?}",
        twice.last().unwrap().text()
    );
    say(&app, LI.id, LI, "12-302").await;
    app.restart().await;
    // A photo where the flat was asked would have been out of turn; here
    // the details are asked, and the draft survived the restart.
    assert!(last_to(&app, LI.id).text().contains("跳过"));
    press(&app, LI.id, LI, "skip:").await;
    let confirm = last_to(&app, LI.id);
    assert!(confirm.text().contains("12-302"), "{}", confirm.text());
    press(&app, LI.id, LI, "abort:").await;
    assert!(last_to(&app, LI.id).text().contains("已放弃"));
    assert!(app.ledger.export(None).await.unwrap().is_empty());
    // The old buttons are stale now: said so, as an alert.
    let stale = press(&app, LI.id, LI, "send:").await;
    let answer = answer_of(&app, &stale);
    assert_eq!(answer.body["show_alert"], true);
    assert!(answer.body["text"].as_str().unwrap().contains("按钮已失效"));
    assert!(app.ledger.export(None).await.unwrap().is_empty());
    // The flat is offered next time.
    // "ok" typed instead of tapping Send sends it.
    say(&app, ANN.id, ANN, "/need pickup 5-501 at the gate").await;
    say(&app, ANN.id, ANN, "ok").await;
    assert!(last_to(&app, ANN.id)
        .text()
        .contains("Sent to Residents as #1"));
    // A kind typed instead of tapped is read as a /need is.
    say(&app, ANN.id, ANN, "/need").await;
    say(&app, ANN.id, ANN, "other").await;
    let flats = last_to(&app, ANN.id);
    assert!(
        flats.buttons().contains(&"flat:last".to_string()),
        "{}",
        flats.body
    );
    press(&app, ANN.id, ANN, "flat:last").await;
    press(&app, ANN.id, ANN, "skip:").await;
    press(&app, ANN.id, ANN, "send:").await;
    assert_eq!(app.task(GROUP, 2).await.flat, "5-501");
    assert!(app.task(GROUP, 1).await.private);
}

#[tokio::test]
async fn an_unfinished_request_is_dropped_after_a_day() {
    let clock = Clock::manual(Utc::now());
    let app = TestApp::spawn_with_clock(clock.clone()).await;
    app.add_bot(GROUP, ANN);
    say(&app, ANN.id, ANN, "/need medicine").await;
    assert!(last_to(&app, ANN.id).text().contains("Which flat"));
    clock.advance(TimeDelta::hours(23));
    say(&app, ANN.id, ANN, "12-302").await;
    assert!(last_to(&app, ANN.id)
        .text()
        .contains("Anything the volunteer"));
    clock.advance(TimeDelta::hours(25));
    // A day after the last answer, the words begin a new request.
    say(&app, ANN.id, ANN, "some details").await;
    assert!(last_to(&app, ANN.id).text().contains("What do you need"));
}

#[tokio::test]
async fn only_a_member_of_the_group_may_ask_in_it() {
    let app = TestApp::spawn().await;
    app.add_bot(GROUP, ANN);
    app.fake.set_status(GROUP, CY.id, "left");
    say(&app, CY.id, CY, &format!("/start ask_{GROUP}")).await;
    assert!(
        last_to(&app, CY.id).text().contains("not one"),
        "{}",
        last_to(&app, CY.id).text()
    );
    say(&app, CY.id, CY, "hello").await;
    assert!(last_to(&app, CY.id)
        .text()
        .contains("don't know a group of yours"));
    // Bo starts as a member, and has left when he sends.
    say(&app, BO.id, BO, "/need pickup 1-1").await;
    app.fake.set_status(GROUP, BO.id, "kicked");
    press(&app, BO.id, BO, "send:").await;
    assert!(last_to(&app, BO.id).text().contains("not one"));
    assert!(app.ledger.export(None).await.unwrap().is_empty());
    // Several groups: the person chooses.
    let other = GROUP - 1;
    app.add_bot(other, ANN);
    say(&app, ANN.id, ANN, "/start").await;
    let groups = last_to(&app, ANN.id);
    assert!(
        groups.buttons().contains(&format!("group:{other}")),
        "{}",
        groups.body
    );
    press(&app, ANN.id, ANN, &format!("group:{other}")).await;
    assert!(last_to(&app, ANN.id).text().contains("What do you need"));
}

#[tokio::test]
async fn a_chat_that_hides_flats_makes_every_request_private() {
    let app = TestApp::spawn().await;
    app.add_bot(GROUP, ANN);
    say(&app, GROUP, BO, "/settings hide_flats on").await;
    assert!(last_to(&app, GROUP).text().contains("Only a group admin"));
    app.fake.set_status(GROUP, ANN.id, "administrator");
    say(&app, GROUP, ANN, "/settings hide_flats on").await;
    let set = last_to(&app, GROUP);
    assert!(set.text().contains("every request here is private"));
    assert!(
        set.text().contains("may not delete messages"),
        "{}",
        set.text()
    );
    // The bot may delete messages: the /need that shows the flat goes.
    app.fake
        .set_status(GROUP, fake_telegram::BOT_ID, "administrator");
    let need = app.say(GROUP, ANN, "/need medicine 3号楼201 insulin");
    app.fake.settle().await;
    let deleted = app.fake.calls_of("deleteMessage");
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].body["message_id"], need);
    assert!(deleted[0].succeeded());
    let task = app.task(GROUP, 1).await;
    assert!(task.private && task.flat == "3号楼201");
    assert_group_never_saw_it(&app);
    // Without the right, the message stays and the task is private all the same.
    app.fake.set_status(GROUP, fake_telegram::BOT_ID, "member");
    say(&app, GROUP, ANN, "/need pickup 3号楼201 insulin").await;
    let deletes = app.fake.calls_of("deleteMessage");
    assert!(!deletes[1].succeeded(), "{deletes:?}");
    assert!(app.task(GROUP, 2).await.private);
    say(&app, GROUP, CY, "/open").await;
    assert_group_never_saw_it(&app);
    say(&app, GROUP, ANN, "/settings").await;
    assert!(last_to(&app, GROUP).text().contains("hide_flats: on"));
}

/// The real binary, killed with SIGKILL at each step of a private request
/// (at once, or a moment after the step's Update arrives), restarted each
/// time: the request is filed once, with what was answered, and no draft
/// is left.
#[tokio::test]
async fn a_private_request_survives_a_sigkill_at_every_step() {
    use fake_telegram::{callback_query, FakeTelegram};
    use serde_json::json;
    use std::time::Duration;

    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::new(&dir.path().join("linli.db"));
    let vars = environment(&fake, &db);
    let mut bot = run_bot(&vars);
    let kill_and_restart = |bot: &mut std::process::Child| {
        let _ = bot.kill();
        let _ = bot.wait();
        run_bot(&vars)
    };
    let bot_user = json!({"id": fake_telegram::BOT_ID, "is_bot": true, "first_name": "Linli", "username": BOT_USERNAME});
    fake.push_update(json!({"my_chat_member": {
        "chat": fake_telegram::chat_json(GROUP), "from": ANN.json(), "date": Utc::now().timestamp(),
        "old_chat_member": {"status": "left", "user": bot_user},
        "new_chat_member": {"status": "member", "user": bot_user}
    }}));
    // The prompt for each step, and what answers it.
    let say = |text: &str| {
        let id = fake.next_message_id(ANN.id);
        json!({"message": message(ANN.id, id, ANN.json(), text)})
    };
    let steps: [(&str, Option<serde_json::Value>, Option<&str>); 5] = [
        (
            "What do you need",
            Some(say(&format!("/start ask_{GROUP}"))),
            None,
        ),
        ("Which flat", None, Some("kind:medicine")),
        ("Anything the volunteer", Some(say("3号楼 201")), None),
        ("Please check", None, Some("skip:")),
        ("Sent to Residents as #1", None, Some("send:")),
    ];
    for (round, (expect, update, button)) in steps.into_iter().enumerate() {
        let update = update.unwrap_or_else(|| {
            let button = button.unwrap();
            let prompt = fake
                .calls_of("sendMessage")
                .into_iter().rfind(|c| c.chat_id() == Some(ANN.id) && c.buttons().iter().any(|b| b == button))
                .expect("the step's buttons were sent");
            let id = format!("q{round}");
            json!({"callback_query": callback_query(ANN.id, ANN.json(), prompt.sent_message_id().unwrap(), &id, button)})
        });
        fake.push_update(update);
        // Killed at once on even steps, a moment later on odd ones.
        tokio::time::sleep(Duration::from_millis(if round % 2 == 0 { 5 } else { 150 })).await;
        bot = kill_and_restart(&mut bot);
        fake.wait_for(expect, |calls| {
            calls
                .iter()
                .any(|c| c.chat_id() == Some(ANN.id) && c.text().contains(expect))
        })
        .await;
        bot = kill_and_restart(&mut bot);
    }
    fake.wait_for("the announcement", |calls| {
        calls
            .iter()
            .any(|c| c.chat_id() == Some(GROUP) && c.buttons().contains(&"claim:1".to_string()))
    })
    .await;
    let _ = bot.kill();
    let _ = bot.wait();
    let settings = linli::config::Settings::from_vars(&vars).unwrap();
    let ledger = linli::ledger::Ledger::connect(&settings.database)
        .await
        .unwrap();
    let tasks = ledger.export(None).await.unwrap();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert!(tasks[0].private && tasks[0].flat == "3号楼201" && tasks[0].details.is_empty());
    let drafts: i64 = linli::either!(ledger.readers(), p =>
        sqlx::query_scalar("SELECT COUNT(*) FROM drafts").fetch_one(p).await.unwrap());
    assert_eq!(drafts, 0);
}

#[tokio::test]
async fn a_voice_message_is_the_details_and_reaches_the_claimer_as_voice() {
    let app = TestApp::spawn().await;
    app.add_bot(GROUP, ANN);
    // A whole /need written privately: only the confirmation is left.
    say(&app, LI.id, LI, "/need 药 5栋 501").await;
    let confirm = last_to(&app, LI.id);
    assert!(
        confirm.text().contains("5栋501") && confirm.text().contains("点“📨 发送”发出"),
        "{}",
        confirm.text()
    );
    // A voice message there becomes the details.
    let id = app.fake.next_message_id(LI.id);
    let mut voice = message(LI.id, id, LI.json(), "");
    let fields = voice.as_object_mut().unwrap();
    fields.remove("text");
    fields.remove("entities");
    voice["voice"] = serde_json::json!({"file_id": "AwACAgIAAx", "file_unique_id": "v1", "duration": 4, "mime_type": "audio/ogg"});
    app.fake
        .push_update(serde_json::json!({ "message": voice }));
    app.fake.settle().await;
    assert!(
        last_to(&app, LI.id).text().contains("附语音"),
        "{}",
        last_to(&app, LI.id).text()
    );
    press(&app, LI.id, LI, "send:").await;
    let task = app.task(GROUP, 1).await;
    assert_eq!(
        task.media.as_ref().map(|m| m.file_id.as_str()),
        Some("AwACAgIAAx")
    );
    say(&app, BO.id, BO, "/mine").await;
    press(&app, GROUP, BO, "claim:1").await;
    let details = last_to(&app, BO.id);
    assert_eq!(details.method, "sendVoice", "{}", details.body);
    assert_eq!(details.body["voice"], "AwACAgIAAx");
    assert!(details.shown().contains("5栋501"));
    // A /need written as a photo's caption keeps the photo.
    app.say_with_photo(CY.id, CY, "/need pickup 8-808 the blue box");
    app.fake.settle().await;
    let confirm = last_to(&app, CY.id);
    assert!(
        confirm.text().contains("with your photo"),
        "{}",
        confirm.text()
    );
}

#[tokio::test]
async fn a_request_from_a_forum_topic_is_announced_there_and_long_details_fit_a_caption() {
    let app = TestApp::spawn().await;
    app.add_bot(GROUP, ANN);
    let id = app.fake.next_message_id(GROUP);
    let mut msg = message(GROUP, id, ANN.json(), "/need 药");
    msg["message_thread_id"] = serde_json::json!(77);
    msg["is_topic_message"] = serde_json::json!(true);
    msg["chat"]["is_forum"] = serde_json::json!(true);
    app.fake.push_update(serde_json::json!({ "message": msg }));
    app.fake.settle().await;
    let pointer = last_to(&app, GROUP);
    assert_eq!(pointer.body["message_thread_id"], 77);
    let link = pointer.url_buttons().pop().unwrap();
    assert!(
        link.ends_with(&format!("?start=ask_{GROUP}_t77_kmedicine")),
        "{link}"
    );
    // The kind came with the link: the flat is asked first.
    let payload = link.split("start=").nth(1).unwrap();
    say(&app, ANN.id, ANN, &format!("/start {payload}")).await;
    assert!(last_to(&app, ANN.id).text().contains("Which flat"));
    say(&app, ANN.id, ANN, "12-302").await;
    // 500 characters of emoji take 1000 UTF-16 units: the caption is cut to fit.
    app.say_with_photo(ANN.id, ANN, &"💊".repeat(500));
    app.fake.settle().await;
    press(&app, ANN.id, ANN, "send:").await;
    let announcement = last_to(&app, GROUP);
    assert!(announcement.buttons().contains(&"claim:1".to_string()));
    assert_eq!(
        announcement.body["message_thread_id"], 77,
        "{}",
        announcement.body
    );
    say(&app, BO.id, BO, "/mine").await;
    press(&app, GROUP, BO, "claim:1").await;
    let details = last_to(&app, BO.id);
    assert_eq!(details.method, "sendPhoto");
    let caption = details.body["caption"].as_str().unwrap();
    assert!(caption.contains("12-302") && caption.contains("tg://user?id=101"));
    assert!(caption.contains('…'));
}
