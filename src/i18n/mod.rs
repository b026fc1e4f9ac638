//! Every text users see, in English and Chinese (简体), as HTML.
//!
//! One catalogue: [`Text`] names each message and [`Text::render`] writes it;
//! the steps of a private request and what its claimer reads are
//! [`private::PrivateText`], leads, households and forgetting
//! [`households::HouseholdText`], and notices, reminders, digests and
//! settings [`followup::FollowText`], in the same way.
//! Each arm calls [`pick`] with both languages, so the compiler refuses a
//! message that lacks one. All user text passes through [`escape`] here and
//! nowhere else.

pub mod board;
pub mod followup;
pub mod households;
pub mod private;

use std::fmt::Write;

pub use crate::domain::Lang;
use crate::domain::{
    ChatStats, CommandName, Kind, MineItem, Refusal, Status, TaskCard, TaskNumber, UsageError,
};

/// Escapes user text for Telegram's HTML parse mode.
pub fn escape(text: &str) -> String {
    teloxide::utils::html::escape(text)
}

/// The longest word of a message the bot quotes back, in characters.
const ECHO_MAX_CHARS: usize = 40;

/// A word the sender wrote, quoted back in a refusal: escaped, and cut so
/// that no reply grows past Telegram's limit however long the word was.
fn echo(word: &str) -> String {
    let mut chars = word.chars();
    let cut: String = chars.by_ref().take(ECHO_MAX_CHARS).collect();
    let more = if chars.next().is_some() { "…" } else { "" };
    format!("{}{more}", escape(&cut))
}

fn pick(lang: Lang, en: String, zh: String) -> String {
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

/// Every message of the bot.
#[derive(Debug, Clone, Copy)]
pub enum Text<'a> {
    Announcement(&'a TaskCard),
    Help,
    Welcome,
    Claimed(TaskNumber),
    Released(TaskNumber),
    Done(TaskNumber),
    Cancelled(TaskNumber),
    Refused(&'a TaskCard, Refusal),
    UnknownTask(TaskNumber),
    Usage(&'a UsageError),
    OpenList(&'a [TaskCard]),
    MineList(&'a [MineItem]),
    Stats(&'a ChatStats),
    /// A command from an anonymous admin or a channel.
    SendAsYourself,
    /// Button data the bot never made, or a button without its message.
    UnknownButton,
    /// An edited `/need` whose task is no longer open.
    EditNotApplied(TaskNumber, Status),
    /// Something broke on our side; the cause is in the log.
    InternalError,
    /// A command that needs a group, sent in a private chat with the bot.
    /// With the titles of the groups where the sender has asked or helped.
    GroupOnly(CommandName, &'a [String]),
    /// `/settings hide_flats on|off` done; when on, whether the bot may
    /// delete the `/need` messages.
    HideFlatsSet(bool, bool),
    /// `/settings language …` was applied.
    LanguageSet(Lang),
    /// A setting someone who is not a chat admin tried to change.
    AdminsOnly,
    /// The last line of a list cut short: how many more there are.
    MoreNotShown(u64),
    /// Added to a refused `/done N NOTE`: the note was not kept either.
    NoteNotKept,
    ButtonClaim,
    /// Where the claim button was, once the task is claimed.
    ButtonClaimed,
    ButtonDone,
    ButtonRelease,
    CommandDescription(CommandName),
    /// What Telegram shows in an empty chat with the bot (at most 512 characters).
    BotDescription,
    /// The bot's profile line (at most 120 characters).
    BotShortDescription,
    KindName(Kind),
    StatusName(Status),
}

impl Text<'_> {
    /// The message in `lang`, as HTML.
    pub fn render(&self, lang: Lang) -> String {
        let name = |text: Text| text.render(lang);
        match *self {
            Text::Announcement(card) => announcement(card, lang),
            Text::Help => pick(lang, help_en(), help_zh()),
            Text::Welcome => pick(
                lang,
                format!("👋 Hello, neighbours! I keep this group's help requests in order.\n\n{}", help_en()),
                format!("👋 邻居们好！我来帮本群整理互助请求。\n\n{}", help_zh()),
            ),
            Text::Claimed(n) => pick(
                lang,
                format!("🙌 You are on {n}. Thank you!"),
                format!("🙌 你已认领 {n}，谢谢！"),
            ),
            Text::Released(n) => pick(
                lang,
                format!("↩️ {n} is open again."),
                format!("↩️ {n} 已重新开放。"),
            ),
            Text::Done(n) => pick(
                lang,
                format!("✅ {n} is done. Thank you!"),
                format!("✅ {n} 已完成，谢谢！"),
            ),
            Text::Cancelled(n) => pick(
                lang,
                format!("🚫 {n} is cancelled."),
                format!("🚫 {n} 已取消。"),
            ),
            Text::Refused(card, refusal) => refused(card, refusal, lang),
            Text::UnknownTask(n) => pick(
                lang,
                format!("There is no task {n} in this chat."),
                format!("本群没有任务 {n}。"),
            ),
            Text::Usage(error) => usage(error, lang),
            Text::OpenList([]) => pick(
                lang,
                "Nothing is waiting. 🎉".into(),
                "目前没有待办的请求。🎉".into(),
            ),
            Text::OpenList(cards) => {
                let mut out = pick(lang, "<b>Still waiting</b>".into(), "<b>待办请求</b>".into());
                for card in cards {
                    out.push('\n');
                    out.push_str(&list_line(card, lang));
                }
                out
            }
            Text::MineList([]) => pick(
                lang,
                "You have no claimed tasks.".into(),
                "你没有已认领的任务。".into(),
            ),
            Text::MineList(items) => {
                let mut out = if items[0].asked {
                    String::new()
                } else {
                    pick(lang, "<b>Your tasks</b>".into(), "<b>你认领的任务</b>".into())
                };
                for (i, item) in items.iter().enumerate() {
                    if item.asked && (i == 0 || !items[i - 1].asked) {
                        if i > 0 {
                            out.push('\n');
                        }
                        out += &followup::FollowText::AskedByMe.render(lang);
                    }
                    out.push('\n');
                    out.push_str(&list_line(&item.card, lang));
                    if let Some(title) = &item.chat_title {
                        let _ = write!(out, " · {}", escape(title));
                    }
                }
                out
            }
            Text::Stats(stats) => stats_text(stats, lang),
            Text::SendAsYourself => pick(
                lang,
                "Please send this from your own account, not as the group or a channel: I need to know who is helping.".into(),
                "请用你自己的账号发送，不要以群组或频道身份发送：我需要知道是谁在帮忙。".into(),
            ),
            Text::UnknownButton => pick(
                lang,
                "This button is not one of mine, or it is too old.".into(),
                "这个按钮无效或已过期。".into(),
            ),
            Text::EditNotApplied(n, status) => pick(
                lang,
                format!("{n} is already {}; your edit was not applied (only a task still waiting for a volunteer can be edited).", name(Text::StatusName(status))),
                format!("{n} 当前状态：{}，你的修改没有生效。", name(Text::StatusName(status))),
            ),
            Text::InternalError => pick(
                lang,
                "Sorry, something went wrong on my side. Please try again in a moment.".into(),
                "抱歉，我这边出了点问题，请稍后再试。".into(),
            ),
            Text::GroupOnly(command, groups) => group_only(command, groups, lang),
            Text::HideFlatsSet(false, _) => pick(
                lang,
                "Requests here show their flat and details to the group again; /need alone still asks privately.".into(),
                "本群的求助重新在群里显示门牌和说明；单独发 /need 仍可私信求助。".into(),
            ),
            Text::HideFlatsSet(true, may_delete) => {
                let mut out = pick(
                    lang,
                    "From now on every request here is private: the group sees only its number and kind, and the volunteer who takes it gets the flat and details privately.".into(),
                    "从现在起本群所有求助都按私信求助处理：群里只显示编号和类型，门牌和说明私下发给认领的志愿者。".into(),
                );
                out += &if may_delete {
                    pick(
                        lang,
                        " I delete each /need message once it is recorded. Messages sent before stay: delete them by hand.".into(),
                        "每条 /need 消息在记录后由我删除。之前发过的消息不会自动删除，请手动删除。".into(),
                    )
                } else {
                    pick(
                        lang,
                        " I may not delete messages here, so a /need that shows a flat stays in the group: make me an admin with the right “Delete messages” (group settings → Administrators).".into(),
                        "我没有“删除消息”权限，带门牌的 /need 会留在群里：请在群设置→管理员中把我设为管理员并打开“删除消息”。".into(),
                    )
                };
                out
            }
            Text::LanguageSet(new) => pick(
                lang,
                format!("This group's announcements are now in {}.", if new == Lang::En { "English" } else { "Chinese (中文)" }),
                format!("本群的任务公告现在使用{}。", if new == Lang::En { "英文 (English)" } else { "中文" }),
            ),
            Text::AdminsOnly => pick(
                lang,
                "Only a group admin can change the settings.".into(),
                "只有群管理员可以修改设置。".into(),
            ),
            Text::MoreNotShown(more) => pick(
                lang,
                format!("… and {more} more not shown."),
                format!("……还有 {more} 个没有列出。"),
            ),
            Text::NoteNotKept => pick(
                lang,
                "Your note was not saved.".into(),
                "你的备注没有保存。".into(),
            ),
            Text::ButtonClaim => pick(lang, "🙋 I'll do it".into(), "🙋 我来".into()),
            Text::ButtonClaimed => pick(lang, "🚶 Claimed".into(), "🚶 已有人认领".into()),
            Text::ButtonDone => pick(lang, "✅ Done".into(), "✅ 完成".into()),
            Text::ButtonRelease => pick(lang, "↩️ Release".into(), "↩️ 放弃".into()),
            Text::CommandDescription(command) => command_description(command, lang),
            Text::BotDescription => pick(
                lang,
                "linli (邻里) helps neighbours help each other: a household that cannot go out asks, a volunteer takes it and says when it is done. Tap Start to ask for help privately: only the volunteer who takes it sees your flat and details.".into(),
                "linli（邻里）帮邻居互相帮忙：出不了门的住户发起求助，志愿者认领并在完成后告知。点“开始”即可私信求助：只有认领的志愿者能看到你的门牌和说明。".into(),
            ),
            Text::BotShortDescription => pick(
                lang,
                "Neighbours helping households that cannot go out.".into(),
                "邻居互助：帮助出不了门的住户。".into(),
            ),
            Text::KindName(kind) => kind_name(kind, lang),
            Text::StatusName(status) => status_name(status, lang),
        }
    }
}

fn kind_name(kind: Kind, lang: Lang) -> String {
    let (en, zh) = match kind {
        Kind::Pickup => ("📦 Pickup", "📦 取快递"),
        Kind::Rubbish => ("🗑 Rubbish", "🗑 倒垃圾"),
        Kind::Medicine => ("💊 Medicine", "💊 买药"),
        Kind::Groceries => ("🥬 Groceries", "🥬 买菜"),
        Kind::Other => ("🤝 Other", "🤝 其他"),
    };
    pick(lang, en.into(), zh.into())
}

fn status_name(status: Status, lang: Lang) -> String {
    let (en, zh) = match status {
        Status::Open => ("open", "待认领"),
        Status::Claimed => ("claimed", "已认领"),
        Status::Done => ("done", "完成"),
        Status::Cancelled => ("cancelled", "取消"),
    };
    pick(lang, en.into(), zh.into())
}

/// The one message a task has in the chat. Once the task is finished, the
/// flat and details are dropped from it: a sick household's address should
/// not stay in the group for ever (the ledger keeps them).
fn announcement(card: &TaskCard, lang: Lang) -> String {
    let mut out = format!("<b>{} · {}</b>\n", card.number, kind_name(card.kind, lang));
    let requester = escape(&card.requester_name);
    let claimer = escape(card.claimer_name.as_deref().unwrap_or("?"));
    if card.private {
        // The group never reads a private request's flat, details or requester.
        out += &pick(
            lang,
            "🔒 Asked privately: the flat and details go to the volunteer who takes it.\n".into(),
            "🔒 私信求助：门牌和说明只发给认领的志愿者。\n".into(),
        );
    } else {
        if !card.status.is_final() {
            out += &flat_and_details(card, lang);
        }
        out += &pick(
            lang,
            format!("🙏 Asked by {requester}\n"),
            format!("🙏 求助人：{requester}\n"),
        );
    }
    out += &match card.status {
        Status::Open => pick(
            lang,
            "⏳ Waiting for a volunteer".into(),
            "⏳ 等待志愿者认领".into(),
        ),
        Status::Claimed => pick(
            lang,
            format!("🚶 {claimer} is on it"),
            format!("🚶 {claimer} 正在处理"),
        ),
        Status::Done if card.received => pick(
            lang,
            format!("✅ Done by {claimer}\n👍 The requester confirmed it"),
            format!("✅ 已由 {claimer} 完成\n👍 求助人已确认办好"),
        ),
        Status::Done => pick(
            lang,
            format!("✅ Done by {claimer}"),
            format!("✅ 已由 {claimer} 完成"),
        ),
        Status::Cancelled => pick(lang, "🚫 Cancelled".into(), "🚫 已取消".into()),
    };
    if let Some(note) = card.done_note.as_deref().filter(|n| !n.is_empty()) {
        out += &pick(
            lang,
            format!("\n🗒 Note: {}", escape(note)),
            format!("\n🗒 备注：{}", escape(note)),
        );
    }
    out
}

/// The flat and details lines of a card.
fn flat_and_details(card: &TaskCard, lang: Lang) -> String {
    let mut out = pick(
        lang,
        format!("🏠 Flat: {}\n", escape(&card.flat)),
        format!("🏠 门牌：{}\n", escape(&card.flat)),
    );
    if !card.details.is_empty() {
        let _ = writeln!(out, "📝 {}", escape(&card.details));
    }
    out
}

fn list_line(card: &TaskCard, lang: Lang) -> String {
    let flat = if card.private {
        "🔒".to_string()
    } else {
        escape(&card.flat)
    };
    let mut line = format!(
        "{} {} · {flat} · {}",
        card.number,
        kind_name(card.kind, lang),
        card.asked_at
    );
    if !card.details.is_empty() {
        let details: String = card.details.chars().take(40).collect();
        let more = if card.details.chars().count() > 40 {
            "…"
        } else {
            ""
        };
        let _ = write!(line, " · {}{more}", escape(&details));
    }
    let since = card
        .since
        .map(|since| followup::FollowText::Since(since).render(lang));
    match (card.status, &card.claimer_name, since) {
        (Status::Claimed, Some(name), Some(since)) => {
            line += &pick(
                lang,
                format!(" — 🚶 {}, claimed {since} ago", escape(name)),
                format!(" — 🚶 {} · 已认领{since}", escape(name)),
            )
        }
        (Status::Claimed, Some(name), None) => {
            let _ = write!(line, " — 🚶 {}", escape(name));
        }
        (Status::Open, _, Some(since)) => {
            line += &pick(
                lang,
                format!(" — ⏳ waiting {since}"),
                format!(" — ⏳ 已等待 {since}"),
            )
        }
        _ => {}
    }
    line
}

fn refused(card: &TaskCard, refusal: Refusal, lang: Lang) -> String {
    let n = card.number;
    let claimer = escape(card.claimer_name.as_deref().unwrap_or("?"));
    match refusal {
        Refusal::Finished(status) => pick(
            lang,
            format!("{n} is already {}.", status_name(status, lang)),
            format!("{n} 已经{}了，不能再更改。", status_name(status, lang)),
        ),
        Refusal::NotYourReceipt => pick(
            lang,
            format!("Only the person who asked for {n}, or a building lead or admin, can say whether it was done."),
            format!("只有 {n} 的求助人、楼长或管理员可以确认是否办好。"),
        ),
        Refusal::NotDone => pick(
            lang,
            format!("{n} is not marked done yet (or its volunteer is on it again): nothing to confirm now."),
            format!("{n} 还没有标为完成（或志愿者正在重新处理），现在无需确认。"),
        ),
        Refusal::AlreadyReceived => pick(
            lang,
            format!("{n} was already confirmed as done."),
            format!("{n} 已经确认办好了。"),
        ),
        Refusal::AlreadyYours => pick(
            lang,
            format!("You have already claimed {n}."),
            format!("你已经认领了 {n}。"),
        ),
        Refusal::ClaimedByOther(_) => pick(
            lang,
            format!("{n} is already claimed by {claimer}."),
            format!("{n} 已被 {claimer} 认领。"),
        ),
        Refusal::NotClaimed => pick(
            lang,
            format!(
                "{n} is not claimed yet: claim it first with /claim {}.",
                n.get()
            ),
            format!("{n} 还没有人认领：请先用 /claim {} 认领。", n.get()),
        ),
        Refusal::NotYourClaim => pick(
            lang,
            format!("Only {claimer}, who claimed {n}, or a group admin can do that."),
            format!("只有认领人 {claimer} 或群管理员可以这样操作 {n}。"),
        ),
        Refusal::NotYourRequest => pick(
            lang,
            format!("Only the person who asked for {n} or a group admin can cancel it."),
            format!("只有发起 {n} 的人或群管理员可以取消它。"),
        ),
    }
}

fn usage(error: &UsageError, lang: Lang) -> String {
    let kinds = Kind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let need_usage = pick(
        lang,
        format!("Write: /need KIND FLAT [DETAILS], for example /need pickup 12-302 parcel at the north gate. KIND is one of {kinds}."),
        "格式：/need 类型 门牌 [说明]，例如 /need 取快递 3号楼201 北门快递。类型：取快递、倒垃圾、买药、买菜、其他。".into(),
    );
    match error {
        UsageError::UnknownKind(word) => pick(
            lang,
            format!("I don't know the kind “{}”. {need_usage}", echo(word)),
            format!("不认识类型“{}”。{need_usage}", echo(word)),
        ),
        UsageError::MissingFlat => pick(
            lang,
            format!("Which flat? {need_usage}"),
            format!("缺少门牌号。{need_usage}"),
        ),
        UsageError::FlatTooLong { max } => pick(
            lang,
            format!("The flat is too long: at most {max} characters, without spaces."),
            format!("门牌号太长：最多 {max} 个字符，不含空格。"),
        ),
        UsageError::DetailsTooLong { max } => pick(
            lang,
            format!("That text is too long: at most {max} characters."),
            format!("文字太长：最多 {max} 个字符。"),
        ),
        UsageError::MissingNumber(command) => pick(
            lang,
            format!(
                "Which task? Write /{0} N, for example /{0} 3, or send /{0} as a reply to the task's message.",
                command.as_str()
            ),
            format!(
                "哪个任务？请写 /{0} 编号，例如 /{0} 3，或者回复该任务的消息发送 /{0}。",
                command.as_str()
            ),
        ),
        UsageError::UnknownSetting(key) => pick(
            lang,
            format!("There is no setting “{}”. The settings are language, hide_flats, time_zone, unclaimed_after, check_claim_after, auto_release_after and digest_at: send /settings to see them.", echo(key)),
            format!("没有“{}”这个设置。可用的设置有 language、hide_flats、time_zone、unclaimed_after、check_claim_after、auto_release_after 和 digest_at：发送 /settings 查看。", echo(key)),
        ),
        UsageError::BadLanguage(word) if word.is_empty() => pick(
            lang,
            "Which language? Write /settings language en or /settings language zh.".into(),
            "哪种语言？请写 /settings language zh 或 /settings language en。".into(),
        ),
        UsageError::TooManyNumbers(_, max) => pick(
            lang,
            format!("At most {max} task numbers at a time, please."),
            format!("一次最多写 {max} 个任务编号。"),
        ),
        UsageError::MissingHouseholdFlat => pick(
            lang,
            "Write: /household FLAT [until YYYY-MM-DD] [NOTE], for example /household 3号楼201 until 2026-12-31 lives alone.".into(),
            "格式：/household 门牌 [到 YYYY-MM-DD] [备注]，例如 /household 3号楼201 到 2026-12-31 独居老人。".into(),
        ),
        UsageError::BadDate(word) => pick(
            lang,
            format!("“{}” is not a date: write it as YYYY-MM-DD, for example 2026-12-31.", echo(word)),
            format!("“{}”不是日期：请写成 YYYY-MM-DD，例如 2026-12-31。", echo(word)),
        ),
        UsageError::BadSwitch(word) => pick(
            lang,
            format!("“{}” is neither on nor off: write /settings hide_flats on or /settings hide_flats off.", echo(word)),
            format!("“{}”不是 on 或 off：请写 /settings hide_flats on 或 /settings hide_flats off。", echo(word)),
        ),
        UsageError::BadLanguage(word) => pick(
            lang,
            format!("“{}” is not a language I speak: write /settings language en or /settings language zh.", echo(word)),
            format!("不支持“{}”这种语言：请写 /settings language zh 或 /settings language en。", echo(word)),
        ),
        UsageError::BadTimeZone(word) => followup::bad_setting(followup::BadSetting::TimeZone(word), lang),
        UsageError::BadWait(wait, word) => {
            followup::bad_setting(followup::BadSetting::Wait(*wait, word), lang)
        }
        UsageError::BadTimeOfDay(word) => {
            followup::bad_setting(followup::BadSetting::TimeOfDay(word), lang)
        }
        UsageError::BadNumber(command, word) => pick(
            lang,
            format!(
                "“{}” is not a task number. Write /{} N, for example /{} 3.",
                echo(word),
                command.as_str(),
                command.as_str()
            ),
            format!(
                "“{}”不是任务编号。请写 /{} 编号，例如 /{} 3。",
                echo(word),
                command.as_str(),
                command.as_str()
            ),
        ),
    }
}

fn group_only(command: CommandName, groups: &[String], lang: Lang) -> String {
    let name = command.as_str();
    // (A /need in a private chat begins a private request instead.)
    let mut out = pick(
        lang,
        format!("/{name} works in your residents' group chat, on that group's tasks: please send it there."),
        format!("/{name} 要在小区居民群里使用，针对群里的任务：请到群里发送。"),
    );
    if !groups.is_empty() {
        let names = groups
            .iter()
            .map(|g| echo(g))
            .collect::<Vec<_>>()
            .join(", ");
        out += &pick(
            lang,
            format!("\nYour groups with linli: {names}."),
            format!("\n你所在的互助群：{names}。"),
        );
    }
    out
}

/// The longest message the bot builds, in UTF-16 code units of its HTML:
/// Telegram refuses text over 4096 units ("message is too long"), counted
/// after entities are parsed, so the HTML count is on the safe side.
pub const MESSAGE_MAX_UTF16: usize = 4096;

/// Splits a list message at line ends into messages within
/// [`MESSAGE_MAX_UTF16`]. A single line longer than that (none of ours is)
/// is cut at a character boundary outside any HTML entity.
pub fn pages(html: &str) -> Vec<String> {
    let units = |text: &str| text.encode_utf16().count();
    let mut pages: Vec<String> = Vec::new();
    let mut page = String::new();
    for line in html.split('\n') {
        let line = fit(line, MESSAGE_MAX_UTF16);
        let joined = units(&page) + 1 + units(line);
        if !page.is_empty() && joined > MESSAGE_MAX_UTF16 {
            pages.push(std::mem::take(&mut page));
        }
        if !page.is_empty() {
            page.push('\n');
        }
        page.push_str(line);
    }
    if !page.trim().is_empty() {
        pages.push(page);
    }
    pages
}

/// The longest start of `line` within `max` UTF-16 units that does not end
/// inside an HTML entity or tag.
fn fit(line: &str, max: usize) -> &str {
    let mut used = 0;
    let mut end = 0;
    for (at, c) in line.char_indices() {
        used += c.len_utf16();
        if used > max {
            let cut = &line[..at];
            let safe = cut
                .rfind(['&', '<'])
                .filter(|open| !cut[*open..].contains([';', '>']));
            return &cut[..safe.unwrap_or(cut.len())];
        }
        end = at + c.len_utf8();
    }
    &line[..end]
}

fn stats_text(stats: &ChatStats, lang: Lang) -> String {
    let mut out = pick(
        lang,
        format!(
            "<b>Tasks</b>\n⏳ open: {}\n🚶 claimed: {}\n✅ done: {}\n🚫 cancelled: {}",
            stats.open, stats.claimed, stats.done, stats.cancelled
        ),
        format!(
            "<b>任务统计</b>\n⏳ 待认领：{}\n🚶 已认领：{}\n✅ 已完成：{}\n🚫 已取消：{}",
            stats.open, stats.claimed, stats.done, stats.cancelled
        ),
    );
    if !stats.helpers.is_empty() {
        out += &pick(
            lang,
            "\n\n<b>Who helped</b>".into(),
            "\n\n<b>热心邻居</b>".into(),
        );
        for (name, count) in &stats.helpers {
            out += &pick(
                lang,
                format!("\n🙏 {}: {count}", escape(name)),
                format!("\n🙏 {}：{count} 次", escape(name)),
            );
        }
    }
    out
}

fn command_description(command: CommandName, lang: Lang) -> String {
    let (en, zh) = match command {
        CommandName::Need => (
            "ask for help: /need KIND FLAT [DETAILS]",
            "发起求助：/need 类型 门牌 [说明]",
        ),
        CommandName::Claim => ("take a task: /claim N", "认领任务：/claim 编号"),
        CommandName::Release => (
            "give a claimed task back: /release N",
            "放弃认领：/release 编号",
        ),
        CommandName::Done => (
            "mark your task done: /done N [NOTE]",
            "标记完成：/done 编号 [备注]",
        ),
        CommandName::Cancel => ("cancel your request: /cancel N", "取消求助：/cancel 编号"),
        CommandName::Open => ("what is still waiting", "查看待办请求"),
        CommandName::Mine => ("the tasks you claimed", "我认领的任务"),
        CommandName::Stats => ("counts and who helped", "统计与热心邻居"),
        CommandName::Help => ("how linli works", "使用说明"),
        CommandName::Lead => (
            "name a building lead (admins; reply to their message)",
            "指定楼长（管理员；回复其消息）",
        ),
        CommandName::Unlead => (
            "a building lead no more (admins; reply to their message)",
            "取消楼长（管理员；回复其消息）",
        ),
        CommandName::Household => (
            "register a household: /household FLAT [until DATE] [NOTE]",
            "登记住户：/household 门牌 [到 日期] [备注]",
        ),
        CommandName::Households => (
            "the registered households, sent privately",
            "已登记的住户（私信发送）",
        ),
        CommandName::ForgetMe => (
            "erase the flats and details of your finished requests",
            "删除你已结束求助的门牌和说明",
        ),
        CommandName::Start => (
            "ask for help privately, step by step",
            "私信求助，一步一步来",
        ),
        CommandName::Board => (
            "post the help board again at the bottom of the chat (admins)",
            "在群聊底部重新发布互助看板（管理员）",
        ),
        CommandName::Settings => (
            "the group's settings (admins): language en|zh, hide_flats on|off, board on|off",
            "本群设置（管理员）：language zh|en，hide_flats on|off，board on|off",
        ),
    };
    pick(lang, en.into(), zh.into())
}

fn help_en() -> String {
    let mut out = String::from(
        "<b>linli 邻里</b> keeps this group's requests for help in order.\n\n\
         Ask: <code>/need KIND FLAT [DETAILS]</code>\n\
         e.g. <code>/need pickup 12-302 JD parcel at the north gate</code>\n\
         KIND: pickup, rubbish, medicine, groceries, other.\n\
         Rather not show your flat to the group? Send <code>/need</code> alone, or write to me privately: I ask step by step, and only the volunteer who takes it sees your flat and details.\n\n\
         Help: press the button under a request (or its 🙋 button on the help board), or <code>/claim N</code>; then <code>/done N [NOTE]</code> or <code>/release N</code>. \
         Sent as a reply to a request, <code>/claim</code>, <code>/done</code>, <code>/release</code> and <code>/cancel</code> need no number.\n\n\
         Admins: <code>/settings language zh|en</code> sets the language the whole group reads; <code>/settings hide_flats on</code> makes every request private (give me the right to delete messages, and I delete the <code>/need</code> messages that show a flat); <code>/board</code> posts one help board listing every open and claimed request, and <code>/settings board on</code> puts new requests on it instead of a message each.\n",
    );
    for command in CommandName::MENU {
        let _ = write!(
            out,
            "\n/{} — {}",
            command.as_str(),
            escape(&command_description(command, Lang::En))
        );
    }
    out
}

fn help_zh() -> String {
    let mut out = String::from(
        "<b>linli 邻里</b> 帮本群整理互助请求。\n\n\
         求助：<code>/need 类型 门牌 [说明]</code>\n\
         例如 <code>/need 取快递 3号楼201 北门快递</code>\n\
         类型：取快递、倒垃圾、买药、买菜、其他。\n\
         不想让全群看到门牌？单独发 <code>/need</code>，或直接私信我：我一步一步问你，只有认领的志愿者能看到门牌和说明。\n\n\
         帮忙：点请求下面的按钮（或看板上的 🙋 按钮），或发 <code>/claim 编号</code>；完成后 <code>/done 编号 [备注]</code>，做不了就 <code>/release 编号</code>。\
         回复某条请求发送 <code>/claim</code>、<code>/done</code>、<code>/release</code>、<code>/cancel</code> 时不用写编号。\n\n\
         管理员：<code>/settings language zh|en</code> 设置全群看到的语言；<code>/settings hide_flats on</code> 让所有求助都按私信求助处理（给我“删除消息”权限，我会删除带门牌的 <code>/need</code> 消息）；<code>/board</code> 发布列出所有进行中求助的互助看板，<code>/settings board on</code> 后新求助只显示在看板上，不再逐条发消息。\n",
    );
    for command in CommandName::MENU {
        let _ = write!(
            out,
            "\n/{} — {}",
            command.as_str(),
            escape(&command_description(command, Lang::Zh))
        );
    }
    out
}

/// Checks that `text` says something in both languages, and not the same.
#[cfg(test)]
pub(crate) fn assert_translated(text: &dyn std::fmt::Debug, render: impl Fn(Lang) -> String) {
    let (en, zh) = (render(Lang::En), render(Lang::Zh));
    assert!(!en.trim().is_empty(), "{text:?} has no English");
    assert!(!zh.trim().is_empty(), "{text:?} has no Chinese");
    assert_ne!(en, zh, "{text:?} is not translated");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserId;

    fn card(status: Status) -> TaskCard {
        TaskCard {
            number: TaskNumber::new(7).unwrap(),
            kind: Kind::Medicine,
            flat: "12-302".into(),
            details: "<b>&</b> insulin".into(),
            status,
            requester_name: "Ann <x>".into(),
            claimer_name: Some("Bo & Co".into()),
            done_note: Some("left <at> door".into()),
            asked_at: "11-28 09:30".into(),
            private: false,
            received: false,
            since: Some(chrono::TimeDelta::minutes(95)),
        }
    }

    /// One sample of every message, so that a new variant must be added here
    /// (the match below is exhaustive) and is then checked in both languages.
    fn samples() -> Vec<Text<'static>> {
        let card: &'static TaskCard = Box::leak(Box::new(card(Status::Claimed)));
        let error: &'static UsageError = Box::leak(Box::new(UsageError::MissingFlat));
        let stats: &'static ChatStats = Box::leak(Box::new(ChatStats {
            open: 1,
            claimed: 2,
            done: 3,
            cancelled: 4,
            helpers: vec![("Bo".into(), 3)],
        }));
        let n = card.number;
        let all = vec![
            Text::Announcement(card),
            Text::Help,
            Text::Welcome,
            Text::Claimed(n),
            Text::Released(n),
            Text::Done(n),
            Text::Cancelled(n),
            Text::Refused(card, Refusal::NotYourClaim),
            Text::UnknownTask(n),
            Text::Usage(error),
            Text::OpenList(std::slice::from_ref(card)),
            Text::MineList(&[]),
            Text::Stats(stats),
            Text::SendAsYourself,
            Text::UnknownButton,
            Text::EditNotApplied(n, Status::Done),
            Text::InternalError,
            Text::GroupOnly(CommandName::Claim, &[]),
            Text::GroupOnly(
                CommandName::Need,
                Box::leak(Box::new(["3号楼邻里".to_string()])),
            ),
            Text::HideFlatsSet(true, true),
            Text::HideFlatsSet(true, false),
            Text::HideFlatsSet(false, false),
            Text::LanguageSet(Lang::En),
            Text::AdminsOnly,
            Text::MoreNotShown(3),
            Text::NoteNotKept,
            Text::ButtonClaim,
            Text::ButtonClaimed,
            Text::ButtonDone,
            Text::ButtonRelease,
            Text::CommandDescription(CommandName::Need),
            Text::BotDescription,
            Text::BotShortDescription,
            Text::KindName(Kind::Other),
            Text::StatusName(Status::Open),
        ];
        for text in &all {
            // Exhaustive on purpose: a new message fails to compile until sampled above.
            match text {
                Text::Announcement(_)
                | Text::Help
                | Text::Welcome
                | Text::Claimed(_)
                | Text::Released(_)
                | Text::Done(_)
                | Text::Cancelled(_)
                | Text::Refused(..)
                | Text::UnknownTask(_)
                | Text::Usage(_)
                | Text::OpenList(_)
                | Text::MineList(_)
                | Text::Stats(_)
                | Text::SendAsYourself
                | Text::UnknownButton
                | Text::EditNotApplied(..)
                | Text::InternalError
                | Text::GroupOnly(..)
                | Text::HideFlatsSet(..)
                | Text::LanguageSet(_)
                | Text::AdminsOnly
                | Text::MoreNotShown(_)
                | Text::NoteNotKept
                | Text::ButtonClaim
                | Text::ButtonClaimed
                | Text::ButtonDone
                | Text::ButtonRelease
                | Text::CommandDescription(_)
                | Text::BotDescription
                | Text::BotShortDescription
                | Text::KindName(_)
                | Text::StatusName(_) => {}
            }
        }
        all
    }

    #[test]
    fn every_message_exists_in_both_languages() {
        for text in samples() {
            assert_translated(&text, |lang| text.render(lang));
        }
    }

    #[test]
    fn every_refusal_and_usage_error_is_worded() {
        let card = card(Status::Claimed);
        let refusals = [
            Refusal::Finished(Status::Done),
            Refusal::AlreadyYours,
            Refusal::ClaimedByOther(UserId(2)),
            Refusal::NotClaimed,
            Refusal::NotYourClaim,
            Refusal::NotYourRequest,
        ];
        for refusal in refusals {
            for lang in [Lang::En, Lang::Zh] {
                assert!(Text::Refused(&card, refusal).render(lang).contains("#7"));
            }
        }
    }

    #[test]
    fn user_text_is_escaped_in_the_announcement() {
        let html = Text::Announcement(&card(Status::Claimed)).render(Lang::En);
        assert!(html.contains("&lt;b&gt;&amp;&lt;/b&gt; insulin"), "{html}");
        assert!(html.contains("Ann &lt;x&gt;"), "{html}");
        assert!(html.contains("Bo &amp; Co"), "{html}");
        assert!(!html.contains("<x>"));
    }

    #[test]
    fn a_finished_announcement_hides_the_flat_but_keeps_the_note() {
        let html = Text::Announcement(&card(Status::Done)).render(Lang::En);
        assert!(html.contains("#7"));
        assert!(!html.contains("12-302"), "{html}");
        assert!(html.contains("left &lt;at&gt; door"), "{html}");
        let open = Text::Announcement(&card(Status::Open)).render(Lang::Zh);
        assert!(
            open.contains("12-302") && open.contains("insulin"),
            "{open}"
        );
    }

    #[test]
    fn a_private_announcement_says_where_the_details_go() {
        let card = TaskCard {
            private: true,
            ..card(Status::Open)
        }
        .for_group();
        for lang in [Lang::En, Lang::Zh] {
            let html = Text::Announcement(&card).render(lang);
            assert!(html.contains("#7") && html.contains("🔒"), "{html}");
            assert!(!html.contains("Ann") && !html.contains("12-302"), "{html}");
            let list = Text::OpenList(std::slice::from_ref(&card)).render(lang);
            assert!(list.contains("#7 ") && list.contains("🔒"), "{list}");
        }
    }

    #[test]
    fn long_lists_are_split_at_line_ends_within_telegram_limits() {
        let line = format!("#1 {}", "字".repeat(100));
        let html = std::iter::repeat_n(line.as_str(), 100)
            .collect::<Vec<_>>()
            .join("\n");
        let split = pages(&html);
        assert!(split.len() > 1);
        for page in &split {
            assert!(page.encode_utf16().count() <= MESSAGE_MAX_UTF16);
            assert!(page.lines().all(|l| l == line), "a line was cut");
        }
        assert_eq!(split.iter().map(|p| p.lines().count()).sum::<usize>(), 100);
        let huge = format!("{}&amp;x", "a".repeat(4093));
        assert_eq!(pages(&huge), vec!["a".repeat(4093)]);
    }

    #[test]
    fn words_quoted_back_are_cut() {
        let word = "字".repeat(5000);
        let reply = Text::Usage(&UsageError::UnknownKind(word)).render(Lang::Zh);
        assert!(reply.encode_utf16().count() < 600, "{}", reply.len());
        assert_eq!(echo("a<b"), "a&lt;b");
    }

    #[test]
    fn a_refusal_in_chinese_does_not_read_like_the_success() {
        let card = card(Status::Cancelled);
        let refused = Text::Refused(&card, Refusal::Finished(Status::Cancelled)).render(Lang::Zh);
        let success = Text::Cancelled(card.number).render(Lang::Zh);
        assert!(
            !success.contains(&refused.replace('。', "")),
            "{refused} / {success}"
        );
        assert!(refused.contains("已经"), "{refused}");
    }

    #[test]
    fn edit_refusals_in_chinese_say_the_state_once() {
        let n = TaskNumber::new(1).unwrap();
        let zh = Text::EditNotApplied(n, Status::Claimed).render(Lang::Zh);
        assert!(!zh.contains("已已"), "{zh}");
    }

    #[test]
    fn sender_language_picks_chinese_for_any_zh_code() {
        assert_eq!(Lang::for_sender(Some("zh-hans"), Lang::En), Lang::Zh);
        assert_eq!(Lang::for_sender(Some("zh"), Lang::En), Lang::Zh);
        assert_eq!(Lang::for_sender(Some("en-GB"), Lang::Zh), Lang::En);
        assert_eq!(Lang::for_sender(Some("ru"), Lang::Zh), Lang::Zh);
        assert_eq!(Lang::for_sender(None, Lang::Zh), Lang::Zh);
    }
}
