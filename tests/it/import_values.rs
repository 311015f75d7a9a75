//! Values of import files: dates and times in the exports' forms, Salesforce ids, lists,
//! yes/no and money, each refused with a message when it is not what it should be.
use cairn::domain::import::values::{boolean, date, datetime, list, money, salesforce_id, tags};
use chrono::{NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

fn zone(name: &str) -> Tz {
    name.parse().unwrap()
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

#[test]
fn datetimes_in_the_exports_forms() {
    let berlin = zone("Europe/Berlin");
    let cases = [
        ("2024-01-31T12:00:00.000Z", utc(2024, 1, 31, 12, 0, 0)),
        ("2024-01-31T12:00:00.000+0000", utc(2024, 1, 31, 12, 0, 0)),
        ("2024-01-31T12:00:00+02:00", utc(2024, 1, 31, 10, 0, 0)),
        ("2024-01-31 12:00", utc(2024, 1, 31, 11, 0, 0)),
        ("2024-07-31 12:00:30", utc(2024, 7, 31, 10, 0, 30)),
        ("01/31/2024 9:05 AM", utc(2024, 1, 31, 8, 5, 0)),
        ("1/31/2024 12:05 pm", utc(2024, 1, 31, 11, 5, 0)),
        ("31/01/2024 21:05", utc(2024, 1, 31, 20, 5, 0)),
        ("31.01.2024", utc(2024, 1, 30, 23, 0, 0)),
        ("31.01.2024 14:05", utc(2024, 1, 31, 13, 5, 0)),
        ("2024-01-31", utc(2024, 1, 30, 23, 0, 0)),
    ];
    for (text, want) in cases {
        assert_eq!(datetime(text, berlin), Ok(want), "reading {text:?}");
    }
}

#[test]
fn a_local_time_skipped_by_a_clock_change_is_the_hour_after() {
    let got = datetime("2024-03-31 02:30", zone("Europe/Berlin"));
    assert_eq!(got, Ok(utc(2024, 3, 31, 1, 30, 0)));
}

#[test]
fn dates_in_the_exports_forms() {
    let ny = zone("America/New_York");
    let want = NaiveDate::from_ymd_opt(2024, 1, 31).unwrap();
    for text in ["2024-01-31", "01/31/2024", "31.01.2024", "2024-01-31 23:00"] {
        assert_eq!(date(text, ny), Ok(want), "reading {text:?}");
    }
    // Midnight UTC is the evening before in New York.
    assert_eq!(date("2024-02-01T03:00:00Z", ny), Ok(want));
}

#[test]
fn bad_dates_are_refused_with_the_value_in_the_message() {
    let z = zone("UTC");
    for text in [
        "",
        "yesterday",
        "2024-02-30",
        "13/13/2024",
        "01/31/24",
        "2024-01-31 25:00",
        "2024-01-31 0:30 PM",
    ] {
        match datetime(text, z) {
            Ok(t) => panic!("{text:?} should be refused, read as {t}"),
            Err(m) => assert!(m.contains(text), "the message should quote {text:?}: {m}"),
        }
    }
}

#[test]
fn salesforce_ids_of_15_and_18_characters_give_one_key() {
    let long = Some("0015000000VALDtAAP".to_string());
    assert_eq!(salesforce_id("0015000000VALDt"), Ok(long.clone()));
    assert_eq!(salesforce_id("0015000000VALDtAAP"), Ok(long.clone()));
    assert_eq!(salesforce_id("0015000000VALDtaap"), Ok(long));
    // Another record differing only in case has another key.
    assert_ne!(
        salesforce_id("0015000000VALDT"),
        salesforce_id("0015000000VALDt")
    );
}

#[test]
fn salesforce_empty_ids_are_no_record_and_bad_ids_are_refused() {
    assert_eq!(salesforce_id(""), Ok(None));
    assert_eq!(salesforce_id("000000000000000AAA"), Ok(None));
    for bad in ["001500000", "0015000000VALDtAAA", "0015000000VAL-t"] {
        assert!(salesforce_id(bad).is_err(), "{bad:?} should be refused");
    }
}

#[test]
fn lists_and_tags_split_and_trim() {
    assert_eq!(list("101; 102;;103"), ["101", "102", "103"]);
    assert!(list("").is_empty());
    assert_eq!(tags("vip; beta"), ["vip", "beta"]);
    assert_eq!(tags("vip, beta"), ["vip", "beta"]);
}

#[test]
fn booleans_read_the_common_spellings() {
    for t in ["true", "TRUE", "1", "yes", "Y"] {
        assert_eq!(boolean(t), Ok(true), "{t:?}");
    }
    for f in ["false", "0", "no", ""] {
        assert_eq!(boolean(f), Ok(false), "{f:?}");
    }
    assert!(boolean("maybe").unwrap_err().contains("maybe"));
}

#[test]
fn money_to_minor_units() {
    let cases = [
        ("1,234.50", "USD", 123_450),
        ("1234.5", "USD", 123_450),
        ("1.234,50", "EUR", 123_450),
        ("1 234,5", "EUR", 123_450),
        ("$1,234,567.89", "USD", 123_456_789),
        ("15000", "USD", 1_500_000),
        ("-12.5", "GBP", -1_250),
        ("(12.00)", "GBP", -1_200),
        ("1234", "JPY", 1_234),
        ("EUR 99,90", "EUR", 9_990),
    ];
    for (text, currency, want) in cases {
        assert_eq!(
            money(text, currency),
            Ok(want),
            "reading {text:?} in {currency}"
        );
    }
}

#[test]
fn ambiguous_or_malformed_money_is_refused() {
    for (text, currency) in [
        ("1,234", "USD"),
        ("1.234", "EUR"),
        ("12.345", "USD"),
        ("1.5", "JPY"),
        ("12,34,5.00", "USD"),
        ("ten", "USD"),
        ("", "USD"),
    ] {
        match money(text, currency) {
            Ok(m) => panic!("{text:?} in {currency} should be refused, read as {m}"),
            Err(m) => assert!(m.contains(text), "the message should quote {text:?}: {m}"),
        }
    }
}

#[test]
fn the_exports_formula_escape_is_undone_and_nothing_else() {
    assert_eq!(cairn::domain::csv::unescape("'=SUM(A1)"), "=SUM(A1)");
    assert_eq!(cairn::domain::csv::unescape("'@handle"), "@handle");
    assert_eq!(cairn::domain::csv::unescape("'-x"), "-x");
    // The export never escapes these, so their quote is the data's own.
    assert_eq!(cairn::domain::csv::unescape("'quoted'"), "'quoted'");
    assert_eq!(cairn::domain::csv::unescape("'+1 555 0100"), "'+1 555 0100");
    // A value that began with a quote before a formula was escaped once more.
    assert_eq!(cairn::domain::csv::unescape("''=x"), "'=x");
}

#[test]
fn slash_dates_are_day_first_when_one_can_only_be_and_none_only_month_first() {
    use cairn::domain::import::values::day_first_in;
    assert!(day_first_in(["31/12/2024", "03/04/2024"].into_iter()));
    assert!(!day_first_in(["12/31/2024", "03/04/2024"].into_iter()));
    assert!(
        !day_first_in(["31/12/2024", "12/31/2024"].into_iter()),
        "both orders: month first, as before"
    );
    assert!(!day_first_in(["Ana", "2024-01-31"].into_iter()));
}
