//! The rest of the chat contract: escaping, captions, other bots, edits,
//! lists, languages, topics, migrations, greetings and anonymous senders.

use serde_json::json;

use crate::helpers::{message, TestApp, ANN, BO, CY, GROUP, LI};

#[tokio::test]
async fn user_text_is_escaped_and_accepted_by_a_strict_html_parser() {
    let app = TestApp::spawn().await;
    app.say(GROUP, ANN, "/need other 1-1 <b>& bring</b> <script> &amp;");
    let sent = app.fake.wait_for_calls("sendMessage", 1).await;
    assert!(
        sent[0].succeeded(),
        "Telegram accepted it: {}",
        sent[0].answer
    );
    assert!(
        sent[0]
            .text()
            .contains("&lt;b&gt;&amp; bring&lt;/b&gt; &lt;script&gt; &amp;amp;"),
        "{}",
        sent[0].text()
    );
    assert_eq!(
        app.task(GROUP, 1).await.details,
        "<b>& bring</b> <script> &amp;",
        "the ledger keeps what was typed"
    );
}

#[tokio::test]
async fn commands_in_photo_captions_count_and_other_bots_commands_do_not() {
    let app = TestApp::spawn().await;
    app.say(GROUP, ANN, "/need@OtherBot pickup 1-1");
    app.say(GROUP, ANN, "/claim@other_bot 1");
    app.say(GROUP, ANN, "just chatting about /need");
    app.say_with_photo(GROUP, ANN, "/need@linli_test_bot parcel 7-702 this box");
    let sent = app.fake.wait_for_calls("sendMessage", 1).await;
    app.fake.settle().await;
    assert_eq!(app.fake.calls_of("sendMessage").len(), 1);
    assert!(sent[0].text().contains("7-702") && sent[0].text().contains("this box"));
    assert_eq!(app.ledger.export(None).await.unwrap().len(), 1);
}

#[tokio::test]
async fn editing_a_need_updates_the_open_task_and_nothing_else() {
    let app = TestApp::spawn().await;
    let request = app.say(GROUP, ANN, "/need pickup 1-1 small box");
    app.fake.wait_for_calls("sendMessage", 1).await;
    let id = app.announcement_id(GROUP, 1);
    app.edit(
        GROUP,
        ANN,
        request,
        "/need pickup 12-302 big box at the east gate",
    );
    let edits = app.fake.wait_for_calls("editMessageText", 1).await;
    assert_eq!(edits[0].body["message_id"], id);
    assert!(edits[0].text().contains("12-302") && edits[0].text().contains("big box"));
    assert_eq!(edits[0].buttons(), vec!["claim:1"]);
    let task = app.task(GROUP, 1).await;
    assert_eq!(
        (task.flat.as_str(), task.details.as_str()),
        ("12-302", "big box at the east gate")
    );

    // An edited message that is not a /need, or a /claim, does nothing.
    let chat = app.say(GROUP, BO, "hello");
    app.edit(GROUP, BO, chat, "/claim 1");
    app.fake.settle().await;
    assert_eq!(app.task(GROUP, 1).await.state.status.as_str(), "open");

    // Once claimed, the edit is refused with a word.
    app.say(GROUP, BO, "/claim 1");
    app.fake.wait_for_calls("editMessageText", 2).await;
    app.fake.settle().await;
    let before = app.fake.calls_of("sendMessage").len();
    app.edit(GROUP, ANN, request, "/need pickup 99-999");
    let sent = app.fake.wait_for_calls("sendMessage", before + 1).await;
    assert!(
        sent[before].text().contains("not applied"),
        "{}",
        sent[before].text()
    );
    app.fake.settle().await;
    assert_eq!(app.task(GROUP, 1).await.flat, "12-302");
    assert_eq!(
        app.event_names(GROUP, 1).await,
        ["created", "edited", "claimed"]
    );
}

#[tokio::test]
async fn open_mine_and_stats_report_the_ledger() {
    let app = TestApp::spawn().await;
    for text in [
        "/need pickup 1-1 box",
        "/need food 2-2 rice",
        "/need meds 3-3",
        "/need other 4-4",
    ] {
        app.say(GROUP, ANN, text);
    }
    app.fake.wait_for_calls("sendMessage", 4).await;
    app.say(GROUP, BO, "/claim 1");
    app.say(GROUP, BO, "/claim 2");
    app.say(GROUP, BO, "/done 2");
    app.say(GROUP, ANN, "/cancel 4");
    // Four replies; the announcements' edits may coalesce.
    app.fake.wait_for_calls("sendMessage", 8).await;

    let before = app.fake.calls_of("sendMessage").len();
    app.say(GROUP, CY, "/open");
    let sent = app.fake.wait_for_calls("sendMessage", before + 1).await;
    let open = sent[before].text();
    assert!(open.contains("#1") && open.contains("#3"), "{open}");
    assert!(!open.contains("#2") && !open.contains("#4"), "{open}");
    assert!(open.contains("Bo"), "who is on #1: {open}");

    app.say(GROUP, BO, "/mine");
    let sent = app.fake.wait_for_calls("sendMessage", before + 2).await;
    let mine = sent[before + 1].text();
    assert!(
        mine.contains("#1") && !mine.contains("#2") && !mine.contains("#3"),
        "{mine}"
    );

    // In a private chat, /mine covers every group.
    app.say(BO.id, BO, "/mine");
    let sent = app.fake.wait_for_calls("sendMessage", before + 3).await;
    assert_eq!(sent[before + 2].chat_id(), Some(BO.id));
    assert!(
        sent[before + 2].text().contains("#1") && sent[before + 2].text().contains("Residents")
    );

    app.say(GROUP, CY, "/stats");
    let sent = app.fake.wait_for_calls("sendMessage", before + 4).await;
    let stats = sent[before + 3].text();
    for part in ["open: 1", "claimed: 1", "done: 1", "cancelled: 1", "Bo: 1"] {
        assert!(stats.contains(part), "{part} in {stats}");
    }
}

#[tokio::test]
async fn chinese_speakers_get_chinese_and_help_lists_the_commands() {
    let app = TestApp::spawn().await;
    app.say(GROUP, LI, "/need 买菜 3号楼201 两斤鸡蛋");
    app.say(GROUP, LI, "/claim 7");
    let sent = app.fake.wait_for_calls("sendMessage", 2).await;
    // The announcement speaks the chat's language (English by default);
    // the reply to Li speaks his.
    assert!(sent[0].text().contains("Groceries"), "{}", sent[0].text());
    assert!(
        sent[1].text().contains("本群没有任务 #7"),
        "{}",
        sent[1].text()
    );
    app.say(GROUP, LI, "/help");
    app.say(GROUP, ANN, "/start");
    let sent = app.fake.wait_for_calls("sendMessage", 4).await;
    assert!(sent[2].text().contains("求助"));
    for command in [
        "/need", "/claim", "/release", "/done", "/cancel", "/open", "/mine", "/stats",
    ] {
        assert!(sent[3].text().contains(command), "{command} in help");
    }
    // The menus were published for each scope in both languages at start.
    let menus = app.fake.calls_of("setMyCommands");
    assert_eq!(menus.len(), 8);
    let menu = |scope: &str, lang: Option<&str>| {
        menus
            .iter()
            .find(|c| c.body["scope"]["type"] == scope && c.body["language_code"].as_str() == lang)
            .unwrap_or_else(|| panic!("no {scope} menu in {lang:?}"))
            .body["commands"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["command"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(menu("all_group_chats", None).len(), 9);
    assert!(menu("all_chat_administrators", Some("zh")).contains(&"lead".to_string()));
    assert!(!menu("all_group_chats", Some("zh")).contains(&"lead".to_string()));
    assert!(menu("all_private_chats", None).contains(&"forgetme".to_string()));
    for method in ["setMyDescription", "setMyShortDescription"] {
        let calls = app.fake.calls_of(method);
        assert_eq!(calls.len(), 2, "{method}");
        assert!(calls.iter().any(|c| c.body["language_code"] == "zh"));
    }
}

#[tokio::test]
async fn the_bot_asks_telegram_for_every_update_kind_it_handles() {
    let app = TestApp::spawn().await;
    app.say(GROUP, ANN, "/need pickup 1-1");
    app.fake.wait_for_calls("sendMessage", 1).await;
    let allowed = app.fake.allowed_updates();
    for kind in [
        "message",
        "edited_message",
        "callback_query",
        "my_chat_member",
    ] {
        assert!(allowed.iter().any(|a| a == kind), "{kind} in {allowed:?}");
    }
}

#[tokio::test]
async fn requests_in_a_forum_topic_are_answered_in_that_topic() {
    let app = TestApp::spawn().await;
    let id = app.fake.next_message_id(GROUP);
    let mut msg = message(GROUP, id, ANN.json(), "/need pickup 1-1");
    msg["message_thread_id"] = json!(77);
    msg["is_topic_message"] = json!(true);
    msg["chat"]["is_forum"] = json!(true);
    app.fake.push_update(json!({"message": msg}));
    let sent = app.fake.wait_for_calls("sendMessage", 1).await;
    assert_eq!(sent[0].body["message_thread_id"], 77);
    app.say(GROUP, BO, "/claim 1");
    let sent = app.fake.wait_for_calls("sendMessage", 2).await;
    assert!(
        sent[1].body.get("message_thread_id").is_none(),
        "a reply outside topics stays outside"
    );
    assert_eq!(app.task(GROUP, 1).await.thread_id, Some(77));
}

#[tokio::test]
async fn a_group_that_becomes_a_supergroup_keeps_its_tasks() {
    let app = TestApp::spawn().await;
    let old = -4_000_000_001;
    let new = -1_009_999_999_999;
    app.say(old, ANN, "/need pickup 1-1");
    app.fake.wait_for_calls("sendMessage", 1).await;
    app.migrate(old, new);
    app.fake.settle().await;

    let tasks = app.ledger.export(None).await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].chat_id, new);
    app.say(new, BO, "/claim 1");
    app.say(new, BO, "/need food 2-2");
    app.fake.wait_for_calls("sendMessage", 3).await;
    app.fake.settle().await;
    assert_eq!(
        app.task(new, 1).await.state.claimer.map(|u| u.0),
        Some(BO.id)
    );
    assert_eq!(
        app.task(new, 2).await.flat,
        "2-2",
        "numbering continues after the move"
    );
    // The old announcement is in the old chat; the claim posts a fresh one in the new chat.
    let announcements: Vec<_> = app
        .fake
        .calls_of("sendMessage")
        .into_iter()
        .filter(|c| c.chat_id() == Some(new) && c.text().contains("#1"))
        .collect();
    assert!(!announcements.is_empty());
}

#[tokio::test]
async fn being_added_to_a_group_posts_a_short_how_to() {
    let app = TestApp::spawn().await;
    app.add_bot(GROUP, ANN);
    let sent = app.fake.wait_for_calls("sendMessage", 1).await;
    assert_eq!(sent[0].chat_id(), Some(GROUP));
    assert!(sent[0].text().contains("/need"), "{}", sent[0].text());
}

#[tokio::test]
async fn anonymous_admins_and_channels_are_asked_to_post_as_themselves() {
    let app = TestApp::spawn().await;
    app.anonymous_admin_says(GROUP, "/need pickup 1-1");
    let sent = app.fake.wait_for_calls("sendMessage", 1).await;
    assert!(
        sent[0].text().contains("your own account"),
        "{}",
        sent[0].text()
    );
    // Unknown update kinds are ignored and later updates still work.
    app.fake.push_update(json!({"poll": {"id": "1", "question": "?", "options": [], "total_voter_count": 0, "is_closed": false, "is_anonymous": true, "type": "regular", "allows_multiple_answers": false}}));
    app.say(GROUP, CY, "/need pickup 1-1");
    app.fake.wait_for_calls("sendMessage", 2).await;
    app.fake.settle().await;
    assert_eq!(app.ledger.export(None).await.unwrap().len(), 1);
}
