//! The one source of time for the core and the runtime.
//!
//! Everything that stamps a row or decides whether something is due asks a
//! [`Clock`] built once at start. The bot runs on the system's clock; tests
//! build a [`Clock::manual`] one and move it with [`Clock::advance`], so that
//! hours pass in an instant and only when the test says so. (tokio's paused
//! time does not fit here: sqlx's SQLite connections answer from a thread
//! tokio cannot see, so a paused runtime that waits for them jumps its
//! clock to the next timer, which is a pool timeout.)

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};

/// Where "now" comes from. Cheap to clone; clones tell the same time.
#[derive(Debug, Clone)]
pub struct Clock(Source);

#[derive(Debug, Clone)]
enum Source {
    System,
    /// A time that moves only when advanced.
    Manual(Arc<Mutex<DateTime<Utc>>>),
}

impl Clock {
    /// The system's wall clock.
    pub fn system() -> Self {
        Clock(Source::System)
    }

    /// A clock that reads `start` until [`Clock::advance`] moves it.
    pub fn manual(start: DateTime<Utc>) -> Self {
        Clock(Source::Manual(Arc::new(Mutex::new(start))))
    }

    /// The time now, in UTC, to the microsecond: as fine as PostgreSQL
    /// keeps it, so that a time reads back from either store as it was.
    pub fn now(&self) -> DateTime<Utc> {
        let now = match &self.0 {
            Source::System => Utc::now(),
            Source::Manual(now) => *now.lock().unwrap_or_else(|p| p.into_inner()),
        };
        chrono::SubsecRound::trunc_subsecs(now, 6)
    }

    /// Moves a manual clock (and every clone of it) on by `by`; the system
    /// clock cannot be moved and is left alone.
    pub fn advance(&self, by: TimeDelta) {
        if let Source::Manual(now) = &self.0 {
            let mut now = now.lock().unwrap_or_else(|p| p.into_inner());
            *now = now.checked_add_signed(by).unwrap_or(*now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_its_clones_with_it() {
        let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = Clock::manual(start);
        let clone = clock.clone();
        assert_eq!(clock.now(), start);
        clone.advance(TimeDelta::hours(2));
        assert_eq!(clock.now(), start + TimeDelta::hours(2));
    }

    #[test]
    fn the_system_clock_is_the_wall_clock() {
        let before = Utc::now();
        let now = Clock::system().now();
        assert!(now >= before && now <= Utc::now());
    }
}
