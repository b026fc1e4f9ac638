//! The languages linli speaks, and which one a person or a chat reads.

/// A language the bot speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "zh" => Some(Lang::Zh),
            _ => None,
        }
    }

    /// The language of a Telegram `language_code`: Chinese for any `zh*`,
    /// English for any `en*`, `None` for the rest.
    pub fn from_telegram(language_code: Option<&str>) -> Option<Lang> {
        let code = language_code.unwrap_or_default().to_ascii_lowercase();
        if code.starts_with("zh") {
            Some(Lang::Zh)
        } else if code.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The language for a sender: their Telegram language when we speak
    /// it, else `fallback` (the chat's).
    pub fn for_sender(language_code: Option<&str>, fallback: Lang) -> Lang {
        Lang::from_telegram(language_code).unwrap_or(fallback)
    }

    /// What an admin may write for a language in `/settings language`.
    pub fn from_setting(word: &str) -> Option<Lang> {
        match super::input::fold(word).to_lowercase().as_str() {
            "en" | "english" | "英文" | "英语" | "英語" => Some(Lang::En),
            "zh" | "chinese" | "中文" | "汉语" | "漢語" | "cn" => Some(Lang::Zh),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telegram_languages_map_to_ours() {
        assert_eq!(Lang::from_telegram(Some("zh-hans")), Some(Lang::Zh));
        assert_eq!(Lang::from_telegram(Some("en-GB")), Some(Lang::En));
        assert_eq!(Lang::from_telegram(Some("ru")), None);
        assert_eq!(Lang::from_telegram(None), None);
        assert_eq!(Lang::for_sender(Some("de"), Lang::Zh), Lang::Zh);
        assert_eq!(Lang::from_setting("ＺＨ"), Some(Lang::Zh));
        assert_eq!(Lang::from_setting("中文"), Some(Lang::Zh));
        assert_eq!(Lang::from_setting("fr"), None);
    }
}
