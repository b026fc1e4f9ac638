//! Building leads and households end to end: named by admins, registered
//! by admins and leads, listed privately, offered when a lead asks for one.

use fake_telegram::{Call, BOT_ID};
use serde_json::json;

use crate::helpers::*;

/// The bot's last successful message to `chat`.
fn last_to(app: &TestApp, chat: i64) -> Call {
    app.fake
        .calls_of("sendMessage")
        .into_iter()
        .rfind(|c| c.chat_id() == Some(chat) && c.succeeded())
        .unwrap_or_else(|| panic!("nothing sent to {chat}"))
}

async fn say(app: &TestApp, chat: i64, from: Resident, text: &str) -> i64 {
    let id = app.say(chat, from, text);
    app.fake.settle().await;
    id
}

/// `from` sends `text` in `chat` as a reply to message `replied` of `author`.
async fn reply(app: &TestApp, chat: i64, from: Resident, replied: (i64, Resident), text: &str) {
    let id = app.fake.next_message_id(chat);
    let mut msg = message(chat, id, from.json(), text);
    msg["reply_to_message"] = message(chat, replied.0, replied.1.json(), "hello");
    app.fake.push_update(json!({ "message": msg }));
    app.fake.settle().await;
}

#[tokio::test]
async fn admins_name_leads_who_register_and_list_households_privately() {
    let app = TestApp::spawn().await;
    app.add_bot(GROUP, ANN);
    app.fake.set_status(GROUP, ANN.id, "creator");
    let bo_said = say(&app, GROUP, BO, "I can help with building 3").await;
    // Not an admin: refused. Not a reply: explained.
    reply(&app, GROUP, CY, (bo_said, BO), "/lead").await;
    assert!(last_to(&app, GROUP).text().contains("Only a group admin"));
    say(&app, GROUP, ANN, "/lead").await;
    assert!(last_to(&app, GROUP).text().contains("as a reply"));
    reply(&app, GROUP, ANN, (bo_said, BO), "/lead").await;
    assert!(last_to(&app, GROUP)
        .text()
        .contains("Bo is now a building lead"));
    // Cy is neither admin nor lead.
    say(&app, GROUP, CY, "/household 3号楼201 lives alone").await;
    assert!(last_to(&app, GROUP)
        .text()
        .contains("Only group admins and building leads"));
    // Bo registers one; the group is not told the flat, and the command
    // goes where the bot may delete it.
    app.fake.set_status(GROUP, BOT_ID, "administrator");
    let command = say(
        &app,
        GROUP,
        BO,
        "/household 3号楼 201 until 2026-12-31 lives alone",
    )
    .await;
    let registered = last_to(&app, GROUP);
    assert!(
        registered.text().contains("Household registered"),
        "{}",
        registered.text()
    );
    assert!(!registered.text().contains("3号楼201"));
    let deleted = app.fake.calls_of("deleteMessage");
    assert_eq!(deleted.last().unwrap().body["message_id"], command);
    say(&app, GROUP, BO, "/household 12-302 到 2026-13-01").await;
    assert!(last_to(&app, GROUP).text().contains("not a date"));
    // Bo never wrote to the bot: a button opens the chat, whose start
    // brings the list.
    say(&app, GROUP, BO, "/households").await;
    let open = last_to(&app, GROUP);
    let link = format!(
        "https://t.me/{}?start=households_{GROUP}",
        fake_telegram::BOT_USERNAME
    );
    assert_eq!(open.url_buttons(), [link]);
    say(&app, BO.id, BO, &format!("/start households_{GROUP}")).await;
    let list = last_to(&app, BO.id);
    assert!(
        list.text()
            .contains("3号楼201 · until 2026-12-31 · lives alone"),
        "{}",
        list.text()
    );
    // Now Bo is reachable: /households in the group sends it at once.
    say(&app, GROUP, BO, "/households").await;
    assert!(last_to(&app, GROUP).text().contains("sent you the list"));
    assert!(last_to(&app, BO.id).text().contains("3号楼201"));
    // Cy, not a lead, gets no list by the link either.
    say(&app, CY.id, CY, &format!("/start households_{GROUP}")).await;
    assert!(last_to(&app, CY.id)
        .text()
        .contains("not an admin or a building lead"));
    // A lead asking privately is offered the household's flat.
    say(&app, BO.id, BO, "/need groceries").await;
    let flats = last_to(&app, BO.id);
    let household = flats
        .buttons()
        .into_iter()
        .find(|b| b.starts_with("flat:h"))
        .expect("the household is offered");
    app.press(BO.id, BO, flats.sent_message_id().unwrap(), &household);
    app.fake.settle().await;
    assert!(last_to(&app, BO.id)
        .text()
        .contains("Anything the volunteer"));
    // Cy, no lead, cannot get a household's flat by forging its button.
    say(&app, CY.id, CY, "/need groceries").await;
    let asked = last_to(&app, CY.id);
    assert!(!asked.buttons().iter().any(|b| b.starts_with("flat:h")));
    app.press(CY.id, CY, asked.sent_message_id().unwrap(), &household);
    app.fake.settle().await;
    let again = last_to(&app, CY.id);
    assert!(again.text().contains("Which flat"), "{}", again.text());
    let to_cy: Vec<String> = app
        .fake
        .calls_of("sendMessage")
        .iter()
        .filter(|c| c.chat_id() == Some(CY.id))
        .map(|c| c.text().to_string())
        .collect();
    // Asked again for the flat; never shown the household's.
    assert!(
        to_cy
            .iter()
            .all(|t| !t.contains("Flat:") && !t.contains("Anything the volunteer")),
        "{to_cy:?}"
    );
    // /unlead: Bo lists no more.
    reply(&app, GROUP, ANN, (bo_said, BO), "/unlead").await;
    assert!(last_to(&app, GROUP)
        .text()
        .contains("no longer a building lead"));
    say(&app, GROUP, BO, "/households").await;
    assert!(last_to(&app, GROUP)
        .text()
        .contains("Only group admins and building leads"));
    let in_group: Vec<String> = app
        .fake
        .calls_of("sendMessage")
        .into_iter()
        .filter(|c| c.chat_id() == Some(GROUP))
        .map(|c| c.text().to_string())
        .collect();
    assert!(
        in_group.iter().all(|t| !t.contains("lives alone")),
        "{in_group:?}"
    );
}

#[tokio::test]
async fn leads_households_and_hidden_flats_follow_a_group_into_its_supergroup() {
    let app = TestApp::spawn().await;
    let (old, new) = (-4_000_000_077, -1_000_000_000_077);
    app.add_bot(old, ANN);
    app.fake.set_status(old, ANN.id, "creator");
    app.fake.set_status(new, ANN.id, "creator");
    let bo_said = say(&app, old, BO, "I can help").await;
    reply(&app, old, ANN, (bo_said, BO), "/lead").await;
    say(&app, old, ANN, "/settings hide_flats on").await;
    say(&app, old, BO, "/household 5-505 wheelchair").await;
    app.migrate(old, new);
    app.fake.settle().await;
    say(&app, BO.id, BO, "/households").await;
    assert!(last_to(&app, BO.id).text().contains("5-505 · wheelchair"));
    say(&app, new, CY, "/need pickup 6-606 box").await;
    let task = app.task(new, 1).await;
    assert!(task.private, "hidden flats stay hidden after the move");
}
