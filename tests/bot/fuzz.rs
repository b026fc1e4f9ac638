//! No panics on any input: arbitrary Update JSON, from plausible to absurd,
//! goes through the processor and the real handler tree; every Update must
//! end handled, and none by a caught panic.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use teloxide::types::Me;

use linli::config::Settings;
use linli::ledger::inbox::{Fetched, InboxRow};
use linli::ledger::Ledger;

use crate::helpers::TestDatabase;
use linli::runtime::processor::Processor;
use linli::telegram::schema::schema;
use linli::telegram::Context;

use fake_telegram::{FakeTelegram, BOT_USERNAME, TOKEN};

fn text() -> impl Strategy<Value = String> {
    let prefix = prop_oneof![
        Just(""),
        Just("/need "),
        Just("/need pickup "),
        Just("/need 买药 "),
        Just("/claim "),
        Just("/done "),
        Just("/release #"),
        Just("/cancel "),
        Just("/open@"),
        Just("/mine"),
        Just("/stats@linli_test_bot"),
        Just("/"),
    ];
    (prefix, "\\PC{0,60}", any::<u32>()).prop_map(|(p, rest, n)| format!("{p}{} {rest}", n % 5))
}

fn user() -> impl Strategy<Value = Value> {
    (prop_oneof![Just(101i64), Just(0), Just(-5), Just(i64::MAX), any::<i64>()], any::<bool>(), "[a-z-]{0,8}", "\\PC{0,10}")
        .prop_map(|(id, is_bot, lang, name)| json!({"id": id, "is_bot": is_bot, "first_name": name, "language_code": lang}))
}

fn chat() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            Just(-1_001_234_567_890i64),
            Just(101),
            Just(0),
            any::<i64>()
        ],
        prop_oneof![
            Just("group"),
            Just("supergroup"),
            Just("private"),
            Just("channel"),
            Just("bogus")
        ],
    )
        .prop_map(|(id, kind)| json!({"id": id, "type": kind, "title": "T", "first_name": "F"}))
}

fn update() -> impl Strategy<Value = Value> {
    let message = || {
        (
            chat(),
            user(),
            text(),
            any::<i32>(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(chat, from, text, id, caption, sender_chat)| {
                let mut msg = json!({"message_id": id, "date": 0, "chat": chat, "from": from});
                let field = if caption { "caption" } else { "text" };
                msg[field] = json!(text);
                if caption {
                    msg["photo"] =
                        json!([{"file_id": "a", "file_unique_id": "b", "width": 1, "height": 1}]);
                }
                if sender_chat {
                    msg["sender_chat"] = msg["chat"].clone();
                }
                msg
            })
    };
    let callback = (
        chat(),
        user(),
        prop_oneof![
            Just("claim:1".to_string()),
            Just("done:1".to_string()),
            Just("release:2".to_string()),
            "\\PC{0,70}"
        ],
        any::<bool>(),
    )
        .prop_map(|(chat, from, data, with_message)| {
            let mut query = json!({"id": "q", "from": from, "chat_instance": "c", "data": data});
            if with_message {
                query["message"] = json!({"message_id": 1, "date": 0, "chat": chat});
            }
            query
        });
    let member = (
        chat(),
        user(),
        prop_oneof![
            Just("left"),
            Just("member"),
            Just("kicked"),
            Just("administrator")
        ],
    )
        .prop_map(|(chat, from, status)| {
            let bot = json!({"id": 1, "is_bot": true, "first_name": "B"});
            json!({"chat": chat, "from": from, "date": 0,
                   "old_chat_member": {"status": "left", "user": bot},
                   "new_chat_member": {"status": status, "user": bot}})
        });
    // Plausible messages from a resident, with arbitrary text.
    let resident = (text(), any::<i32>()).prop_map(|(text, id)| {
        json!({"message": {"message_id": id, "date": 0, "text": text,
                "chat": {"id": -1_001_234_567_890i64, "type": "supergroup", "title": "T"},
                "from": {"id": 101, "is_bot": false, "first_name": "Ann"}}})
    });
    prop_oneof![
        3 => resident,
        1 => message().prop_map(|m| json!({"message": m})),
        1 => message().prop_map(|m| json!({"edited_message": m})),
        1 => callback.prop_map(|q| json!({"callback_query": q})),
        1 => member.prop_map(|m| json!({"my_chat_member": m})),
        1 => "\\PC{0,40}".prop_map(|s| json!({"poll": s})),
        1 => any::<i64>().prop_map(|n| json!({"message": n})),
    ]
}

#[test]
fn arbitrary_updates_never_panic_a_handler() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::new(&dir.path().join("fuzz.db"));
    let (fake, processor) = runtime.block_on(async {
        let fake = FakeTelegram::start().await;
        let vars = HashMap::from([
            ("DATABASE_URL".to_string(), db.url.clone()),
            ("TELOXIDE_TOKEN".to_string(), TOKEN.to_string()),
        ]);
        let settings = Arc::new(Settings::from_vars(&vars).unwrap());
        let ledger = Ledger::connect(&settings.database).await.unwrap();
        let me: Me = serde_json::from_value(json!({
            "id": 1, "is_bot": true, "first_name": "Linli", "username": BOT_USERNAME,
            "can_join_groups": true, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "has_main_web_app": false
        }))
        .unwrap();
        let processor = Processor {
            bot: teloxide::Bot::new(TOKEN).set_api_url(fake.url.parse().unwrap()),
            ctx: Arc::new(Context {
                ledger,
                limits: settings.limits(),
                settings: settings.clone(),
            }),
            me,
            handler: Arc::new(schema()),
            batch_size: settings.telegram.updates_per_batch,
            // Nothing sends here: the handlers' effects stay in the outbox.
            sender: tokio::sync::mpsc::unbounded_channel().0,
        };
        (fake, processor)
    });
    let _keep_fake = fake;
    let next_id = AtomicI64::new(1);
    let mut runner = TestRunner::new(Config::with_cases(200));
    runner
        .run(&update(), |mut update| {
            let update_id = next_id.fetch_add(1, Ordering::Relaxed);
            update["update_id"] = json!(update_id);
            let raw = update.to_string();
            runtime.block_on(async {
                let ledger = &processor.ctx.ledger;
                let stored = Fetched {
                    update_id,
                    chat_key: linli::runtime::fetcher::chat_key(&update),
                    raw: raw.clone(),
                };
                let row = InboxRow {
                    update_id,
                    chat_key: stored.chat_key,
                    raw: raw.clone(),
                    attempts: 0,
                };
                ledger.store_updates(&[stored]).await.unwrap();
                processor.handle_batch(&[row], &[]).await;
                let (handled, error): (bool, Option<String>) =
                    linli::either!(ledger.readers(), p => sqlx::query_as(
                    "SELECT handled_at IS NOT NULL, error FROM inbox WHERE update_id = $1",
                )
                .bind(update_id)
                .fetch_one(p)
                .await)
                    .unwrap();
                prop_assert!(handled, "{raw} was left unhandled");
                prop_assert!(
                    !error.as_deref().unwrap_or_default().contains("panicked"),
                    "{raw}: {error:?}"
                );
                Ok(())
            })
        })
        .unwrap();
    // The inputs reached the handlers, not only the parser: some made tasks.
    let made = runtime.block_on(processor.ctx.ledger.export(None)).unwrap();
    assert!(!made.is_empty(), "no generated update created a task");
}
