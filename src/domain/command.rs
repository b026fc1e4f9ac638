//! Turning a chat message (text or photo caption) into a command.
//!
//! The grammar is the one of `interface.md`: `/cmd args` or `/cmd@BotName
//! args`; a command addressed to another bot is not ours. Usage mistakes come
//! back as [`UsageError`]s, which the chat edge explains to the sender.

use super::household::{parse_household, HouseholdEntry};
use super::input;
use super::kind::Kind;
use super::lang::Lang;
use super::reminders::{self, Wait};
use super::task::{Action, TaskNumber};

/// How long free text may be, in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub flat_max_chars: usize,
    pub details_max_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            flat_max_chars: 32,
            details_max_chars: 500,
        }
    }
}

/// A request for help, as `/need` states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    pub kind: Kind,
    pub flat: String,
    pub details: String,
}

/// A command that changes tasks: `/claim`, `/release`, `/done`, `/cancel`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskCommand {
    pub action: Action,
    /// The numbers written, in order, without repeats. Empty when none was:
    /// the command then acts on the task whose announcement it answers.
    pub numbers: Vec<TaskNumber>,
    /// What follows the numbers: the note of `/done`; for the others, words
    /// that are not numbers (refused when no number was written).
    pub text: String,
}

impl TaskCommand {
    /// What to tell the sender when no number was written and the command
    /// answers no task's message: which task, or that a word is not a number.
    pub fn unnamed(&self) -> UsageError {
        let name = CommandName::of_action(self.action);
        let (word, _) = input::next_word(&self.text);
        // After `/done` the words are a note, not a failed number.
        if word.is_empty() || self.action == Action::Done {
            UsageError::MissingNumber(name)
        } else {
            UsageError::BadNumber(name, word.to_string())
        }
    }
}

/// The commands of the interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Need(NewTask),
    /// `/need` alone, or with only a KIND: asking step by step, privately.
    Ask(Option<Kind>),
    /// `/start`, with the payload of the deep link that opened the chat.
    Start(Option<String>),
    Change(TaskCommand),
    Open,
    Mine,
    Stats,
    Help,
    /// `/settings` (show) or `/settings KEY VALUE` (change; admins only).
    Settings(Option<SettingChange>),
    /// `/lead` (true) or `/unlead` (false), as a reply to the person's
    /// message (admins only).
    Lead(bool),
    /// `/household FLAT [until YYYY-MM-DD] [NOTE]` (admins and leads).
    Household(HouseholdEntry),
    /// `/households`: the chat's households, answered privately.
    Households,
    /// `/forgetme`: erase the flat and details of one's finished requests.
    ForgetMe,
    /// `/board`: post the chat's board, or post it anew at the bottom
    /// (admins only).
    Board,
}

/// A per-chat setting an admin changes with `/settings KEY VALUE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingChange {
    /// `language en|zh`: what the whole group reads.
    Language(Lang),
    /// `hide_flats on|off`: every request of the chat private.
    HideFlats(bool),
    /// `time_zone NAME`: an IANA name such as `Asia/Shanghai`.
    TimeZone(chrono_tz::Tz),
    /// `unclaimed_after`, `check_claim_after`, `auto_release_after`: a
    /// duration (`90s`, `30m`, `3h`, `2d`), or `off` (`None`).
    Wait(Wait, Option<chrono::TimeDelta>),
    /// `digest_at HH:MM`, or `off` (`None`).
    DigestAt(Option<chrono::NaiveTime>),
    /// `board on|off`: the board instead of per-task announcements.
    Board(bool),
}

impl SettingChange {
    /// The change as `/settings` takes it (`unclaimed_after 30m`): what
    /// [`SettingChange::parse`] reads back.
    pub fn as_args(&self) -> String {
        let on_off = |on: bool| if on { "on" } else { "off" };
        match self {
            SettingChange::Language(lang) => format!("language {}", lang.as_str()),
            SettingChange::HideFlats(on) => format!("hide_flats {}", on_off(*on)),
            SettingChange::Board(on) => format!("board {}", on_off(*on)),
            SettingChange::TimeZone(zone) => format!("time_zone {}", zone.name()),
            SettingChange::Wait(wait, after) => match after {
                Some(after) => format!("{} {}", wait.key(), reminders::ShownWait(*after)),
                None => format!("{} off", wait.key()),
            },
            SettingChange::DigestAt(at) => match at {
                Some(at) => format!("digest_at {}", at.format("%H:%M")),
                None => "digest_at off".into(),
            },
        }
    }

    /// Reads the arguments of `/settings`: `None` when there are none
    /// (show the settings).
    pub fn parse(args: &str) -> Result<Option<SettingChange>, UsageError> {
        parse_setting(args)
    }
}

impl Command {
    /// The command's name, for usage hints.
    pub fn name(&self) -> CommandName {
        match self {
            Command::Need(_) | Command::Ask(_) => CommandName::Need,
            Command::Start(_) => CommandName::Start,
            Command::Change(command) => CommandName::of_action(command.action),
            Command::Open => CommandName::Open,
            Command::Mine => CommandName::Mine,
            Command::Stats => CommandName::Stats,
            Command::Help => CommandName::Help,
            Command::Settings(_) => CommandName::Settings,
            Command::Lead(true) => CommandName::Lead,
            Command::Lead(false) => CommandName::Unlead,
            Command::Household(_) => CommandName::Household,
            Command::Households => CommandName::Households,
            Command::ForgetMe => CommandName::ForgetMe,
            Command::Board => CommandName::Board,
        }
    }
}

/// Names of the commands, for menus and usage hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandName {
    Need,
    Claim,
    Release,
    Done,
    Cancel,
    Open,
    Mine,
    Stats,
    Help,
    Start,
    Settings,
    Lead,
    Unlead,
    Household,
    Households,
    ForgetMe,
    Board,
}

impl CommandName {
    /// The commands residents see in a group's menu, in its order.
    pub const MENU: [CommandName; 9] = [
        CommandName::Need,
        CommandName::Claim,
        CommandName::Done,
        CommandName::Release,
        CommandName::Cancel,
        CommandName::Open,
        CommandName::Mine,
        CommandName::Stats,
        CommandName::Help,
    ];

    /// What a chat's admins see besides [`CommandName::MENU`].
    pub const ADMIN_MENU: [CommandName; 6] = [
        CommandName::Settings,
        CommandName::Board,
        CommandName::Lead,
        CommandName::Unlead,
        CommandName::Household,
        CommandName::Households,
    ];

    /// The menu of a private chat with the bot.
    pub const PRIVATE_MENU: [CommandName; 5] = [
        CommandName::Need,
        CommandName::Mine,
        CommandName::Households,
        CommandName::ForgetMe,
        CommandName::Help,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CommandName::Need => "need",
            CommandName::Claim => "claim",
            CommandName::Release => "release",
            CommandName::Done => "done",
            CommandName::Cancel => "cancel",
            CommandName::Open => "open",
            CommandName::Mine => "mine",
            CommandName::Stats => "stats",
            CommandName::Help => "help",
            CommandName::Start => "start",
            CommandName::Settings => "settings",
            CommandName::Lead => "lead",
            CommandName::Unlead => "unlead",
            CommandName::Household => "household",
            CommandName::Households => "households",
            CommandName::ForgetMe => "forgetme",
            CommandName::Board => "board",
        }
    }

    /// The command that asks for `action`.
    pub fn of_action(action: Action) -> CommandName {
        match action {
            Action::Claim => CommandName::Claim,
            Action::Release => CommandName::Release,
            // A receipt is a button on a done task's announcement.
            Action::Done | Action::Receive | Action::Missing => CommandName::Done,
            Action::Cancel => CommandName::Cancel,
        }
    }

    fn action(self) -> Option<Action> {
        Some(match self {
            CommandName::Claim => Action::Claim,
            CommandName::Release => Action::Release,
            CommandName::Done => Action::Done,
            CommandName::Cancel => Action::Cancel,
            _ => return None,
        })
    }

    fn from_word(word: &str) -> Option<CommandName> {
        Some(match word.to_ascii_lowercase().as_str() {
            "need" | "request" => CommandName::Need,
            "claim" => CommandName::Claim,
            "release" => CommandName::Release,
            "done" => CommandName::Done,
            "cancel" => CommandName::Cancel,
            "open" => CommandName::Open,
            "mine" => CommandName::Mine,
            "stats" => CommandName::Stats,
            "help" => CommandName::Help,
            "start" => CommandName::Start,
            "settings" | "setting" => CommandName::Settings,
            "lead" => CommandName::Lead,
            "unlead" => CommandName::Unlead,
            "household" => CommandName::Household,
            "households" => CommandName::Households,
            "forgetme" => CommandName::ForgetMe,
            "board" => CommandName::Board,
            _ => return None,
        })
    }
}

/// A command that was meant for us but cannot be carried out as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsageError {
    UnknownKind(String),
    MissingFlat,
    FlatTooLong {
        max: usize,
    },
    DetailsTooLong {
        max: usize,
    },
    /// A task command without its number, not sent as a reply to a task.
    MissingNumber(CommandName),
    BadNumber(CommandName, String),
    /// More task numbers in one command than it may carry.
    TooManyNumbers(CommandName, usize),
    /// `/settings KEY …` with a key there is none of.
    UnknownSetting(String),
    /// `/settings language VALUE` with a value that is not a language.
    BadLanguage(String),
    /// `/settings hide_flats VALUE` with a value that is neither on nor off.
    BadSwitch(String),
    /// `/settings time_zone NAME` with a name that is no IANA time zone.
    BadTimeZone(String),
    /// `/settings KEY VALUE` of a wait, with a value that is no duration.
    BadWait(Wait, String),
    /// `/settings digest_at VALUE` with a value that is no `HH:MM`.
    BadTimeOfDay(String),
    /// `/household` without a flat.
    MissingHouseholdFlat,
    /// `/household FLAT until DATE` with a date that is not YYYY-MM-DD.
    BadDate(String),
}

impl UsageError {
    /// The command the mistake was made in.
    pub fn command(&self) -> CommandName {
        match self {
            UsageError::UnknownKind(_)
            | UsageError::MissingFlat
            | UsageError::FlatTooLong { .. }
            | UsageError::DetailsTooLong { .. } => CommandName::Need,
            UsageError::MissingNumber(name) | UsageError::BadNumber(name, _) => *name,
            UsageError::TooManyNumbers(name, _) => *name,
            UsageError::UnknownSetting(_)
            | UsageError::BadLanguage(_)
            | UsageError::BadSwitch(_)
            | UsageError::BadTimeZone(_)
            | UsageError::BadWait(..)
            | UsageError::BadTimeOfDay(_) => CommandName::Settings,
            UsageError::MissingHouseholdFlat | UsageError::BadDate(_) => CommandName::Household,
        }
    }
}

/// What a message says to the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Not a command, a command of another bot, or one we do not have.
    NotForUs,
    Command(Command),
    Invalid(UsageError),
}

/// Reads `text` (a message text or photo caption) sent where the bot is
/// `bot_username`. A full-width `／` starts a command too (see [`input`]).
pub fn parse_command(text: &str, bot_username: &str, limits: &Limits) -> Parsed {
    let Some(rest) = text.strip_prefix('/').or_else(|| text.strip_prefix('／')) else {
        return Parsed::NotForUs;
    };
    let head_len = rest.find(input::is_separator).unwrap_or(rest.len());
    let (head, args) = rest.split_at(head_len);
    let head = input::fold(head);
    let (word, addressee) = match head.split_once('@') {
        Some((word, bot)) => (word, Some(bot)),
        None => (head.as_str(), None),
    };
    if addressee.is_some_and(|bot| !bot.eq_ignore_ascii_case(bot_username)) {
        return Parsed::NotForUs;
    }
    let Some(name) = CommandName::from_word(word) else {
        return Parsed::NotForUs;
    };
    match parse_args(name, args, limits) {
        Ok(command) => Parsed::Command(command),
        Err(error) => Parsed::Invalid(error),
    }
}

fn parse_args(name: CommandName, args: &str, limits: &Limits) -> Result<Command, UsageError> {
    if let Some(action) = name.action() {
        return parse_task_command(action, args, limits).map(Command::Change);
    }
    Ok(match name {
        CommandName::Need => match parse_need(args, limits)? {
            NeedArgs::Task(task) => Command::Need(task),
            NeedArgs::Ask(kind) => Command::Ask(kind),
        },
        CommandName::Start => Command::Start(start_payload(args)),
        CommandName::Open => Command::Open,
        CommandName::Mine => Command::Mine,
        CommandName::Stats => Command::Stats,
        CommandName::Settings => Command::Settings(parse_setting(args)?),
        CommandName::Lead => Command::Lead(true),
        CommandName::Unlead => Command::Lead(false),
        CommandName::Household => Command::Household(parse_household(args, limits)?),
        CommandName::Households => Command::Households,
        CommandName::ForgetMe => Command::ForgetMe,
        CommandName::Board => Command::Board,
        _ => Command::Help,
    })
}

/// Reads `on` or `off` (and their other words) as a setting's value.
fn switch(value: &str) -> Result<bool, UsageError> {
    let (word, _) = input::next_word(value);
    match input::fold(word).to_lowercase().as_str() {
        "on" | "yes" | "true" | "1" | "开" | "開" | "是" => Ok(true),
        "off" | "no" | "false" | "0" | "关" | "關" | "否" => Ok(false),
        _ => Err(UsageError::BadSwitch(word.to_string())),
    }
}

fn parse_setting(args: &str) -> Result<Option<SettingChange>, UsageError> {
    let (key, value) = input::next_word(args);
    if key.is_empty() {
        return Ok(None);
    }
    match input::fold(key).to_lowercase().as_str() {
        "language" | "lang" | "语言" | "語言" => {
            let (word, _) = input::next_word(value);
            Lang::from_setting(word)
                .map(|lang| Some(SettingChange::Language(lang)))
                .ok_or_else(|| UsageError::BadLanguage(word.to_string()))
        }
        "hide_flats" | "hideflats" | "hide-flats" | "隐藏门牌" | "隱藏門牌" => {
            switch(value).map(|on| Some(SettingChange::HideFlats(on)))
        }
        "board" | "看板" => switch(value).map(|on| Some(SettingChange::Board(on))),
        "time_zone" | "timezone" | "time-zone" | "tz" | "时区" | "時區" => {
            let (word, _) = input::next_word(value);
            word.parse()
                .map(|zone| Some(SettingChange::TimeZone(zone)))
                .map_err(|_| UsageError::BadTimeZone(word.to_string()))
        }
        "digest_at" | "digest" | "digest-at" | "日报" | "日報" => {
            let (word, _) = input::next_word(value);
            reminders::parse_time_of_day(&input::fold(word))
                .map(|at| Some(SettingChange::DigestAt(at)))
                .ok_or_else(|| UsageError::BadTimeOfDay(word.to_string()))
        }
        other => {
            let wait = Wait::ALL
                .into_iter()
                .find(|wait| wait.key() == other.replace('-', "_"))
                .ok_or_else(|| UsageError::UnknownSetting(key.to_string()))?;
            let (word, _) = input::next_word(value);
            reminders::parse_wait(&input::fold(word))
                .map(|after| Some(SettingChange::Wait(wait, after)))
                .ok_or_else(|| UsageError::BadWait(wait, word.to_string()))
        }
    }
}

fn parse_need(args: &str, limits: &Limits) -> Result<NeedArgs, UsageError> {
    let (kind_word, rest) = input::next_word(args);
    if kind_word.is_empty() {
        return Ok(NeedArgs::Ask(None));
    }
    let kind =
        Kind::from_word(kind_word).ok_or_else(|| UsageError::UnknownKind(kind_word.to_string()))?;
    if input::next_word(rest).0.is_empty() {
        return Ok(NeedArgs::Ask(Some(kind)));
    }
    let (flat, details) = read_flat(rest, limits)?;
    Ok(NeedArgs::Task(NewTask {
        kind,
        flat,
        details: free_text(details, limits.details_max_chars)?,
    }))
}

/// What `/need` was given: a whole request, or (nothing, or only a KIND)
/// the wish to ask step by step in a private chat.
enum NeedArgs {
    Task(NewTask),
    Ask(Option<Kind>),
}

/// Reads the FLAT at the start of `text`, a building and its room joined
/// (`3号楼 201`); returns it and what follows it.
pub fn read_flat<'t>(text: &'t str, limits: &Limits) -> Result<(String, &'t str), UsageError> {
    let (first, mut rest) = input::next_word(text);
    if first.is_empty() {
        return Err(UsageError::MissingFlat);
    }
    let mut flat = first.to_string();
    // `3号楼 201`: a building, then its room, is one flat.
    loop {
        let (part, after) = input::next_word(rest);
        let fits = flat.chars().count() + part.chars().count() <= limits.flat_max_chars;
        if !(fits && input::is_building(&flat) && input::is_flat_part(part)) {
            break;
        }
        flat.push_str(part);
        rest = after;
    }
    if flat.chars().count() > limits.flat_max_chars {
        return Err(UsageError::FlatTooLong {
            max: limits.flat_max_chars,
        });
    }
    Ok((flat, rest))
}

/// The payload of `/start PAYLOAD`: what a deep link carries
/// (`t.me/<bot>?start=PAYLOAD`, 1–64 of `A-Za-z0-9_-`); anything else is
/// no payload.
fn start_payload(args: &str) -> Option<String> {
    let (word, _) = input::next_word(args);
    let valid = (1..=64).contains(&word.len())
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    valid.then(|| word.to_string())
}

/// `/claim 3 4`, `/done 3 left at the door`, `/done` (as a reply) and the like.
///
/// `/done` takes several numbers only when nothing else follows them: in
/// `/done 3 4 bags` the `4` belongs to the note.
fn parse_task_command(
    action: Action,
    args: &str,
    limits: &Limits,
) -> Result<TaskCommand, UsageError> {
    let name = CommandName::of_action(action);
    let mut numbers: Vec<TaskNumber> = Vec::new();
    let mut rest = args.trim();
    loop {
        let (word, after) = input::next_word(rest);
        // `3,4` typed without a space counts as two numbers too.
        let parts: Option<Vec<TaskNumber>> = input::fold(word)
            .split(',')
            .map(TaskNumber::parse)
            .collect();
        let Some(parts) = parts.filter(|p| !p.is_empty()) else {
            break;
        };
        for number in parts {
            if !numbers.contains(&number) {
                numbers.push(number);
            }
        }
        rest = after;
    }
    if numbers.len() > MAX_NUMBERS {
        return Err(UsageError::TooManyNumbers(name, MAX_NUMBERS));
    }
    if action == Action::Done && numbers.len() > 1 && !rest.is_empty() {
        numbers.truncate(1);
        rest = input::next_word(args).1;
    }
    if action != Action::Done || numbers.is_empty() {
        // `#0`, `3x`, `and 4`: a number meant but not read as one is refused
        // rather than left out. (After `/done N` it is the note's.)
        let meant = |word: &&str| {
            let word = input::fold(word);
            word.starts_with('#') || word.chars().any(|c| c.is_ascii_digit())
        };
        let mut words = rest.split(input::is_separator).filter(|w| !w.is_empty());
        let stray = if numbers.is_empty() {
            words.next().filter(meant)
        } else {
            words.find(meant)
        };
        if let Some(word) = stray {
            return Err(UsageError::BadNumber(name, word.to_string()));
        }
    }
    Ok(TaskCommand {
        action,
        numbers,
        text: free_text(rest, limits.details_max_chars)?,
    })
}

/// The most task numbers one command may name: a reply lists each, and
/// every change is an edit paced into the group's budget.
pub const MAX_NUMBERS: usize = 20;

fn free_text(text: &str, max_chars: usize) -> Result<String, UsageError> {
    if text.chars().count() > max_chars {
        return Err(UsageError::DetailsTooLong { max: max_chars });
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BOT: &str = "linli_bot";

    fn parse(text: &str) -> Parsed {
        parse_command(text, BOT, &Limits::default())
    }

    fn need(kind: Kind, flat: &str, details: &str) -> Parsed {
        Parsed::Command(Command::Need(NewTask {
            kind,
            flat: flat.into(),
            details: details.into(),
        }))
    }

    fn number(n: u32) -> TaskNumber {
        TaskNumber::new(n).unwrap()
    }

    #[test]
    fn need_reads_kind_flat_and_details() {
        assert_eq!(
            parse("/need pickup 12-302 JD parcel at north gate"),
            need(Kind::Pickup, "12-302", "JD parcel at north gate")
        );
        assert_eq!(
            parse("/need 倒垃圾 3号楼201"),
            need(Kind::Rubbish, "3号楼201", "")
        );
        assert_eq!(
            parse("/request MEDS 5-101 ibuprofen"),
            need(Kind::Medicine, "5-101", "ibuprofen")
        );
    }

    #[test]
    fn details_keep_their_line_breaks_and_flat_ends_at_any_white_space() {
        assert_eq!(
            parse("/need food 1-1\u{3000}milk\n  eggs "),
            need(Kind::Groceries, "1-1", "milk\n  eggs")
        );
        assert_eq!(parse("/need\tother\n2-2\tx"), need(Kind::Other, "2-2", "x"));
    }

    #[test]
    fn need_refuses_what_the_interface_refuses() {
        assert_eq!(parse("/need"), Parsed::Command(Command::Ask(None)));
        assert_eq!(
            parse("/need 快递"),
            Parsed::Command(Command::Ask(Some(Kind::Pickup)))
        );
        assert_eq!(
            parse("/need taxi 1-1"),
            Parsed::Invalid(UsageError::UnknownKind("taxi".into()))
        );
        assert_eq!(
            parse("/need pickup"),
            Parsed::Command(Command::Ask(Some(Kind::Pickup)))
        );
        let long_flat = format!("/need pickup {}", "楼".repeat(33));
        assert_eq!(
            parse(&long_flat),
            Parsed::Invalid(UsageError::FlatTooLong { max: 32 })
        );
        let ok_flat = format!("/need pickup {}", "楼".repeat(32));
        assert!(matches!(parse(&ok_flat), Parsed::Command(_)));
        let long_details = format!("/need pickup 1-1 {}", "字".repeat(501));
        assert_eq!(
            parse(&long_details),
            Parsed::Invalid(UsageError::DetailsTooLong { max: 500 })
        );
        let ok_details = format!("/need pickup 1-1 {}", "字".repeat(500));
        assert!(matches!(parse(&ok_details), Parsed::Command(_)));
    }

    fn change(action: Action, numbers: &[u32], text: &str) -> Parsed {
        Parsed::Command(Command::Change(TaskCommand {
            action,
            numbers: numbers.iter().map(|n| number(*n)).collect(),
            text: text.into(),
        }))
    }

    #[test]
    fn task_commands_read_their_numbers() {
        assert_eq!(parse("/claim 3"), change(Action::Claim, &[3], ""));
        assert_eq!(parse("/release #4"), change(Action::Release, &[4], ""));
        assert_eq!(
            parse("/cancel@linli_bot 5"),
            change(Action::Cancel, &[5], "")
        );
        assert_eq!(
            parse("/done 6 left it at the door"),
            change(Action::Done, &[6], "left it at the door")
        );
        assert_eq!(parse("/done #6"), change(Action::Done, &[6], ""));
        assert_eq!(parse("/claim 3 4 3"), change(Action::Claim, &[3, 4], ""));
        assert_eq!(
            parse("/claim 3、4，#5"),
            change(Action::Claim, &[3, 4, 5], "")
        );
        assert_eq!(parse("/done 3 4"), change(Action::Done, &[3, 4], ""));
        assert_eq!(parse("/claim 3,4"), change(Action::Claim, &[3, 4], ""));
        assert_eq!(parse("/claim 3 谢谢"), change(Action::Claim, &[3], "谢谢"));
        for stray in ["/claim 3 #0", "/cancel 3 4x", "/release 3 and 4"] {
            assert!(
                matches!(parse(stray), Parsed::Invalid(UsageError::BadNumber(..))),
                "{stray}"
            );
        }
        let many = format!(
            "/cancel {}",
            (1..=21)
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert_eq!(
            parse(&many),
            Parsed::Invalid(UsageError::TooManyNumbers(CommandName::Cancel, 20))
        );
        assert_eq!(
            parse("/done 3 4 bags"),
            change(Action::Done, &[3], "4 bags")
        );
        assert_eq!(
            parse("/done 3，放门口了，谢谢"),
            change(Action::Done, &[3], "放门口了，谢谢")
        );
    }

    #[test]
    fn a_task_command_without_a_number_is_left_to_the_message_it_answers() {
        assert_eq!(parse("/claim"), change(Action::Claim, &[], ""));
        assert_eq!(
            parse("/done left it at the door"),
            change(Action::Done, &[], "left it at the door")
        );
        assert_eq!(parse("/claim x"), change(Action::Claim, &[], "x"));
        assert_eq!(
            parse("/done 0"),
            Parsed::Invalid(UsageError::BadNumber(CommandName::Done, "0".into()))
        );
        assert_eq!(
            parse("/claim #x"),
            Parsed::Invalid(UsageError::BadNumber(CommandName::Claim, "#x".into()))
        );
    }

    #[test]
    fn what_a_chinese_input_method_sends_is_understood() {
        assert_eq!(
            parse("／need 取快递 3号楼201"),
            need(Kind::Pickup, "3号楼201", "")
        );
        assert_eq!(parse("／ｃｌａｉｍ　＃３"), change(Action::Claim, &[3], ""));
        assert_eq!(parse("/claim ３"), change(Action::Claim, &[3], ""));
        assert_eq!(
            parse("/need 快递，3号楼201"),
            need(Kind::Pickup, "3号楼201", "")
        );
        assert_eq!(
            parse("/need 快递、3号楼201、北门，谢谢"),
            need(Kind::Pickup, "3号楼201", "北门，谢谢")
        );
        assert_eq!(
            parse("/need 药 3号楼 201 降压药"),
            need(Kind::Medicine, "3号楼201", "降压药")
        );
        assert_eq!(
            parse("/need 药 3栋 2单元 201室"),
            need(Kind::Medicine, "3栋2单元201室", "")
        );
        assert_eq!(
            parse("/need 菜 12幢 302"),
            need(Kind::Groceries, "12幢302", "")
        );
        assert_eq!(
            parse("/need 药 3号楼 2盒降压药"),
            need(Kind::Medicine, "3号楼", "2盒降压药")
        );
        assert_eq!(parse("/need 買藥 5-101"), need(Kind::Medicine, "5-101", ""));
        assert_eq!(
            parse("/need ＰＩＣＫＵＰ 5-101"),
            need(Kind::Pickup, "5-101", "")
        );
    }

    #[test]
    fn listing_commands_take_no_arguments() {
        assert_eq!(parse("/open"), Parsed::Command(Command::Open));
        assert_eq!(parse("/mine@Linli_Bot"), Parsed::Command(Command::Mine));
        assert_eq!(parse("/stats please"), Parsed::Command(Command::Stats));
        assert_eq!(parse("/help"), Parsed::Command(Command::Help));
        assert_eq!(parse("/start"), Parsed::Command(Command::Start(None)));
        assert_eq!(
            parse("/start ask_-100123"),
            Parsed::Command(Command::Start(Some("ask_-100123".into())))
        );
        assert_eq!(parse("/start a.b"), Parsed::Command(Command::Start(None)));
        assert_eq!(parse("/settings"), Parsed::Command(Command::Settings(None)));
        assert_eq!(
            parse("/settings hide_flats ON"),
            Parsed::Command(Command::Settings(Some(SettingChange::HideFlats(true))))
        );
        assert_eq!(
            parse("/settings 隐藏门牌 关"),
            Parsed::Command(Command::Settings(Some(SettingChange::HideFlats(false))))
        );
        assert_eq!(
            parse("/settings hide_flats maybe"),
            Parsed::Invalid(UsageError::BadSwitch("maybe".into()))
        );
        assert_eq!(
            parse("/settings language 中文"),
            Parsed::Command(Command::Settings(Some(SettingChange::Language(Lang::Zh))))
        );
        assert_eq!(
            parse("/settings language fr"),
            Parsed::Invalid(UsageError::BadLanguage("fr".into()))
        );
        assert_eq!(
            parse("/settings colour red"),
            Parsed::Invalid(UsageError::UnknownSetting("colour".into()))
        );
    }

    #[test]
    fn other_bots_plain_text_and_unknown_commands_are_not_ours() {
        assert_eq!(parse("/claim@other_bot 3"), Parsed::NotForUs);
        assert_eq!(parse("/need@OtherBot pickup 1-1"), Parsed::NotForUs);
        assert_eq!(parse("please /claim 3"), Parsed::NotForUs);
        assert_eq!(parse("/unknown 3"), Parsed::NotForUs);
        assert_eq!(parse(""), Parsed::NotForUs);
        assert_eq!(parse("/"), Parsed::NotForUs);
    }

    #[test]
    fn command_names_match_the_menu() {
        let menus = [
            &CommandName::MENU[..],
            &CommandName::ADMIN_MENU,
            &CommandName::PRIVATE_MENU,
        ];
        for name in menus.into_iter().flatten().copied() {
            assert_eq!(CommandName::from_word(name.as_str()), Some(name));
        }
    }

    proptest! {
        /// Any text at all parses without panicking, and whatever it yields
        /// respects the limits.
        #[test]
        fn any_text_parses_within_limits(text in ".{0,700}", prefix in prop_oneof![Just("/need "), Just("/done 1 "), Just("/"), Just("")]) {
            let input = format!("{prefix}{text}");
            match parse(&input) {
                Parsed::Command(Command::Need(task)) => {
                    prop_assert!(!task.flat.is_empty());
                    prop_assert!(task.flat.chars().count() <= 32);
                    prop_assert!(!task.flat.chars().any(char::is_whitespace));
                    prop_assert!(task.details.chars().count() <= 500);
                }
                Parsed::Command(Command::Change(command)) => {
                    prop_assert!(command.text.chars().count() <= 500);
                }
                _ => {}
            }
        }
    }
}
