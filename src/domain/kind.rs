//! Kinds of help a task asks for, each with the words residents use for it.

use std::fmt;
use std::str::FromStr;

/// What a household needs done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Pickup,
    Rubbish,
    Medicine,
    Groceries,
    Other,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Pickup,
        Kind::Rubbish,
        Kind::Medicine,
        Kind::Groceries,
        Kind::Other,
    ];

    /// The canonical name, as stored in the ledger and exported.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Pickup => "pickup",
            Kind::Rubbish => "rubbish",
            Kind::Medicine => "medicine",
            Kind::Groceries => "groceries",
            Kind::Other => "other",
        }
    }

    /// Every word accepted for this kind, the canonical name first: the
    /// interface's aliases, then the everyday words residents write, in
    /// simplified and traditional Chinese.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Kind::Pickup => &[
                "pickup",
                "delivery",
                "parcel",
                "快递",
                "取快递",
                "拿快递",
                "代取快递",
                "取件",
                "拿件",
                "包裹",
                "取包裹",
                "拿包裹",
                "外卖",
                "取外卖",
                "拿外卖",
                "快遞",
                "取快遞",
                "拿快遞",
                "外賣",
                "取外賣",
                "拿外賣",
            ],
            Kind::Rubbish => &[
                "rubbish",
                "trash",
                "garbage",
                "垃圾",
                "倒垃圾",
                "扔垃圾",
                "丢垃圾",
                "丟垃圾",
                "拿垃圾",
                "垃圾分类",
                "垃圾分類",
            ],
            Kind::Medicine => &[
                "medicine", "meds", "药", "买药", "药品", "拿药", "取药", "配药", "开药", "藥",
                "買藥", "藥品", "拿藥", "取藥", "配藥", "開藥",
            ],
            Kind::Groceries => &[
                "groceries",
                "food",
                "菜",
                "买菜",
                "买东西",
                "买吃的",
                "买米",
                "买水",
                "食物",
                "食品",
                "日用品",
                "生活用品",
                "買菜",
                "買東西",
                "買吃的",
                "買米",
                "買水",
            ],
            Kind::Other => &["other", "其他", "其它", "别的", "別的", "帮忙", "幫忙"],
        }
    }

    /// Finds the kind a resident meant; case and full-width letters do not
    /// matter.
    pub fn from_word(word: &str) -> Option<Kind> {
        let word = super::input::fold(word).to_lowercase();
        Kind::ALL
            .into_iter()
            .find(|kind| kind.aliases().contains(&word.as_str()))
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;

    /// Parses a canonical name or an alias.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::from_word(s).ok_or_else(|| format!("unknown kind {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alias_of_the_interface_is_understood() {
        let cases = [
            ("pickup", Kind::Pickup),
            ("delivery", Kind::Pickup),
            ("parcel", Kind::Pickup),
            ("快递", Kind::Pickup),
            ("取快递", Kind::Pickup),
            ("rubbish", Kind::Rubbish),
            ("trash", Kind::Rubbish),
            ("garbage", Kind::Rubbish),
            ("垃圾", Kind::Rubbish),
            ("倒垃圾", Kind::Rubbish),
            ("medicine", Kind::Medicine),
            ("meds", Kind::Medicine),
            ("药", Kind::Medicine),
            ("买药", Kind::Medicine),
            ("groceries", Kind::Groceries),
            ("food", Kind::Groceries),
            ("菜", Kind::Groceries),
            ("买菜", Kind::Groceries),
            ("other", Kind::Other),
            ("其他", Kind::Other),
        ];
        for (word, kind) in cases {
            assert_eq!(Kind::from_word(word), Some(kind), "{word}");
        }
    }

    #[test]
    fn kinds_are_case_insensitive_and_unknown_words_are_not_kinds() {
        assert_eq!(Kind::from_word("PickUp"), Some(Kind::Pickup));
        assert_eq!(Kind::from_word("MEDS"), Some(Kind::Medicine));
        assert_eq!(Kind::from_word("ｍｅｄｓ"), Some(Kind::Medicine));
        for (word, kind) in [
            ("拿快递", Kind::Pickup),
            ("扔垃圾", Kind::Rubbish),
            ("买东西", Kind::Groceries),
            ("药品", Kind::Medicine),
            ("買藥", Kind::Medicine),
        ] {
            assert_eq!(Kind::from_word(word), Some(kind), "{word}");
        }
        assert_eq!(Kind::from_word("taxi"), None);
        assert_eq!(Kind::from_word(""), None);
    }

    #[test]
    fn canonical_names_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(kind.as_str().parse::<Kind>(), Ok(kind));
        }
    }
}
