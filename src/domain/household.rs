//! Households and building leads (interface.md, *Private requests*).
//!
//! A household that cannot go out is registered by a chat admin or a
//! building lead (楼长) with `/household FLAT [until YYYY-MM-DD] [NOTE]`;
//! admins name leads with `/lead` and `/unlead`. Leads and admins see the
//! registered households privately, and are offered their flats when they
//! ask for help on a household's behalf.

use chrono::NaiveDate;

use super::command::{read_flat, Limits, UsageError};
use super::input;

/// A household as `/household` registers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdEntry {
    pub flat: String,
    /// The last day it needs help, if known.
    pub until: Option<NaiveDate>,
    pub note: String,
}

/// The words that may come before the date: `until 2026-12-31`, `到 …`.
const UNTIL_WORDS: [&str; 5] = ["until", "till", "到", "至", "直到"];

/// Reads `FLAT [until YYYY-MM-DD] [NOTE]`.
pub fn parse_household(args: &str, limits: &Limits) -> Result<HouseholdEntry, UsageError> {
    if input::next_word(args).0.is_empty() {
        return Err(UsageError::MissingHouseholdFlat);
    }
    let (flat, rest) = read_flat(args, limits)?;
    let (word, after) = input::next_word(rest);
    let (until, note) = if UNTIL_WORDS.contains(&input::fold(word).to_lowercase().as_str()) {
        let (date, note) = input::next_word(after);
        let folded = input::fold(date);
        let until = NaiveDate::parse_from_str(&folded, "%Y-%m-%d")
            .map_err(|_| UsageError::BadDate(date.to_string()))?;
        (Some(until), note)
    } else {
        (None, rest)
    };
    if note.chars().count() > limits.details_max_chars {
        return Err(UsageError::DetailsTooLong {
            max: limits.details_max_chars,
        });
    }
    Ok(HouseholdEntry {
        flat,
        until,
        note: note.to_string(),
    })
}

/// Who may register households, list them, and ask on their behalf: a
/// chat admin or one of the chat's building leads. Only admins name leads.
pub fn may_manage_households(is_admin: bool, is_lead: bool) -> bool {
    is_admin || is_lead
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &str) -> Result<HouseholdEntry, UsageError> {
        parse_household(args, &Limits::default())
    }

    #[test]
    fn a_household_is_a_flat_an_optional_date_and_a_note() {
        let entry = parse("3号楼 201 until 2026-12-31 lives alone, deaf").unwrap();
        assert_eq!(entry.flat, "3号楼201");
        assert_eq!(entry.until, NaiveDate::from_ymd_opt(2026, 12, 31));
        assert_eq!(entry.note, "lives alone, deaf");
        let entry = parse("12-302 到 ２０２７-０１-０２").unwrap();
        assert_eq!(entry.until, NaiveDate::from_ymd_opt(2027, 1, 2));
        assert_eq!(entry.note, "");
        let entry = parse("5-5 wheelchair").unwrap();
        assert_eq!((entry.until, entry.note.as_str()), (None, "wheelchair"));
    }

    #[test]
    fn mistakes_are_named() {
        assert_eq!(parse(""), Err(UsageError::MissingHouseholdFlat));
        assert_eq!(
            parse("5-5 until 31.12.2026"),
            Err(UsageError::BadDate("31.12.2026".into()))
        );
        assert_eq!(
            parse(&format!("5-5 {}", "x".repeat(501))),
            Err(UsageError::DetailsTooLong { max: 500 })
        );
        assert!(may_manage_households(false, true) && !may_manage_households(false, false));
    }
}
