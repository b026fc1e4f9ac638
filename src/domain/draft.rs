//! A private request, written step by step in a private chat with the bot
//! (interface.md, *Private requests*): the group, the kind, the flat, the
//! details, then send or abort. And the deep links that open that chat.
//!
//! A [`Draft`] knows which step it is at from what it holds; [`Draft::take`]
//! is the one place that decides what an answer does to it.

use super::command::{read_flat, Limits, UsageError};
use super::input;
use super::kind::Kind;

/// How a private request's details were given besides text: Telegram keeps
/// the file, the ledger its `file_id`, which the bot re-sends to the claimer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Photo,
    Voice,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Photo => "photo",
            MediaKind::Voice => "voice",
        }
    }

    pub fn from_code(code: &str) -> Option<MediaKind> {
        match code {
            "photo" => Some(MediaKind::Photo),
            "voice" => Some(MediaKind::Voice),
            _ => None,
        }
    }
}

/// A photo or voice message: its kind and Telegram's `file_id` for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub kind: MediaKind,
    pub file_id: String,
}

/// A private request being written. A field is `None` until its step is
/// answered; skipped details are `Some("")`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    /// The group it is for.
    pub chat_id: Option<i64>,
    /// The group's forum topic it was asked from, where its announcement goes.
    pub thread_id: Option<i32>,
    pub kind: Option<Kind>,
    pub flat: Option<String>,
    pub details: Option<String>,
    pub media: Option<Media>,
}

/// The question a draft waits to have answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Group,
    Kind,
    Flat,
    Details,
    /// Everything is there: send it, or abort.
    Confirm,
}

/// An answer the person gave, by button or by writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer<'a> {
    /// A `group:` button (the group was checked to be theirs).
    Group(i64),
    /// A `kind:` button.
    Kind(Kind),
    /// A `flat:` button: a flat used before, or a registered household's.
    Flat(String),
    /// Something typed.
    Text(&'a str),
    /// A photo or voice message, with its caption.
    Media(Media, &'a str),
    /// The `skip:` button: no details.
    Skip,
}

/// Why an answer does not fit the draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DraftError {
    /// It answers another question than the one asked (an old button, a
    /// photo where the flat is asked): the current question is asked again.
    NotNow(Step),
    /// It answers the question, wrongly: explained, and asked again.
    Usage(UsageError),
    /// A flat written in more words than a flat has.
    FlatHasSpaces,
}

impl Draft {
    /// A draft for `chat_id` if known, of `kind` if given.
    pub fn new(chat_id: Option<i64>, kind: Option<Kind>) -> Draft {
        Draft {
            chat_id,
            kind,
            ..Draft::default()
        }
    }

    /// The question it waits to have answered.
    pub fn step(&self) -> Step {
        match self {
            Draft { chat_id: None, .. } => Step::Group,
            Draft { kind: None, .. } => Step::Kind,
            Draft { flat: None, .. } => Step::Flat,
            Draft { details: None, .. } => Step::Details,
            _ => Step::Confirm,
        }
    }

    /// The draft with `answer` taken, or why it does not fit. Details
    /// written once everything is there replace the earlier ones.
    pub fn take(&self, answer: Answer<'_>, limits: &Limits) -> Result<Draft, DraftError> {
        let step = self.step();
        let mut next = self.clone();
        match (step, answer) {
            (Step::Group, Answer::Group(chat_id)) => next.chat_id = Some(chat_id),
            (Step::Kind, Answer::Kind(kind)) => next.kind = Some(kind),
            // Typed as a /need is: KIND [FLAT [DETAILS]].
            (Step::Kind, Answer::Text(text)) => {
                let (word, rest) = input::next_word(text);
                let kind = Kind::from_word(word).ok_or(DraftError::NotNow(Step::Kind))?;
                next.kind = Some(kind);
                if !rest.is_empty() {
                    let (flat, details) = read_flat(rest, limits).map_err(DraftError::Usage)?;
                    next.flat = Some(flat);
                    if !details.is_empty() {
                        next.details = Some(self::details(details, limits)?);
                    }
                }
            }
            (Step::Flat, Answer::Flat(flat)) => next.flat = Some(flat),
            (Step::Flat, Answer::Text(text)) => {
                let (flat, rest) = read_flat(text, limits).map_err(DraftError::Usage)?;
                if !rest.is_empty() {
                    return Err(DraftError::FlatHasSpaces);
                }
                next.flat = Some(flat);
            }
            (Step::Details | Step::Confirm, Answer::Text(text)) => {
                next.details = Some(details(text, limits)?);
                next.media = None;
            }
            (Step::Details | Step::Confirm, Answer::Media(media, caption)) => {
                next.details = Some(details(caption, limits)?);
                next.media = Some(media);
            }
            (Step::Details, Answer::Skip) => next.details = Some(String::new()),
            (step, _) => return Err(DraftError::NotNow(step)),
        }
        Ok(next)
    }
}

/// Whether `text`, typed when everything is there, means "send it" (what
/// people type instead of tapping the button).
pub fn is_send_word(text: &str) -> bool {
    const WORDS: [&str; 14] = [
        "send", "yes", "ok", "okay", "y", "发送", "發送", "发", "發", "好", "好的", "是", "确认",
        "確認",
    ];
    let word = input::fold(text.trim()).to_lowercase();
    let word = word.trim_end_matches(['!', '.', '！', '。', '~']);
    WORDS.contains(&word)
}

fn details(text: &str, limits: &Limits) -> Result<String, DraftError> {
    let text = text.trim();
    if text.chars().count() > limits.details_max_chars {
        return Err(DraftError::Usage(UsageError::DetailsTooLong {
            max: limits.details_max_chars,
        }));
    }
    Ok(text.to_string())
}

/// What a deep link (`t.me/<bot>?start=PAYLOAD`) asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeepLink {
    /// Ask for help in this group (from this forum topic; of this kind),
    /// privately.
    Ask {
        chat_id: i64,
        thread_id: Option<i32>,
        kind: Option<Kind>,
    },
    /// The details of this task (by its ledger id), for its claimer.
    Details(i64),
    /// This group's households, for an admin or a building lead.
    Households(i64),
}

impl DeepLink {
    /// The payload: at most 64 of `A-Za-z0-9_-`, as Telegram allows
    /// (`ask_<chat>[_t<topic>][_k<kind>]`: at most 53).
    pub fn payload(self) -> String {
        match self {
            DeepLink::Ask {
                chat_id,
                thread_id,
                kind,
            } => {
                let mut payload = format!("ask_{chat_id}");
                if let Some(thread) = thread_id {
                    payload += &format!("_t{thread}");
                }
                if let Some(kind) = kind {
                    payload += &format!("_k{}", kind.as_str());
                }
                payload
            }
            DeepLink::Details(task_id) => format!("task_{task_id}"),
            DeepLink::Households(chat_id) => format!("households_{chat_id}"),
        }
    }

    /// Reads a payload this made; `None` for anything else.
    pub fn parse(payload: &str) -> Option<DeepLink> {
        let mut parts = payload.split('_');
        let head = parts.next()?;
        let id: i64 = parts.next()?.parse().ok()?;
        let (mut thread_id, mut kind) = (None, None);
        for part in parts {
            if let Some(thread) = part.strip_prefix('t') {
                thread_id = Some(thread.parse().ok()?);
            } else if let Some(word) = part.strip_prefix('k') {
                kind = Some(Kind::ALL.into_iter().find(|k| k.as_str() == word)?);
            } else {
                return None;
            }
        }
        let link = match head {
            "ask" => DeepLink::Ask {
                chat_id: id,
                thread_id,
                kind,
            },
            "task" => DeepLink::Details(id),
            "households" => DeepLink::Households(id),
            _ => return None,
        };
        // Only the spelling we write (no `+1`, `007`, or parts out of order).
        (link.payload() == payload).then_some(link)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn limits() -> Limits {
        Limits::default()
    }

    #[test]
    fn the_steps_follow_one_another() {
        let draft = Draft::new(None, None);
        assert_eq!(draft.step(), Step::Group);
        let draft = draft.take(Answer::Group(-5), &limits()).unwrap();
        assert_eq!(draft.step(), Step::Kind);
        let draft = draft.take(Answer::Kind(Kind::Medicine), &limits()).unwrap();
        assert_eq!(draft.step(), Step::Flat);
        let draft = draft.take(Answer::Text("3号楼 201"), &limits()).unwrap();
        assert_eq!(draft.flat.as_deref(), Some("3号楼201"));
        assert_eq!(draft.step(), Step::Details);
        let draft = draft.take(Answer::Skip, &limits()).unwrap();
        assert_eq!(draft.step(), Step::Confirm);
        assert_eq!(draft.details.as_deref(), Some(""));
        let photo = Media {
            kind: MediaKind::Photo,
            file_id: "AgAD".into(),
        };
        let draft = draft
            .take(Answer::Media(photo.clone(), " the red box "), &limits())
            .unwrap();
        assert_eq!(draft.details.as_deref(), Some("the red box"));
        assert_eq!(draft.media, Some(photo));
    }

    #[test]
    fn a_kind_typed_as_a_need_is_read_with_its_flat_and_details() {
        let draft = Draft::new(Some(-5), None);
        let typed = draft
            .take(Answer::Text("买药 3号楼 201 降压药"), &limits())
            .unwrap();
        assert_eq!(typed.kind, Some(Kind::Medicine));
        assert_eq!(typed.flat.as_deref(), Some("3号楼201"));
        assert_eq!(typed.details.as_deref(), Some("降压药"));
        let only = draft.take(Answer::Text("快递"), &limits()).unwrap();
        assert_eq!((only.kind, only.step()), (Some(Kind::Pickup), Step::Flat));
        assert_eq!(
            draft.take(Answer::Text("你好"), &limits()),
            Err(DraftError::NotNow(Step::Kind))
        );
        for word in ["发送", "好的！", "OK", "ｙｅｓ", "确认。"] {
            assert!(is_send_word(word), "{word}");
        }
        for word in ["好像不对", "12-302", ""] {
            assert!(!is_send_word(word), "{word}");
        }
    }

    #[test]
    fn answers_out_of_turn_ask_the_question_again() {
        let draft = Draft::new(Some(-5), None);
        assert_eq!(
            draft.take(Answer::Skip, &limits()),
            Err(DraftError::NotNow(Step::Kind))
        );
        let draft = Draft::new(Some(-5), Some(Kind::Other));
        assert_eq!(
            draft.take(Answer::Skip, &limits()),
            Err(DraftError::NotNow(Step::Flat))
        );
        assert_eq!(
            draft.take(Answer::Text("building 3 room 2"), &limits()),
            Err(DraftError::FlatHasSpaces)
        );
        let long = "楼".repeat(33);
        assert_eq!(
            draft.take(Answer::Text(&long), &limits()),
            Err(DraftError::Usage(UsageError::FlatTooLong { max: 32 }))
        );
        let draft = draft.take(Answer::Text("12-302"), &limits()).unwrap();
        assert_eq!(
            draft.take(Answer::Text(&"字".repeat(501)), &limits()),
            Err(DraftError::Usage(UsageError::DetailsTooLong { max: 500 }))
        );
    }

    #[test]
    fn deep_links_round_trip_within_telegram_limits() {
        for link in [
            DeepLink::Ask {
                chat_id: -1_001_234_567_890,
                thread_id: None,
                kind: None,
            },
            DeepLink::Ask {
                chat_id: i64::MIN,
                thread_id: Some(i32::MIN),
                kind: Some(Kind::Groceries),
            },
            DeepLink::Details(i64::MAX),
            DeepLink::Households(-1_001_234_567_890),
        ] {
            let payload = link.payload();
            assert!(payload.len() <= 64);
            assert!(payload
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
            assert_eq!(DeepLink::parse(&payload), Some(link));
        }
        for forged in [
            "",
            "ask",
            "ask_",
            "ask_x",
            "task_+1",
            "other_1",
            "ask_1_2",
            "ask_1_kother_t2",
            "ask_1_ktaxi",
            "task_1_t2",
            "ask_01",
        ] {
            assert_eq!(DeepLink::parse(forged), None, "{forged}");
        }
    }

    proptest! {
        #[test]
        fn any_answer_leaves_a_draft_within_limits(text in ".{0,600}", step in 0..5usize) {
            let mut draft = Draft::new(Some(-1), Some(Kind::Other));
            if step > 2 { draft.flat = Some("1-1".into()); }
            if let Ok(next) = draft.take(Answer::Text(&text), &limits()) {
                prop_assert!(next.flat.as_deref().is_none_or(|f| f.chars().count() <= 32 && !f.is_empty()));
                prop_assert!(next.details.as_deref().is_none_or(|d| d.chars().count() <= 500));
            }
        }
    }
}
