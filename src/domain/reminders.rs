//! When the bot follows a task up by itself: the reminders and the daily
//! digest of a chat, their settings, and the times they fall due.
//!
//! Durations are written as interface.md writes them (`90s`, `30m`, `3h`,
//! `2d`, or `off`), times of day as `HH:MM` in the chat's time zone.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Days, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

/// What a timer does when it falls due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// List the chat's tasks open longer than `unclaimed_after`.
    Unclaimed,
    /// Ask a task's claimer "still on it?".
    CheckClaim,
    /// Release a task whose claimer did not answer the question.
    AutoRelease,
    /// Post the chat's daily digest.
    Digest,
}

impl TimerKind {
    pub const ALL: [TimerKind; 4] = [
        TimerKind::Unclaimed,
        TimerKind::CheckClaim,
        TimerKind::AutoRelease,
        TimerKind::Digest,
    ];

    /// Its name in the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            TimerKind::Unclaimed => "unclaimed",
            TimerKind::CheckClaim => "check_claim",
            TimerKind::AutoRelease => "auto_release",
            TimerKind::Digest => "digest",
        }
    }
}

impl FromStr for TimerKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TimerKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| format!("unknown timer kind {s:?}"))
    }
}

/// The three waits a chat may set (each on, for a duration, or off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Wait {
    /// `unclaimed_after`: how long a task waits before it is listed.
    Unclaimed,
    /// `check_claim_after`: how long a claim runs before its claimer is asked.
    CheckClaim,
    /// `auto_release_after`: how long an unanswered question waits before
    /// the bot releases the task.
    AutoRelease,
}

impl Wait {
    pub const ALL: [Wait; 3] = [Wait::Unclaimed, Wait::CheckClaim, Wait::AutoRelease];

    /// Its key in `/settings` and in `[reminders]`.
    pub fn key(self) -> &'static str {
        match self {
            Wait::Unclaimed => "unclaimed_after",
            Wait::CheckClaim => "check_claim_after",
            Wait::AutoRelease => "auto_release_after",
        }
    }
}

/// A chat's reminders, with the operator's defaults filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reminders {
    pub unclaimed_after: Option<TimeDelta>,
    pub check_claim_after: Option<TimeDelta>,
    pub auto_release_after: Option<TimeDelta>,
    /// The local time of the daily digest; `None`: no digest.
    pub digest_at: Option<NaiveTime>,
    /// The chat's time zone (digests, times shown).
    pub time_zone: Tz,
}

impl Reminders {
    /// The wait `wait` of this chat; `None` when it is off.
    pub fn wait(&self, wait: Wait) -> Option<TimeDelta> {
        match wait {
            Wait::Unclaimed => self.unclaimed_after,
            Wait::CheckClaim => self.check_claim_after,
            Wait::AutoRelease => self.auto_release_after,
        }
    }

    /// The next digest strictly after `after`; `None` when digests are off.
    pub fn next_digest(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.digest_at
            .map(|at| next_daily(after, at, self.time_zone))
    }
}

/// What a chat set for itself; `None` keeps the operator's default. (A
/// wait of `Some(None)` is set to off.)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChatTiming {
    pub time_zone: Option<Tz>,
    pub unclaimed_after: Option<Option<TimeDelta>>,
    pub check_claim_after: Option<Option<TimeDelta>>,
    pub auto_release_after: Option<Option<TimeDelta>>,
    pub digest_at: Option<Option<NaiveTime>>,
    /// The chat's board, read with its settings.
    pub board: super::board::BoardState,
}

impl ChatTiming {
    /// The chat's reminders: what it set, else `defaults`.
    pub fn over(self, defaults: &Reminders) -> Reminders {
        Reminders {
            unclaimed_after: self.unclaimed_after.unwrap_or(defaults.unclaimed_after),
            check_claim_after: self.check_claim_after.unwrap_or(defaults.check_claim_after),
            auto_release_after: self
                .auto_release_after
                .unwrap_or(defaults.auto_release_after),
            digest_at: self.digest_at.unwrap_or(defaults.digest_at),
            time_zone: self.time_zone.unwrap_or(defaults.time_zone),
        }
    }
}

/// The first time strictly after `after` when the clock on the wall in
/// `zone` shows `at`. A day when `at` does not exist there (the hour a
/// DST change skips) takes the first moment after the gap; a day when it
/// exists twice takes the first.
pub fn next_daily(after: DateTime<Utc>, at: NaiveTime, zone: Tz) -> DateTime<Utc> {
    let today = after.with_timezone(&zone).date_naive();
    // Today's, or tomorrow's, or (after a skipped hour) the day after's.
    (0..3u64)
        .filter_map(|days| today.checked_add_days(Days::new(days)))
        .filter_map(|day| local_moment(day.and_time(at), zone))
        .find(|moment| *moment > after)
        .unwrap_or(after + TimeDelta::days(1))
}

/// The instant `local` names in `zone`: the earlier of two, or the first
/// one after a gap.
fn local_moment(local: chrono::NaiveDateTime, zone: Tz) -> Option<DateTime<Utc>> {
    match zone.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            Some(t.with_timezone(&Utc))
        }
        // In a gap: step forward a minute at a time (gaps last an hour or
        // less) to the first wall time that exists.
        chrono::LocalResult::None => (1..=180).find_map(|minutes| {
            zone.from_local_datetime(&(local + TimeDelta::minutes(minutes)))
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        }),
    }
}

/// The longest wait a chat may set: a year.
pub const LONGEST_WAIT: TimeDelta = TimeDelta::days(365);

/// Reads a duration as the settings write it (`90s`, `30m`, `3h`, `2d`,
/// more than none and at most [`LONGEST_WAIT`]), or `off` (`Some(None)`);
/// `None` when it is neither.
pub fn parse_wait(text: &str) -> Option<Option<TimeDelta>> {
    let text = text.trim();
    if ["off", "关", "關", "0"]
        .iter()
        .any(|w| text.eq_ignore_ascii_case(w))
    {
        return Some(None);
    }
    humantime::parse_duration(text)
        .ok()
        .filter(|d| !d.is_zero())
        .and_then(|d| TimeDelta::from_std(d).ok())
        .filter(|d| *d <= LONGEST_WAIT)
        .map(Some)
}

/// `at` plus `wait`, or the latest time there is when that overflows (no
/// wait we accept does).
pub fn later(at: DateTime<Utc>, wait: TimeDelta) -> DateTime<Utc> {
    at.checked_add_signed(wait)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Reads a time of day, `HH:MM` (also `H:MM` and a full-width colon), or
/// `off` (`Some(None)`); `None` when it is neither.
pub fn parse_time_of_day(text: &str) -> Option<Option<NaiveTime>> {
    let text = text.trim().replace('：', ":");
    if ["off", "关", "關"]
        .iter()
        .any(|w| text.eq_ignore_ascii_case(w))
    {
        return Some(None);
    }
    let (hours, minutes) = text.split_once(':')?;
    let ok = |part: &str, len| {
        (1..=len).contains(&part.len()) && part.chars().all(|c| c.is_ascii_digit())
    };
    if !ok(hours, 2) || minutes.len() != 2 || !ok(minutes, 2) {
        return None;
    }
    NaiveTime::from_hms_opt(hours.parse().ok()?, minutes.parse().ok()?, 0).map(Some)
}

/// A wait as the settings write it: `90s`, `30m`, `3h`, `2d`, `1h30m`.
pub struct ShownWait(pub TimeDelta);

impl fmt::Display for ShownWait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut seconds = self.0.num_seconds().max(0);
        if seconds == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
            if seconds >= size {
                write!(f, "{}{unit}", seconds / size)?;
                seconds %= size;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn the_next_digest_is_today_or_tomorrow_at_local_time() {
        let shanghai: Tz = "Asia/Shanghai".parse().unwrap();
        // 19:00 in Shanghai: today's 20:00.
        let after = utc("2026-12-03T11:00:00Z");
        assert_eq!(
            next_daily(after, hm(20, 0), shanghai),
            utc("2026-12-03T12:00:00Z")
        );
        // Exactly at 20:00: tomorrow's, never the same instant again.
        let at = utc("2026-12-03T12:00:00Z");
        assert_eq!(
            next_daily(at, hm(20, 0), shanghai),
            utc("2026-12-04T12:00:00Z")
        );
    }

    #[test]
    fn the_digest_keeps_its_local_time_across_a_dst_change() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // 20:00 in Berlin is 19:00 UTC in winter and 18:00 UTC in summer;
        // the clocks went forward on 29 March 2026.
        let saturday = next_daily(utc("2026-03-28T12:00:00Z"), hm(20, 0), berlin);
        assert_eq!(saturday, utc("2026-03-28T19:00:00Z"));
        let sunday = next_daily(saturday, hm(20, 0), berlin);
        assert_eq!(sunday, utc("2026-03-29T18:00:00Z"));
        assert_eq!(sunday - saturday, TimeDelta::hours(23));
        // 02:30 does not exist that Sunday: the first moment after the gap.
        let skipped = next_daily(utc("2026-03-28T12:00:00Z"), hm(2, 30), berlin);
        assert_eq!(skipped, utc("2026-03-29T01:00:00Z"));
        // 02:30 exists twice on 25 October: the first.
        let twice = next_daily(utc("2026-10-24T12:00:00Z"), hm(2, 30), berlin);
        assert_eq!(twice, utc("2026-10-25T00:30:00Z"));
    }

    #[test]
    fn waits_and_times_read_as_the_settings_write_them() {
        assert_eq!(parse_wait("90s"), Some(Some(TimeDelta::seconds(90))));
        assert_eq!(parse_wait("30m"), Some(Some(TimeDelta::minutes(30))));
        assert_eq!(parse_wait("3h"), Some(Some(TimeDelta::hours(3))));
        assert_eq!(parse_wait("2d"), Some(Some(TimeDelta::days(2))));
        assert_eq!(parse_wait("OFF"), Some(None));
        for bad in ["", "soon", "-3h", "0s", "3 parsecs", "366d", "300000y"] {
            assert_eq!(parse_wait(bad), None, "{bad}");
        }
        assert_eq!(parse_time_of_day("20:00"), Some(Some(hm(20, 0))));
        assert_eq!(parse_time_of_day("8：30"), Some(Some(hm(8, 30))));
        assert_eq!(parse_time_of_day("off"), Some(None));
        for bad in ["24:00", "20", "20:0", "20:000", "ab:cd", "-1:00", ""] {
            assert_eq!(parse_time_of_day(bad), None, "{bad}");
        }
        assert_eq!(ShownWait(TimeDelta::minutes(90)).to_string(), "1h30m");
        assert_eq!(ShownWait(TimeDelta::days(2)).to_string(), "2d");
    }

    #[test]
    fn a_chat_setting_wins_over_the_default_and_off_is_a_setting() {
        let defaults = Reminders {
            unclaimed_after: Some(TimeDelta::minutes(30)),
            check_claim_after: Some(TimeDelta::hours(3)),
            auto_release_after: Some(TimeDelta::hours(2)),
            digest_at: Some(hm(20, 0)),
            time_zone: Tz::Asia__Shanghai,
        };
        let chat = ChatTiming {
            unclaimed_after: Some(None),
            digest_at: Some(Some(hm(8, 0))),
            ..ChatTiming::default()
        };
        let mine = chat.over(&defaults);
        assert_eq!(mine.unclaimed_after, None);
        assert_eq!(mine.check_claim_after, Some(TimeDelta::hours(3)));
        assert_eq!(mine.digest_at, Some(hm(8, 0)));
    }

    proptest! {
        /// The next digest is after the given time, within a day and a few
        /// hours of it, and shows the chosen time where it is not skipped.
        #[test]
        fn the_next_digest_is_the_next_local_time(
            secs in 1_700_000_000i64..1_900_000_000,
            h in 0u32..24, m in 0u32..60,
            zone in prop::sample::select(vec!["Europe/Berlin", "America/New_York", "Asia/Shanghai", "Australia/Lord_Howe"]),
        ) {
            let zone: Tz = zone.parse().unwrap();
            let after = DateTime::from_timestamp(secs, 0).unwrap();
            let next = next_daily(after, hm(h, m), zone);
            prop_assert!(next > after);
            prop_assert!(next - after <= TimeDelta::hours(27));
            let local = next.with_timezone(&zone).time();
            prop_assert!(local >= hm(h, m) || next - after <= TimeDelta::hours(3));
        }
    }
}
