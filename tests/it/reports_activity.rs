//! Activity per user per week (`/api/v1/reports/activity`, `/reports/activity`, `cairn
//! report activity`): notes, calls, meetings and tasks done per user and week, checked
//! against a count made here over generated activities and tasks of two users at known
//! times in New York (a Sunday 23:30 local stays in its week), with an email, a Stripe
//! payment (no author), an open task and a task about a trashed contact left out (its
//! completion note stays); and a rep limited to own records.
use std::collections::BTreeMap;

use actix_web::http::Method;
use cairn::entities::{activity, user};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use sea_orm::{ActiveValue::NotSet, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};

use crate::reports_funnel::set_time;
use crate::support::*;

async fn report(c: &mut Client<impl TestService>, token: &str, query: &str) -> Value {
    c.get_json(&format!("/api/v1/reports/activity?{query}"), token)
        .await
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(&app.db.read)
        .await
        .unwrap()
        .expect("the user")
        .id
}

/// An activity of `kind` by `token`'s user about contact `contact`, occurred at `t`.
async fn logged(
    c: &mut Client<impl TestService>,
    app: &TestApp,
    token: &str,
    (kind, contact): (&str, i64),
    t: DateTime<Utc>,
) {
    let body = json!({"kind": kind, "body": "Spoke", "contact_id": contact});
    let id = c.add("activities", token, body).await;
    set_time(app, "activities", "occurred_at", id, t).await;
}

/// A task of `token`'s user about contact `contact`, done at `t`.
async fn done(
    c: &mut Client<impl TestService>,
    app: &TestApp,
    token: &str,
    contact: i64,
    t: DateTime<Utc>,
) {
    let task = c
        .add_task(token, json!({"title": "Call back", "contact_id": contact}))
        .await;
    c.api_ok(
        Method::PATCH,
        &format!("/api/v1/tasks/{task}"),
        token,
        Some(json!({"done": true, "version": 1})),
    )
    .await;
    set_time(app, "tasks", "done_at", task, t).await;
}

/// (user id, week's Monday) → [notes, calls, meetings, tasks done], non-zero weeks only.
type Weeks = BTreeMap<(i64, String), [i64; 4]>;

fn got(r: &Value) -> Weeks {
    let mut out = Weeks::new();
    for u in r["users"].as_array().unwrap() {
        let mut total = [0; 4];
        for w in u["weeks"].as_array().unwrap() {
            let c = ["notes", "calls", "meetings", "tasks_done"].map(|k| w[k].as_i64().unwrap());
            for (t, n) in total.iter_mut().zip(c) {
                *t += n;
            }
            if c != [0; 4] {
                out.insert(
                    (
                        u["user_id"].as_i64().unwrap(),
                        w["week_start"].as_str().unwrap().into(),
                    ),
                    c,
                );
            }
        }
        let shown =
            ["notes", "calls", "meetings", "tasks_done"].map(|k| u["total"][k].as_i64().unwrap());
        assert_eq!(shown, total, "a user's total is their weeks': {u}");
    }
    out
}

#[actix_web::test]
async fn weeks_match_a_count_made_over_generated_activity() {
    let app = TestApp::new().await;
    cairn::domain::settings::set(
        &app.db.write,
        cairn::domain::organisation::TIME_ZONE,
        "America/New_York",
    )
    .await
    .unwrap();
    let tz: Tz = "America/New_York".parse().unwrap();
    let (admin, mut c) = app.api_client("admin").await;
    let rep = app.api_user("rep").await;
    let ids = [
        user_id(&app, "admin-api@example.com").await,
        user_id(&app, "rep-api@example.com").await,
    ];
    let contact = c.add_contact(&admin, "Ann", "Lee", "ann@example.com").await;
    let gone = c.add_contact(&admin, "Bo", "Kim", "bo@example.com").await;
    let first = report(&mut c, &admin, "days=60").await;
    let from: NaiveDate = first["from"].as_str().unwrap().parse().unwrap();
    let monday_of = |t: DateTime<Utc>| {
        let d = t.with_timezone(&tz).date_naive();
        (from + Duration::weeks((d - from).num_days().div_euclid(7))).to_string()
    };
    let now = Utc::now();
    let mut expected = Weeks::new();
    let kinds = ["note", "call", "meeting", "email"];
    // Ticking a task done about a record leaves a note on its timeline, now, by whoever
    // ticked it: a note like any other.
    let mut completions = [0i64; 2];
    for i in 0..36i64 {
        let who = (i % 3 == 0) as usize;
        let token = [&admin, &rep][who];
        let t = now - Duration::hours(i * 37 + 1);
        let kind = kinds[i as usize % 4];
        logged(&mut c, &app, token, (kind, contact), t).await;
        if kind != "email" {
            expected.entry((ids[who], monday_of(t))).or_default()[i as usize % 4] += 1;
        }
        if i % 5 == 0 {
            done(&mut c, &app, token, contact, t - Duration::hours(3)).await;
            completions[who] += 1;
            expected
                .entry((ids[who], monday_of(t - Duration::hours(3))))
                .or_default()[3] += 1;
        }
    }
    // Sunday 23:30 in New York, a Monday in UTC: still that Sunday's week.
    let sunday = tz
        .from_local_datetime(&(from + Duration::days(13)).and_hms_opt(23, 30, 0).unwrap())
        .earliest()
        .unwrap()
        .with_timezone(&Utc);
    logged(&mut c, &app, &rep, ("meeting", contact), sunday).await;
    *expected
        .entry((ids[1], (from + Duration::days(7)).to_string()))
        .or_default()
        .get_mut(2)
        .unwrap() += 1;
    // Left out: a payment from Stripe (no author), an open task, a task about a contact
    // in the trash, and a note before the range.
    activity::Entity::insert(activity::ActiveModel {
        id: NotSet,
        kind: Set("payment".into()),
        body: Set("Paid".into()),
        occurred_at: Set(now - Duration::days(1)),
        deal_id: Set(None),
        contact_id: Set(Some(contact)),
        company_id: Set(None),
        author_id: Set(None),
        created_at: Set(now),
        version: Set(1),
        edited_at: Set(None),
    })
    .exec(&app.db.write)
    .await
    .unwrap();
    c.add_task(&admin, json!({"title": "Open", "contact_id": contact}))
        .await;
    done(&mut c, &app, &admin, gone, now - Duration::days(2)).await;
    completions[0] += 1;
    c.api_ok(
        Method::DELETE,
        &format!("/api/v1/contacts/{gone}"),
        &admin,
        None,
    )
    .await;
    logged(
        &mut c,
        &app,
        &admin,
        ("note", contact),
        now - Duration::days(80),
    )
    .await;
    for (who, n) in completions.iter().enumerate() {
        expected
            .entry((ids[who], monday_of(Utc::now())))
            .or_default()[0] += n;
    }
    let r = report(&mut c, &admin, "days=60").await;
    assert_eq!(got(&r), expected, "every user and week: {r}");
    let only = report(&mut c, &admin, &format!("days=60&owner={}", ids[1])).await;
    let reps: Weeks = expected
        .iter()
        .filter(|((u, _), _)| *u == ids[1])
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    assert_eq!(got(&only), reps, "one user: {only}");
}

#[actix_web::test]
async fn a_rep_limited_to_own_records_sees_only_their_line() {
    let app = TestApp::new().await;
    let (admin, mut c) = app.api_client("admin").await;
    let rep = app.api_user("rep").await;
    crate::access::rule(&app, true).await;
    let contact = c.add_contact(&rep, "Ann", "Lee", "ann@example.com").await;
    for token in [&admin, &rep, &rep] {
        logged(&mut c, &app, token, ("call", contact), Utc::now()).await;
    }
    let mine = report(&mut c, &rep, "").await;
    let users = mine["users"].as_array().unwrap();
    assert_eq!(users.len(), 1, "{mine}");
    assert_eq!(users[0]["total"]["calls"], 2, "{mine}");
    let all = report(&mut c, &admin, "").await;
    assert_eq!(all["users"].as_array().unwrap().len(), 2, "{all}");
}

#[actix_web::test]
async fn the_page_csv_and_command_line_give_the_same_numbers() {
    let app = TestApp::new().await;
    let mut page = app.signed_in("boss@example.com", "admin").await;
    let token = app.token("boss@example.com").await;
    let mut c = app.client().await;
    let contact = c.add_contact(&token, "Ann", "Lee", "ann@example.com").await;
    for kind in ["note", "call", "call"] {
        logged(&mut c, &app, &token, (kind, contact), Utc::now()).await;
    }
    let api = report(&mut c, &token, "days=7").await;
    let name = api["users"][0]["name"].as_str().unwrap().to_string();
    let html = page.get("/reports/activity?days=7").await;
    assert_eq!(html.status, 200, "{}", html.text());
    let text = html.text();
    for part in [
        "<svg".to_string(),
        format!("{name}: 2 calls</title>"),
        "aria-current=\"page\">Activity</a>".to_string(),
    ] {
        assert!(text.contains(&part), "the page lacks {part}: {text}");
    }
    let csv = page.get("/reports/activity.csv?days=7").await.text();
    assert!(
        csv.starts_with("user,week_start,notes,calls,meetings,tasks_done\r\n"),
        "{csv}"
    );
    let week = api["users"][0]["weeks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["calls"] == 2)
        .unwrap()["week_start"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(csv.contains(&format!("{name},{week},1,2,0,0\r\n")), "{csv}");
    let json = crate::cli::stdout_of(
        &app.url,
        &["report", "activity", "--days", "7", "--format", "json"],
    );
    let cli: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(cli, api, "the command line's JSON is the API's");
    let table = crate::cli::stdout_of(&app.url, &["report", "activity", "--days", "7"]);
    assert!(
        table
            .lines()
            .any(|l| l.contains(&name) && l.contains("total")),
        "{table}"
    );
}
