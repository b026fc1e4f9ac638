//! What the bot says about private requests, in English and Chinese: the
//! steps in the private chat, the group's pointer to them, and what the
//! claimer reads. As in [`super::Text`], every arm gives both languages
//! and all user text is escaped.

use std::fmt::Write;

use super::{escape, flat_and_details, kind_name, pick, Lang, Text};
use crate::domain::{Draft, MediaKind, TaskCard, TaskNumber};

/// Every message of the private-request steps.
#[derive(Debug, Clone, Copy)]
pub enum PrivateText<'a> {
    /// The answer in the group to `/need` alone: the button below it opens
    /// the private chat.
    AskThere,
    ButtonAskPrivately,
    AskGroup,
    AskKind,
    AskFlat,
    AskDetails,
    /// Everything is there: the summary, before send or abort.
    Confirm {
        group: &'a str,
        draft: &'a Draft,
    },
    ButtonSend,
    ButtonAbort,
    ButtonSkip,
    /// A `flat:` button offering this flat.
    ButtonFlat(&'a str),
    /// Filed as task N of `group`.
    Filed {
        number: TaskNumber,
        group: &'a str,
    },
    Aborted,
    /// The person is not (or no longer) a member of the group.
    NotMember,
    /// The bot knows no group the person is in.
    NoGroups,
    /// A step's button with no request behind it (sent, dropped, or older
    /// than a day).
    Stale,
    /// An answer to another question than the one asked: it follows again.
    AnswerThisFirst,
    FlatHasSpaces,
    /// What the claimer is given: the flat, details and who asked (a link
    /// to them).
    Details {
        card: &'a TaskCard,
        requester_id: i64,
        group: &'a str,
    },
    /// The details link opened by someone who does not hold the task.
    DetailsNotYours,
    /// A private request claimed; the details went to the claimer privately.
    ClaimedDetailsSent(TaskNumber),
    /// A private request claimed by someone the bot cannot write to yet:
    /// the link below (or the button answer's URL) brings the details.
    ClaimedOpenLink(TaskNumber),
    ButtonGetDetails,
}

impl PrivateText<'_> {
    /// The message in `lang`, as HTML (button labels: plain text).
    pub fn render(&self, lang: Lang) -> String {
        match *self {
            PrivateText::AskThere => pick(
                lang,
                "To ask for help without showing your flat to the group, tap the button, then Start: I will ask you the rest in a private chat. Only the volunteer who takes it sees your flat and details.".into(),
                "想求助又不想让全群看到门牌？点下面的按钮，再点屏幕下方的“开始”，我在私聊里一步一步问你。只有认领的志愿者能看到门牌和说明。".into(),
            ),
            PrivateText::ButtonAskPrivately => pick(lang, "✍️ Ask privately".into(), "✍️ 私信求助".into()),
            PrivateText::AskGroup => pick(
                lang,
                "Which group is this request for?".into(),
                "这个求助发到哪个群？".into(),
            ),
            PrivateText::AskKind => pick(
                lang,
                "What do you need help with?".into(),
                "需要什么帮助？".into(),
            ),
            PrivateText::AskFlat => pick(
                lang,
                "Which flat is it for? Type it, for example 12-302 or 3号楼201.".into(),
                "门牌号是多少？请输入，例如 3号楼201 或 12-302。".into(),
            ),
            PrivateText::AskDetails => pick(
                lang,
                "Anything the volunteer should know? Type it, send a photo with a caption, or a voice message. Or tap Skip.".into(),
                "还有什么要告诉志愿者的吗？可以打字、发带说明的照片或语音。没有就点“跳过”。".into(),
            ),
            PrivateText::Confirm { group, draft } => confirm(group, draft, lang),
            PrivateText::ButtonSend => pick(lang, "📨 Send".into(), "📨 发送".into()),
            PrivateText::ButtonAbort => pick(lang, "✖️ Drop it".into(), "✖️ 不发了".into()),
            PrivateText::ButtonSkip => pick(lang, "⏭ Skip".into(), "⏭ 跳过".into()),
            PrivateText::ButtonFlat(flat) => format!("🏠 {flat}"),
            PrivateText::Filed { number, group } => pick(
                lang,
                format!("✅ Sent to {} as {number}. The group sees only {number} and the kind; the volunteer who takes it gets your flat and details from me. You can follow {number} in the group.", escape(group)),
                format!("✅ 已发到“{}”，编号 {number}。群里只显示编号和类型；门牌和说明由我私下发给认领的志愿者。可以在群里查看 {number} 的进展。", escape(group)),
            ),
            PrivateText::Aborted => pick(
                lang,
                "Dropped: nothing was sent. Write to me again whenever you need help.".into(),
                "已放弃，什么都没有发出。需要帮助时随时再给我发消息。".into(),
            ),
            PrivateText::NotMember => pick(
                lang,
                "I can only file requests for members of that group, and Telegram says you are not one. Join the group first, or ask a neighbour there to file it for you.".into(),
                "只有该群的成员才能通过我求助，Telegram 显示你不在群里。请先加入该群，或请群里的邻居代你发。".into(),
            ),
            PrivateText::NoGroups => pick(
                lang,
                "I don't know a group of yours yet. Send /need in your residents' group, or ask its admin to add me to it.".into(),
                "我还不知道你在哪个群。请在小区居民群里发 /need，或请群管理员把我加进群。".into(),
            ),
            PrivateText::Stale => pick(
                lang,
                "This button no longer works. If you did not get “✅ Sent to …”, nothing was sent: write to me to start again.".into(),
                "这个按钮已失效。如果没收到“✅ 已发到…”，求助就没有发出：给我发任意消息重新开始。".into(),
            ),
            PrivateText::AnswerThisFirst => pick(
                lang,
                "Please answer this first (tap one of the buttons, or type the answer):".into(),
                "请先回答这个问题（点下面的按钮，或直接输入）：".into(),
            ),
            PrivateText::FlatHasSpaces => pick(
                lang,
                "Please type just the flat, without spaces, like 12-302 or 3号楼201. You can add details in the next step.".into(),
                "请只输入门牌号，不要有空格，例如 3号楼201 或 12-302。说明可以在下一步写。".into(),
            ),
            PrivateText::Details {
                card,
                requester_id,
                group,
            } => details(card, requester_id, group, lang),
            PrivateText::DetailsNotYours => pick(
                lang,
                "Only the volunteer who holds this task now can see its details.".into(),
                "只有当前认领该任务的志愿者才能查看它的详情。".into(),
            ),
            PrivateText::ClaimedDetailsSent(n) => {
                let claimed = Text::Claimed(n).render(lang);
                pick(
                    lang,
                    format!("{claimed} I sent you the flat and details in a private chat."),
                    format!("{claimed}门牌和说明已私信发给你。"),
                )
            }
            PrivateText::ClaimedOpenLink(n) => {
                let claimed = Text::Claimed(n).render(lang);
                pick(
                    lang,
                    format!("{claimed} Open a chat with me (then tap Start) to get the flat and details."),
                    format!("{claimed}请打开与我的私聊（再点“开始”）获取门牌和说明。"),
                )
            }
            PrivateText::ButtonGetDetails => {
                pick(lang, "🔒 Get the details".into(), "🔒 查看详情".into())
            }
        }
    }
}

fn confirm(group: &str, draft: &Draft, lang: Lang) -> String {
    let mut out = pick(
        lang,
        format!("<b>Please check your request to {}</b>\n", escape(group)),
        format!("<b>请确认发到“{}”的求助</b>\n", escape(group)),
    );
    if let Some(kind) = draft.kind {
        let _ = writeln!(out, "{}", kind_name(kind, lang));
    }
    let flat = escape(draft.flat.as_deref().unwrap_or_default());
    out += &pick(
        lang,
        format!("🏠 Flat: {flat}\n"),
        format!("🏠 门牌：{flat}\n"),
    );
    if let Some(details) = draft.details.as_deref().filter(|d| !d.is_empty()) {
        let _ = writeln!(out, "📝 {}", escape(details));
    }
    if let Some(media) = &draft.media {
        out += &match media.kind {
            MediaKind::Photo => pick(lang, "🖼 with your photo\n".into(), "🖼 附照片\n".into()),
            MediaKind::Voice => pick(
                lang,
                "🎤 with your voice message\n".into(),
                "🎤 附语音\n".into(),
            ),
        };
    }
    out += &pick(
        lang,
        "\nThe group will see only the number and the kind. Tap 📨 Send to send it; typing now replaces the details above.".into(),
        "\n群里只会看到编号和类型。点“📨 发送”发出；现在打字会替换上面的说明。".into(),
    );
    out
}

fn details(card: &TaskCard, requester_id: i64, group: &str, lang: Lang) -> String {
    let mut out = format!(
        "<b>🔒 {} · {}</b> · {}\n",
        card.number,
        kind_name(card.kind, lang),
        escape(group)
    );
    out += &flat_and_details(card, lang);
    let link = format!(
        "<a href=\"tg://user?id={requester_id}\">{}</a>",
        escape(&card.requester_name)
    );
    out += &pick(
        lang,
        format!("🙏 Asked by {link}\nPlease keep these details to yourself."),
        format!("🙏 求助人：{link}\n请不要转发这些信息。"),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Kind, Media, Status};

    fn samples() -> Vec<PrivateText<'static>> {
        let n = TaskNumber::new(4).unwrap();
        let draft: &'static Draft = Box::leak(Box::new(Draft {
            chat_id: Some(-1),
            thread_id: None,
            kind: Some(Kind::Medicine),
            flat: Some("12-302".into()),
            details: Some("<insulin>".into()),
            media: Some(Media {
                kind: MediaKind::Voice,
                file_id: "AwAD".into(),
            }),
        }));
        let card: &'static TaskCard = Box::leak(Box::new(TaskCard {
            number: n,
            kind: Kind::Medicine,
            flat: "12-302".into(),
            details: "<insulin>".into(),
            status: Status::Claimed,
            requester_name: "Ann & Co".into(),
            claimer_name: Some("Bo".into()),
            done_note: None,
            asked_at: "01-02 03:04".into(),
            private: true,
            received: false,
            since: None,
        }));
        let all = vec![
            PrivateText::AskThere,
            PrivateText::ButtonAskPrivately,
            PrivateText::AskGroup,
            PrivateText::AskKind,
            PrivateText::AskFlat,
            PrivateText::AskDetails,
            PrivateText::Confirm {
                group: "3号楼 <邻里>",
                draft,
            },
            PrivateText::ButtonSend,
            PrivateText::ButtonAbort,
            PrivateText::ButtonSkip,
            PrivateText::Filed {
                number: n,
                group: "Residents",
            },
            PrivateText::Aborted,
            PrivateText::NotMember,
            PrivateText::NoGroups,
            PrivateText::Stale,
            PrivateText::AnswerThisFirst,
            PrivateText::FlatHasSpaces,
            PrivateText::Details {
                card,
                requester_id: 101,
                group: "Residents",
            },
            PrivateText::DetailsNotYours,
            PrivateText::ClaimedDetailsSent(n),
            PrivateText::ClaimedOpenLink(n),
            PrivateText::ButtonGetDetails,
        ];
        for text in &all {
            // Exhaustive on purpose: a new message fails to compile until sampled above.
            match text {
                PrivateText::AskThere
                | PrivateText::ButtonAskPrivately
                | PrivateText::AskGroup
                | PrivateText::AskKind
                | PrivateText::AskFlat
                | PrivateText::AskDetails
                | PrivateText::Confirm { .. }
                | PrivateText::ButtonSend
                | PrivateText::ButtonAbort
                | PrivateText::ButtonSkip
                | PrivateText::ButtonFlat(_)
                | PrivateText::Filed { .. }
                | PrivateText::Aborted
                | PrivateText::NotMember
                | PrivateText::NoGroups
                | PrivateText::Stale
                | PrivateText::AnswerThisFirst
                | PrivateText::FlatHasSpaces
                | PrivateText::Details { .. }
                | PrivateText::DetailsNotYours
                | PrivateText::ClaimedDetailsSent(_)
                | PrivateText::ClaimedOpenLink(_)
                | PrivateText::ButtonGetDetails => {}
            }
        }
        all
    }

    #[test]
    fn every_message_exists_in_both_languages() {
        for text in samples() {
            super::super::assert_translated(&text, |lang| text.render(lang));
        }
    }

    #[test]
    fn the_claimer_reads_everything_escaped_with_a_link_to_the_requester() {
        let texts = samples();
        let details = texts
            .iter()
            .find(|t| matches!(t, PrivateText::Details { .. }))
            .unwrap();
        let html = details.render(Lang::En);
        assert!(
            html.contains("12-302") && html.contains("&lt;insulin&gt;"),
            "{html}"
        );
        assert!(
            html.contains("<a href=\"tg://user?id=101\">Ann &amp; Co</a>"),
            "{html}"
        );
        let confirm = texts
            .iter()
            .find(|t| matches!(t, PrivateText::Confirm { .. }))
            .unwrap()
            .render(Lang::Zh);
        assert!(
            confirm.contains("&lt;邻里&gt;") && confirm.contains("语音"),
            "{confirm}"
        );
    }
}
