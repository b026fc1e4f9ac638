//! The board's words (interface.md, *Busy groups*): the board itself, laid
//! out within one message, and what the bot says about it.
//!
//! A board is one message: at most [`super::MESSAGE_MAX_UTF16`] UTF-16
//! units and 100 buttons (Telegram's limits for a message and an inline
//! keyboard). Open tasks come first, each with a claim button; claimed ones
//! after; what does not fit is counted in the last line.

use std::fmt::Write;

use super::{escape, kind_name, pick, Lang, MESSAGE_MAX_UTF16};
use crate::domain::{BoardItem, Status, TaskNumber};

/// Most claim buttons on a board: Telegram allows 100 buttons under a
/// message, one of which asks for help.
pub const MOST_CLAIM_BUTTONS: usize = 99;

/// Room kept for the board's last line (how many more there are, and the
/// hint), in UTF-16 units.
const FOOTER_ROOM: usize = 200;

/// A board laid out: its text and the tasks that get a claim button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drawn {
    pub html: String,
    /// The open tasks shown, in order: each gets a claim button.
    pub claimable: Vec<TaskNumber>,
}

/// Lays out the board of `items` (open ones first), of `live` live tasks
/// in all, `open` of them open (`items` may hold fewer), in `lang`.
pub fn draw(items: &[BoardItem], live: usize, open: usize, lang: Lang) -> Drawn {
    let units = |text: &str| text.encode_utf16().count();
    let live = live.max(items.len());
    let open = open.min(live);
    let mut html = header(live, open, lang);
    let mut claimable = Vec::new();
    let mut shown = 0;
    let mut private = false;
    for item in items {
        let line = line(item, lang);
        let is_open = item.status == Status::Open;
        let room = units(&html) + 1 + units(&line) + FOOTER_ROOM <= MESSAGE_MAX_UTF16;
        let button = !is_open || claimable.len() < MOST_CLAIM_BUTTONS;
        if !room || !button {
            break;
        }
        html.push('\n');
        html.push_str(&line);
        if is_open {
            claimable.push(item.number);
        }
        private |= item.private;
        shown += 1;
    }
    html.push_str("\n\n");
    if private {
        html.push_str(&pick(
            lang,
            "🔒 the flat and details go only to the volunteer who takes it.\n".into(),
            "🔒 门牌和说明只私信发给认领的志愿者。\n".into(),
        ));
    }
    html.push_str(&footer(live - shown, live, open, lang));
    Drawn { html, claimable }
}

fn header(live: usize, open: usize, lang: Lang) -> String {
    pick(
        lang,
        format!(
            "📋 <b>Help board</b> · {open} waiting · {} claimed\n",
            live - open
        ),
        format!(
            "📋 <b>互助看板</b> · 待认领 {open} · 已认领 {}\n",
            live - open
        ),
    )
}

/// One task's line: what the whole group may see (no flat of a private
/// request: [`BoardItem`] has none).
fn line(item: &BoardItem, lang: Lang) -> String {
    let mut line = format!("<b>{}</b> {}", item.number, kind_name(item.kind, lang));
    if item.private {
        // As in the lists: the details go to the volunteer privately.
        line += " · 🔒";
    } else if !item.flat.is_empty() {
        let _ = write!(line, " · {}", escape(&item.flat));
    }
    match (item.status, &item.claimer_name) {
        (Status::Claimed, Some(name)) => {
            let _ = write!(line, " — 🚶 {}", escape(name));
        }
        (Status::Claimed, None) => {
            line += &pick(lang, " — 🚶 claimed".into(), " — 🚶 已认领".into())
        }
        _ => line += &pick(lang, " — ⏳ waiting".into(), " — ⏳ 待认领".into()),
    }
    line
}

fn footer(more: usize, live: usize, open: usize, lang: Lang) -> String {
    let mut out = match (live, open) {
        (0, _) => pick(
            lang,
            "Nothing is waiting right now. 🌿".into(),
            "目前没有待处理的求助。🌿".into(),
        ),
        (_, 0) => pick(
            lang,
            "Every request has a volunteer. 🌿".into(),
            "所有求助都已有人认领。🌿".into(),
        ),
        _ => pick(
            lang,
            "Tap a 🙋 button below to take that task.".into(),
            "点下面带 🙋 的编号按钮即可认领。".into(),
        ),
    };
    if more > 0 {
        out += &pick(
            lang,
            format!("\n… and {more} more: /open lists them all."),
            format!("\n……还有 {more} 条没列出：发送 /open 查看全部。"),
        );
    }
    out
}

/// The words about the board besides the board itself.
#[derive(Debug, Clone, Copy)]
pub enum BoardText {
    /// The label of the board's "ask for help" button (plain text).
    ButtonAsk,
    /// The label of a claim button on the board (plain text).
    ButtonClaim(TaskNumber),
    /// An old board that could not be deleted, once a new one is posted.
    Moved,
    /// `/settings board on|off` done.
    ModeSet(bool),
}

impl BoardText {
    /// The text in `lang`: HTML, or plain text for button labels.
    pub fn render(&self, lang: Lang) -> String {
        match *self {
            BoardText::ButtonAsk => pick(lang, "🆘 Ask for help".into(), "🆘 我要求助".into()),
            BoardText::ButtonClaim(number) => format!("🙋 {number}"),
            BoardText::Moved => pick(
                lang,
                "📋 This board is out of date: the current one is further down.".into(),
                "📋 这条看板已停用，最新的互助看板在下面。".into(),
            ),
            BoardText::ModeSet(true) => pick(
                lang,
                "board: on. New requests are no longer announced one by one: they appear on the help board, and when a request or command works, the bot adds a 👍 to your message. If something can't be done, the bot still replies saying why. (If reactions are off in this group, there is no 👍: check the board.)".into(),
                "board：已开启。新的求助不再逐条发消息，而是显示在互助看板上；求助或指令办成时，机器人会给你的消息加一个 👍，办不成时仍会回复说明原因。（如本群关闭了表情回应，就没有 👍，请看看板。）".into(),
            ),
            BoardText::ModeSet(false) => pick(
                lang,
                "board: off. Each new request gets its own message again. The help board stays and is kept up to date; /board posts it anew.".into(),
                "board：已关闭。每条新求助重新单独发消息；互助看板保留并继续更新，/board 可重新发布。".into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Kind;

    fn item(number: u32, status: Status, flat: &str) -> BoardItem {
        BoardItem {
            number: TaskNumber::new(number).unwrap(),
            kind: Kind::Groceries,
            status,
            flat: flat.into(),
            private: flat.is_empty(),
            claimer_name: (status == Status::Claimed).then(|| "Bo <b>".into()),
        }
    }

    #[test]
    fn a_board_lists_open_then_claimed_with_escaped_names() {
        let items = [
            item(1, Status::Open, "3-201"),
            item(2, Status::Open, ""),
            item(3, Status::Claimed, "5-302"),
        ];
        let drawn = draw(&items, 3, 2, Lang::En);
        assert!(drawn.html.contains("2 waiting · 1 claimed"));
        assert!(drawn
            .html
            .contains("<b>#1</b> 🥬 Groceries · 3-201 — ⏳ waiting"));
        assert!(drawn
            .html
            .contains("<b>#2</b> 🥬 Groceries · 🔒 — ⏳ waiting"));
        assert!(drawn.html.contains("details go only to the volunteer"));
        assert!(drawn
            .html
            .contains("#3</b> 🥬 Groceries · 5-302 — 🚶 Bo &lt;b&gt;"));
        assert!(!drawn.html.contains("more"));
        assert_eq!(drawn.claimable.len(), 2);
        let empty = draw(&[], 0, 0, Lang::Zh);
        assert!(empty.html.contains("目前没有待处理的求助"));
        assert!(
            !empty.html.contains("🔒"),
            "no legend without a private request"
        );
        assert!(empty.claimable.is_empty());
    }

    #[test]
    fn a_long_board_fits_one_message_and_counts_the_rest() {
        let long_flat = "楼".repeat(32);
        for (count, lang) in [(150, Lang::En), (150, Lang::Zh), (500, Lang::En)] {
            let items: Vec<BoardItem> = (1..=count)
                .map(|n| item(n, Status::Open, &long_flat))
                .collect();
            let drawn = draw(&items, 1000, 1000, lang);
            assert!(drawn.html.encode_utf16().count() <= MESSAGE_MAX_UTF16);
            assert!(drawn.claimable.len() <= MOST_CLAIM_BUTTONS);
            assert!(!drawn.claimable.is_empty());
            let more = 1000 - drawn.claimable.len();
            assert!(
                drawn.html.contains(&format!("{more}")),
                "the board says how many more: {}",
                drawn.html
            );
        }
        // Short lines: the buttons run out before the room.
        let items: Vec<BoardItem> = (1..=150)
            .map(|n| BoardItem {
                kind: Kind::Other,
                ..item(n, Status::Open, "1")
            })
            .collect();
        let drawn = draw(&items, 150, 150, Lang::En);
        assert_eq!(drawn.claimable.len(), MOST_CLAIM_BUTTONS);
        assert!(drawn.html.contains("… and 51 more"), "{}", drawn.html);
    }

    #[test]
    fn every_board_text_is_written_in_both_languages() {
        for text in [
            BoardText::ButtonAsk,
            BoardText::Moved,
            BoardText::ModeSet(true),
            BoardText::ModeSet(false),
        ] {
            assert_ne!(text.render(Lang::En), text.render(Lang::Zh));
        }
    }
}
