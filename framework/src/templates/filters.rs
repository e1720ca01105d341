//! Django's date and time template filters, for askama templates.
//!
//! `use manouche::prelude::*` puts this module in scope as `filters`, where askama looks for
//! custom filters, so a template writes:
//!
//! ```text
//! {{ order.created_at|date }}                 Dec. 3, 2026
//! {{ order.created_at|date("D d M Y H:i") }}  Thu 03 Dec 2026 14:05
//! {{ order.created_at|time }}                 2:05 p.m.
//! {{ review.created_at|naturaltime }}         3 hours ago
//! ```
//!
//! A module with filters of its own re-exports these: `mod filters { pub use
//! manouche::templates::filters::*; ... }`. Formats use Django's characters (`d j D l N m n M F
//! b y Y w z t L S a A g G h H i s u f P c r U e O T Z`; `\` escapes the next one); an empty
//! `Option` renders as nothing, and time characters on a date as nothing.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

/// A value the date filters can format: a date, a time, or both (UTC).
pub trait Temporal {
    /// The date part, if any.
    fn date_part(&self) -> Option<NaiveDate>;
    /// The time part, if any.
    fn time_part(&self) -> Option<NaiveTime>;
}

impl Temporal for NaiveDateTime {
    fn date_part(&self) -> Option<NaiveDate> {
        Some(self.date())
    }
    fn time_part(&self) -> Option<NaiveTime> {
        Some(self.time())
    }
}

impl Temporal for chrono::DateTime<chrono::Utc> {
    fn date_part(&self) -> Option<NaiveDate> {
        Some(self.date_naive())
    }
    fn time_part(&self) -> Option<NaiveTime> {
        Some(self.time())
    }
}

impl Temporal for NaiveDate {
    fn date_part(&self) -> Option<NaiveDate> {
        Some(*self)
    }
    fn time_part(&self) -> Option<NaiveTime> {
        None
    }
}

impl Temporal for NaiveTime {
    fn date_part(&self) -> Option<NaiveDate> {
        None
    }
    fn time_part(&self) -> Option<NaiveTime> {
        Some(*self)
    }
}

impl<T: Temporal> Temporal for Option<T> {
    fn date_part(&self) -> Option<NaiveDate> {
        self.as_ref().and_then(T::date_part)
    }
    fn time_part(&self) -> Option<NaiveTime> {
        self.as_ref().and_then(T::time_part)
    }
}

impl<T: Temporal + ?Sized> Temporal for &T {
    fn date_part(&self) -> Option<NaiveDate> {
        (**self).date_part()
    }
    fn time_part(&self) -> Option<NaiveTime> {
        (**self).time_part()
    }
}

pub use self::defined::{date, naturaltime, time};

/// The filters as askama's `filter_fn` expands them: a struct per filter (undocumented items of
/// the expansion are allowed here).
#[allow(missing_docs, missing_debug_implementations)]
mod defined {
    use super::{Temporal, format_django, natural};

    /// Django's `date` filter: `{{ value|date }}` (Django's default `N j, Y`) or
    /// `{{ value|date("Y-m-d") }}`.
    #[manouche_macros::filter_fn]
    pub fn date<T: Temporal>(
        value: T,
        _env: &dyn askama::Values,
        #[optional("N j, Y")] format: &str,
    ) -> askama::Result<String> {
        Ok(format_django(&value, format))
    }

    /// Django's `time` filter: `{{ value|time }}` (Django's default `P`, "2:30 p.m.") or
    /// `{{ value|time("H:i") }}`.
    #[manouche_macros::filter_fn]
    pub fn time<T: Temporal>(
        value: T,
        _env: &dyn askama::Values,
        #[optional("P")] format: &str,
    ) -> askama::Result<String> {
        Ok(format_django(&value, format))
    }

    /// Django's `naturaltime` (humanize): "now", "3 minutes ago", "2 days, 4 hours ago",
    /// "an hour from now", against the current UTC time.
    #[manouche_macros::filter_fn]
    pub fn naturaltime<T: Temporal>(value: T, _env: &dyn askama::Values) -> askama::Result<String> {
        let Some(date) = value.date_part() else { return Ok(String::new()) };
        let then = date.and_time(value.time_part().unwrap_or_default());
        Ok(natural(then, chrono::Utc::now().naive_utc()))
    }
}

/// `then` relative to `now`, as Django's `naturaltime` words it.
fn natural(then: NaiveDateTime, now: NaiveDateTime) -> String {
    let (seconds, suffix) = match (now - then).num_seconds() {
        0 => return "now".into(),
        s if s > 0 => (s, "ago"),
        s => (-s, "from now"),
    };
    let text = match seconds {
        1 => "a second".to_owned(),
        2..=59 => format!("{seconds} seconds"),
        60..=119 => "a minute".to_owned(),
        120..=3599 => format!("{} minutes", seconds / 60),
        3600..=7199 => "an hour".to_owned(),
        7200..=86_399 => format!("{} hours", seconds / 3600),
        _ => timesince(seconds),
    };
    format!("{text} {suffix}")
}

/// Django's `timesince`: the two largest adjacent units, "2 weeks, 3 days".
fn timesince(seconds: i64) -> String {
    const UNITS: [(i64, &str); 6] = [
        (365 * 86_400, "year"),
        (30 * 86_400, "month"),
        (7 * 86_400, "week"),
        (86_400, "day"),
        (3600, "hour"),
        (60, "minute"),
    ];
    let plural = |n: i64, unit: &str| if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") };
    let Some(first) = UNITS.iter().position(|(size, _)| seconds >= *size) else { return "0 minutes".into() };
    let (size, unit) = UNITS[first];
    let mut text = plural(seconds / size, unit);
    if let Some((next_size, next_unit)) = UNITS.get(first + 1) {
        let rest = (seconds % size) / next_size;
        if rest > 0 {
            text.push_str(", ");
            text.push_str(&plural(rest, next_unit));
        }
    }
    text
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
/// Associated Press style, as Django's `N`.
const MONTHS_AP: [&str; 12] =
    ["Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.", "Dec."];
const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// Formats `value` with Django's format characters.
pub(crate) fn format_django(value: &impl Temporal, format: &str) -> String {
    let (date, time) = (value.date_part(), value.time_part());
    if date.is_none() && time.is_none() {
        return String::new();
    }
    let mut out = String::with_capacity(format.len() * 2);
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.extend(chars.next());
            continue;
        }
        if let Some(d) = date
            && date_char(&mut out, c, d, time)
        {
            continue;
        }
        if let Some(t) = time
            && time_char(&mut out, c, t)
        {
            continue;
        }
        if !is_format_char(c) {
            out.push(c);
        }
    }
    out
}

fn is_format_char(c: char) -> bool {
    "djDlNmnMFbyYwztLSaAgGhHisufPcrUeOTZ".contains(c)
}

/// Writes a date character; `false` when `c` is not one.
fn date_char(out: &mut String, c: char, d: NaiveDate, time: Option<NaiveTime>) -> bool {
    let month = d.month0() as usize;
    let _ = match c {
        'd' => write!(out, "{:02}", d.day()),
        'j' => write!(out, "{}", d.day()),
        'D' => write!(out, "{}", &WEEKDAYS[d.weekday().num_days_from_monday() as usize][..3]),
        'l' => write!(out, "{}", WEEKDAYS[d.weekday().num_days_from_monday() as usize]),
        'N' => write!(out, "{}", MONTHS_AP[month]),
        'm' => write!(out, "{:02}", d.month()),
        'n' => write!(out, "{}", d.month()),
        'M' => write!(out, "{}", &MONTHS[month][..3]),
        'F' => write!(out, "{}", MONTHS[month]),
        'b' => write!(out, "{}", MONTHS[month][..3].to_ascii_lowercase()),
        'y' => write!(out, "{:02}", d.year() % 100),
        'Y' => write!(out, "{}", d.year()),
        'w' => write!(out, "{}", d.weekday().num_days_from_sunday()),
        'z' => write!(out, "{}", d.ordinal()),
        't' => write!(out, "{}", days_in_month(d)),
        'L' => write!(out, "{}", if d.leap_year() { "True" } else { "False" }),
        'S' => write!(out, "{}", ordinal_suffix(d.day())),
        'c' => {
            let t = time.unwrap_or_default();
            match t.nanosecond() / 1000 {
                0 => write!(out, "{}T{}", d.format("%Y-%m-%d"), t.format("%H:%M:%S")),
                micros => write!(out, "{}T{}.{micros:06}", d.format("%Y-%m-%d"), t.format("%H:%M:%S")),
            }
        }
        'r' => write!(out, "{} {} +0000", d.format("%a, %d %b %Y"), time.unwrap_or_default().format("%H:%M:%S")),
        'U' => write!(out, "{}", d.and_time(time.unwrap_or_default()).and_utc().timestamp()),
        _ => return false,
    };
    true
}

/// Writes a time character (and the UTC zone ones); `false` when `c` is not one.
fn time_char(out: &mut String, c: char, t: NaiveTime) -> bool {
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    let _ = match c {
        'a' => write!(out, "{}", if t.hour() < 12 { "a.m." } else { "p.m." }),
        'A' => write!(out, "{}", if t.hour() < 12 { "AM" } else { "PM" }),
        'g' => write!(out, "{hour12}"),
        'G' => write!(out, "{}", t.hour()),
        'h' => write!(out, "{hour12:02}"),
        'H' => write!(out, "{:02}", t.hour()),
        'i' => write!(out, "{:02}", t.minute()),
        's' => write!(out, "{:02}", t.second()),
        'u' => write!(out, "{:06}", t.nanosecond() / 1000),
        'f' if t.minute() == 0 => write!(out, "{hour12}"),
        'f' => write!(out, "{hour12}:{:02}", t.minute()),
        'P' => match (t.hour(), t.minute()) {
            (0, 0) => write!(out, "midnight"),
            (12, 0) => write!(out, "noon"),
            (h, 0) => write!(out, "{hour12} {}", if h < 12 { "a.m." } else { "p.m." }),
            (h, m) => write!(out, "{hour12}:{m:02} {}", if h < 12 { "a.m." } else { "p.m." }),
        },
        'e' | 'T' => write!(out, "UTC"),
        'O' => write!(out, "+0000"),
        'Z' => write!(out, "0"),
        _ => return false,
    };
    true
}

fn days_in_month(d: NaiveDate) -> u32 {
    let (year, month) = if d.month() == 12 { (d.year() + 1, 1) } else { (d.year(), d.month() + 1) };
    NaiveDate::from_ymd_opt(year, month, 1).and_then(|next| next.pred_opt()).map_or(31, |last| last.day())
}

fn ordinal_suffix(day: u32) -> &'static str {
    match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d).and_then(|date| date.and_hms_opt(h, min, s)).expect("a valid date")
    }

    #[test]
    fn formats_follow_django() {
        let t = at(2026, 2, 3, 14, 5, 9);
        assert_eq!(format_django(&t, "N j, Y"), "Feb. 3, 2026");
        assert_eq!(format_django(&t, "D d M Y H:i:s"), "Tue 03 Feb 2026 14:05:09");
        assert_eq!(format_django(&t, "l jS \\o\\f F"), "Tuesday 3rd of February");
        assert_eq!(format_django(&t, "P"), "2:05 p.m.");
        assert_eq!(format_django(&at(2026, 9, 1, 0, 0, 0), "P N t"), "midnight Sept. 30");
        assert_eq!(format_django(&at(2026, 9, 1, 12, 0, 0), "P f A"), "noon 12 PM");
        assert_eq!(format_django(&at(2024, 12, 31, 9, 30, 0), "c z L w"), "2024-12-31T09:30:00 366 True 2");
        assert_eq!(format_django(&t.date(), "Y-m-d H:i"), "2026-02-03 :", "a date has no time part");
        assert_eq!(format_django(&None::<NaiveDateTime>, "Y"), "");
    }

    #[test]
    fn natural_time_words_the_distance() {
        let now = at(2026, 12, 3, 12, 0, 0);
        assert_eq!(natural(now, now), "now");
        assert_eq!(natural(at(2026, 12, 3, 11, 59, 30), now), "30 seconds ago");
        assert_eq!(natural(at(2026, 12, 3, 11, 59, 0), now), "a minute ago");
        assert_eq!(natural(at(2026, 12, 3, 9, 0, 0), now), "3 hours ago");
        assert_eq!(natural(at(2026, 11, 30, 8, 0, 0), now), "3 days, 4 hours ago");
        assert_eq!(natural(at(2026, 12, 3, 13, 0, 0), now), "an hour from now");
        assert_eq!(natural(at(2025, 10, 1, 12, 0, 0), now), "1 year, 2 months ago");
    }
}
