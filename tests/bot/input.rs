//! Input as residents really type it, and the faults found when the bot
//! was tried as they would (issue 8): each test drives the bot through the
//! fake Bot API and checks the calls it made and the ledger's rows.

use serde_json::{json, Value};

use crate::helpers::{message, Resident, TestApp, ANN, BO, CY, GROUP, LI};
use fake_telegram::{chat_json, Call};

/// Sends `text` as `from` in `chat` and returns the texts of the bot's
/// messages answering it (a long answer comes in several).
async fn replies(app: &TestApp, chat: i64, from: Resident, text: &str) -> Vec<String> {
    let id = app.say(chat, from, text);
    app.fake.settle().await;
    answers_to(app, chat, id)
}

/// The texts of the bot's messages in `chat` that answer message `id`, and
/// those that follow them without answering anything (a list's later parts).
fn answers_to(app: &TestApp, chat: i64, id: i64) -> Vec<String> {
    let sent: Vec<Call> = app
        .fake
        .calls_of("sendMessage")
        .into_iter()
        .filter(|c| c.chat_id() == Some(chat))
        .collect();
    let Some(first) = sent
        .iter()
        .position(|c| c.body["reply_parameters"]["message_id"] == id)
    else {
        return Vec::new();
    };
    let mut texts = vec![sent[first].text().to_string()];
    texts.extend(
        sent[first + 1..]
            .iter()
            .take_while(|c| c.body.get("reply_parameters").is_none() && c.buttons().is_empty())
            .map(|c| c.text().to_string()),
    );
    assert!(
        sent[first..first + texts.len()].iter().all(Call::succeeded),
        "Telegram refused a reply: {:?}",
        sent.iter().map(|c| &c.answer).collect::<Vec<_>>()
    );
    texts
}

/// A resident whose Telegram name is as long as Telegram allows.
const LONG_NAMED: Resident = Resident {
    id: 201,
    first_name: "Wenceslas-Maximilian Alexandrovich Bartholomew-Featherstonehaugh",
    language: "en",
};

#[tokio::test]
async fn long_lists_are_split_and_every_task_is_in_them() {
    const TASKS: u32 = 40;
    let app = TestApp::spawn_with(|vars| {
        vars.insert("LINLI_CHAT__LIST_LIMIT".into(), "100".into());
    })
    .await;
    for i in 1..=TASKS {
        let flat = format!("{i:02}{}", "楼号房".repeat(10));
        let details = format!("{i} {}", "门口的快递 please ".repeat(35));
        app.say(GROUP, ANN, &format!("/need pickup {flat} {details}"));
    }
    app.fake.wait_for_calls("sendMessage", TASKS as usize).await;
    for i in 1..=TASKS {
        app.say(GROUP, LONG_NAMED, &format!("/claim {i}"));
    }
    app.fake.settle().await;
    for (chat, command) in [(GROUP, "/open"), (GROUP, "/mine"), (LONG_NAMED.id, "/mine")] {
        let texts = replies(&app, chat, LONG_NAMED, command).await;
        assert!(texts.len() > 1, "{command} fits one message? {texts:?}");
        let all = texts.join("\n");
        for i in 1..=TASKS {
            assert!(all.contains(&format!("#{i} ")), "{command} lists #{i}");
        }
    }
}

#[tokio::test]
async fn a_list_cut_at_the_limit_says_how_many_more_there_are() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("LINLI_CHAT__LIST_LIMIT".into(), "2".into());
    })
    .await;
    for i in 1..=5 {
        app.say(GROUP, ANN, &format!("/need pickup {i}-1"));
    }
    app.fake.wait_for_calls("sendMessage", 5).await;
    let texts = replies(&app, GROUP, BO, "/open").await;
    assert!(
        texts[0].contains("#2") && !texts[0].contains("#3"),
        "{texts:?}"
    );
    assert!(texts[0].contains("3 more"), "{texts:?}");
}

/// The inline keyboard of the bot's latest message or edit of message `id`.
fn keyboard_of(app: &TestApp, chat: i64, id: i64) -> Vec<Vec<String>> {
    let call = app
        .fake
        .calls()
        .into_iter()
        .rfind(|c| {
            c.chat_id() == Some(chat)
                && (c.body["message_id"] == id || c.sent_message_id() == Some(id))
        })
        .expect("the message");
    call.body["reply_markup"]["inline_keyboard"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|row| {
                    row.as_array()
                        .unwrap()
                        .iter()
                        .map(|b| b["callback_data"].as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_double_tap_on_claim_leaves_the_task_claimed() {
    let app = TestApp::spawn().await;
    app.say(GROUP, ANN, "/need pickup 1-1");
    app.fake.wait_for_calls("sendMessage", 1).await;
    let id = app.announcement_id(GROUP, 1);
    let first_spot = keyboard_of(&app, GROUP, id)[0][0].clone();
    app.press(GROUP, BO, id, &first_spot);
    app.fake.wait_for_calls("editMessageText", 1).await;
    // The second tap lands on whatever is now where the claim button was.
    let under_finger = keyboard_of(&app, GROUP, id)[0][0].clone();
    app.press(GROUP, BO, id, &under_finger);
    let answers = app.fake.wait_for_calls("answerCallbackQuery", 2).await;
    app.fake.settle().await;
    let task = app.task(GROUP, 1).await;
    assert_eq!(task.state.status, linli::domain::Status::Claimed);
    assert_eq!(task.state.claimer.map(|u| u.0), Some(BO.id));
    assert_eq!(app.event_names(GROUP, 1).await, ["created", "claimed"]);
    assert_ne!(
        answers[1].body["show_alert"], true,
        "no alarm for a double tap"
    );
    assert!(answers[1].body["text"]
        .as_str()
        .unwrap()
        .contains("already claimed #1"));
    // The buttons that finish or give up the task are still there, apart.
    let keyboard = keyboard_of(&app, GROUP, id);
    assert_eq!(keyboard[1], ["done:1", "release:1"]);
}

#[tokio::test]
async fn a_promotion_counts_from_the_next_action() {
    let app = TestApp::spawn().await;
    app.say(GROUP, ANN, "/need pickup 1-1");
    app.say(GROUP, BO, "/claim 1");
    app.fake.wait_for_calls("sendMessage", 2).await;
    let refused = replies(&app, GROUP, CY, "/done 1").await;
    assert!(refused[0].contains("Only Bo"), "{refused:?}");
    app.fake.set_status(GROUP, CY.id, "administrator");
    let done = replies(&app, GROUP, CY, "/done 1").await;
    assert!(done[0].contains("#1 is done"), "{done:?}");
    assert_eq!(app.fake.calls_of("getChatMember").len(), 2);
    assert_eq!(
        app.task(GROUP, 1).await.state.status,
        linli::domain::Status::Done
    );
    // And a demotion from the next action on, too.
    app.say(GROUP, ANN, "/need pickup 2-2");
    app.say(GROUP, BO, "/claim 2");
    app.fake.settle().await;
    app.fake.set_status(GROUP, CY.id, "member");
    let refused = replies(&app, GROUP, CY, "/release 2").await;
    assert!(refused[0].contains("Only Bo"), "{refused:?}");
}

#[tokio::test]
async fn mine_in_private_shows_the_groups_current_title() {
    let app = TestApp::spawn().await;
    app.say(GROUP, ANN, "/need pickup 1-1");
    app.say(GROUP, BO, "/claim 1");
    app.fake.wait_for_calls("sendMessage", 2).await;
    let mine = replies(&app, BO.id, BO, "/mine").await;
    assert!(mine[0].contains("Residents"), "{mine:?}");
    // Renamed: Telegram tells the bot with a service message.
    let id = app.fake.next_message_id(GROUP);
    let mut renamed = message(GROUP, id, ANN.json(), "");
    renamed.as_object_mut().unwrap().remove("text");
    renamed.as_object_mut().unwrap().remove("entities");
    renamed["new_chat_title"] = json!("Block 3 neighbours");
    renamed["chat"]["title"] = json!("Block 3 neighbours");
    app.fake.push_update(json!({"message": renamed}));
    let mine = replies(&app, BO.id, BO, "/mine").await;
    assert!(mine[0].contains("Block 3 neighbours"), "{mine:?}");
    // Renamed again, the service message missed: a command shows the title.
    let id = app.fake.next_message_id(GROUP);
    let mut open = message(GROUP, id, CY.json(), "/open");
    open["chat"]["title"] = json!("3号楼邻里");
    app.fake.push_update(json!({"message": open}));
    let mine = replies(&app, BO.id, BO, "/mine").await;
    assert!(mine[0].contains("3号楼邻里"), "{mine:?}");
}

#[tokio::test]
async fn a_forwarded_request_is_not_a_new_one() {
    let app = TestApp::spawn().await;
    app.say(GROUP, ANN, "/need pickup 1-1 parcel");
    app.fake.wait_for_calls("sendMessage", 1).await;
    let id = app.fake.next_message_id(GROUP);
    let mut forwarded = message(GROUP, id, BO.json(), "/need pickup 1-1 parcel");
    forwarded["forward_origin"] = json!({"type": "user", "date": chrono::Utc::now().timestamp() - 60, "sender_user": ANN.json()});
    app.fake.push_update(json!({"message": forwarded}));
    let id = app.fake.next_message_id(GROUP);
    let mut forwarded = message(GROUP, id, BO.json(), "/claim 1");
    forwarded["forward_origin"] = json!({"type": "hidden_user", "date": chrono::Utc::now().timestamp() - 60, "sender_user_name": "Ann"});
    app.fake.push_update(json!({"message": forwarded}));
    app.fake.settle().await;
    assert_eq!(app.ledger.export(None).await.unwrap().len(), 1);
    assert_eq!(app.fake.calls_of("sendMessage").len(), 1);
    assert_eq!(app.event_names(GROUP, 1).await, ["created"]);
}

#[tokio::test]
async fn a_request_keeps_the_time_it_was_sent() {
    let app = TestApp::spawn().await;
    let sent_at = chrono::Utc::now() - chrono::Duration::hours(2);
    let id = app.fake.next_message_id(GROUP);
    let mut late = message(GROUP, id, ANN.json(), "/need pickup 1-1");
    late["date"] = json!(sent_at.timestamp());
    app.fake.push_update(json!({"message": late}));
    app.fake.wait_for_calls("sendMessage", 1).await;
    let task = app.task(GROUP, 1).await;
    assert_eq!(task.created_at.timestamp(), sent_at.timestamp());
    let shown = sent_at
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%H:%M")
        .to_string();
    let open = replies(&app, GROUP, BO, "/open").await;
    assert!(open[0].contains(&shown), "{shown} in {open:?}");
}

#[tokio::test]
async fn after_a_migration_no_supergroup_message_is_edited_by_an_old_id() {
    let app = TestApp::spawn().await;
    let old = -4_000_000_002;
    let new = -1_009_999_999_998;
    app.say(old, ANN, "/need pickup 1-1");
    app.say(old, ANN, "/need food 2-2");
    app.say(old, BO, "/claim 2");
    app.fake.settle().await;
    let old_ids = [app.announcement_id(old, 1), app.announcement_id(old, 2)];
    app.migrate(old, new);
    app.fake.settle().await;
    // The live tasks are posted anew in the supergroup.
    let posted: Vec<Call> = app
        .fake
        .calls_of("sendMessage")
        .into_iter()
        .filter(|c| c.chat_id() == Some(new) && c.succeeded())
        .collect();
    assert_eq!(posted.len(), 2, "{posted:?}");
    assert!(posted
        .iter()
        .all(|c| c.body.get("reply_parameters").is_none()));
    // Residents talk in the supergroup, whose ids start again from 1.
    app.say(new, CY, "/open");
    app.say(new, BO, "/done 2");
    app.say(new, CY, "/claim 1");
    app.fake.settle().await;
    let mut new_ids = Vec::new();
    for n in [1, 2] {
        let task = app.task(new, n).await;
        new_ids.push(i64::from(
            task.announcement_message_id.expect("announced anew"),
        ));
    }
    let posted_ids: Vec<i64> = posted.iter().filter_map(Call::sent_message_id).collect();
    assert!(
        new_ids.iter().all(|id| posted_ids.contains(id)),
        "{new_ids:?} {posted_ids:?}"
    );
    for edit in app.fake.calls_of("editMessageText") {
        if edit.chat_id() == Some(new) {
            let id = edit.body["message_id"].as_i64().unwrap();
            assert!(
                new_ids.contains(&id),
                "edited message {id} of the supergroup"
            );
        }
    }
    assert!(app
        .fake
        .calls_of("editMessageText")
        .iter()
        .any(|c| c.chat_id() == Some(new) && c.text().contains("Cy is on it")));
    assert!(app
        .fake
        .calls_of("editMessageText")
        .iter()
        .all(|c| c.chat_id() != Some(new)
            || !old_ids.contains(&c.body["message_id"].as_i64().unwrap())
            || new_ids.contains(&c.body["message_id"].as_i64().unwrap())));
}

#[tokio::test]
async fn what_a_chinese_input_method_sends_files_a_request() {
    let app = TestApp::spawn().await;
    for text in [
        "／need 取快递 3号楼201",
        "/need 快递，3号楼201",
        "/need 拿快递 1-1",
        "/need 扔垃圾 1-1",
        "/need 买东西 1-1",
        "/need 药品 1-1",
        "/need 買藥 1-1",
        "/need 药 3号楼 201 降压药",
    ] {
        let id = app.fake.next_message_id(GROUP);
        let mut msg = message(GROUP, id, LI.json(), text);
        if text.starts_with('／') {
            // Telegram does not mark it as a command.
            msg.as_object_mut().unwrap().remove("entities");
        }
        app.fake.push_update(json!({"message": msg}));
    }
    app.fake.wait_for_calls("sendMessage", 8).await;
    app.fake.settle().await;
    let tasks = app.ledger.export(None).await.unwrap();
    let filed: Vec<(&str, &str, &str)> = tasks
        .iter()
        .map(|t| (t.kind.as_str(), t.flat.as_str(), t.details.as_str()))
        .collect();
    assert_eq!(
        filed,
        [
            ("pickup", "3号楼201", ""),
            ("pickup", "3号楼201", ""),
            ("pickup", "1-1", ""),
            ("rubbish", "1-1", ""),
            ("groceries", "1-1", ""),
            ("medicine", "1-1", ""),
            ("medicine", "1-1", ""),
            ("medicine", "3号楼201", "降压药"),
        ]
    );
    let claimed = replies(&app, GROUP, LI, "/claim ＃３　４").await;
    assert!(
        claimed[0].contains("#3") && claimed[0].contains("#4"),
        "{claimed:?}"
    );
    assert_eq!(
        app.task(GROUP, 4).await.state.claimer.map(|u| u.0),
        Some(LI.id)
    );
}

#[tokio::test]
async fn a_private_chat_says_where_to_go_and_files_nothing() {
    let app = TestApp::spawn().await;
    let private = BO.id;
    let need = replies(&app, private, BO, "/need 快递 3号楼201").await;
    assert!(need[0].contains("group"), "{need:?}");
    let claim = replies(&app, private, BO, "/claim 2").await;
    assert!(
        claim[0].contains("group") && !claim[0].contains("no task"),
        "{claim:?}"
    );
    let chat = replies(&app, LI.id, LI, "你好，我想请人帮忙拿快递").await;
    assert!(chat[0].contains("群"), "{chat:?}");
    let mine = replies(&app, private, BO, "/mine").await;
    assert!(mine[0].contains("no claimed tasks"), "{mine:?}");
    assert!(app.ledger.export(None).await.unwrap().is_empty());
    // Once Bo helps in a group, a group command in private names it.
    app.say(GROUP, ANN, "/need pickup 1-1");
    app.say(GROUP, BO, "/claim 1");
    app.fake.settle().await;
    let done = replies(&app, private, BO, "/done 1").await;
    assert!(
        done[0].contains("Your groups with linli: Residents"),
        "{done:?}"
    );
    assert_eq!(
        app.task(GROUP, 1).await.state.status,
        linli::domain::Status::Claimed
    );
}

#[tokio::test]
async fn refusals_never_read_like_success() {
    let app = TestApp::spawn().await;
    app.say(GROUP, ANN, "/need pickup 1-1");
    app.say(GROUP, BO, "/claim 1");
    app.say(GROUP, BO, "/done 1");
    app.say(GROUP, ANN, "/need pickup 2-2");
    app.say(GROUP, ANN, "/cancel 2");
    app.fake.wait_for_calls("sendMessage", 5).await;
    let again = replies(&app, GROUP, BO, "/done 1 left at the door").await;
    assert!(
        again[0].contains("already done") && again[0].contains("note was not saved"),
        "{again:?}"
    );
    assert_eq!(app.task(GROUP, 1).await.done_note, None);
    let cancel = replies(&app, GROUP, ANN, "/cancel 2").await;
    assert!(cancel[0].contains("already cancelled"), "{cancel:?}");
    let success_zh = "🚫 #2 已取消。";
    let cancel_zh = replies(&app, GROUP, LI, "/cancel 2").await;
    assert!(cancel_zh[0].contains("已经取消"), "{cancel_zh:?}");
    assert!(!cancel_zh[0].contains(success_zh), "{cancel_zh:?}");
    // A word quoted back is cut, so the refusal still reaches the sender.
    let long = replies(&app, GROUP, ANN, &format!("/need {}", "x".repeat(4090))).await;
    assert!(long[0].contains("I don't know the kind"), "{long:?}");
    let long = replies(&app, GROUP, ANN, &format!("/claim #{}", "9".repeat(4090))).await;
    assert!(long[0].contains("is not a task number"), "{long:?}");
    // Chinese: an edit refused on a claimed task says its state once.
    let id = app.say(GROUP, LI, "/need 药 5-5");
    app.say(GROUP, BO, "/claim 3");
    app.fake.settle().await;
    app.edit(GROUP, LI, id, "/need 药 5-6");
    let answers_the_edit = |c: &Call| {
        c.method == "sendMessage"
            && c.body["reply_parameters"]["message_id"] == id
            && c.buttons().is_empty()
    };
    let refusal = app
        .fake
        .wait_for("the edit's answer", |calls| {
            calls.iter().any(answers_the_edit)
        })
        .await
        .into_iter()
        .rfind(answers_the_edit)
        .expect("the edit is answered");
    let refusal = refusal.text();
    assert!(
        refusal.contains("已认领") && !refusal.contains("已已"),
        "{refusal}"
    );
    assert_eq!(app.task(GROUP, 3).await.flat, "5-5");
}

#[tokio::test]
async fn several_numbers_or_a_reply_name_the_tasks() {
    let app = TestApp::spawn().await;
    for i in 1..=4 {
        app.say(GROUP, ANN, &format!("/need pickup {i}-1"));
    }
    app.fake.wait_for_calls("sendMessage", 4).await;
    let claimed = replies(&app, GROUP, BO, "/claim 3 4").await;
    assert_eq!(claimed.len(), 1, "one reply for both");
    assert!(
        claimed[0].contains("#3") && claimed[0].contains("#4"),
        "{claimed:?}"
    );
    for n in [3, 4] {
        assert_eq!(
            app.task(GROUP, n).await.state.claimer.map(|u| u.0),
            Some(BO.id)
        );
    }
    // A bare /done sent as a reply to #3's announcement finishes #3.
    let announcement = app.announcement_id(GROUP, 3);
    let id = app.fake.next_message_id(GROUP);
    let mut done = message(GROUP, id, BO.json(), "/done left at the door");
    done["reply_to_message"] = json!({
        "message_id": announcement, "date": chrono::Utc::now().timestamp(),
        "chat": chat_json(GROUP), "from": {"id": fake_telegram::BOT_ID, "is_bot": true, "first_name": "Linli"},
        "text": "#3"
    });
    app.fake.push_update(json!({"message": done}));
    app.fake.settle().await;
    let task = app.task(GROUP, 3).await;
    assert_eq!(task.state.status, linli::domain::Status::Done);
    assert_eq!(task.done_note.as_deref(), Some("left at the door"));
    assert!(answers_to(&app, GROUP, id)[0].contains("#3 is done"));
    // Without a reply or a number, the sender is told how to name one.
    let bare = replies(&app, GROUP, BO, "/claim").await;
    assert!(bare[0].contains("as a reply"), "{bare:?}");
}

#[tokio::test]
async fn the_group_reads_one_language_and_each_person_their_own() {
    let app = TestApp::spawn().await;
    app.add_bot(GROUP, LI);
    let welcome = app.fake.wait_for_calls("sendMessage", 1).await;
    assert!(
        welcome[0].text().contains("邻居们好"),
        "{}",
        welcome[0].text()
    );
    // Added by a Chinese speaker: announcements are in Chinese, whoever asks.
    app.say(GROUP, ANN, "/need pickup 1-1");
    app.say(GROUP, LI, "/need 药 2-2");
    let sent = app.fake.wait_for_calls("sendMessage", 3).await;
    assert!(sent[1].text().contains("求助人") && sent[2].text().contains("求助人"));
    // A sender without a language (an anonymous admin) reads the chat's.
    let id = app.anonymous_admin_says(GROUP, "/need pickup 3-3");
    app.fake.settle().await;
    let refusal = answers_to(&app, GROUP, id);
    assert!(refusal[0].contains("自己的账号"), "{refusal:?}");
    // Ann reads her replies in English.
    let reply = replies(&app, GROUP, ANN, "/claim 9").await;
    assert!(reply[0].contains("There is no task #9"), "{reply:?}");

    // Only an admin changes the language.
    let refused = replies(&app, GROUP, ANN, "/settings language en").await;
    assert!(refused[0].contains("Only a group admin"), "{refused:?}");
    app.fake.set_status(GROUP, ANN.id, "creator");
    let set = replies(&app, GROUP, ANN, "/settings language en").await;
    assert!(set[0].contains("English"), "{set:?}");
    let language: Option<String> = linli::either!(app.ledger.readers(), p => sqlx::query_scalar("SELECT language FROM chats WHERE id = $1")
        .bind(GROUP)
        .fetch_one(p)
        .await)
        .unwrap();
    assert_eq!(language.as_deref(), Some("en"));
    // The live announcements are redrawn in the new language.
    app.fake.settle().await;
    let redrawn: Vec<Call> = app
        .fake
        .calls_of("editMessageText")
        .into_iter()
        .filter(|c| c.text().contains("Asked by"))
        .collect();
    assert_eq!(redrawn.len(), 2, "{redrawn:?}");
    app.say(GROUP, LI, "/need 药 4-4");
    app.fake.settle().await;
    let last: Value = app
        .fake
        .calls_of("sendMessage")
        .last()
        .unwrap()
        .body
        .clone();
    assert!(
        last["text"].as_str().unwrap().contains("Asked by"),
        "{last}"
    );
    // Someone whose Telegram speaks neither language reads the group's.
    let german = Resident {
        id: 301,
        first_name: "Jörg",
        language: "de",
    };
    let reply = replies(&app, GROUP, german, "/claim 9").await;
    assert!(reply[0].contains("There is no task #9"), "{reply:?}");
    // A change of language and a request handled in one batch: the request
    // speaks the new language.
    let settings = message(
        GROUP,
        app.fake.next_message_id(GROUP),
        ANN.json(),
        "/settings language zh",
    );
    let need = message(
        GROUP,
        app.fake.next_message_id(GROUP),
        ANN.json(),
        "/need pickup 5-5",
    );
    app.fake
        .push_updates(vec![json!({"message": settings}), json!({"message": need})]);
    app.fake.settle().await;
    assert_eq!(app.task(GROUP, 4).await.lang, linli::i18n::Lang::Zh);
    let shown = replies(&app, GROUP, LI, "/settings").await;
    assert!(shown[0].contains("language（语言）：zh"), "{shown:?}");
}

#[tokio::test]
async fn an_admin_finishing_several_tasks_is_asked_about_once() {
    let app = TestApp::spawn().await;
    for i in 1..=3 {
        app.say(GROUP, ANN, &format!("/need pickup {i}-1"));
    }
    app.say(GROUP, BO, "/claim 1 2 3");
    app.fake.settle().await;
    app.fake.set_status(GROUP, CY.id, "administrator");
    let done = replies(&app, GROUP, CY, "/done 1 2 3").await;
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0].matches("is done").count(), 3, "{done:?}");
    assert_eq!(app.fake.calls_of("getChatMember").len(), 1);
    for n in 1..=3 {
        assert_eq!(
            app.event_names(GROUP, n).await,
            ["created", "claimed", "done"]
        );
    }
}
