//! What the bot says about building leads, households and forgetting, in
//! English and Chinese. As in [`super::Text`], every arm gives both
//! languages and all user text is escaped.

use std::fmt::Write;

use super::{escape, pick, Lang};
use crate::ledger::households::Household;

/// Every message about leads, households and forgetting.
#[derive(Debug, Clone, Copy)]
pub enum HouseholdText<'a> {
    /// `/lead` or `/unlead` not sent as a reply to someone's message.
    LeadNeedsReply,
    /// `/lead` or `/unlead` by someone who is not an admin.
    OnlyAdminsNameLeads,
    /// `name` is a lead now (`lead`) or no more; `changed`: it was not so.
    LeadSet {
        name: &'a str,
        lead: bool,
        changed: bool,
    },
    /// Registered; the flat is not repeated in the group.
    Registered,
    OnlyAdminsAndLeads,
    /// The list went to the sender's private chat.
    SentPrivately,
    /// The bot may not write first: the button below opens its chat.
    OpenChatFirst,
    ButtonOpenChat,
    /// A chat's households.
    List {
        group: &'a str,
        households: &'a [Household],
    },
    /// The sender leads no group the bot knows.
    NoGroupToList,
    /// `/forgetme` done: this many finished requests erased.
    Forgotten(u64),
    /// `/forgetme` in a group: it is done in the private chat.
    ForgetMeThere,
}

impl HouseholdText<'_> {
    /// The message in `lang`, as HTML (button labels: plain text).
    pub fn render(&self, lang: Lang) -> String {
        match *self {
            HouseholdText::LeadNeedsReply => pick(
                lang,
                "Send /lead (or /unlead) as a reply to a message of the person you mean.".into(),
                "请回复对方的某条消息发送 /lead（或 /unlead）。".into(),
            ),
            HouseholdText::OnlyAdminsNameLeads => pick(
                lang,
                "Only a group admin can name building leads.".into(),
                "只有群管理员可以指定楼长。".into(),
            ),
            HouseholdText::LeadSet { name, lead, changed } => {
                let name = escape(name);
                match (lead, changed) {
                    (true, true) => pick(
                        lang,
                        format!("🏢 {name} is now a building lead: they may register households and ask for help on their behalf."),
                        format!("🏢 {name} 现在是楼长：可以登记住户并代他们求助。"),
                    ),
                    (true, false) => pick(
                        lang,
                        format!("{name} is already a building lead."),
                        format!("{name} 已经是楼长了。"),
                    ),
                    (false, true) => pick(
                        lang,
                        format!("{name} is no longer a building lead."),
                        format!("{name} 不再是楼长。"),
                    ),
                    (false, false) => pick(
                        lang,
                        format!("{name} was not a building lead."),
                        format!("{name} 本来就不是楼长。"),
                    ),
                }
            }
            HouseholdText::Registered => pick(
                lang,
                "🏠 Household registered. Admins and building leads get the list with /households, privately.".into(),
                "🏠 住户已登记。管理员和楼长可用 /households 私下查看名单。".into(),
            ),
            HouseholdText::OnlyAdminsAndLeads => pick(
                lang,
                "Only group admins and building leads can register or list households.".into(),
                "只有群管理员和楼长可以登记或查看住户。".into(),
            ),
            HouseholdText::SentPrivately => pick(
                lang,
                "I sent you the list in a private chat.".into(),
                "名单已私信发给你。".into(),
            ),
            HouseholdText::OpenChatFirst => pick(
                lang,
                "I may not write to you first: open a chat with me and tap Start, and I send you the list there.".into(),
                "我不能先给你发私信：请打开与我的私聊并点“开始”，我会把名单发到那里。".into(),
            ),
            HouseholdText::ButtonOpenChat => pick(lang, "💬 Open the chat".into(), "💬 打开私聊".into()),
            HouseholdText::List { group, households } => list(group, households, lang),
            HouseholdText::NoGroupToList => pick(
                lang,
                "You are not an admin or a building lead of a group I am in.".into(),
                "你不是我所在任何群的管理员或楼长。".into(),
            ),
            HouseholdText::Forgotten(0) => pick(
                lang,
                "You have no finished requests whose flat or details I still keep: there was nothing to erase. Requests still open keep theirs; send /forgetme again once they are finished.".into(),
                "我没有保存你已结束求助的门牌或说明，没有需要删除的。未结束的求助会保留，结束后可以再发 /forgetme。".into(),
            ),
            HouseholdText::Forgotten(tasks) => pick(
                lang,
                format!("🧹 Done: the flats, details and notes of your {tasks} finished requests are erased everywhere I kept them; the counts, times and who helped stay. Requests still open keep theirs: send /forgetme again once they are finished. Messages already delivered to volunteers cannot be taken back."),
                format!("🧹 已完成：你 {tasks} 个已结束求助的门牌、说明和备注已从我保存的所有地方删除，只保留数量、时间和帮忙的人。未结束的求助会保留，结束后可以再发 /forgetme。已经发给志愿者的私信无法撤回。"),
            ),
            HouseholdText::ForgetMeThere => pick(
                lang,
                "Send /forgetme to me in a private chat.".into(),
                "请在与我的私聊中发送 /forgetme。".into(),
            ),
        }
    }
}

fn list(group: &str, households: &[Household], lang: Lang) -> String {
    let mut out = pick(
        lang,
        format!("<b>Households of {}</b>", escape(group)),
        format!("<b>{} 的登记住户</b>", escape(group)),
    );
    if households.is_empty() {
        out += &pick(lang, "\nNone yet.".into(), "\n暂无。".into());
    }
    for household in households {
        let _ = write!(out, "\n🏠 {}", escape(&household.flat));
        if let Some(until) = household.until_day {
            out += &pick(lang, format!(" · until {until}"), format!(" · 到 {until}"));
        }
        if !household.note.is_empty() {
            let _ = write!(out, " · {}", escape(&household.note));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_exists_in_both_languages() {
        let households = [Household {
            id: 1,
            chat_id: -1,
            flat: "3号楼201".into(),
            until_day: chrono::NaiveDate::from_ymd_opt(2026, 12, 31),
            note: "<deaf>".into(),
        }];
        let all = [
            HouseholdText::LeadNeedsReply,
            HouseholdText::OnlyAdminsNameLeads,
            HouseholdText::LeadSet {
                name: "Bo",
                lead: true,
                changed: true,
            },
            HouseholdText::LeadSet {
                name: "Bo",
                lead: true,
                changed: false,
            },
            HouseholdText::LeadSet {
                name: "Bo",
                lead: false,
                changed: true,
            },
            HouseholdText::LeadSet {
                name: "Bo",
                lead: false,
                changed: false,
            },
            HouseholdText::Registered,
            HouseholdText::OnlyAdminsAndLeads,
            HouseholdText::SentPrivately,
            HouseholdText::OpenChatFirst,
            HouseholdText::ButtonOpenChat,
            HouseholdText::List {
                group: "R",
                households: &households,
            },
            HouseholdText::List {
                group: "R",
                households: &[],
            },
            HouseholdText::NoGroupToList,
            HouseholdText::Forgotten(0),
            HouseholdText::Forgotten(2),
            HouseholdText::ForgetMeThere,
        ];
        for text in all {
            super::super::assert_translated(&text, |lang| text.render(lang));
        }
        let html = HouseholdText::List {
            group: "R",
            households: &households,
        }
        .render(Lang::En);
        assert!(
            html.contains("3号楼201 · until 2026-12-31 · &lt;deaf&gt;"),
            "{html}"
        );
    }
}
