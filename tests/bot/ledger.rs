//! The ledger on a real SQLite file: random sequences of actions keep the
//! invariants, concurrent claims have one winner, and the queries behind
//! the chat commands use their indexes.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use proptest::prelude::*;

use linli::config::Settings;
use linli::core::{act, AdminCheck, Outcome, Request};
use linli::domain::{replay, Action, ChatStats, Kind, NewTask, Status, TaskNumber, UserId};
use linli::i18n::Lang;
use linli::ledger::inbox::Fetched;
use linli::ledger::{Backend, Batch, Ledger, NewTaskRecord, Outgoing, Person, TaskRecord};

use crate::helpers::TestDatabase;

struct Admins(HashSet<i64>);

impl AdminCheck for Admins {
    async fn is_admin(&self, _chat_id: i64, user: UserId) -> bool {
        self.0.contains(&user.0)
    }
}

/// A ledger of its own, and what keeps its database until the test ends.
async fn temp_ledger() -> (Ledger, (tempfile::TempDir, TestDatabase)) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::new(&dir.path().join("ledger.db"));
    let vars = HashMap::from([("DATABASE_URL".to_string(), db.url.clone())]);
    let ledger = Ledger::connect(&Settings::from_vars(&vars).unwrap().database)
        .await
        .unwrap();
    (ledger, (dir, db))
}

fn person(id: i64) -> Person {
    Person {
        id: UserId(id),
        name: format!("user {id}"),
    }
}

fn pickup() -> NewTask {
    NewTask {
        kind: Kind::Pickup,
        flat: "1-1".into(),
        details: String::new(),
    }
}

fn record<'a>(chat_id: i64, task: &'a NewTask, requester: &'a Person) -> NewTaskRecord<'a> {
    NewTaskRecord {
        chat_id,
        chat_title: Some("Residents"),
        task,
        requester,
        default_lang: Lang::En,
        thread_id: None,
        source_message_id: 1,
        at: Utc::now(),
        private: false,
        media: None,
    }
}

async fn create(ledger: &Ledger, chat_id: i64, requester: &Person) -> u32 {
    let task = pickup();
    let mut tx = ledger.begin().await.unwrap();
    let number = tx
        .create_task(&record(chat_id, &task, requester))
        .await
        .unwrap()
        .number
        .get();
    tx.commit().await.unwrap();
    number
}

/// What /stats should say about `chat`, counted from its tasks.
fn counted(tasks: &[TaskRecord], chat_id: i64) -> ChatStats {
    let mut stats = ChatStats::default();
    let mut helpers: HashMap<i64, (String, u64)> = HashMap::new();
    for task in tasks.iter().filter(|t| t.chat_id == chat_id) {
        match task.state.status {
            Status::Open => stats.open += 1,
            Status::Claimed => stats.claimed += 1,
            Status::Cancelled => stats.cancelled += 1,
            Status::Done => {
                stats.done += 1;
                let claimer = task.state.claimer.map_or(0, |c| c.0);
                let name = task.claimer_name.clone().unwrap_or_default();
                helpers.entry(claimer).or_insert((name, 0)).1 += 1;
            }
        }
    }
    let mut top: Vec<(i64, (String, u64))> = helpers.into_iter().collect();
    top.sort_by_key(|(claimer, (_, done))| (std::cmp::Reverse(*done), *claimer));
    stats.helpers = top.into_iter().take(10).map(|(_, helper)| helper).collect();
    stats
}

/// A task created in a unit of `batch` that commits.
async fn create_in(batch: &Batch, chat_id: i64, requester: &Person) -> TaskRecord {
    let task = pickup();
    let mut tx = batch.begin().await.unwrap();
    let created = tx
        .create_task(&record(chat_id, &task, requester))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    created
}

/// The operator's default reminders.
fn reminders() -> linli::domain::Reminders {
    linli::config::Settings::from_vars(&Default::default())
        .unwrap()
        .reminders()
}

/// `act` in a batch of its own, committed.
async fn act_alone(ledger: &Ledger, admins: &Admins, request: &Request<'_>) -> Outcome {
    let batch = Batch::new(ledger.clone());
    let outcome = act(&batch, admins, &reminders(), request, |_, _| Vec::new())
        .await
        .unwrap();
    batch.commit().await.unwrap();
    outcome
}

#[derive(Debug, Clone)]
enum Step {
    Create {
        chat: usize,
        user: i64,
    },
    Act {
        chat: usize,
        number: u32,
        action: Action,
        user: i64,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let action = prop_oneof![
        Just(Action::Claim),
        Just(Action::Release),
        Just(Action::Done),
        Just(Action::Cancel)
    ];
    prop_oneof![
        1 => (0..2usize, 1..5i64).prop_map(|(chat, user)| Step::Create { chat, user }),
        3 => (0..2usize, 1..6u32, action, 1..5i64)
            .prop_map(|(chat, number, action, user)| Step::Act { chat, number, action, user }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Random actions by random users (user 4 is an admin) in two chats: the
    /// numbers stay dense per chat, a refused action records nothing, and
    /// every task's events replay to its stored state.
    #[test]
    fn random_actions_keep_the_ledger_consistent(steps in proptest::collection::vec(step(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let (ledger, _dir) = temp_ledger().await;
            let chats = [-100i64, -200];
            let admins = Admins(HashSet::from([4]));
            let mut created = [0u32; 2];
            for step in steps {
                match step {
                    Step::Create { chat, user } => {
                        let number = create(&ledger, chats[chat], &person(user)).await;
                        created[chat] += 1;
                        assert_eq!(number, created[chat], "numbers are dense per chat");
                    }
                    Step::Act { chat, number, action, user } => {
                        let actor = person(user);
                        let request = Request {
                            chat_id: chats[chat],
                            number: TaskNumber::new(number).unwrap(),
                            action,
                            actor: &actor,
                            note: None,
                        };
                        let before = ledger.find_task(chats[chat], request.number).await.unwrap();
                        let events_before = match &before {
                            Some(task) => ledger.events(task.id).await.unwrap().len(),
                            None => 0,
                        };
                        match act_alone(&ledger, &admins, &request).await {
                            Outcome::UnknownTask => assert!(number > created[chat]),
                            Outcome::Refused(task, _) => {
                                assert_eq!(Some(&task), before.as_ref(), "a refusal changes nothing");
                                assert_eq!(ledger.events(task.id).await.unwrap().len(), events_before);
                            }
                            Outcome::Changed(task) => {
                                assert!(!before.unwrap().state.status.is_final(), "final tasks never change");
                                assert_eq!(ledger.events(task.id).await.unwrap().len(), events_before + 1);
                            }
                        }
                    }
                }
            }
            let tasks = ledger.export(None).await.unwrap();
            for chat in chats {
                assert_eq!(ledger.stats(chat, 10).await.unwrap(), counted(&tasks, chat));
            }
            for task in tasks {
                let events = ledger.events(task.id).await.unwrap();
                assert_eq!(events[0].action, "created");
                let actions = events[1..].iter().map(|e| {
                    (Action::from_event_name(&e.action).unwrap(), UserId(e.actor_id))
                });
                assert_eq!(replay(task.state.requester, actions), Some(task.state));
                match task.state.status {
                    Status::Open => assert!(task.state.claimer.is_none() && task.claimed_at.is_none()),
                    Status::Claimed => assert!(task.claimed_at.is_some()),
                    Status::Done => assert!(task.done_at.is_some() && task.state.claimer.is_some()),
                    Status::Cancelled => assert!(task.cancelled_at.is_some()),
                }
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_have_exactly_one_winner() {
    let (ledger, _dir) = temp_ledger().await;
    create(&ledger, -100, &person(1)).await;
    let claims = (10..30).map(|user| {
        let ledger = ledger.clone();
        tokio::spawn(async move {
            let actor = person(user);
            let request = Request {
                chat_id: -100,
                number: TaskNumber::new(1).unwrap(),
                action: Action::Claim,
                actor: &actor,
                note: None,
            };
            act_alone(&ledger, &Admins(HashSet::new()), &request).await
        })
    });
    let mut winners = 0;
    let mut refused = 0;
    for claim in claims.collect::<Vec<_>>() {
        match claim.await.unwrap() {
            Outcome::Changed(_) => winners += 1,
            Outcome::Refused(_, linli::domain::Refusal::ClaimedByOther(_)) => refused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((winners, refused), (1, 19));
    let task = ledger
        .find_task(-100, TaskNumber::new(1).unwrap())
        .await
        .unwrap()
        .unwrap();
    let events = ledger.events(task.id).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.action == "claimed").count(), 1);
}

#[tokio::test]
async fn events_cannot_be_rewritten() {
    let (ledger, _dir) = temp_ledger().await;
    create(&ledger, -100, &person(1)).await;
    for statement in ["UPDATE events SET actor_id = 9", "DELETE FROM events"] {
        let refused = linli::either!(ledger.writer(), p => sqlx::query(statement)
            .execute(p)
            .await
            .map(drop));
        assert!(
            refused.unwrap_err().to_string().contains("append-only"),
            "{statement}"
        );
    }
}

/// The plan SQLite picks for `sql`, one line per step.
/// SQLite's plan for `sql`, checked to name each of `uses`.
async fn assert_plan(ledger: &Ledger, sql: &str, uses: &[&str]) -> String {
    let Backend::Sqlite(readers) = ledger.readers() else {
        panic!("SQLite's plan asked of another database");
    };
    let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
        .fetch_all(readers)
        .await
        .unwrap();
    let plan = rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n");
    for expected in uses {
        assert!(plan.contains(expected), "{sql}\n{plan}");
    }
    plan
}

#[tokio::test]
async fn chat_commands_read_through_indexes() {
    let (ledger, _dir) = temp_ledger().await;
    if !matches!(ledger.readers(), Backend::Sqlite(_)) {
        return; // SQLite's query plans; PostgreSQL's depend on its statistics.
    }
    assert_plan(&ledger, "SELECT * FROM tasks WHERE chat_id = 1 AND status IN ('open', 'claimed') ORDER BY number LIMIT 30", &["USING INDEX tasks_live"]).await;
    assert_plan(&ledger, "SELECT * FROM tasks WHERE claimer_id = 1 AND status = 'claimed' AND (NULL IS NULL OR chat_id = NULL) ORDER BY chat_id, number LIMIT 30", &["USING INDEX tasks_claimed_by"]).await;
    // /mine in a private chat: the sender's own live requests.
    assert_plan(&ledger, "SELECT * FROM tasks WHERE NULL IS NULL AND requester_id = 1 AND status IN ('open', 'claimed') AND claimer_id IS DISTINCT FROM 1", &["USING INDEX tasks_requester_live"]).await;
    // The processor's look for due timers, however many wait.
    assert_plan(&ledger, "SELECT id FROM timers WHERE state = 'pending' AND due_at <= '2026-12-03' ORDER BY due_at LIMIT 8", &["INDEX timers_due (due_at<?)"]).await;
    // /stats reads kept counts, not the chat's tasks.
    assert_plan(
        &ledger,
        "SELECT status, tasks FROM chat_status_counts WHERE chat_id = 1",
        &["USING PRIMARY KEY (chat_id=?)"],
    )
    .await;
    let helpers = assert_plan(
        &ledger,
        "SELECT claimer_id, name, done FROM helper_counts
         WHERE chat_id = 1 AND done > 0 ORDER BY done DESC, claimer_id LIMIT 10",
        &["INDEX helper_counts_top"],
    )
    .await;
    assert!(!helpers.contains("TEMP B-TREE"), "{helpers}");
    assert_plan(
        &ledger,
        "SELECT * FROM tasks WHERE chat_id = 1 AND number = 2",
        &["sqlite_autoindex_tasks_1"],
    )
    .await;
}

#[tokio::test]
async fn a_batch_keeps_its_committed_units_and_drops_the_others() {
    let (ledger, _dir) = temp_ledger().await;
    let task = pickup();
    let batch = Batch::new(ledger.clone());
    let count = || async {
        let n: i64 =
            linli::either!(ledger.readers(), p => sqlx::query_scalar("SELECT COUNT(*) FROM tasks")
            .fetch_one(p)
            .await)
            .unwrap();
        n
    };
    for (requester, keep) in [(1, true), (2, false), (3, true)] {
        let mut tx = batch.begin().await.unwrap();
        tx.create_task(&record(-100, &task, &person(requester)))
            .await
            .unwrap();
        if keep {
            tx.commit().await.unwrap();
        }
    }
    assert_eq!(
        count().await,
        0,
        "readers see nothing before the batch commits"
    );
    batch.commit().await.unwrap();
    let tasks = ledger.export(None).await.unwrap();
    let kept: Vec<_> = tasks
        .iter()
        .map(|t| (t.number.get(), t.requester_name.as_str()))
        .collect();
    assert_eq!(kept, [(1, "user 1"), (2, "user 3")]);
    // Each kept task has its event; the dropped one left none.
    let events: i64 =
        linli::either!(ledger.readers(), p => sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(p)
        .await)
        .unwrap();
    assert_eq!(events, 2);
}

#[tokio::test]
async fn a_flushed_batch_is_seen_by_readers_and_goes_on() {
    let (ledger, _dir) = temp_ledger().await;
    let task = pickup();
    let batch = Batch::new(ledger.clone());
    create_in(&batch, -100, &person(1)).await;
    batch.flush().await.unwrap();
    assert_eq!(ledger.export(None).await.unwrap().len(), 1);
    let mut tx = batch.begin().await.unwrap();
    tx.create_task(&record(-100, &task, &person(2)))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    drop(batch);
    // The unit after the flush was never committed by its batch.
    assert_eq!(ledger.export(None).await.unwrap().len(), 1);
    // A batch goes on after a flush: what follows commits with it.
    let batch = Batch::new(ledger.clone());
    create_in(&batch, -100, &person(3)).await;
    batch.flush().await.unwrap();
    create_in(&batch, -100, &person(4)).await;
    batch.commit().await.unwrap();
    let numbers: Vec<u32> = ledger
        .export(None)
        .await
        .unwrap()
        .iter()
        .map(|t| t.number.get())
        .collect();
    assert_eq!(numbers, [1, 2, 3]);
}

#[tokio::test]
async fn a_batch_marks_its_updates_handled_with_its_commit() {
    let (ledger, _dir) = temp_ledger().await;
    let stored: Vec<_> = (1..=3)
        .map(|update_id| Fetched {
            update_id,
            chat_key: -100,
            raw: "{}".into(),
        })
        .collect();
    ledger.store_updates(&stored).await.unwrap();
    let handled = || async {
        let ids: Vec<i64> = linli::either!(ledger.readers(), p => sqlx::query_scalar(
            "SELECT update_id FROM inbox WHERE handled_at IS NOT NULL ORDER BY update_id",
        )
        .fetch_all(p)
        .await)
        .unwrap();
        ids
    };
    // Dropped: nothing is marked.
    let batch = Batch::new(ledger.clone());
    batch.handled(1);
    drop(batch);
    assert!(handled().await.is_empty());
    // Marks without any effect still commit; a flush keeps them.
    let batch = Batch::new(ledger.clone());
    batch.handled(1);
    batch.flush().await.unwrap();
    assert_eq!(handled().await, [1]);
    create_in(&batch, -100, &person(1)).await;
    batch.handled(3);
    batch.commit().await.unwrap();
    assert_eq!(handled().await, [1, 3]);
    assert_eq!(ledger.export(None).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_migration_moves_messages_queued_earlier_in_its_batch() {
    let (ledger, _dir) = temp_ledger().await;
    let batch = Batch::new(ledger.clone());
    let created = create_in(&batch, -100, &person(1)).await;
    let mut tx = batch.begin().await.unwrap();
    tx.send(Outgoing::Announce {
        task_id: created.id,
        chat_id: -100,
        reply_to: Some(1),
    });
    tx.commit().await.unwrap();
    let mut tx = batch.begin().await.unwrap();
    assert_eq!(tx.migrate_chat(-100, -1_000_100).await.unwrap(), 1);
    tx.commit().await.unwrap();
    batch.commit().await.unwrap();
    let lanes: Vec<(i64, Option<i64>)> =
        linli::either!(ledger.readers(), p => sqlx::query_as("SELECT lane, chat_id FROM outbox WHERE state = 'pending'")
            .fetch_all(p)
            .await)
            .unwrap();
    // The waiting announcement, and the one that posts the live task anew.
    assert_eq!(lanes, [(-1_000_100, Some(-1_000_100)); 2]);
}

#[tokio::test]
async fn units_that_run_no_statement_leave_their_neighbours_alone() {
    let (ledger, _dir) = temp_ledger().await;
    let task = pickup();
    let batch = Batch::new(ledger.clone());
    let kept = create_in(&batch, -100, &person(1)).await;
    // Began and dropped with no statement: the kept unit stays kept.
    drop(batch.begin().await.unwrap());
    // Only queues a message: written by the batch's commit.
    let mut tx = batch.begin().await.unwrap();
    tx.send(Outgoing::Announce {
        task_id: kept.id,
        chat_id: -100,
        reply_to: None,
    });
    tx.commit().await.unwrap();
    // Wrote, then dropped: rolled back alone.
    let mut tx = batch.begin().await.unwrap();
    tx.create_task(&record(-100, &task, &person(2)))
        .await
        .unwrap();
    drop(tx);
    batch.flush().await.unwrap();
    // The sender is told where the batch queued something.
    assert_eq!(batch.written_lanes(), [-100]);
    let tasks = ledger.export(None).await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].requester_name, "user 1");
    let waiting = ledger.outbox_waiting().await.unwrap();
    assert_eq!(waiting, 1);
}

#[tokio::test]
async fn the_hot_path_reads_through_indexes() {
    let (ledger, _dir) = temp_ledger().await;
    if !matches!(ledger.readers(), Backend::Sqlite(_)) {
        return; // SQLite's query plans; PostgreSQL's depend on its statistics.
    }
    // The processor's next batch: waiting Updates in order, none walked twice.
    assert_plan(&ledger, "SELECT update_id FROM inbox AS i WHERE handled_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM inbox AS w WHERE w.chat_key = i.chat_key
                           AND w.handled_at IS NULL AND w.update_id <= i.update_id AND w.retry_at > 1)
         ORDER BY update_id LIMIT 16", &["SCAN i USING INDEX inbox_waiting", "INDEX inbox_pending"]).await;
    // The sender: first rows of ready chats, answers, announced tasks.
    assert_plan(
        &ledger,
        "SELECT o.id FROM json_each('[1]') AS l
         JOIN outbox AS o ON o.id = (SELECT MIN(p.id) FROM outbox AS p
                                     WHERE p.lane = l.value AND p.state = 'pending')",
        &["USING INTEGER PRIMARY KEY", "INDEX outbox_pending (lane=?)"],
    )
    .await;
    assert_plan(
        &ledger,
        "SELECT id FROM outbox WHERE lane = 0 AND state = 'pending' ORDER BY id LIMIT 64",
        &["INDEX outbox_pending"],
    )
    .await;
    assert_plan(
        &ledger,
        "SELECT MAX(o.id) FROM outbox o
         WHERE o.task_id = 1 AND o.kind = 'announce' AND o.state = 'pending'",
        &["INDEX outbox_pending_task"],
    )
    .await;
    // Receipts and handled marks find their rows by key.
    assert_plan(
        &ledger,
        "UPDATE outbox SET state = 'sent' FROM json_each('[[1,2,null]]') AS a
         WHERE outbox.task_id = a.value ->> 0 AND outbox.state = 'pending'
           AND outbox.kind = 'announce' AND outbox.id <= a.value ->> 1",
        &["INDEX outbox_pending_task"],
    )
    .await;
    assert_plan(
        &ledger,
        "UPDATE inbox SET handled_at = 1 WHERE update_id IN (SELECT value FROM json_each('[1]'))
           AND handled_at IS NULL",
        &["USING INTEGER PRIMARY KEY"],
    )
    .await;
}

#[tokio::test]
async fn stats_follow_a_chat_that_migrates() {
    let (ledger, _dir) = temp_ledger().await;
    for chat in [-100, -200] {
        create(&ledger, chat, &person(1)).await;
    }
    let batch = Batch::new(ledger.clone());
    let volunteer = person(2);
    let request = |chat_id| Request {
        chat_id,
        number: TaskNumber::new(1).unwrap(),
        action: Action::Claim,
        actor: &volunteer,
        note: None,
    };
    let claimed = act(
        &batch,
        &Admins(HashSet::new()),
        &reminders(),
        &request(-100),
        |_, _| Vec::new(),
    )
    .await
    .unwrap();
    assert!(matches!(claimed, Outcome::Changed(_)), "{claimed:?}");
    // Into a new id, then into a chat that has tasks of its own.
    let mut tx = batch.begin().await.unwrap();
    tx.migrate_chat(-100, -300).await.unwrap();
    tx.migrate_chat(-300, -200).await.unwrap();
    tx.commit().await.unwrap();
    batch.commit().await.unwrap();
    let tasks = ledger.export(None).await.unwrap();
    for chat in [-100, -200, -300] {
        assert_eq!(
            ledger.stats(chat, 10).await.unwrap(),
            counted(&tasks, chat),
            "chat {chat}"
        );
    }
    assert_eq!(ledger.stats(-200, 10).await.unwrap().claimed, 1);
}

#[tokio::test]
async fn a_batch_whose_commit_failed_takes_no_more_units() {
    let (ledger, _dir) = temp_ledger().await;
    let batch = Batch::new(ledger.clone());
    create_in(&batch, -100, &person(1)).await;
    let mut tx = batch.begin().await.unwrap();
    // No such task: the outbox's foreign key refuses the batch's commit.
    tx.send(Outgoing::Announce {
        task_id: 999_999,
        chat_id: -100,
        reply_to: None,
    });
    tx.commit().await.unwrap();
    assert!(batch.flush().await.is_err());
    assert!(
        batch.begin().await.is_err(),
        "a unit after a failed commit would apply before the lost ones"
    );
    assert!(ledger.export(None).await.unwrap().is_empty());
}

#[tokio::test]
async fn handled_rows_are_kept_for_their_retention_by_the_ledgers_clock() {
    let (ledger, _dir) = temp_ledger().await;
    let clock = linli::clock::Clock::manual(Utc::now());
    let ledger = ledger.with_clock(clock.clone());
    let stored = [Fetched {
        update_id: 1,
        chat_key: -100,
        raw: "{}".into(),
    }];
    ledger.store_updates(&stored).await.unwrap();
    let batch = Batch::new(ledger.clone());
    batch.handled(1);
    batch.commit().await.unwrap();
    let retention = chrono::TimeDelta::hours(48);
    assert_eq!(ledger.prune_handled(retention).await.unwrap(), (0, 0));
    clock.advance(chrono::TimeDelta::hours(47));
    assert_eq!(ledger.prune_handled(retention).await.unwrap(), (0, 0));
    clock.advance(chrono::TimeDelta::hours(2));
    assert_eq!(ledger.prune_handled(retention).await.unwrap(), (1, 0));
    let left: i64 =
        linli::either!(ledger.readers(), p => sqlx::query_scalar("SELECT COUNT(*) FROM inbox")
        .fetch_one(p)
        .await)
        .unwrap();
    assert_eq!(left, 0);
}

/// Several processes filing in one chat at once (a district runs several on
/// one PostgreSQL): every task gets its own number, and the numbers stay
/// dense, with no gap and none twice.
#[tokio::test]
async fn numbers_stay_dense_with_several_writers() {
    let (ledger, keep) = temp_ledger().await;
    let vars = HashMap::from([("DATABASE_URL".to_string(), keep.1.url.clone())]);
    let settings = Settings::from_vars(&vars).unwrap();
    let mut writers = Vec::new();
    for writer in 0..4 {
        let other = Ledger::connect(&settings.database).await.unwrap();
        writers.push(tokio::spawn(async move {
            let mut numbers = Vec::new();
            for request in 0..15 {
                numbers.push(create(&other, -100, &person(writer * 100 + request)).await);
            }
            numbers
        }));
    }
    let mut numbers: Vec<u32> = Vec::new();
    for writer in writers {
        numbers.extend(writer.await.unwrap());
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=60).collect::<Vec<u32>>());
    let stored: Vec<u32> = ledger
        .export(Some(-100))
        .await
        .unwrap()
        .iter()
        .map(|t| t.number.get())
        .collect();
    assert_eq!(stored, numbers);
}

/// A batch far longer than PostgreSQL's savepoint budget commits in parts
/// there ([`linli::ledger::batch::POSTGRES_UNITS`]) and keeps exactly the
/// units that committed, with their Updates marked handled, on both stores.
#[tokio::test]
async fn a_long_batch_keeps_every_committed_unit() {
    let (ledger, _dir) = temp_ledger().await;
    let updates: Vec<Fetched> = (1..=130)
        .map(|id| Fetched {
            update_id: id,
            chat_key: -100,
            raw: "{}".into(),
        })
        .collect();
    ledger.store_updates(&updates).await.unwrap();
    let batch = Batch::new(ledger.clone());
    let task = pickup();
    let mut kept = 0;
    for update in 1..=130i64 {
        let requester = person(update);
        let mut tx = batch.begin().await.unwrap();
        tx.create_task(&record(-100, &task, &requester))
            .await
            .unwrap();
        if update % 7 != 0 {
            tx.commit().await.unwrap();
            kept += 1;
        }
        batch.handled(update);
    }
    batch.commit().await.unwrap();
    let tasks = ledger.export(Some(-100)).await.unwrap();
    let numbers: Vec<u32> = tasks.iter().map(|t| t.number.get()).collect();
    assert_eq!(numbers, (1..=kept).collect::<Vec<u32>>());
    assert!(tasks.iter().all(|t| t.state.requester.0 % 7 != 0));
    assert_eq!(ledger.inbox_waiting().await.unwrap(), 0);
}

/// A statement that fails inside a unit (here a change the schema refuses:
/// an open task with a claimer) costs that unit only: the batch goes on
/// and keeps the units around it. On PostgreSQL, where a failed statement
/// aborts the whole transaction until it is rolled back to a savepoint,
/// this is what the savepoints are for.
#[tokio::test]
async fn a_failed_statement_in_a_unit_leaves_the_batch_going() {
    let (ledger, _dir) = temp_ledger().await;
    let task = pickup();
    let batch = Batch::new(ledger.clone());
    let mut unit = batch.begin().await.unwrap();
    let first = unit
        .create_task(&record(-100, &task, &person(1)))
        .await
        .unwrap();
    unit.commit().await.unwrap();
    let mut unit = batch.begin().await.unwrap();
    let impossible = linli::ledger::Change {
        action: Action::Claim,
        next: linli::domain::TaskState {
            status: Status::Open,
            requester: first.state.requester,
            claimer: Some(UserId(2)),
            received: false,
        },
        actor: &person(2),
        note: None,
        at: Utc::now(),
    };
    assert!(unit.apply(&first, &impossible).await.is_err());
    drop(unit);
    let mut unit = batch.begin().await.unwrap();
    unit.create_task(&record(-100, &task, &person(3)))
        .await
        .unwrap();
    unit.commit().await.unwrap();
    batch.commit().await.unwrap();
    let tasks = ledger.export(Some(-100)).await.unwrap();
    let kept: Vec<(u32, Status)> = tasks
        .iter()
        .map(|t| (t.number.get(), t.state.status))
        .collect();
    assert_eq!(kept, [(1, Status::Open), (2, Status::Open)]);
    let events = ledger.events(first.id).await.unwrap();
    assert_eq!(events.len(), 1, "only its creation: {events:?}");
}
