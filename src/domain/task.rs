//! Task states, the transitions between them, and who may make each one.
//!
//! `open → claimed → done`, `claimed → open` (released), and `open | claimed →
//! cancelled`. Cancelled is final; a done task changes only by its
//! requester's receipt: received (final), or not received (claimed again
//! by the same volunteer). A task has at most one claimer.
//! [`decide`] is the only place these rules live; [`replay`] rebuilds a task's
//! state from its events, which the ledger's tests use to check its rows.

use std::fmt;
use std::str::FromStr;

/// A Telegram user, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub i64);

/// Someone who acts on a task, with the name shown in the chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: UserId,
    pub name: String,
}

/// A task's number within its chat, shown as `#N`; starts at 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskNumber(u32);

impl TaskNumber {
    /// A number that can name a task: 1 or more.
    pub fn new(n: u32) -> Option<Self> {
        (n >= 1).then_some(TaskNumber(n))
    }

    pub fn get(self) -> u32 {
        self.0
    }

    /// Reads `N`, `#N` or `＃N`.
    pub fn parse(text: &str) -> Option<Self> {
        let digits = text
            .strip_prefix('#')
            .or_else(|| text.strip_prefix('＃'))
            .unwrap_or(text);
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().and_then(TaskNumber::new)
    }
}

impl fmt::Display for TaskNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Open,
    Claimed,
    Done,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Claimed => "claimed",
            Status::Done => "done",
            Status::Cancelled => "cancelled",
        }
    }

    /// Done and cancelled tasks are finished (a done one may still be
    /// taken back by its requester's "not received").
    pub fn is_final(self) -> bool {
        matches!(self, Status::Done | Status::Cancelled)
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(Status::Open),
            "claimed" => Ok(Status::Claimed),
            "done" => Ok(Status::Done),
            "cancelled" => Ok(Status::Cancelled),
            other => Err(format!("unknown status {other:?}")),
        }
    }
}

/// What the rules need to know about a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskState {
    pub status: Status,
    pub requester: UserId,
    pub claimer: Option<UserId>,
    /// Its requester said a done task arrived.
    pub received: bool,
}

impl TaskState {
    /// A task as it is created.
    pub fn new(requester: UserId) -> Self {
        TaskState {
            status: Status::Open,
            requester,
            claimer: None,
            received: false,
        }
    }
}

/// A change someone asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Claim,
    Release,
    Done,
    Cancel,
    /// The requester's "received" on a done task.
    Receive,
    /// The requester's "not received": the done task is claimed again by
    /// the same volunteer.
    Missing,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Claim,
        Action::Release,
        Action::Done,
        Action::Cancel,
        Action::Receive,
        Action::Missing,
    ];

    /// The event name the ledger records for this action.
    pub fn event_name(self) -> &'static str {
        match self {
            Action::Claim => "claimed",
            Action::Release => "released",
            Action::Done => "done",
            Action::Cancel => "cancelled",
            Action::Receive => "received",
            Action::Missing => "not_received",
        }
    }

    /// Whether it is the requester's receipt of a done task.
    pub fn is_receipt(self) -> bool {
        matches!(self, Action::Receive | Action::Missing)
    }

    pub fn from_event_name(name: &str) -> Option<Action> {
        Action::ALL
            .into_iter()
            .find(|action| action.event_name() == name)
    }
}

/// Why an action was refused. Every variant is explained to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The task is done or cancelled.
    Finished(Status),
    /// Claim of a task the actor already holds.
    AlreadyYours,
    /// Claim of a task someone else holds.
    ClaimedByOther(UserId),
    /// Release or done of a task nobody holds.
    NotClaimed,
    /// Release or done by someone who is neither the claimer nor an admin.
    NotYourClaim,
    /// Cancel by someone who is neither the requester nor an admin.
    NotYourRequest,
    /// A receipt by someone who is neither the requester nor a lead or admin.
    NotYourReceipt,
    /// A receipt of a task that is not done (yet).
    NotDone,
    /// A receipt of a task already received.
    AlreadyReceived,
}

impl Refusal {
    /// Whether being a chat admin would have allowed the action.
    pub fn admin_may_override(self) -> bool {
        matches!(
            self,
            Refusal::NotYourClaim | Refusal::NotYourRequest | Refusal::NotYourReceipt
        )
    }
}

/// Applies `action` by `actor` (an admin of the chat or not; for a
/// receipt, a building lead counts as one) to `task`.
///
/// Returns the state the task moves to, or why it may not.
pub fn decide(
    task: TaskState,
    action: Action,
    actor: UserId,
    actor_is_admin: bool,
) -> Result<TaskState, Refusal> {
    if action.is_receipt() {
        return receipt(task, action, actor, actor_is_admin);
    }
    if task.status.is_final() {
        return Err(Refusal::Finished(task.status));
    }
    let holds_it = task.claimer == Some(actor);
    match (action, task.status) {
        (Action::Claim, Status::Open) => Ok(TaskState {
            status: Status::Claimed,
            claimer: Some(actor),
            ..task
        }),
        (Action::Claim, _) if holds_it => Err(Refusal::AlreadyYours),
        (Action::Claim, _) => Err(Refusal::ClaimedByOther(
            task.claimer.unwrap_or(task.requester),
        )),
        (Action::Release | Action::Done, Status::Open) => Err(Refusal::NotClaimed),
        (Action::Release | Action::Done, _) if !(holds_it || actor_is_admin) => {
            Err(Refusal::NotYourClaim)
        }
        (Action::Release, _) => Ok(TaskState {
            status: Status::Open,
            claimer: None,
            ..task
        }),
        (Action::Done, _) => Ok(TaskState {
            status: Status::Done,
            ..task
        }),
        (Action::Cancel, _) if task.requester == actor || actor_is_admin => Ok(TaskState {
            status: Status::Cancelled,
            ..task
        }),
        (Action::Cancel, _) => Err(Refusal::NotYourRequest),
        (Action::Receive | Action::Missing, _) => receipt(task, action, actor, actor_is_admin),
    }
}

/// The requester's word on a done task: received, or not (claimed again by
/// the same volunteer).
fn receipt(
    task: TaskState,
    action: Action,
    actor: UserId,
    may_confirm: bool,
) -> Result<TaskState, Refusal> {
    match task.status {
        Status::Cancelled => return Err(Refusal::Finished(Status::Cancelled)),
        Status::Open | Status::Claimed => return Err(Refusal::NotDone),
        Status::Done if task.received => return Err(Refusal::AlreadyReceived),
        Status::Done => {}
    }
    if task.requester != actor && !may_confirm {
        return Err(Refusal::NotYourReceipt);
    }
    Ok(match action {
        Action::Missing => TaskState {
            status: Status::Claimed,
            ..task
        },
        _ => TaskState {
            received: true,
            ..task
        },
    })
}

/// Rebuilds a task's state from its requester and its recorded actions
/// (each with its actor), in order. `None` when the events could not have
/// happened, which would mean the ledger broke the rules.
pub fn replay(
    requester: UserId,
    events: impl IntoIterator<Item = (Action, UserId)>,
) -> Option<TaskState> {
    events
        .into_iter()
        .try_fold(TaskState::new(requester), |state, (action, actor)| {
            // The ledger records admin overrides too, so replay allows them.
            decide(state, action, actor, true).ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALICE: UserId = UserId(1);
    const BOB: UserId = UserId(2);
    const CAROL: UserId = UserId(3);

    fn claimed_by(claimer: UserId) -> TaskState {
        decide(TaskState::new(ALICE), Action::Claim, claimer, false).unwrap()
    }

    #[test]
    fn task_numbers_read_plain_and_hashed() {
        assert_eq!(TaskNumber::parse("7").map(TaskNumber::get), Some(7));
        assert_eq!(TaskNumber::parse("#12").map(TaskNumber::get), Some(12));
        assert_eq!(TaskNumber::parse("＃3").map(TaskNumber::get), Some(3));
        for bad in [
            "0",
            "#0",
            "",
            "#",
            "-1",
            "1a",
            "##1",
            "99999999999",
            "+1",
            "1.0",
        ] {
            assert_eq!(TaskNumber::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn anyone_claims_an_open_task() {
        let state = claimed_by(BOB);
        assert_eq!(state.status, Status::Claimed);
        assert_eq!(state.claimer, Some(BOB));
    }

    #[test]
    fn a_claimed_task_refuses_a_second_claim() {
        let state = claimed_by(BOB);
        assert_eq!(
            decide(state, Action::Claim, CAROL, true),
            Err(Refusal::ClaimedByOther(BOB))
        );
        assert_eq!(
            decide(state, Action::Claim, BOB, false),
            Err(Refusal::AlreadyYours)
        );
    }

    #[test]
    fn only_the_claimer_or_an_admin_releases_or_finishes() {
        let state = claimed_by(BOB);
        for action in [Action::Release, Action::Done] {
            assert_eq!(
                decide(state, action, CAROL, false),
                Err(Refusal::NotYourClaim)
            );
            assert!(decide(state, action, CAROL, true).is_ok());
            assert!(decide(state, action, BOB, false).is_ok());
        }
        let released = decide(state, Action::Release, BOB, false).unwrap();
        assert_eq!(released, TaskState::new(ALICE));
        let done = decide(state, Action::Done, CAROL, true).unwrap();
        assert_eq!((done.status, done.claimer), (Status::Done, Some(BOB)));
    }

    #[test]
    fn an_open_task_cannot_be_released_or_done() {
        let open = TaskState::new(ALICE);
        assert_eq!(
            decide(open, Action::Release, ALICE, true),
            Err(Refusal::NotClaimed)
        );
        assert_eq!(
            decide(open, Action::Done, ALICE, true),
            Err(Refusal::NotClaimed)
        );
    }

    #[test]
    fn only_the_requester_or_an_admin_cancels() {
        let open = TaskState::new(ALICE);
        assert_eq!(
            decide(open, Action::Cancel, BOB, false),
            Err(Refusal::NotYourRequest)
        );
        assert_eq!(
            decide(open, Action::Cancel, ALICE, false).map(|s| s.status),
            Ok(Status::Cancelled)
        );
        let claimed = claimed_by(BOB);
        assert_eq!(
            decide(claimed, Action::Cancel, BOB, false),
            Err(Refusal::NotYourRequest)
        );
        assert_eq!(
            decide(claimed, Action::Cancel, CAROL, true).map(|s| s.status),
            Ok(Status::Cancelled)
        );
    }

    #[test]
    fn done_and_cancelled_are_final() {
        let done = decide(claimed_by(BOB), Action::Done, BOB, false).unwrap();
        let cancelled = decide(TaskState::new(ALICE), Action::Cancel, ALICE, false).unwrap();
        for state in [done, cancelled] {
            for action in [Action::Claim, Action::Release, Action::Done, Action::Cancel] {
                assert_eq!(
                    decide(state, action, ALICE, true),
                    Err(Refusal::Finished(state.status))
                );
            }
        }
    }

    #[test]
    fn the_requester_or_a_lead_has_the_last_word_on_a_done_task() {
        let claimed = claimed_by(BOB);
        let done = decide(claimed, Action::Done, BOB, false).unwrap();
        assert_eq!(
            decide(done, Action::Receive, BOB, false),
            Err(Refusal::NotYourReceipt)
        );
        let received = decide(done, Action::Receive, ALICE, false).unwrap();
        assert!(received.received);
        assert_eq!(received.status, Status::Done);
        assert_eq!(
            decide(received, Action::Missing, ALICE, false),
            Err(Refusal::AlreadyReceived)
        );
        // Not received: claimed again by the same volunteer, by a lead too.
        assert_eq!(decide(done, Action::Missing, CAROL, true), Ok(claimed));
        assert_eq!(
            decide(claimed, Action::Receive, ALICE, false),
            Err(Refusal::NotDone)
        );
        let cancelled = decide(TaskState::new(ALICE), Action::Cancel, ALICE, false).unwrap();
        assert_eq!(
            decide(cancelled, Action::Missing, ALICE, false),
            Err(Refusal::Finished(Status::Cancelled))
        );
    }

    #[test]
    fn only_permission_refusals_are_overridden_by_admins() {
        assert!(Refusal::NotYourClaim.admin_may_override());
        assert!(Refusal::NotYourRequest.admin_may_override());
        assert!(!Refusal::NotClaimed.admin_may_override());
        assert!(!Refusal::Finished(Status::Done).admin_may_override());
    }

    #[test]
    fn event_names_round_trip() {
        for action in Action::ALL {
            assert_eq!(Action::from_event_name(action.event_name()), Some(action));
        }
        assert_eq!(Action::from_event_name("created"), None);
    }

    fn any_action() -> impl Strategy<Value = Action> {
        prop_oneof![
            Just(Action::Claim),
            Just(Action::Release),
            Just(Action::Done),
            Just(Action::Cancel),
            Just(Action::Receive),
            Just(Action::Missing)
        ]
    }

    proptest! {
        /// Random actions by random users, some of them admins: whatever
        /// happens, the invariants hold and the accepted actions replay to
        /// the same state.
        #[test]
        fn random_sequences_keep_the_invariants(
            steps in proptest::collection::vec((any_action(), 1i64..5, any::<bool>()), 0..60)
        ) {
            let requester = UserId(1);
            let mut state = TaskState::new(requester);
            let mut accepted = Vec::new();
            for (action, actor, is_admin) in steps {
                let actor = UserId(actor);
                if let Ok(next) = decide(state, action, actor, is_admin) {
                    let receipt = state.status == Status::Done && !state.received;
                    prop_assert!(!state.status.is_final() || receipt, "a final task changed");
                    prop_assert!(!state.received, "a received task changed");
                    accepted.push((action, actor));
                    state = next;
                }
                // One claimer at most, and only while claimed or after done.
                match state.status {
                    Status::Open => prop_assert_eq!(state.claimer, None),
                    Status::Claimed | Status::Done => prop_assert!(state.claimer.is_some()),
                    Status::Cancelled => {}
                }
                prop_assert_eq!(state.requester, requester);
            }
            prop_assert_eq!(replay(requester, accepted), Some(state));
        }

    }
}
