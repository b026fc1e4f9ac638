//! The rules of linli, with no Telegram and no SQL in them.
//!
//! - [`board`] — a group's board: whether it is on, and what it shows.
//! - [`kind`] — the kinds of help a task can ask for, and their aliases.
//! - [`input`] — what input methods send, read as the grammar's ASCII.
//! - [`command`] — turning a chat message into a [`Command`] or a [`UsageError`].
//! - [`draft`] — a private request written step by step, and deep links.
//! - [`household`] — households registered by admins and building leads.
//! - [`lang`] — the languages, and which one a person reads.
//! - [`notice`] — what a requester or claimer is told about their task.
//! - [`reminders`] — reminders and digests: their settings and due times.
//! - [`task`] — task states, the transitions between them and who may make them.
//! - [`view`] — what messages about tasks show, before they are put into words.
//!
//! Everything here is a pure function of its inputs, so it is tested in
//! microseconds, with proptest sequences of random actions in `task`.

pub mod board;
pub mod command;
pub mod draft;
pub mod household;
pub mod input;
pub mod kind;
pub mod lang;
pub mod notice;
pub mod reminders;
pub mod task;
pub mod view;

pub use board::{BoardItem, BoardState};
pub use command::{
    parse_command, Command, CommandName, Limits, NewTask, Parsed, SettingChange, TaskCommand,
    UsageError,
};
pub use draft::{is_send_word, Answer, DeepLink, Draft, DraftError, Media, MediaKind, Step};
pub use household::{may_manage_households, HouseholdEntry};
pub use kind::Kind;
pub use lang::Lang;
pub use notice::Notice;
pub use reminders::{ChatTiming, Reminders, TimerKind, Wait};
pub use task::{decide, replay, Action, Person, Refusal, Status, TaskNumber, TaskState, UserId};
pub use view::{ChatStats, MineItem, TaskCard};
