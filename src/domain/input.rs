//! Input as people really type it: what a Chinese input method sends, read
//! as the ASCII the grammar is written in.
//!
//! Full-width forms (`／`, `＃`, `３`, `Ｐ`) count as their ASCII forms in
//! the words of a command; the full-width space is white space; `，` and `、`
//! separate the words before DETAILS and NOTE (which keep theirs). A flat
//! written in two parts, a building then the room (`3号楼 201`), is one flat.

/// The first and last code points of the full-width forms of ASCII `!`..`~`.
const FULL_WIDTH: std::ops::RangeInclusive<char> = '\u{FF01}'..='\u{FF5E}';
/// How far a full-width form sits above its ASCII form.
const FULL_WIDTH_OFFSET: u32 = 0xFEE0;

/// `c` as ASCII when it is a full-width form of an ASCII character.
pub fn fold_char(c: char) -> char {
    if FULL_WIDTH.contains(&c) {
        char::from_u32(c as u32 - FULL_WIDTH_OFFSET).unwrap_or(c)
    } else {
        c
    }
}

/// `word` with its full-width forms folded to ASCII.
pub fn fold(word: &str) -> String {
    word.chars().map(fold_char).collect()
}

/// Whether `c` separates the words of a command: white space of any kind,
/// or the comma and enumeration comma a Chinese input method types.
pub fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '，' | '、')
}

/// Splits off the first word; the rest starts after the separators that
/// follow it and keeps its own inner spacing and punctuation.
pub fn next_word(text: &str) -> (&str, &str) {
    let text = text.trim_start_matches(is_separator);
    let end = text.find(is_separator).unwrap_or(text.len());
    let rest = text[end..].trim_start_matches(is_separator);
    (&text[..end], rest.trim_end())
}

/// Endings of the first part of a two-part flat: the building (`3号楼`,
/// `3栋`, `12幢`, `5座`) or the entrance (`2单元`), simplified and traditional.
const BUILDING_ENDINGS: [&str; 10] = [
    "楼", "樓", "栋", "棟", "幢", "座", "单元", "單元", "号", "號",
];

/// Whether `part` names a building, so that a room may follow it.
pub fn is_building(part: &str) -> bool {
    part.chars()
        .next()
        .is_some_and(|c| fold_char(c).is_ascii_digit())
        && BUILDING_ENDINGS.iter().any(|end| part.ends_with(end))
}

/// Whether `word` reads as the next part of a flat after a building: it
/// starts with a digit and is digits, letters and dashes, optionally ending
/// in a room or building word (`201`, `2单元`, `301室`, `12-B`).
pub fn is_flat_part(word: &str) -> bool {
    const ROOM_ENDINGS: [&str; 4] = ["室", "房", "层", "層"];
    let core = ROOM_ENDINGS
        .iter()
        .chain(BUILDING_ENDINGS.iter())
        .find_map(|end| word.strip_suffix(end))
        .unwrap_or(word);
    let mut chars = core.chars().map(fold_char);
    chars.next().is_some_and(|c| c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_forms_fold_to_ascii() {
        assert_eq!(fold("／ｎｅｅｄ"), "/need");
        assert_eq!(fold("＃３"), "#3");
        assert_eq!(fold("１２"), "12");
        assert_eq!(fold("3号楼"), "3号楼");
    }

    #[test]
    fn words_split_at_any_separator_and_the_rest_keeps_its_own() {
        assert_eq!(
            next_word("快递，3号楼201，北门, 谢谢"),
            ("快递", "3号楼201，北门, 谢谢")
        );
        assert_eq!(next_word("\u{3000}3、4"), ("3", "4"));
        assert_eq!(next_word("  "), ("", ""));
        assert_eq!(next_word("a\n  b c "), ("a", "b c"));
    }

    #[test]
    fn buildings_and_rooms_are_told_apart() {
        for building in ["3号楼", "3栋", "12幢", "5座", "2单元", "３號樓"] {
            assert!(is_building(building), "{building}");
        }
        for not in ["北门", "楼", "201", "快递"] {
            assert!(!is_building(not), "{not}");
        }
        for part in ["201", "２０１", "301室", "2单元", "12B", "1-2"] {
            assert!(is_flat_part(part), "{part}");
        }
        for not in ["降压药", "2盒药", "", "北门", "-1"] {
            assert!(!is_flat_part(not), "{not}");
        }
    }
}
