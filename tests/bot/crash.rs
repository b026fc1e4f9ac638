//! Nothing lost, nothing doubled: the real binary, killed with SIGKILL at
//! random points of a stream of requests from several chats, restarted
//! each time, must end with the ledger and the chat the requests call for.
//!
//! The expected outcome comes from replaying the same requests through the
//! domain rules; the test then compares the ledger's rows and every Bot API
//! call the fake received: every task exactly once and in the right state,
//! every announcement showing it, every request answered and every button
//! answered exactly once. A message in flight at the very instant of a kill
//! may go out twice (see the bound at the end).

use std::collections::HashMap;
use std::process::Child;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use linli::domain::{decide, Action, Status, TaskState, UserId};

use crate::helpers::{environment, message, run_bot, Resident, TestDatabase, ANN, BO, CY, LI};
use fake_telegram::{chat_json, Call, FakeTelegram, BOT_ID};

const CHATS: [i64; 4] = [
    -1_001_000_000_001,
    -1_001_000_000_002,
    -1_001_000_000_003,
    -4_000_000_004,
];
const PEOPLE: [Resident; 4] = [ANN, BO, CY, LI];

/// One request of the stream and what it should leave behind.
#[derive(Debug, Clone)]
enum Request {
    Need {
        message_id: i64,
    },
    Command {
        message_id: i64,
        number: u32,
        action: Action,
    },
    Button {
        query_id: String,
        number: u32,
        action: Action,
    },
}

struct Expected {
    /// chat → the state of each task, by number.
    tasks: HashMap<i64, Vec<TaskState>>,
    /// chat → (message id of a request, whether it gets a reply or announcement).
    answered_messages: HashMap<i64, Vec<i64>>,
    button_queries: Vec<String>,
}

fn kill_9(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Builds `count` requests per chat, pushing them as Updates, and the
/// outcome the rules give them.
fn stream(fake: &FakeTelegram, rng: &mut StdRng, count: usize) -> (Vec<Value>, Expected) {
    let mut updates = Vec::new();
    let mut expected = Expected {
        tasks: HashMap::new(),
        answered_messages: HashMap::new(),
        button_queries: Vec::new(),
    };
    let mut per_chat: Vec<Vec<(i64, Value)>> = Vec::new();
    for chat in CHATS {
        let tasks = expected.tasks.entry(chat).or_default();
        let mut chat_updates = Vec::new();
        for _ in 0..count {
            let who = PEOPLE[rng.random_range(0..PEOPLE.len())];
            let actor = UserId(who.id);
            let request = if tasks.is_empty() || rng.random_bool(0.3) {
                tasks.push(TaskState::new(actor));
                Request::Need {
                    message_id: fake.next_message_id(chat),
                }
            } else {
                let number = rng.random_range(1..=tasks.len() as u32);
                let action = [
                    Action::Claim,
                    Action::Claim,
                    Action::Done,
                    Action::Release,
                    Action::Cancel,
                ][rng.random_range(0..5)];
                // Nobody is an admin here: the rules alone decide.
                if let Ok(next) = decide(tasks[number as usize - 1], action, actor, false) {
                    tasks[number as usize - 1] = next;
                }
                if action != Action::Cancel && rng.random_bool(0.5) {
                    Request::Button {
                        query_id: format!("crash-{chat}-{}", chat_updates.len()),
                        number,
                        action,
                    }
                } else {
                    Request::Command {
                        message_id: fake.next_message_id(chat),
                        number,
                        action,
                    }
                }
            };
            let update = match &request {
                Request::Need { message_id } => {
                    expected
                        .answered_messages
                        .entry(chat)
                        .or_default()
                        .push(*message_id);
                    json!({"message": message(chat, *message_id, who.json(), &format!("/need pickup {}-{} box", chat_updates.len(), who.id))})
                }
                Request::Command {
                    message_id,
                    number,
                    action,
                } => {
                    expected
                        .answered_messages
                        .entry(chat)
                        .or_default()
                        .push(*message_id);
                    let name = match action {
                        Action::Claim => "claim",
                        Action::Done => "done",
                        Action::Release => "release",
                        Action::Cancel => "cancel",
                        Action::Receive | Action::Missing => unreachable!("no command"),
                    };
                    json!({"message": message(chat, *message_id, who.json(), &format!("/{name} {number}"))})
                }
                Request::Button {
                    query_id,
                    number,
                    action,
                } => {
                    expected.button_queries.push(query_id.clone());
                    let data = linli::telegram::callbacks::encode(
                        *action,
                        linli::domain::TaskNumber::new(*number).unwrap(),
                    )
                    .unwrap();
                    json!({"callback_query": {
                        "id": query_id, "from": who.json(), "chat_instance": "ci", "data": data,
                        "message": {"message_id": 1, "date": 0, "chat": chat_json(chat),
                                    "from": {"id": BOT_ID, "is_bot": true, "first_name": "Linli"}, "text": "x"}
                    }})
                }
            };
            chat_updates.push((chat, update));
        }
        per_chat.push(chat_updates);
    }
    // Interleave the chats, keeping each chat's order.
    let mut cursors = vec![0; per_chat.len()];
    while cursors.iter().zip(&per_chat).any(|(c, u)| *c < u.len()) {
        let open: Vec<usize> = (0..per_chat.len())
            .filter(|&i| cursors[i] < per_chat[i].len())
            .collect();
        let pick = open[rng.random_range(0..open.len())];
        updates.push(per_chat[pick][cursors[pick]].1.clone());
        cursors[pick] += 1;
    }
    (updates, expected)
}

/// Runs one seed; returns how many messages went out twice.
async fn run_with_kills(seed: u64) -> usize {
    let mut rng = StdRng::seed_from_u64(seed);
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::new(&dir.path().join("linli.db"));
    let vars = environment(&fake, &db);
    let (updates, expected) = stream(&fake, &mut rng, 50);

    let mut bot = run_bot(&vars);
    let mut pushed = 0;
    let mut kills = 0;
    while pushed < updates.len() {
        let chunk = rng.random_range(10..40).min(updates.len() - pushed);
        for update in &updates[pushed..pushed + chunk] {
            fake.push_update(update.clone());
        }
        pushed += chunk;
        tokio::time::sleep(Duration::from_millis(rng.random_range(5..400))).await;
        if rng.random_bool(0.6) {
            kill_9(&mut bot);
            kills += 1;
            bot = run_bot(&vars);
        }
    }
    assert!(kills > 0, "seed {seed} killed nothing: pick another seed");
    // Let the last process finish everything, then stop it for good.
    let deadline = Instant::now() + Duration::from_secs(60);
    let ledger_vars = vars.clone();
    let ledger = linli::ledger::Ledger::connect(
        &linli::config::Settings::from_vars(&ledger_vars)
            .unwrap()
            .database,
    )
    .await
    .unwrap();
    loop {
        let idle = fake.updates_drained()
            && ledger.inbox_waiting().await.unwrap() == 0
            && ledger.outbox_waiting().await.unwrap() == 0;
        if idle {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "seed {seed}: the bot did not finish"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    fake.settle().await;
    kill_9(&mut bot);

    // The ledger holds every task exactly once, in the state the rules give.
    let tasks = ledger.export(None).await.unwrap();
    for chat in CHATS {
        let stored: Vec<_> = tasks.iter().filter(|t| t.chat_id == chat).collect();
        let wanted = &expected.tasks[&chat];
        assert_eq!(
            stored.len(),
            wanted.len(),
            "seed {seed}: tasks of chat {chat}"
        );
        for (task, want) in stored.iter().zip(wanted) {
            assert_eq!(
                task.state,
                *want,
                "seed {seed}: chat {chat} task {}",
                task.number.get()
            );
            let events = ledger.events(task.id).await.unwrap();
            let replayed = linli::domain::replay(
                task.state.requester,
                events[1..].iter().map(|e| {
                    (
                        Action::from_event_name(&e.action).unwrap(),
                        UserId(e.actor_id),
                    )
                }),
            );
            assert_eq!(
                replayed,
                Some(task.state),
                "seed {seed}: events of task {}",
                task.number.get()
            );
            // Its announcement is in the chat and shows the final state.
            let buttons = fake.message_buttons(
                chat,
                task.announcement_message_id.expect("announced") as i64,
            );
            let want_buttons: Vec<String> = match task.state.status {
                Status::Open => vec![format!("claim:{}", task.number.get())],
                Status::Claimed => vec![
                    format!("claim:{}", task.number.get()),
                    format!("done:{}", task.number.get()),
                    format!("release:{}", task.number.get()),
                ],
                Status::Done => vec![
                    format!("received:{}", task.number.get()),
                    format!("missing:{}", task.number.get()),
                ],
                Status::Cancelled => vec![],
            };
            assert_eq!(
                buttons,
                Some(want_buttons),
                "seed {seed}: announcement of task {}",
                task.number.get()
            );
        }
    }

    // Every request got exactly one answer in the chat.
    let calls = fake.calls();
    let mut doubled = 0;
    for (chat, messages) in &expected.answered_messages {
        for id in messages {
            let answers = calls
                .iter()
                .filter(|c| {
                    c.method == "sendMessage" && c.succeeded() && c.chat_id() == Some(*chat)
                })
                .filter(|c| c.body["reply_parameters"]["message_id"] == *id)
                .count();
            assert!(
                answers >= 1,
                "seed {seed}: message {id} in {chat} was never answered"
            );
            doubled += answers - 1;
        }
    }
    // Telegram takes one answer per button press and refuses the rest (as
    // the fake does), so what is checked is that one got through; answers
    // tried again after a kill are counted.
    let mut answers_retried = 0;
    for query in &expected.button_queries {
        let tries: Vec<&Call> = calls
            .iter()
            .filter(|c| {
                c.method == "answerCallbackQuery" && c.body["callback_query_id"] == query.as_str()
            })
            .collect();
        assert_eq!(
            tries.iter().filter(|c| c.succeeded()).count(),
            1,
            "seed {seed}: button {query}"
        );
        answers_retried += tries.len() - 1;
    }
    let announcements_posted = calls
        .iter()
        .filter(|c| c.method == "sendMessage" && c.succeeded() && !c.buttons().is_empty())
        .count();
    eprintln!(
        "seed {seed}: {} updates, {kills} kills, {} tasks, {announcements_posted} announcements posted, {doubled} doubled, {answers_retried} button answers tried again",
        updates.len(),
        tasks.len()
    );
    // Telegram's Bot API has no idempotent send: a message whose sendMessage
    // Telegram accepted in the instant before the kill, but whose acceptance
    // was not yet recorded, goes out again after the restart. At most one
    // message per chat can be in that instant at a kill.
    assert!(
        doubled <= kills * CHATS.len(),
        "seed {seed}: {doubled} messages sent twice with {kills} kills"
    );
    doubled
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_loses_nothing_and_applies_nothing_twice() {
    let mut doubled = 0;
    for seed in [1, 2, 3] {
        doubled += run_with_kills(seed).await;
    }
    eprintln!("{doubled} messages doubled over 3 seeds");
}
