//! The hourly activity counters behind activity per user (`activity_hours`, migration
//! 000049): they equal a count made here over the activities after every kind of write
//! (log, re-date, change of kind, delete, a contact purged with its activities), and a
//! week that starts off the hour (Asia/Kolkata, UTC+05:30) still gets exactly its own
//! activities on each side of its first instant.
use std::collections::BTreeMap;

use actix_web::http::Method;
use cairn::entities::{activity, activity_hour};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::support::*;

/// (hour, author, kind) → activities, from the counters (zeros left out).
pub async fn counters(app: &TestApp) -> BTreeMap<(DateTime<Utc>, i64, String), i64> {
    activity_hour::Entity::find()
        .all(&app.db.read)
        .await
        .unwrap()
        .into_iter()
        .filter(|h| h.n != 0)
        .map(|h| ((h.hour, h.author_id, h.kind), h.n))
        .collect()
}

/// The same, counted here over the activities themselves.
async fn counted(app: &TestApp) -> BTreeMap<(DateTime<Utc>, i64, String), i64> {
    let mut out = BTreeMap::new();
    for a in activity::Entity::find().all(&app.db.read).await.unwrap() {
        let Some(author) = a.author_id else { continue };
        let hour = a
            .occurred_at
            .with_minute(0)
            .unwrap()
            .with_second(0)
            .unwrap();
        let hour = hour.with_nanosecond(0).unwrap();
        *out.entry((hour, author, a.kind)).or_default() += 1;
    }
    out
}

/// Logs a `kind` activity about `contact` at `at`; its JSON.
async fn log(
    c: &mut Client<impl TestService>,
    token: &str,
    kind: &str,
    contact: i64,
    at: DateTime<Utc>,
) -> Value {
    let body = json!({"kind": kind, "body": "Spoke", "contact_id": contact,
        "occurred_at": at.to_rfc3339()});
    let res = c
        .api_ok(Method::POST, "/api/v1/activities", token, Some(body))
        .await;
    res.json()
}

#[actix_web::test]
async fn the_counters_follow_every_kind_of_write() {
    let app = TestApp::new().await;
    let (admin, mut c) = app.api_client("admin").await;
    let rep = app.api_user("rep").await;
    let kept = c.add_contact(&admin, "Ann", "Lee", "ann@example.com").await;
    let purged = c.add_contact(&rep, "Bo", "Kim", "bo@example.com").await;
    let t = Utc::now() - Duration::days(3);
    let mut notes = Vec::new();
    for i in 0..6 {
        let token = [&admin, &rep][i % 2];
        let at = t + Duration::minutes(50 * i as i64);
        notes.push(log(&mut c, token, "note", kept, at).await);
    }
    log(&mut c, &rep, "call", purged, t).await;
    log(&mut c, &rep, "meeting", purged, t + Duration::hours(5)).await;
    assert_eq!(counters(&app).await, counted(&app).await, "after logging");

    let path = format!("/api/v1/activities/{}", notes[0]["id"]);
    let later = (t + Duration::days(1)).to_rfc3339();
    let edit = json!({"version": 1, "kind": "call", "occurred_at": later});
    c.api_ok(Method::PATCH, &path, &admin, Some(edit)).await;
    assert_eq!(
        counters(&app).await,
        counted(&app).await,
        "after a re-dated call"
    );

    let path = format!("/api/v1/activities/{}", notes[1]["id"]);
    let res = c.api(Method::DELETE, &path, &rep, None).await;
    assert_eq!(res.status, 204, "delete a note: {}", res.text());
    assert_eq!(counters(&app).await, counted(&app).await, "after a delete");

    let res = c
        .api(
            Method::DELETE,
            &format!("/api/v1/contacts/{purged}"),
            &rep,
            None,
        )
        .await;
    assert_eq!(res.status, 204, "trash the contact: {}", res.text());
    cairn::domain::trash::purge_expired(&app.db, Utc::now() + Duration::days(31))
        .await
        .expect("purge the trash");
    let left = counters(&app).await;
    assert_eq!(left, counted(&app).await, "after the purge");
    assert_eq!(
        left.values().sum::<i64>(),
        5,
        "the purged contact's two are gone"
    );
}

/// The UTC instant of `local` (YYYY-MM-DD HH:MM) in `tz`.
fn at(tz: Tz, day: NaiveDate, hm: (u32, u32)) -> DateTime<Utc> {
    tz.from_local_datetime(&day.and_hms_opt(hm.0, hm.1, 0).unwrap())
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

#[actix_web::test]
async fn a_week_starting_off_the_hour_gets_exactly_its_own_activities() {
    let app = TestApp::new().await;
    cairn::domain::settings::set(
        &app.db.write,
        cairn::domain::organisation::TIME_ZONE,
        "Asia/Kolkata",
    )
    .await
    .unwrap();
    let tz: Tz = "Asia/Kolkata".parse().unwrap();
    let (admin, mut c) = app.api_client("admin").await;
    let contact = c.add_contact(&admin, "Ann", "Lee", "ann@example.com").await;
    let path = "/api/v1/reports/activity?days=60";
    let first = c.get_json(path, &admin).await;
    let from: NaiveDate = first["from"].as_str().unwrap().parse().unwrap();
    // Monday 00:00 in Kolkata is Sunday 18:30 UTC: the hour 18:00-19:00 UTC is split.
    let monday = from + Duration::weeks(2);
    let sunday = monday - Duration::days(1);
    for (day, hm) in [(sunday, (23, 20)), (sunday, (23, 59)), (sunday, (22, 50))] {
        log(&mut c, &admin, "note", contact, at(tz, day, hm)).await;
    }
    for (day, hm) in [(monday, (0, 0)), (monday, (0, 29)), (monday, (0, 31))] {
        log(&mut c, &admin, "note", contact, at(tz, day, hm)).await;
    }
    // The range's own first hour is split too: 23:50 before it is out, 00:10 in.
    log(
        &mut c,
        &admin,
        "call",
        contact,
        at(tz, from - Duration::days(1), (23, 50)),
    )
    .await;
    log(&mut c, &admin, "call", contact, at(tz, from, (0, 10))).await;

    let r = c.get_json(path, &admin).await;
    let weeks = r["users"][0]["weeks"].as_array().unwrap();
    let week = |d: NaiveDate| {
        let w = weeks
            .iter()
            .find(|w| w["week_start"] == d.to_string())
            .unwrap_or_else(|| panic!("week {d} in {r}"));
        (w["notes"].as_i64().unwrap(), w["calls"].as_i64().unwrap())
    };
    assert_eq!(
        week(monday - Duration::weeks(1)),
        (3, 0),
        "Sunday's week: {r}"
    );
    assert_eq!(week(monday), (3, 0), "Monday's week: {r}");
    assert_eq!(week(from), (0, 1), "the range's first week: {r}");
    assert_eq!(
        r["users"][0]["total"]["calls"], 1,
        "the call before the range: {r}"
    );
}
