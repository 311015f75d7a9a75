//! Revenue per month and MRR (`/api/v1/reports/revenue`, `/reports/revenue`, `cairn
//! report revenue`): every number checked against a sum made here over generated Stripe
//! events applied through the real apply path — payments in two currencies, a charge
//! refunded in two parts, a payment at 23:30 on a month's last day in New York (the next
//! month in UTC), a subscription upgraded then canceled, one trialing, one past due, one
//! from before the range; a contact of another owner hidden from a rep limited to own
//! records; a contact in the trash, whose money counts (money received stays received).
use std::collections::BTreeMap;

use actix_web::http::Method;
use cairn::domain::Db;
use cairn::domain::stripe::apply;
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::stripe_apply::deliver;
use crate::stripe_in::invoice_paid;
use crate::stripe_ledger::subscription;
use crate::support::*;

const ZONE: &str = "America/New_York";
const MONTHS: [&str; 3] = ["2026-08", "2026-09", "2026-10"];
const RANGE: &str = "from=2026-08-01&to=2026-10-31";

fn tz() -> Tz {
    ZONE.parse().unwrap()
}

fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    tz().with_ymd_and_hms(y, m, d, h, min, 0)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

fn refund(id: &str, cus: &str, charge: &str, refunded: i64, cur: &str, t: i64) -> String {
    json!({"id": id, "object": "event", "type": "charge.refunded", "created": t,
        "data": {"object": {"id": charge, "object": "charge", "customer": cus,
        "amount": 5000, "amount_refunded": refunded, "currency": cur, "refunded": false}}})
    .to_string()
}

/// A customer: its id, email, currency, contact source, and whether a rep owns it.
struct Customer {
    cus: &'static str,
    email: &'static str,
    cur: &'static str,
    source: &'static str,
    rep: bool,
}

const CUSTOMERS: [Customer; 4] = [
    Customer {
        cus: "cus_a",
        email: "a@example.com",
        cur: "usd",
        source: "referral",
        rep: false,
    },
    Customer {
        cus: "cus_b",
        email: "b@example.com",
        cur: "eur",
        source: "organic",
        rep: false,
    },
    Customer {
        cus: "cus_r",
        email: "r@example.com",
        cur: "usd",
        source: "paid",
        rep: true,
    },
    // Its contact goes to the trash once everything is applied.
    Customer {
        cus: "cus_t",
        email: "t@example.com",
        cur: "usd",
        source: "event",
        rep: false,
    },
];

/// What the events come to, worked out here: money per (customer, kind, currency,
/// time), and subscription states per (subscription, currency, counted value, time).
#[derive(Default)]
struct Known {
    money: Vec<(usize, &'static str, String, i64, DateTime<Utc>)>,
    subs: Vec<(&'static str, usize, String, i64, DateTime<Utc>)>,
    events: Vec<(DateTime<Utc>, String)>,
}

impl Known {
    fn pay(&mut self, c: usize, amount: i64, t: DateTime<Utc>) {
        let k = &CUSTOMERS[c];
        let id = format!("evt_p{}", self.events.len());
        self.events.push((
            t,
            invoice_paid(&id, k.cus, k.email, amount, k.cur, t.timestamp()),
        ));
        self.money
            .push((c, "payment", k.cur.to_uppercase(), amount, t));
    }

    fn refund(&mut self, c: usize, charge: &str, total: i64, amount: i64, t: DateTime<Utc>) {
        let k = &CUSTOMERS[c];
        let id = format!("evt_r{}", self.events.len());
        self.events
            .push((t, refund(&id, k.cus, charge, total, k.cur, t.timestamp())));
        self.money
            .push((c, "refund", k.cur.to_uppercase(), amount, t));
    }

    #[allow(clippy::too_many_arguments)]
    fn sub(
        &mut self,
        c: usize,
        sub: &'static str,
        kind: &str,
        status: &str,
        mrr: i64,
        t: DateTime<Utc>,
    ) {
        let k = &CUSTOMERS[c];
        let id = format!("evt_s{}", self.events.len());
        let body = subscription(&id, kind, k.cus, sub, status, mrr, k.cur, t.timestamp());
        self.events.push((t, body));
        let canceled = kind.ends_with("deleted");
        let counts = !canceled && ["active", "trialing", "past_due"].contains(&status);
        let value = if counts { mrr } else { 0 };
        self.subs.push((sub, c, k.cur.to_uppercase(), value, t));
    }
}

/// A deterministic stream of numbers (no crate, no clock).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn generated() -> Known {
    let mut k = Known::default();
    // Each customer's first event is a payment (before the range) naming its email, so
    // its contact is found by email and linked to the customer id.
    for c in 0..CUSTOMERS.len() {
        k.pay(c, 100 + c as i64, local(2026, 6, 10 + c as u32, 12, 0));
    }
    let mut g = Lcg(15);
    for _ in 0..40 {
        let c = g.next(4) as usize;
        let month = 8 + g.next(3) as u32;
        let t = local(
            2026,
            month,
            1 + g.next(28) as u32,
            g.next(24) as u32,
            g.next(60) as u32,
        );
        k.pay(c, 100 + g.next(90_000) as i64, t);
    }
    // A month's last evening in New York is the next month in UTC: still October.
    k.pay(0, 4242, local(2026, 10, 31, 23, 30));
    // Just outside the range at both ends.
    k.pay(0, 777, local(2026, 7, 31, 23, 30));
    k.pay(1, 888, local(2026, 11, 1, 0, 30));
    // A charge of 50.00 refunded 15.00 in September, then 20.00 in all (5.00 more) in
    // October; a euro refund in August.
    k.refund(0, "ch_a1", 1500, 1500, local(2026, 9, 15, 10, 0));
    k.refund(0, "ch_a1", 2000, 500, local(2026, 10, 2, 10, 0));
    k.refund(1, "ch_b1", 250, 250, local(2026, 8, 20, 18, 0));
    // A rep's payment refunded in full.
    k.refund(2, "ch_r1", 5000, 5000, local(2026, 9, 9, 9, 0));
    // Subscriptions: upgraded then canceled; trialing; from before the range; past due.
    k.sub(
        0,
        "sub_a",
        "customer.subscription.created",
        "active",
        2000,
        local(2026, 8, 10, 8, 0),
    );
    k.sub(
        0,
        "sub_a",
        "customer.subscription.updated",
        "active",
        3000,
        local(2026, 9, 20, 8, 0),
    );
    k.sub(
        0,
        "sub_a",
        "customer.subscription.deleted",
        "active",
        3000,
        local(2026, 10, 5, 8, 0),
    );
    k.sub(
        1,
        "sub_b",
        "customer.subscription.created",
        "trialing",
        1000,
        local(2026, 9, 3, 8, 0),
    );
    k.sub(
        2,
        "sub_r",
        "customer.subscription.created",
        "active",
        500,
        local(2026, 7, 1, 8, 0),
    );
    k.sub(
        3,
        "sub_t",
        "customer.subscription.created",
        "active",
        700,
        local(2026, 8, 20, 8, 0),
    );
    k.sub(
        3,
        "sub_t",
        "customer.subscription.updated",
        "past_due",
        700,
        local(2026, 10, 10, 8, 0),
    );
    // An upgrade at 23:30 on August's last day in New York: August's MRR has it.
    k.sub(
        3,
        "sub_t",
        "customer.subscription.updated",
        "past_due",
        900,
        local(2026, 8, 31, 23, 30),
    );
    k.events.sort_by_key(|(t, _)| *t);
    k
}

/// `c`'s numbers, per currency: per month (payments, refunds, MRR at its end), and per
/// source over the range (payments, refunds).
type Money = BTreeMap<String, (Vec<(i64, i64, i64)>, BTreeMap<String, (i64, i64)>)>;

fn expected(k: &Known, who: impl Fn(usize) -> bool) -> Money {
    let mut out: Money = BTreeMap::new();
    let blank = || (vec![(0, 0, 0); 3], BTreeMap::new());
    for (c, kind, cur, amount, t) in &k.money {
        let month = t.with_timezone(&tz()).format("%Y-%m").to_string();
        let Some(i) = MONTHS.iter().position(|m| *m == month) else {
            continue;
        };
        if !who(*c) {
            continue;
        }
        let e = out.entry(cur.clone()).or_insert_with(blank);
        let s = e.1.entry(CUSTOMERS[*c].source.to_string()).or_default();
        if *kind == "payment" {
            e.0[i].0 += amount;
            s.0 += amount;
        } else {
            e.0[i].1 += amount;
            s.1 += amount;
        }
    }
    for (i, end) in [
        local(2026, 9, 1, 0, 0),
        local(2026, 10, 1, 0, 0),
        local(2026, 11, 1, 0, 0),
    ]
    .iter()
    .enumerate()
    {
        let mut latest: BTreeMap<&str, (DateTime<Utc>, &String, i64)> = BTreeMap::new();
        for (sub, c, cur, value, t) in &k.subs {
            if t < end && who(*c) && latest.get(sub).is_none_or(|l| l.0 <= *t) {
                latest.insert(sub, (*t, cur, *value));
            }
        }
        for (_, cur, value) in latest.values() {
            let e = out.entry((*cur).clone()).or_insert_with(blank);
            e.0[i].2 += value;
        }
    }
    out
}

/// Asserts the API's report `r` says what `e` does, currency by currency.
fn assert_report(r: &Value, e: &Money) {
    let currencies = r["currencies"].as_array().unwrap();
    let got: Vec<&str> = currencies
        .iter()
        .map(|c| c["currency"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = e.keys().map(String::as_str).collect();
    assert_eq!(got, want, "the currencies: {r}");
    for (c, (cur, (months, sources))) in currencies.iter().zip(e) {
        let lines = c["months"].as_array().unwrap();
        assert_eq!(lines.len(), 3, "{cur}: {c}");
        for (i, (line, (p, rf, mrr))) in lines.iter().zip(months).enumerate() {
            assert_eq!(line["month"], format!("{}-01", MONTHS[i]), "{c}");
            let numbers = ["payments", "refunds", "net", "mrr_minor"].map(|f| line[f].as_i64());
            assert_eq!(
                numbers,
                [Some(*p), Some(*rf), Some(p - rf), Some(*mrr)],
                "{cur} {}: payments, refunds, net, MRR",
                MONTHS[i]
            );
        }
        let (tp, tr) = months.iter().fold((0, 0), |a, m| (a.0 + m.0, a.1 + m.1));
        assert_eq!(
            (
                c["total"]["payments"].as_i64(),
                c["total"]["refunds"].as_i64()
            ),
            (Some(tp), Some(tr)),
            "{cur} total"
        );
        let by_source: BTreeMap<String, (i64, i64)> = c["by_source"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let t = &s["total"];
                let pair = (
                    t["payments"].as_i64().unwrap(),
                    t["refunds"].as_i64().unwrap(),
                );
                (s["source"].as_str().unwrap().to_string(), pair)
            })
            .collect();
        assert_eq!(&by_source, sources, "{cur} by source");
    }
}

/// Applies `k`'s events in order, then trashes customer T's contact.
async fn applied(
    app: &TestApp,
    k: &Known,
    c: &mut Client<impl TestService>,
    admin: &str,
    rep: &str,
) {
    let mut ids = Vec::new();
    for (i, cu) in CUSTOMERS.iter().enumerate() {
        let token = if cu.rep { rep } else { admin };
        let body = json!({"first_name": "C", "last_name": format!("N{i}"), "email": cu.email, "source": cu.source});
        ids.push(c.add("contacts", token, body).await);
    }
    for (_, body) in &k.events {
        let id = deliver(&app.db, body).await;
        let out = apply::process(&app.db, id).await.unwrap();
        assert_eq!(out, Some(apply::Outcome::Processed), "{body}");
    }
    c.api_ok(
        Method::DELETE,
        &format!("/api/v1/contacts/{}", ids[3]),
        admin,
        None,
    )
    .await;
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    app.db
        .read
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.backend(),
            format!("SELECT id FROM users WHERE email = '{email}'"),
        ))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no user {email}"))
        .try_get::<i64>("", "id")
        .unwrap()
}

async fn org_zone(db: &Db) {
    cairn::domain::settings::set(&db.write, cairn::domain::organisation::TIME_ZONE, ZONE)
        .await
        .unwrap();
}

async fn report(c: &mut Client<impl TestService>, token: &str, query: &str) -> Value {
    c.get_json(&format!("/api/v1/reports/revenue?{query}"), token)
        .await
}

#[actix_web::test]
async fn every_number_matches_a_sum_made_over_generated_events() {
    let app = TestApp::new().await;
    org_zone(&app.db).await;
    let (admin, mut c) = app.api_client("admin").await;
    let rep = app.api_user("rep").await;
    let k = generated();
    applied(&app, &k, &mut c, &admin, &rep).await;
    let r = report(&mut c, &admin, RANGE).await;
    assert_eq!(
        (r["from"].as_str(), r["to"].as_str()),
        (Some("2026-08-01"), Some("2026-10-31"))
    );
    assert_report(&r, &expected(&k, |_| true));
    // The pipeline filter does not apply: the same numbers.
    let with_pipeline = report(&mut c, &admin, &format!("{RANGE}&pipeline=1")).await;
    assert_eq!(with_pipeline, r, "the pipeline filter is ignored");
    let referral = report(&mut c, &admin, &format!("{RANGE}&source=referral")).await;
    assert_report(
        &referral,
        &expected(&k, |c| CUSTOMERS[c].source == "referral"),
    );
}

#[actix_web::test]
async fn a_rep_limited_to_own_records_sees_only_their_contacts_money() {
    let app = TestApp::new().await;
    org_zone(&app.db).await;
    let (admin, mut c) = app.api_client("admin").await;
    let rep = app.api_user("rep").await;
    crate::access::rule(&app, true).await;
    let k = generated();
    applied(&app, &k, &mut c, &admin, &rep).await;
    let mine = report(&mut c, &rep, RANGE).await;
    assert_report(&mine, &expected(&k, |c| CUSTOMERS[c].rep));
    let rep_id = user_id(&app, "rep-api@example.com").await;
    let by_owner = report(&mut c, &admin, &format!("{RANGE}&owner={rep_id}")).await;
    assert_report(&by_owner, &expected(&k, |c| CUSTOMERS[c].rep));
    let admin_id = user_id(&app, "admin-api@example.com").await;
    let others = report(&mut c, &rep, &format!("{RANGE}&owner={admin_id}")).await;
    assert_eq!(
        others["currencies"],
        json!([]),
        "a rep asking for another's records sees nothing: {others}"
    );
}

#[actix_web::test]
async fn the_page_csv_and_command_line_give_the_same_numbers() {
    let app = TestApp::new().await;
    let mut page = app.signed_in("boss@example.com", "admin").await;
    let token = app.token("boss@example.com").await;
    let mut c = app.client().await;
    let t = Utc::now().timestamp() - 60;
    let paid = invoice_paid("evt_1", "cus_1", "ada@example.com", 12345, "eur", t);
    let id = deliver(&app.db, &paid).await;
    apply::process(&app.db, id).await.unwrap();
    let back = refund("evt_2", "cus_1", "ch_1", 345, "eur", t + 1);
    let id = deliver(&app.db, &back).await;
    apply::process(&app.db, id).await.unwrap();
    let api = report(&mut c, &token, "days=1").await;
    let month = api["currencies"][0]["months"][0]["month"].as_str().unwrap()[..7].to_string();
    let html = page.get("/reports/revenue?days=1&pipeline=1").await;
    assert_eq!(html.status, 200, "{}", html.text());
    let text = html.text();
    for part in [
        "<svg",
        "net EUR 120.00 (payments EUR 123.45, refunds EUR 3.45)</title>",
        "aria-current=\"page\">Revenue</a>",
        "The pipeline filter does not apply to revenue",
    ] {
        assert!(text.contains(part), "the page lacks {part}: {text}");
    }
    let csv = page.get("/reports/revenue.csv?days=1").await.text();
    assert_eq!(
        csv,
        format!(
            "currency,month,source,payments,refunds,net,mrr_at_month_end\r\n\
             EUR,{month},(all),123.45,3.45,120.00,0.00\r\n\
             EUR,{month},stripe,123.45,3.45,120.00,\r\n"
        )
    );
    let json = crate::cli::stdout_of(
        &app.url,
        &["report", "revenue", "--days", "1", "--format", "json"],
    );
    let cli: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(cli, api, "the command line's JSON is the API's");
    let table = crate::cli::stdout_of(&app.url, &["report", "revenue", "--days", "1"]);
    assert!(table.contains("120.00"), "{table}");
}

#[actix_web::test]
async fn a_payment_of_a_contact_purged_from_the_trash_still_counts_for_those_who_see_all() {
    let app = TestApp::new().await;
    let (admin, mut c) = app.api_client("admin").await;
    let rep = app.api_user("rep").await;
    crate::access::rule(&app, true).await;
    let t = Utc::now().timestamp() - 60;
    let paid = invoice_paid("evt_1", "cus_1", "gone@example.com", 5000, "usd", t);
    let id = deliver(&app.db, &paid).await;
    apply::process(&app.db, id).await.unwrap();
    let contact = crate::stripe_apply::billing(&app.db, "cus_1").await.id;
    c.api_ok(
        Method::DELETE,
        &format!("/api/v1/contacts/{contact}"),
        &admin,
        None,
    )
    .await;
    let later = Utc::now() + chrono::Duration::days(400);
    let purged = cairn::domain::trash::purge_expired(&app.db, later)
        .await
        .unwrap();
    assert_eq!(purged, 1, "the contact was purged");
    let r = report(&mut c, &admin, "days=1").await;
    let usd = &r["currencies"][0];
    assert_eq!(
        (usd["currency"].as_str(), usd["total"]["payments"].as_i64()),
        (Some("USD"), Some(5000)),
        "money received stays received: {r}"
    );
    assert_eq!(
        usd["by_source"][0]["source"], "",
        "no contact, no source: {r}"
    );
    let mine = report(&mut c, &rep, "days=1").await;
    assert_eq!(mine["currencies"], json!([]), "a rep sees no one's: {mine}");
}
