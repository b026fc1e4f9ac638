//! Turning a chat message (text or photo caption) into a command.
//!
//! The grammar is the one of `interface.md`: `/cmd args` or `/cmd@BotName
//! args`; a command addressed to another bot is not ours. Usage mistakes come
//! back as [`UsageError`]s, which the chat edge explains to the sender.

use super::kind::Kind;
use super::task::TaskNumber;

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

/// The commands of the interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Need(NewTask),
    Claim(TaskNumber),
    Release(TaskNumber),
    Done(TaskNumber, Option<String>),
    Cancel(TaskNumber),
    Open,
    Mine,
    Stats,
    Help,
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
}

impl CommandName {
    /// The commands in the order the menu shows them.
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
        }
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
            "help" | "start" => CommandName::Help,
            _ => return None,
        })
    }
}

/// A command that was meant for us but cannot be carried out as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsageError {
    /// `/need` without a kind.
    MissingKind,
    UnknownKind(String),
    MissingFlat,
    FlatTooLong {
        max: usize,
    },
    DetailsTooLong {
        max: usize,
    },
    /// A task command without its number.
    MissingNumber(CommandName),
    BadNumber(CommandName, String),
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
/// `bot_username`.
pub fn parse_command(text: &str, bot_username: &str, limits: &Limits) -> Parsed {
    let Some(rest) = text.strip_prefix('/') else {
        return Parsed::NotForUs;
    };
    let head_len = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let (head, args) = rest.split_at(head_len);
    let (word, addressee) = match head.split_once('@') {
        Some((word, bot)) => (word, Some(bot)),
        None => (head, None),
    };
    if addressee.is_some_and(|bot| !bot.eq_ignore_ascii_case(bot_username)) {
        return Parsed::NotForUs;
    }
    let Some(name) = CommandName::from_word(word) else {
        return Parsed::NotForUs;
    };
    match parse_args(name, args.trim(), limits) {
        Ok(command) => Parsed::Command(command),
        Err(error) => Parsed::Invalid(error),
    }
}

fn parse_args(name: CommandName, args: &str, limits: &Limits) -> Result<Command, UsageError> {
    Ok(match name {
        CommandName::Need => Command::Need(parse_need(args, limits)?),
        CommandName::Claim => Command::Claim(parse_number(name, args)?.0),
        CommandName::Release => Command::Release(parse_number(name, args)?.0),
        CommandName::Cancel => Command::Cancel(parse_number(name, args)?.0),
        CommandName::Done => {
            let (number, note) = parse_number(name, args)?;
            let note = free_text(note, limits.details_max_chars)?;
            Command::Done(number, (!note.is_empty()).then_some(note))
        }
        CommandName::Open => Command::Open,
        CommandName::Mine => Command::Mine,
        CommandName::Stats => Command::Stats,
        CommandName::Help => Command::Help,
    })
}

/// Splits off the first word; the rest keeps its inner spacing and line breaks.
fn first_word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    (&text[..end], text[end..].trim())
}

fn parse_need(args: &str, limits: &Limits) -> Result<NewTask, UsageError> {
    let (kind_word, rest) = first_word(args);
    if kind_word.is_empty() {
        return Err(UsageError::MissingKind);
    }
    let kind =
        Kind::from_word(kind_word).ok_or_else(|| UsageError::UnknownKind(kind_word.to_string()))?;
    let (flat, details) = first_word(rest);
    if flat.is_empty() {
        return Err(UsageError::MissingFlat);
    }
    if flat.chars().count() > limits.flat_max_chars {
        return Err(UsageError::FlatTooLong {
            max: limits.flat_max_chars,
        });
    }
    Ok(NewTask {
        kind,
        flat: flat.to_string(),
        details: free_text(details, limits.details_max_chars)?,
    })
}

fn parse_number(name: CommandName, args: &str) -> Result<(TaskNumber, &str), UsageError> {
    let (word, rest) = first_word(args);
    if word.is_empty() {
        return Err(UsageError::MissingNumber(name));
    }
    let number =
        TaskNumber::parse(word).ok_or_else(|| UsageError::BadNumber(name, word.to_string()))?;
    Ok((number, rest))
}

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
        assert_eq!(parse("/need"), Parsed::Invalid(UsageError::MissingKind));
        assert_eq!(
            parse("/need taxi 1-1"),
            Parsed::Invalid(UsageError::UnknownKind("taxi".into()))
        );
        assert_eq!(
            parse("/need pickup"),
            Parsed::Invalid(UsageError::MissingFlat)
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

    #[test]
    fn task_commands_read_their_number() {
        assert_eq!(
            parse("/claim 3"),
            Parsed::Command(Command::Claim(number(3)))
        );
        assert_eq!(
            parse("/release #4"),
            Parsed::Command(Command::Release(number(4)))
        );
        assert_eq!(
            parse("/cancel@linli_bot 5"),
            Parsed::Command(Command::Cancel(number(5)))
        );
        assert_eq!(
            parse("/done 6 left it at the door"),
            Parsed::Command(Command::Done(number(6), Some("left it at the door".into())))
        );
        assert_eq!(
            parse("/done #6"),
            Parsed::Command(Command::Done(number(6), None))
        );
        assert_eq!(
            parse("/claim"),
            Parsed::Invalid(UsageError::MissingNumber(CommandName::Claim))
        );
        assert_eq!(
            parse("/claim x"),
            Parsed::Invalid(UsageError::BadNumber(CommandName::Claim, "x".into()))
        );
        assert_eq!(
            parse("/done 0"),
            Parsed::Invalid(UsageError::BadNumber(CommandName::Done, "0".into()))
        );
    }

    #[test]
    fn listing_commands_take_no_arguments() {
        assert_eq!(parse("/open"), Parsed::Command(Command::Open));
        assert_eq!(parse("/mine@Linli_Bot"), Parsed::Command(Command::Mine));
        assert_eq!(parse("/stats please"), Parsed::Command(Command::Stats));
        assert_eq!(parse("/help"), Parsed::Command(Command::Help));
        assert_eq!(parse("/start"), Parsed::Command(Command::Help));
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
        for name in CommandName::MENU {
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
                Parsed::Command(Command::Done(_, Some(note))) => {
                    prop_assert!(note.chars().count() <= 500);
                }
                _ => {}
            }
        }
    }
}
