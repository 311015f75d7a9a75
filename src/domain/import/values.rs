//! Reading the values of import files: dates and times, Salesforce ids, lists, booleans
//! and money in the forms the exports write them. Each parser answers a message the
//! user understands, since it ends up in the row-by-row report.
use chrono::{
    DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;

use super::ObjectKind;

/// How an import reads its dates: values without an offset in `zone`; `01/02/2024` month
/// first (US English, as HubSpot and Salesforce write it) unless `day_first` (the files
/// write `31/12/2024` somewhere and never `12/31/2024`: `day_first_in`).
#[derive(Clone, Copy, Debug)]
pub struct Dates {
    pub zone: Tz,
    pub day_first: bool,
}

impl Dates {
    pub fn datetime(self, value: &str) -> Result<DateTime<Utc>, String> {
        datetime_read(value, self)
    }

    pub fn date(self, value: &str) -> Result<NaiveDate, String> {
        date_read(value, self)
    }
}

/// Whether slash dates among `values` are day first: one has a first number over 12
/// and none a second number over 12.
pub fn day_first_in<'a>(values: impl Iterator<Item = &'a str>) -> bool {
    let (mut day_first, mut month_first) = (false, false);
    for v in values {
        let d = v.trim().split([' ', 'T']).next().unwrap_or("");
        let parts: Vec<u32> = d.split('/').filter_map(|p| p.parse().ok()).collect();
        if let [a, b, _] = parts[..] {
            day_first |= a > 12 && b <= 12;
            month_first |= b > 12 && a <= 12;
        }
    }
    day_first && !month_first
}

/// A date and time as the exports write them: RFC 3339 (`2024-01-31T12:00:00.000Z`,
/// Salesforce), `2024-01-31 12:00` (HubSpot, in the portal's zone), `01/31/2024 9:05 AM`
/// (month first unless the first number is over 12), `31.01.2024 14:05`, or a date alone
/// (midnight). Values without an offset are read in `zone`.
pub fn datetime(value: &str, zone: Tz) -> Result<DateTime<Utc>, String> {
    datetime_read(
        value,
        Dates {
            zone,
            day_first: false,
        },
    )
}

fn datetime_read(value: &str, Dates { zone, day_first }: Dates) -> Result<DateTime<Utc>, String> {
    let (date, time) = split(value, day_first)?;
    let Some(time) = time else {
        return local(date.and_time(NaiveTime::MIN), zone, value);
    };
    let (time, offset) = time_of_day(time).map_err(|e| not_a("date and time", value, &e))?;
    let at = date.and_time(time);
    match offset {
        Some(seconds) => {
            let offset = FixedOffset::east_opt(seconds)
                .ok_or_else(|| not_a("date and time", value, "its offset is out of range"))?;
            offset
                .from_local_datetime(&at)
                .single()
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| not_a("date and time", value, "it does not exist"))
        }
        None => local(at, zone, value),
    }
}

/// A date in the same forms; a value with a time and an offset gives its date in `zone`.
pub fn date(value: &str, zone: Tz) -> Result<NaiveDate, String> {
    date_read(
        value,
        Dates {
            zone,
            day_first: false,
        },
    )
}

fn date_read(value: &str, dates: Dates) -> Result<NaiveDate, String> {
    let (date, time) = split(value, dates.day_first)?;
    match time.map(time_of_day) {
        Some(Ok((_, Some(_)))) => Ok(datetime_read(value, dates)?
            .with_timezone(&dates.zone)
            .date_naive()),
        Some(Err(e)) => Err(not_a("date", value, &e)),
        _ => Ok(date),
    }
}

fn not_a(what: &str, value: &str, why: &str) -> String {
    format!("\"{value}\" is not a {what} ({why})")
}

fn local(at: NaiveDateTime, zone: Tz, value: &str) -> Result<DateTime<Utc>, String> {
    // A time skipped by a clock change is read as the hour after it.
    zone.from_local_datetime(&at)
        .earliest()
        .or_else(|| {
            zone.from_local_datetime(&(at + TimeDelta::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| not_a("date and time", value, "it does not exist in the time zone"))
}

/// The date part, and the time part if any.
fn split(value: &str, day_first: bool) -> Result<(NaiveDate, Option<&str>), String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("the date is empty".into());
    }
    let cut = v.find(['T', ' ']).unwrap_or(v.len());
    let (d, t) = v.split_at(cut);
    let t = t.get(1..).map(str::trim).filter(|t| !t.is_empty());
    let date = day(d, day_first).map_err(|why| not_a("date", value, &why))?;
    Ok((date, t))
}

fn day(d: &str, day_first: bool) -> Result<NaiveDate, String> {
    let (sep, order) = if d.contains('-') {
        ('-', "ymd")
    } else if d.contains('/') {
        ('/', "mdy")
    } else if d.contains('.') {
        ('.', "dmy")
    } else {
        return Err("expected a form like 2024-01-31, 01/31/2024 or 31.01.2024".into());
    };
    let parts: Vec<&str> = d.split(sep).collect();
    let numbers: Vec<u32> = parts
        .iter()
        .map(|p| p.parse::<u32>())
        .collect::<Result<_, _>>()
        .map_err(|_| "expected a form like 2024-01-31, 01/31/2024 or 31.01.2024".to_string())?;
    let [a, b, c] = numbers[..] else {
        return Err("a date has three parts".into());
    };
    let (y, m, dd) = match order {
        "ymd" => (a, b, c),
        // Month first, as HubSpot and Salesforce in US English write it, unless it cannot be.
        "mdy" if a > 12 || day_first => (c, b, a),
        "mdy" => (c, a, b),
        _ => (c, b, a),
    };
    let year_digits = if order == "ymd" { parts[0] } else { parts[2] };
    if year_digits.len() != 4 {
        return Err("the year must have four digits".into());
    }
    let year = i32::try_from(y).map_err(|_| "the year is out of range".to_string())?;
    NaiveDate::from_ymd_opt(year, m, dd).ok_or_else(|| "no such day".to_string())
}

/// `9:05 AM`, `14:05:30.250`, `12:00:00.000Z`, `12:00:00+01:00`, `12:00:00.000+0000`:
/// the time and its offset from UTC in seconds, if it gives one.
fn time_of_day(t: &str) -> Result<(NaiveTime, Option<i32>), String> {
    let mut t = t.trim().to_string();
    let mut offset = None;
    for utc in ["Z", "UTC", "GMT"] {
        if let Some(rest) = t.strip_suffix(utc) {
            t = rest.trim_end().to_string();
            offset = Some(0);
        }
    }
    if offset.is_none()
        && let Some(i) = t.rfind(['+', '-'])
    {
        let (clock, zone) = t.split_at(i);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
        let (h, m) = match digits.len() {
            2 => (digits.as_str(), "00"),
            4 => digits.split_at(2),
            _ => return Err("its offset from UTC is not like +01:00".into()),
        };
        let h: i32 = h
            .parse()
            .map_err(|_| "its offset is not a number".to_string())?;
        let m: i32 = m
            .parse()
            .map_err(|_| "its offset is not a number".to_string())?;
        offset = Some(sign * (h * 3600 + m * 60));
        t = clock.trim_end().to_string();
    }
    let upper = t.to_ascii_uppercase();
    let (clock, pm) = if let Some(c) = upper.strip_suffix("PM") {
        (c.trim_end(), Some(true))
    } else if let Some(c) = upper.strip_suffix("AM") {
        (c.trim_end(), Some(false))
    } else {
        (upper.as_str(), None)
    };
    let mut parts = clock.split(':');
    let hour: u32 = number(parts.next())?;
    let minute: u32 = number(parts.next())?;
    let (second, nano) = match parts.next() {
        None => (0, 0),
        Some(s) => {
            let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
            let nano = if fraction.is_empty() {
                0
            } else {
                let f: String = fraction
                    .chars()
                    .chain(std::iter::repeat('0'))
                    .take(9)
                    .collect();
                number(Some(&f))?
            };
            (number(Some(whole))?, nano)
        }
    };
    if parts.next().is_some() {
        return Err("a time has at most hours, minutes and seconds".into());
    }
    let hour = match pm {
        Some(_) if hour == 0 || hour > 12 => return Err("an AM/PM hour runs from 1 to 12".into()),
        Some(true) => hour % 12 + 12,
        Some(false) => hour % 12,
        None => hour,
    };
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nano)
        .ok_or_else(|| "no such time of day".to_string())?;
    Ok((time, offset))
}

fn number(part: Option<&str>) -> Result<u32, String> {
    match part {
        Some(p) if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => p
            .parse()
            .map_err(|_| "a part of the time is too large".to_string()),
        _ => Err("expected a time like 14:05 or 2:05 PM".into()),
    }
}

/// A Salesforce id in its canonical 18-character form: the 15-character (case-sensitive)
/// and 18-character (case-insensitive) forms of one record give the same key. An empty
/// cell and Salesforce's empty id (`000000000000000AAA`) are no record.
pub fn salesforce_id(value: &str) -> Result<Option<String>, String> {
    let v = value.trim();
    let empty_id = v.len() >= 15 && v.bytes().take(15).all(|b| b == b'0');
    if v.is_empty() || empty_id {
        return Ok(None);
    }
    let bad = || format!("\"{value}\" is not a Salesforce id (15 or 18 letters and digits)");
    if !(v.len() == 15 || v.len() == 18) || !v.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(bad());
    }
    let base = &v[..15];
    let suffix = salesforce_suffix(base);
    if v.len() == 18 && !v[15..].eq_ignore_ascii_case(&suffix) {
        return Err(format!(
            "\"{value}\" is not a Salesforce id (its last three characters do not match the first fifteen)"
        ));
    }
    Ok(Some(format!("{base}{suffix}")))
}

/// The kind of record a Salesforce id names, from its three-character prefix (a task's
/// `WhatId` may name an account or an opportunity).
pub fn salesforce_kind(id: &str) -> Option<ObjectKind> {
    match id.get(..3)? {
        "001" => Some(ObjectKind::Company),
        "003" | "00Q" => Some(ObjectKind::Contact),
        "006" => Some(ObjectKind::Deal),
        "005" => Some(ObjectKind::User),
        "00T" => Some(ObjectKind::Task),
        "00U" => Some(ObjectKind::Activity),
        _ => None,
    }
}

/// A company's size band from a band (`51-200`) or a head count (`120`, `1,200`).
pub fn size_band(value: &str) -> Result<String, String> {
    const BANDS: [(u64, &str); 6] = [
        (10, "1-10"),
        (50, "11-50"),
        (200, "51-200"),
        (1000, "201-1000"),
        (5000, "1001-5000"),
        (u64::MAX, "5001+"),
    ];
    let v = value.trim();
    if let Some((_, band)) = BANDS.iter().find(|(_, b)| *b == v) {
        return Ok((*band).to_string());
    }
    let digits: String = v
        .chars()
        .filter(|c| !matches!(c, ',' | '.' | ' ' | '\''))
        .collect();
    let count: u64 = digits
        .parse()
        .map_err(|_| format!("\"{value}\" is not a head count or a size band like 51-200"))?;
    Ok(BANDS
        .iter()
        .find(|(max, _)| count <= *max)
        .map_or("5001+", |(_, b)| b)
        .to_string())
}

/// The three characters Salesforce appends to a 15-character id: for each block of five,
/// which of its characters are capitals, as one of 32 symbols.
fn salesforce_suffix(base: &str) -> String {
    const SYMBOLS: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    base.as_bytes()
        .chunks(5)
        .map(|block| {
            let bits = block
                .iter()
                .enumerate()
                .filter(|(_, b)| b.is_ascii_uppercase())
                .fold(0usize, |acc, (i, _)| acc | 1 << i);
            char::from(SYMBOLS[bits])
        })
        .collect()
}

/// A `;`-separated list (HubSpot's associated ids, Pipedrive's multiple options), each
/// item trimmed, empty items left out.
pub fn list(value: &str) -> Vec<String> {
    value
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Tags: separated by `;`, or by `,` when the cell has no `;`.
pub fn tags(value: &str) -> Vec<String> {
    let sep = if value.contains(';') { ';' } else { ',' };
    value
        .split(sep)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A yes or no: `true`, `1`, `yes`, `y`, `x`, `on`, `checked`, `done` (Pipedrive) and
/// their opposites, in any case; an empty cell is no.
pub fn boolean(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "x" | "on" | "checked" | "done" => Ok(true),
        "false" | "0" | "no" | "n" | "off" | "unchecked" | "to do" | "" => Ok(false),
        _ => Err(format!(
            "\"{value}\" is not a yes or no (write true or false)"
        )),
    }
}

/// An amount in `currency`'s minor units: `1,234.50`, `1234.5`, `1.234,50`, `1 234,50`,
/// `$1,234.50`, `(12.00)`. The last of `.` and `,` is the decimal mark when both appear;
/// a single one followed by exactly three digits (`1,234`, `1.234`) could be either and
/// is refused.
pub fn money(value: &str, currency: &str) -> Result<i64, String> {
    let bad = |why: &str| format!("\"{value}\" is not an amount ({why})");
    let mut v: String = value
        .trim()
        .chars()
        .filter(|c| {
            !matches!(
                c,
                ' ' | '\u{a0}' | '\u{202f}' | '\'' | '$' | '€' | '£' | '¥'
            )
        })
        .collect();
    if let Some(code) = v.get(v.len().saturating_sub(3)..)
        && code.eq_ignore_ascii_case(currency)
    {
        v.truncate(v.len() - 3);
    }
    if let Some(code) = v.get(..3)
        && code.eq_ignore_ascii_case(currency)
    {
        v.drain(..3);
    }
    let negative = if let Some(inner) = v.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        v = inner.to_string();
        true
    } else if let Some(rest) = v.strip_prefix('-') {
        v = rest.to_string();
        true
    } else {
        false
    };
    if v.is_empty() {
        return Err(bad("there is no number"));
    }
    if !v
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    {
        return Err(bad("it holds characters other than digits, `.` and `,`"));
    }
    let last_dot = v.rfind('.');
    let last_comma = v.rfind(',');
    let decimal_mark = match (last_dot, last_comma) {
        (Some(d), Some(c)) => Some(if d > c { '.' } else { ',' }),
        (Some(_), None) | (None, Some(_)) => {
            let mark = if last_dot.is_some() { '.' } else { ',' };
            let count = v.matches(mark).count();
            let after = v.len() - v.rfind(mark).unwrap_or(0) - 1;
            match (count, after) {
                (1, 3) => {
                    return Err(bad(&format!(
                        "`{mark}` before three digits may separate thousands or decimals: write it without thousands separators"
                    )));
                }
                (1, _) => Some(mark),
                _ => None,
            }
        }
        (None, None) => None,
    };
    let (whole, fraction) = match decimal_mark {
        Some(mark) => v.rsplit_once(mark).unwrap_or((&v, "")),
        None => (v.as_str(), ""),
    };
    let group = match decimal_mark {
        Some('.') => ',',
        Some(_) => '.',
        None => {
            if v.contains(',') {
                ','
            } else {
                '.'
            }
        }
    };
    if fraction.contains(['.', ',']) {
        return Err(bad("its decimal mark appears twice"));
    }
    let groups: Vec<&str> = whole.split(group).collect();
    if groups.len() > 1
        && (groups[0].is_empty() || groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3))
    {
        return Err(bad("its thousands separators are misplaced"));
    }
    let digits: String = groups.concat();
    if digits.contains(['.', ',']) {
        return Err(bad("it mixes its separators"));
    }
    let decimals = crate::domain::deals::decimals(currency) as usize;
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > decimals {
        return Err(bad(&format!("{currency} has {decimals} decimals")));
    }
    let minor_text = format!(
        "{}{}{}",
        if digits.is_empty() { "0" } else { &digits },
        fraction,
        "0".repeat(decimals - fraction.len())
    );
    let minor: i64 = minor_text.parse().map_err(|_| bad("it is too large"))?;
    Ok(if negative { -minor } else { minor })
}
