//! What the bot says when it follows tasks up: private notices to
//! requesters and claimers, the group's reminders and digests, receipts,
//! and the chat's settings. As in [`super::Text`], every arm gives both
//! languages and all user text is escaped.

use std::fmt::Write;

use chrono::TimeDelta;

use super::{echo, escape, kind_name, list_line, pick, Lang};
use crate::domain::reminders::ShownWait;
use crate::domain::{Notice, Reminders, SettingChange, TaskCard, TaskNumber, Wait};
use crate::ledger::households::Household;

/// A chat's settings as `/settings` shows them.
#[derive(Debug, Clone, Copy)]
pub struct SettingsView {
    pub lang: Lang,
    pub hide_flats: bool,
    /// Board mode (`/settings board on`).
    pub board: bool,
    pub reminders: Reminders,
}

/// Every message of the follow-through.
#[derive(Debug, Clone, Copy)]
pub enum FollowText<'a> {
    /// A notice about `card` (the task as its reader may see it) of group
    /// `group`; `mention` names the claimer when it is said in the group.
    Notice {
        notice: Notice,
        card: &'a TaskCard,
        group: &'a str,
        mention: Option<(i64, &'a str)>,
    },
    /// Tasks open longer than `after`, listed in the group.
    Unclaimed {
        cards: &'a [TaskCard],
        /// How many more waited as long than are listed.
        more: u64,
        after: TimeDelta,
    },
    /// The daily digest.
    Digest {
        /// The first tasks done, and how many in all.
        done: &'a [TaskCard],
        done_count: u64,
        /// The first tasks still open or claimed, and how many in all.
        live: &'a [TaskCard],
        live_count: u64,
        ending: &'a [Household],
        /// The chat hides flats: households are counted, not named.
        hide_flats: bool,
    },
    /// The receipt buttons' answers.
    Received(TaskNumber),
    NotReceived(TaskNumber),
    /// `keep:` pressed: asked again after `after` (`None`: not again).
    Kept(TaskNumber, Option<TimeDelta>),
    /// `keep:` on a task the presser no longer holds.
    NoLongerYours,
    /// `/settings` with its buttons.
    Settings(&'a SettingsView),
    /// A setting changed (the language and hide_flats have their own words).
    SettingSet(SettingChange),
    /// The "asked by me" heading of `/mine` in a private chat.
    AskedByMe,
    /// How long a task has waited (open) or been claimed, in lists.
    Since(TimeDelta),
    ButtonReceived,
    ButtonNotReceived,
    ButtonKeep,
    ButtonRelease,
}

impl FollowText<'_> {
    /// The message in `lang`, as HTML (button labels: plain text).
    pub fn render(&self, lang: Lang) -> String {
        match *self {
            FollowText::Notice {
                notice,
                card,
                group,
                mention,
            } => {
                let mut out = match mention {
                    Some((id, name)) => {
                        format!(
                            "<a href=\"tg://user?id={id}\">{}</a>{} ",
                            escape(name),
                            pick(lang, ",".into(), "，".into())
                        )
                    }
                    None => String::new(),
                };
                out += &notice_text(notice, card, group, lang);
                out
            }
            FollowText::Unclaimed { cards, more, after } => {
                let after = age(after, lang);
                let mut out = pick(
                    lang,
                    format!("⏰ <b>Waiting more than {after} for a volunteer</b> — can you help?"),
                    format!("⏰ <b>这些请求已等待超过 {after}，还没有志愿者</b>，你能帮忙吗？"),
                );
                for card in cards {
                    out.push('\n');
                    out += &list_line(card, lang);
                }
                out += &more_line(more, lang);
                out
            }
            FollowText::Digest {
                done,
                done_count,
                live,
                live_count,
                ending,
                hide_flats,
            } => digest((done, done_count), (live, live_count), ending, hide_flats, lang),
            FollowText::Received(n) => pick(
                lang,
                format!("Thank you! {n} is confirmed as done."),
                format!("谢谢！{n} 已确认办好。"),
            ),
            FollowText::NotReceived(n) => pick(
                lang,
                format!("Noted: {n} is not done yet. Its volunteer has been asked to check again."),
                format!("已记录：{n} 还没办好，已请原志愿者再跟进。"),
            ),
            FollowText::Kept(n, Some(after)) => pick(
                lang,
                format!(
                    "Thank you! {n} stays yours; I will ask again in {}.",
                    age(after, lang)
                ),
                format!("谢谢！{n} 仍由你负责，{}后我再问你。", age(after, lang)),
            ),
            FollowText::Kept(n, None) => pick(
                lang,
                format!("Thank you! {n} stays yours."),
                format!("谢谢！{n} 仍由你负责。"),
            ),
            FollowText::NoLongerYours => pick(
                lang,
                "This question is only for the volunteer who holds the task (and it may have moved on).".into(),
                "这个问题只问正在负责该任务的志愿者（任务也可能已有变化）。".into(),
            ),
            FollowText::Settings(view) => settings(view, lang),
            FollowText::SettingSet(change) => setting_set(change, lang),
            FollowText::AskedByMe => pick(
                lang,
                "<b>Asked by me</b>".into(),
                "<b>我发起的请求</b>".into(),
            ),
            FollowText::Since(since) => age(since, lang),
            FollowText::ButtonReceived => pick(lang, "👍 Done, thanks".into(), "👍 已办好".into()),
            FollowText::ButtonNotReceived => {
                pick(lang, "❓ Not done".into(), "❓ 没办好".into())
            }
            FollowText::ButtonKeep => pick(lang, "👍 Still on it".into(), "👍 还在处理".into()),
            FollowText::ButtonRelease => pick(lang, "↩️ Release it".into(), "↩️ 放弃认领".into()),
        }
    }
}

/// A notice's words (without the mention).
fn notice_text(notice: Notice, card: &TaskCard, group: &str, lang: Lang) -> String {
    let n = card.number;
    let kind = kind_name(card.kind, lang);
    let group = escape(group);
    let claimer = escape(card.claimer_name.as_deref().unwrap_or("?"));
    match notice {
        Notice::Claimed => pick(
            lang,
            format!("🙋 Your request {n} ({kind}) in “{group}” was taken by {claimer}."),
            format!("🙋 你在「{group}」的请求 {n}（{kind}）已由 {claimer} 认领。"),
        ),
        Notice::Done => pick(
            lang,
            format!("✅ {claimer} marked your request {n} ({kind}) in “{group}” as done. Was it done as you asked? Tap a button below (or under the group's message)."),
            format!("✅ {claimer} 已把你在「{group}」的请求 {n}（{kind}）标为完成。事情办好了吗？请点下面的按钮（或群里那条消息下的按钮）。"),
        ),
        Notice::ReleasedByOther => pick(
            lang,
            format!("↩️ {n} ({kind}) in “{group}” was released by an admin: it is no longer yours, and waits for someone to take it."),
            format!("↩️ 管理员已取消你对「{group}」{n}（{kind}）的认领，它重新等待别人认领。"),
        ),
        Notice::Cancelled => pick(
            lang,
            format!("🚫 {n} ({kind}) in “{group}”, which you took, was cancelled: no need to do it."),
            format!("🚫 你在「{group}」认领的 {n}（{kind}）已取消，不用再做了。"),
        ),
        Notice::ReleasedByBot => pick(
            lang,
            format!("↩️ You did not answer, so I released {n} ({kind}) in “{group}” for someone else to take. Still doing it? Claim it again with 🙋. Thank you all the same!"),
            format!("↩️ 你没有回复，所以我把「{group}」的 {n}（{kind}）重新开放给别人认领。如果还在做，请再点 🙋 认领。仍然感谢你！"),
        ),
        Notice::NotReceived => pick(
            lang,
            format!("❓ The requester says {n} ({kind}) in “{group}” is not done. It is yours again: please check with them."),
            format!("❓ 求助人说「{group}」的 {n}（{kind}）还没办好，任务重新交给你，请和对方确认。"),
        ),
        Notice::StillOnIt => pick(
            lang,
            format!("⏰ Are you still on {n} ({kind}) in “{group}”? Please tap a button below."),
            format!("⏰ 你还在处理「{group}」的 {n}（{kind}）吗？请点下面的按钮。"),
        ),
    }
}

/// "… and N more" on a line of its own, when N > 0.
fn more_line(more: u64, lang: Lang) -> String {
    if more == 0 {
        return String::new();
    }
    format!("\n{}", super::Text::MoreNotShown(more).render(lang))
}

/// The digest: what was done (the first cards, and how many in all), what
/// is still live (the same), and the households ending tomorrow.
fn digest(
    (done, done_count): (&[TaskCard], u64),
    (live, live_count): (&[TaskCard], u64),
    ending: &[Household],
    hide_flats: bool,
    lang: Lang,
) -> String {
    let mut out = pick(
        lang,
        "🗓 <b>Daily summary</b>".into(),
        "🗓 <b>每日小结</b>".into(),
    );
    if !done.is_empty() {
        out += &pick(
            lang,
            format!("\n\n✅ Done: {done_count}"),
            format!("\n\n✅ 已完成：{done_count} 个"),
        );
        for card in done {
            let helper = escape(card.claimer_name.as_deref().unwrap_or("?"));
            let _ = write!(
                out,
                "\n{} {} — 🙏 {helper}",
                card.number,
                kind_name(card.kind, lang)
            );
        }
        out += &more_line(done_count.saturating_sub(done.len() as u64), lang);
        let mut helpers: Vec<&str> = done
            .iter()
            .filter_map(|card| card.claimer_name.as_deref())
            .collect();
        helpers.sort_unstable();
        helpers.dedup();
        let thanks: Vec<String> = helpers.iter().map(|name| escape(name)).collect();
        out += &pick(
            lang,
            format!("\nThank you, {}!", thanks.join(", ")),
            format!("\n感谢 {}！", thanks.join("、")),
        );
    }
    if !live.is_empty() {
        out += &pick(
            lang,
            format!("\n\n⏳ Still open: {live_count}"),
            format!("\n\n⏳ 仍待完成：{live_count} 个"),
        );
        for card in live {
            out.push('\n');
            out += &list_line(card, lang);
        }
        out += &more_line(live_count.saturating_sub(live.len() as u64), lang);
    }
    if !ending.is_empty() {
        out += &pick(
            lang,
            format!(
                "\n\n🏠 Households whose registration ends tomorrow: {}",
                ending.len()
            ),
            format!("\n\n🏠 明天到期的登记住户：{} 户", ending.len()),
        );
        if !hide_flats {
            let flats: Vec<String> = ending.iter().map(|h| escape(&h.flat)).collect();
            let _ = write!(out, "\n{}", flats.join(", "));
        }
        out += &pick(
            lang,
            "\nLeads and admins: /households to review them.".into(),
            "\n楼长和管理员可用 /households 查看。".into(),
        );
    }
    out
}

/// How long, in at most two units: `2h 5m`, `3d 4h`, `2小时5分钟`.
fn age(since: TimeDelta, lang: Lang) -> String {
    let minutes = since.num_minutes().max(0);
    if minutes < 1 {
        return pick(lang, "under a minute".into(), "不到1分钟".into());
    }
    let (d, h, m) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let parts: Vec<(i64, &str, &str)> = [(d, "d", "天"), (h, "h", "小时"), (m, "m", "分钟")]
        .into_iter()
        .skip_while(|(n, ..)| *n == 0)
        .take(2)
        .filter(|(n, ..)| *n > 0)
        .collect();
    let en: Vec<String> = parts.iter().map(|(n, u, _)| format!("{n}{u}")).collect();
    let zh: String = parts.iter().map(|(n, _, u)| format!("{n}{u}")).collect();
    pick(lang, en.join(" "), zh)
}

/// A wait as settings show it.
fn wait_shown(wait: Option<TimeDelta>, lang: Lang) -> String {
    match wait {
        Some(wait) => ShownWait(wait).to_string(),
        None => pick(lang, "off".into(), "关闭 (off)".into()),
    }
}

fn settings(view: &SettingsView, lang: Lang) -> String {
    let r = &view.reminders;
    let on_off = |on: bool| if on { "on" } else { "off" };
    let digest = match r.digest_at {
        Some(at) => at.format("%H:%M").to_string(),
        None => wait_shown(None, lang),
    };
    let zone = r.time_zone.name();
    let unclaimed = wait_shown(r.unclaimed_after, lang);
    let check = wait_shown(r.check_claim_after, lang);
    let release = wait_shown(r.auto_release_after, lang);
    pick(
        lang,
        format!(
            "<b>Settings of this group</b>\n\
             🌐 language: {} — what the whole group reads.\n\
             🔒 hide_flats: {} — on: every request is private, the group sees only its number and kind.\n\
             time_zone: {zone} — for the daily summary and the times shown.\n\
             ⏰ unclaimed_after: {unclaimed} — open tasks are listed in the group after this long.\n\
             ❔ check_claim_after: {check} — a volunteer is asked “still on it?” after this long.\n\
             ↩️ auto_release_after: {release} — no answer this long, and the task is released.\n\
             🗓 digest_at: {digest} — the daily summary.\n\
             📋 board: {} — on: one help board instead of a message per request; the bot marks what worked with a 👍.\n\n\
             Admins: tap a button, or write /settings KEY VALUE (durations like 90s, 30m, 3h, 2d or off; /settings time_zone Europe/Berlin).",
            view.lang.as_str(),
            on_off(view.hide_flats),
            on_off(view.board),
        ),
        format!(
            "<b>本群设置</b>\n\
             🌐 language（语言）：{} — 全群看到的消息所用的语言。\n\
             🔒 hide_flats（隐藏门牌）：{} — on 时所有求助按私信处理，群里只显示编号和类型。\n\
             time_zone（时区）：{zone} — 每日小结和显示时间所用的时区。\n\
             ⏰ unclaimed_after（无人认领提醒）：{unclaimed} — 请求等待这么久无人认领就在群里提醒。\n\
             ❔ check_claim_after（询问志愿者）：{check} — 认领这么久后问志愿者“还在处理吗？”。\n\
             ↩️ auto_release_after（自动放回）：{release} — 提问后这么久没有回复就重新开放认领。\n\
             🗓 digest_at（每日小结）：{digest} — 每日小结的时间。\n\
             📋 board（互助看板）：{} — on 时所有求助列在一条看板上，不再逐条发消息；办成的消息由机器人加一个 👍。\n\n\
             管理员可点下面的按钮，或写 /settings 名称 值（时长如 90s、30m、3h、2d，m=分钟、h=小时、d=天，或 off；/settings time_zone Asia/Shanghai 即北京时间）。",
            view.lang.as_str(),
            on_off(view.hide_flats),
            on_off(view.board),
        ),
    )
}

fn setting_set(change: SettingChange, lang: Lang) -> String {
    match change {
        SettingChange::TimeZone(zone) => pick(
            lang,
            format!("This group's time zone is now {}.", zone.name()),
            format!("本群的时区现在是 {}。", zone.name()),
        ),
        SettingChange::DigestAt(Some(at)) => pick(
            lang,
            format!(
                "The daily digest now comes at {} (group's time).",
                at.format("%H:%M")
            ),
            format!("每日小结现在于 {}（本群时区）发送。", at.format("%H:%M")),
        ),
        SettingChange::DigestAt(None) => pick(
            lang,
            "No more daily digest in this group.".into(),
            "本群不再发送每日小结。".into(),
        ),
        SettingChange::Wait(wait, Some(after)) => {
            let (key, shown) = (wait.key(), ShownWait(after));
            match wait {
                Wait::Unclaimed => pick(
                    lang,
                    format!("{key}: open tasks are now listed in the group after {shown}."),
                    format!("{key}：无人认领的请求{shown}后在群里提醒。"),
                ),
                Wait::CheckClaim => pick(
                    lang,
                    format!("{key}: volunteers are now asked “still on it?” after {shown}."),
                    format!("{key}：认领{shown}后询问志愿者是否还在处理。"),
                ),
                Wait::AutoRelease => pick(
                    lang,
                    format!("{key}: with no answer for {shown}, the task is now released."),
                    format!("{key}：提问后{shown}没有回复，任务将重新开放认领。"),
                ),
            }
        }
        SettingChange::Wait(wait, None) => {
            let key = wait.key();
            match wait {
                Wait::Unclaimed => pick(
                    lang,
                    format!("{key}: off. Open tasks are no longer listed in the group."),
                    format!("{key}：已关闭，不再在群里提醒无人认领的请求。"),
                ),
                Wait::CheckClaim => pick(
                    lang,
                    format!("{key}: off. Volunteers are no longer asked “still on it?”."),
                    format!("{key}：已关闭，不再询问志愿者是否还在处理。"),
                ),
                Wait::AutoRelease => pick(
                    lang,
                    format!("{key}: off. The bot no longer releases unanswered tasks."),
                    format!("{key}：已关闭，不再自动放回没有回复的任务。"),
                ),
            }
        }
        // Said by their own texts; here only for completeness.
        SettingChange::Language(_) | SettingChange::HideFlats(_) | SettingChange::Board(_) => {
            pick(lang, "Done.".into(), "已设置。".into())
        }
    }
}

/// The words of a mistaken `/settings` value (see [`super::Text::Usage`]).
pub fn bad_setting(error: BadSetting<'_>, lang: Lang) -> String {
    match error {
        BadSetting::TimeZone(word) => pick(
            lang,
            format!("“{}” is not a time zone I know: write an IANA name such as Asia/Shanghai or Europe/Berlin.", echo(word)),
            format!("不认识“{}”这个时区：请写时区名称，例如 Asia/Shanghai（北京时间）或 Europe/Berlin。", echo(word)),
        ),
        BadSetting::Wait(wait, word) => pick(
            lang,
            format!("“{}” is not a duration of at most a year (365d): write, for example, /settings {} 30m (90s, 30m, 3h, 2d), or off.", echo(word), wait.key()),
            format!("“{}”不是一年（365d）以内的有效时长：请写，例如 /settings {} 30m（90s、30m、3h、2d；s=秒、m=分钟、h=小时、d=天），或 off。", echo(word), wait.key()),
        ),
        BadSetting::TimeOfDay(word) => pick(
            lang,
            format!("“{}” is not a time of day: write, for example, /settings digest_at 20:00, or off.", echo(word)),
            format!("“{}”不是有效的时间：请写，例如 /settings digest_at 20:00，或 off。", echo(word)),
        ),
    }
}

/// A `/settings` value that does not read.
#[derive(Debug, Clone, Copy)]
pub enum BadSetting<'a> {
    TimeZone(&'a str),
    Wait(Wait, &'a str),
    TimeOfDay(&'a str),
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::domain::{Kind, Status};

    fn card() -> TaskCard {
        TaskCard {
            number: TaskNumber::new(4).unwrap(),
            kind: Kind::Groceries,
            flat: "3-101".into(),
            details: "rice <5kg>".into(),
            status: Status::Claimed,
            requester_name: "Ann".into(),
            claimer_name: Some("Bo & Co".into()),
            done_note: None,
            asked_at: "12-03 09:00".into(),
            private: false,
            received: false,
            since: Some(TimeDelta::minutes(40)),
        }
    }

    /// Every message in both languages, with user text escaped.
    #[test]
    fn every_follow_through_text_is_translated_and_escaped() {
        let card = card();
        let cards = std::slice::from_ref(&card);
        let household = Household {
            id: 1,
            chat_id: -1,
            flat: "9-9<".into(),
            until_day: None,
            note: String::new(),
        };
        let view = SettingsView {
            lang: Lang::En,
            hide_flats: true,
            board: false,
            reminders: Reminders {
                unclaimed_after: Some(TimeDelta::minutes(30)),
                check_claim_after: None,
                auto_release_after: Some(TimeDelta::hours(2)),
                digest_at: None,
                time_zone: chrono_tz::Europe::Berlin,
            },
        };
        let n = card.number;
        let mut all: Vec<FollowText> = Notice::ALL
            .into_iter()
            .flat_map(|notice| {
                [None, Some((7, "Bo & Co"))].map(|mention| FollowText::Notice {
                    notice,
                    card: &card,
                    group: "Block <3>",
                    mention,
                })
            })
            .collect();
        all.extend([
            FollowText::Unclaimed {
                cards,
                more: 2,
                after: TimeDelta::minutes(30),
            },
            FollowText::Digest {
                done: cards,
                done_count: 40,
                live: cards,
                live_count: 1,
                ending: std::slice::from_ref(&household),
                hide_flats: false,
            },
            FollowText::Received(n),
            FollowText::NotReceived(n),
            FollowText::Kept(n, Some(TimeDelta::hours(3))),
            FollowText::Kept(n, None),
            FollowText::NoLongerYours,
            FollowText::Settings(&view),
            FollowText::SettingSet(SettingChange::DigestAt(None)),
            FollowText::SettingSet(SettingChange::TimeZone(chrono_tz::Asia::Shanghai)),
            FollowText::SettingSet(SettingChange::Wait(Wait::CheckClaim, None)),
            FollowText::AskedByMe,
            FollowText::Since(TimeDelta::hours(5)),
            FollowText::ButtonReceived,
            FollowText::ButtonNotReceived,
            FollowText::ButtonKeep,
            FollowText::ButtonRelease,
        ]);
        for text in all {
            super::super::assert_translated(&text, |lang| text.render(lang));
            for lang in [Lang::En, Lang::Zh] {
                let html = text.render(lang);
                for raw in ["Bo & Co", "<3>", "9-9<", "<5kg>"] {
                    assert!(!html.contains(raw), "{text:?} shows {raw} unescaped");
                }
            }
        }
        for error in [
            BadSetting::TimeZone("Mars/Base"),
            BadSetting::Wait(Wait::Unclaimed, "soon"),
            BadSetting::TimeOfDay("25:00"),
        ] {
            super::super::assert_translated(&error, |lang| bad_setting(error, lang));
        }
    }

    #[test]
    fn ages_show_two_units_at_most() {
        assert_eq!(age(TimeDelta::seconds(30), Lang::En), "under a minute");
        assert_eq!(age(TimeDelta::minutes(125), Lang::En), "2h 5m");
        assert_eq!(age(TimeDelta::minutes(3 * 1440 + 61), Lang::En), "3d 1h");
        assert_eq!(age(TimeDelta::hours(48), Lang::Zh), "2天");
        assert_eq!(age(TimeDelta::minutes(65), Lang::Zh), "1小时5分钟");
    }
}
