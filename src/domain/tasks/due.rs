//! When a task is due, in a user's time zone: reading what was typed, and which group
//! (overdue, today, upcoming) a task falls in for a viewer at a given moment.
//!
//! A task is due at an instant (`due_at`, UTC) or on a calendar date (`due_date`). A
//! date-only task is "today" for the whole of that date in the viewer's zone and overdue
//! from the next local day; a timed task is overdue once its instant has passed.
use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveTime, SubsecRound, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;

use crate::domain::FieldErrorsExt;
use crate::error::FieldErrors;

/// A user's zone by its IANA name; UTC for a name that is not one (never stored, but a
/// zone removed from a later tz database must not break anyone's pages).
pub fn zone(name: &str) -> Tz {
    name.parse::<Tz>().unwrap_or(Tz::UTC)
}

/// Every zone a user may pick, by name.
pub fn zone_names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
}

/// The first instant of `date` in `tz`. Where a zone skips local midnight (a DST change
/// at 00:00), the day starts at the first local time that exists.
pub fn day_start(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    (0..=3 * 60)
        .step_by(15)
        .find_map(|minutes| {
            tz.from_local_datetime(&(midnight + Duration::minutes(minutes)))
                .earliest()
        })
        .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
}

/// The viewer's day at `now`: its date, and where it starts and ends (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

pub fn today(tz: Tz, now: DateTime<Utc>) -> Day {
    let date = now.with_timezone(&tz).date_naive();
    let next = date.succ_opt().unwrap_or(date);
    Day {
        date,
        start: day_start(tz, date),
        end: day_start(tz, next),
    }
}

/// The groups of My tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    Overdue,
    Today,
    Upcoming,
    Done,
}

impl Group {
    pub fn key(self) -> &'static str {
        match self {
            Group::Overdue => "overdue",
            Group::Today => "today",
            Group::Upcoming => "upcoming",
            Group::Done => "done",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Group::Overdue => "Overdue",
            Group::Today => "Today",
            Group::Upcoming => "Upcoming",
            Group::Done => "Done",
        }
    }
}

/// Which group a task is in for a viewer whose day is `day`, at `now`. The queries of
/// `mine` select the same ranges; this is the rule in one place for reading and tests.
pub fn group_of(
    done: bool,
    due_at: Option<DateTime<Utc>>,
    due_date: Option<NaiveDate>,
    day: &Day,
    now: DateTime<Utc>,
) -> Group {
    if done {
        return Group::Done;
    }
    match (due_at, due_date) {
        (Some(at), _) if at < now => Group::Overdue,
        (Some(at), _) if at < day.end => Group::Today,
        (None, Some(d)) if d < day.date => Group::Overdue,
        (None, Some(d)) if d == day.date => Group::Today,
        _ => Group::Upcoming,
    }
}

/// A year someone meant: a typo of one would sit at the top or bottom of a list for good.
fn plausible(year: i32) -> bool {
    (1900..=Utc::now().year() + 50).contains(&year)
}

/// A due time as RFC 3339 (`due_at`), with a message naming `field` when it is not one.
pub fn parse_instant(s: &str, field: &str, fields: &mut FieldErrors) -> Option<DateTime<Utc>> {
    match DateTime::parse_from_rfc3339(s.trim()) {
        Ok(t) if plausible(t.year()) => Some(t.with_timezone(&Utc).trunc_subsecs(0)),
        Ok(_) => {
            fields.set(
                field,
                "Give a time between the year 1900 and 50 years from now.",
            );
            None
        }
        Err(_) => {
            fields.set(
                field,
                format!("{field} is not a time: give it as RFC 3339, e.g. 2026-12-03T09:30:00Z."),
            );
            None
        }
    }
}

/// A due date as YYYY-MM-DD, with a message naming `field` when it is not one.
pub fn parse_date(s: &str, field: &str, fields: &mut FieldErrors) -> Option<NaiveDate> {
    match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
        Ok(d) if plausible(d.year()) => Some(d),
        Ok(_) => {
            fields.set(
                field,
                "Give a date between the year 1900 and 50 years from now.",
            );
            None
        }
        Err(_) => {
            fields.set(
                field,
                format!("{field} is not a date: give it as YYYY-MM-DD, e.g. 2026-12-03."),
            );
            None
        }
    }
}

/// A local time of day as HH:MM (what a time input sends), with a message on `field`.
pub fn parse_time(s: &str, field: &str, fields: &mut FieldErrors) -> Option<NaiveTime> {
    let s = s.trim();
    match NaiveTime::parse_from_str(s, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S"))
    {
        Ok(t) => Some(t),
        Err(_) => {
            fields.set(
                field,
                format!("{field} is not a time of day: give it as HH:MM."),
            );
            None
        }
    }
}

/// A local date and time in `tz` as an instant. A time a DST change skips is read as the
/// same clock time after the change (an hour later), as a wall clock would show it.
pub fn local_instant(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = date.and_time(time);
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
        })
        .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
}

/// How a due shows in `tz`: "Wed 3 Dec" for a date, "Wed 3 Dec 09:30" for a time (with
/// the year when it is not `this_year`). Written out by hand: chrono's `format` parses
/// its pattern on every call, which was a sixth of a kept My tasks page.
pub fn describe(
    tz: Tz,
    due_at: Option<DateTime<Utc>>,
    due_date: Option<NaiveDate>,
    this_year: i32,
) -> Option<String> {
    use std::fmt::Write;
    const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut s = String::with_capacity(24);
    let mut day = |d: NaiveDate| {
        let weekday = WEEKDAYS.get(d.weekday().num_days_from_monday() as usize);
        let month = MONTHS.get(d.month0() as usize);
        let _ = write!(
            s,
            "{} {} {}",
            weekday.unwrap_or(&""),
            d.day(),
            month.unwrap_or(&"")
        );
        if d.year() != this_year {
            let _ = write!(s, " {}", d.year());
        }
    };
    match (due_at, due_date) {
        (Some(at), _) => {
            let local = at.with_timezone(&tz);
            day(local.date_naive());
            let _ = write!(s, " {:02}:{:02}", local.hour(), local.minute());
        }
        (None, Some(d)) => day(d),
        (None, None) => return None,
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn describe_writes_what_chrono_formats() {
        let tz = zone("Pacific/Auckland");
        let mut d = NaiveDate::from_ymd_opt(2025, 12, 25).unwrap();
        for _ in 0..400 {
            let at = tz
                .from_local_datetime(&d.and_hms_opt(7, 5, 0).unwrap())
                .earliest()
                .unwrap()
                .with_timezone(&Utc);
            for year in [2025, 2026] {
                let date = |p: &str| {
                    let y = if d.year() == year { "" } else { " %Y" };
                    d.format(&format!("{p}{y}")).to_string()
                };
                assert_eq!(describe(tz, None, Some(d), year), Some(date("%a %-d %b")));
                let timed = format!("{} 07:05", date("%a %-d %b"));
                assert_eq!(describe(tz, Some(at), None, year), Some(timed));
            }
            d = d.succ_opt().unwrap();
        }
        assert_eq!(describe(tz, None, None, 2026), None);
    }

    #[test]
    fn a_day_that_skips_midnight_starts_at_the_first_real_time() {
        // Santiago moved its clocks from 00:00 to 01:00 on 2022-09-11.
        let tz = zone("America/Santiago");
        let d = NaiveDate::from_ymd_opt(2022, 9, 11).unwrap();
        let start = day_start(tz, d).with_timezone(&tz);
        assert_eq!(start.date_naive(), d);
        assert_eq!(start.time(), NaiveTime::from_hms_opt(1, 0, 0).unwrap());
    }
}
