//! When periodic tasks run: cron expressions (parsed by `#[task(cron = "...")]` at compile
//! time into the bit sets here) and fixed intervals (`#[task(every = 3600)]`), in UTC.

use chrono::{Datelike, Timelike};

/// A periodic task's schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// At the minutes a cron expression matches.
    Cron(Cron),
    /// Every this many seconds, counted from the epoch (`every = 3600`: on the hour).
    Every(u64),
}

/// A cron expression as bit sets: bit `n` set when field value `n` matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cron {
    /// The expression as written.
    pub source: &'static str,
    /// Minutes 0–59.
    pub minutes: u64,
    /// Hours 0–23.
    pub hours: u32,
    /// Days of the month 1–31.
    pub days: u32,
    /// Months 1–12.
    pub months: u16,
    /// Days of the week 0–6, Sunday 0.
    pub weekdays: u8,
    /// Whether the day-of-month field was `*` (cron's rule: when both day fields are
    /// restricted, a day matching either runs).
    pub any_day: bool,
    /// Whether the day-of-week field was `*`.
    pub any_weekday: bool,
}

impl Cron {
    /// Whether the minute starting at `time` matches.
    pub fn matches(&self, time: chrono::DateTime<chrono::Utc>) -> bool {
        let bit64 = |set: u64, n: u32| set & (1u64 << n) != 0;
        let day = self.days & (1u32 << time.day()) != 0;
        let weekday = self.weekdays & (1u8 << time.weekday().num_days_from_sunday()) != 0;
        let day_matches = match (self.any_day, self.any_weekday) {
            (true, true) => true,
            (true, false) => weekday,
            (false, true) => day,
            (false, false) => day || weekday,
        };
        bit64(self.minutes, time.minute())
            && self.hours & (1u32 << time.hour()) != 0
            && self.months & (1u16 << time.month()) != 0
            && day_matches
    }
}

impl Schedule {
    /// The tick `time` falls in, if the task is due in it: the minute since the epoch for a cron
    /// schedule (when it matches), the interval's number for an interval. Workers claim a tick
    /// once, so a task runs once per tick however many workers there are.
    pub fn tick(&self, time: chrono::DateTime<chrono::Utc>) -> Option<i64> {
        match self {
            Schedule::Cron(cron) => cron.matches(time).then(|| time.timestamp().div_euclid(60)),
            Schedule::Every(seconds) => {
                Some(time.timestamp().div_euclid(i64::try_from((*seconds).max(1)).unwrap_or(i64::MAX)))
            }
        }
    }

    /// How long a tick's claim must be kept to outlive the tick.
    pub(crate) fn tick_length(&self) -> std::time::Duration {
        match self {
            Schedule::Cron(_) => std::time::Duration::from_secs(120),
            Schedule::Every(seconds) => std::time::Duration::from_secs(seconds.saturating_mul(2).max(120)),
        }
    }
}

impl std::fmt::Display for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Schedule::Cron(cron) => write!(f, "cron `{}`", cron.source),
            Schedule::Every(seconds) => write!(f, "every {seconds} s"),
        }
    }
}
