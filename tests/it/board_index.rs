//! Boards are built from the live deals kept in memory (`deals::index`), read again after
//! every change. The counts, sums per currency, forecast and cards must stay exactly what
//! the statements compute, through every kind of write, for every filter and for a rep
//! who sees only their own deals.
use actix_web::http::Method;
use cairn::domain::Actor;
use cairn::domain::deals::{self, BoardQuery};
use chrono::{Datelike, NaiveDate, Utc};
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::support::*;

/// The people and records the writes work on.
struct World {
    admin: Actor,
    rep: Actor,
    token: String,
    acme: i64,
    globex: i64,
    /// The first pipeline's stages by name, and the second pipeline's id.
    stages: Value,
    partners: i64,
}

async fn world(app: &TestApp) -> (Client<impl TestService>, World) {
    let admin = app.user("admin@example.com", "admin").await;
    let rep = app.user("rep@example.com", "rep").await;
    let token = app.token("admin@example.com").await;
    // The rep's boards are their own deals' only.
    cairn::domain::access::set_own_records_only(&app.db.write, true)
        .await
        .expect("own records only");
    let mut c = app.client().await;
    let acme = c.add_company(&token, "Acme").await;
    let globex = c.add_company(&token, "Globex").await;
    let stages = c.get_json("/api/v1/pipelines", &token).await[0].clone();
    let partners = c
        .add("pipelines", &token, json!({"name": "Partners"}))
        .await;
    let w = World {
        admin,
        rep,
        token,
        acme,
        globex,
        stages,
        partners,
    };
    (c, w)
}

impl World {
    fn stage(&self, name: &str) -> i64 {
        stage_id(&self.stages, name)
    }

    /// The filters every check builds the board with.
    fn queries(&self) -> Vec<BoardQuery> {
        let today = Utc::now().date_naive();
        let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap();
        let next = first.checked_add_months(chrono::Months::new(1)).unwrap();
        let q = BoardQuery::default;
        vec![
            q(),
            BoardQuery {
                pipeline: Some(self.partners),
                ..q()
            },
            BoardQuery {
                owner: Some(self.rep.id),
                ..q()
            },
            BoardQuery {
                company: Some(self.acme),
                ..q()
            },
            BoardQuery {
                close_month: Some((first, next)),
                ..q()
            },
            // 80 yen pass a minimum of 50 (whole units) where 80 cents do not.
            BoardQuery {
                min_major: Some(50),
                ..q()
            },
            BoardQuery {
                min_major: Some(1),
                max_major: Some(100),
                owner: Some(self.admin.id),
                ..q()
            },
            BoardQuery {
                min_score: Some(50),
                ..q()
            },
        ]
    }
}

/// For the admin and for a rep limited to their own deals: the board served (through
/// the caches), the one built from a freshly read index and the one built by statements
/// are equal for every filter.
async fn agree(app: &TestApp, w: &World, after: &str) {
    for who in [&w.admin, &w.rep] {
        for q in w.queries() {
            let served = deals::board(&app.db, who, &q).await.expect("served board");
            let (index, statements) = deals::board_both_ways(&app.db, who, &q)
                .await
                .expect("both boards");
            let statements = serde_json::to_value(&statements).unwrap();
            assert_eq!(
                serde_json::to_value(&index).unwrap(),
                statements,
                "after {after}, {:?} as {:?}: the index's board is the statements'",
                q,
                who.role
            );
            assert_eq!(
                serde_json::to_value(&*served).unwrap(),
                statements,
                "after {after}, {:?} as {:?}: the served board is current",
                q,
                who.role
            );
        }
    }
}

/// Creates a deal through the API as the admin; its id.
async fn deal(c: &mut Client<impl TestService>, w: &World, body: Value) -> i64 {
    c.add("deals", &w.token, body).await
}

/// Changes deal `id` through the API with `patch`; anything but success fails.
async fn patch(c: &mut Client<impl TestService>, w: &World, id: i64, patch: Value) {
    let path = format!("/api/v1/deals/{id}");
    c.api_ok(Method::PATCH, &path, &w.token, Some(patch)).await;
}

/// Moves deal `id` to `stage` (after `after`, if given); anything but success fails.
async fn moved(c: &mut Client<impl TestService>, w: &World, id: i64, to: Value) {
    let path = format!("/api/v1/deals/{id}");
    let version = c.get_json(&path, &w.token).await["version"].clone();
    let mut body = to;
    body["version"] = version;
    let path = format!("/api/v1/deals/{id}/move");
    c.api_ok(Method::POST, &path, &w.token, Some(body)).await;
}

/// A board that says something: deals in several currencies, stages and owners, some
/// with their own probability, some closed (one long ago), one column past a page.
/// The first deal's id (in Lead, at Acme, closing this month).
async fn deals_of_every_kind(app: &TestApp, c: &mut Client<impl TestService>, w: &World) -> i64 {
    let close = Utc::now().date_naive().to_string();
    let (lead, qualified) = (w.stage("Lead"), w.stage("Qualified"));
    let mut first = None;
    for (i, (amount, currency)) in [
        (1_200_000, "USD"),
        (8_000, "JPY"),
        (80, "JPY"),
        (5_000, "EUR"),
    ]
    .into_iter()
    .enumerate()
    {
        let probability = (i % 2 == 1).then_some(35);
        let id = deal(c, w, json!({"title": format!("Deal {i}"), "amount": amount, "currency": currency, "stage_id": lead, "probability": probability, "company_id": w.acme, "expected_close": close})).await;
        first.get_or_insert(id);
    }
    deal(c, w, json!({"title": "Rep's", "amount": 7_777, "currency": "EUR", "stage_id": qualified, "owner_id": w.rep.id, "company_id": w.globex})).await;
    for i in 0..(deals::COLUMN_PAGE + 3) {
        deal(c, w, json!({"title": format!("Bulk {i}"), "amount": 100 * i, "stage_id": qualified, "probability": (i % 3 == 0).then_some(i % 100)})).await;
    }
    let won = deal(
        c,
        w,
        json!({"title": "Won now", "amount": 9_900, "stage_id": lead}),
    )
    .await;
    moved(c, w, won, json!({"stage_id": w.stage("Won")})).await;
    let old = deal(
        c,
        w,
        json!({"title": "Lost long ago", "amount": 4_400, "currency": "GBP", "stage_id": lead}),
    )
    .await;
    moved(
        c,
        w,
        old,
        json!({"stage_id": w.stage("Lost"), "lost_reason": "price"}),
    )
    .await;
    let long_ago = (Utc::now() - chrono::Duration::days(45)).to_rfc3339();
    exec(
        &app.db,
        &format!("UPDATE deals SET stage_entered_at = '{long_ago}' WHERE id = {old}"),
    )
    .await;
    let stages = format!("/api/v1/pipelines/{}/stages", w.partners);
    let body = json!({"name": "Intro", "probability": 10, "kind": "open"});
    c.api_ok(Method::POST, &stages, &w.token, Some(body)).await;
    let pipelines = c.get_json("/api/v1/pipelines", &w.token).await;
    let intro = stage_id(&pipelines[1], "Intro");
    deal(c, w, json!({"title": "Partner deal", "amount": 3_000, "pipeline_id": w.partners, "stage_id": intro})).await;
    first.expect("a first deal")
}

#[actix_web::test]
async fn boards_stay_exact_through_deal_writes() {
    let app = TestApp::new().await;
    let (mut c, w) = world(&app).await;
    let lead = deals_of_every_kind(&app, &mut c, &w).await;
    agree(&app, &w, "creating deals").await;
    for (what, change) in [
        ("an amount", json!({"amount": 123_456})),
        ("a currency", json!({"currency": "USD"})),
        ("a probability", json!({"probability": 90})),
        ("an owner", json!({"owner_id": w.rep.id})),
        ("a company", json!({"company_id": w.globex})),
        ("a close date", json!({"expected_close": null})),
    ] {
        patch(&mut c, &w, lead, change).await;
        agree(&app, &w, what).await;
    }
    moved(&mut c, &w, lead, json!({"stage_id": w.stage("Proposal")})).await;
    agree(&app, &w, "a move to another stage").await;
    moved(&mut c, &w, lead, json!({"stage_id": w.stage("Won")})).await;
    agree(&app, &w, "a win").await;
    c.trash("deals", lead, &w.token).await;
    agree(&app, &w, "a deal to the trash").await;
    c.restore("deals", lead, &w.token).await;
    agree(&app, &w, "a deal restored").await;
}

#[actix_web::test]
async fn boards_stay_exact_through_scoring() {
    let app = TestApp::new().await;
    let (mut c, w) = world(&app).await;
    let lead = deals_of_every_kind(&app, &mut c, &w).await;
    crate::scoring::closed_deals(&app, 300, 47, false).await;
    agree(&app, &w, "closed deals added").await;
    let run = cairn::domain::scoring::train(&app.db, cairn::domain::scoring::Kind::Deal)
        .await
        .expect("train");
    assert_eq!(run.status, "active", "{run:?}");
    let scored = cairn::domain::scoring::scores::score_open(&app.db)
        .await
        .expect("score");
    assert!(scored > deals::COLUMN_PAGE as usize, "scored {scored}");
    agree(&app, &w, "scoring the open deals").await;
    let scores = cairn::domain::scoring::scores::score_deals(&app.db, &[lead]).await;
    assert_eq!(scores.expect("rescore one"), 1, "the one deal rescored");
    agree(&app, &w, "rescoring one deal").await;
}

#[actix_web::test]
async fn boards_stay_exact_through_company_changes() {
    let app = TestApp::new().await;
    let (mut c, w) = world(&app).await;
    deals_of_every_kind(&app, &mut c, &w).await;
    let path = format!("/api/v1/companies/{}", w.acme);
    c.api_ok(
        Method::PATCH,
        &path,
        &w.token,
        Some(json!({"name": "Acme Corp"})),
    )
    .await;
    agree(&app, &w, "a company renamed").await;
    let body = json!({"action": "delete", "ids": [w.acme]});
    c.api_ok(Method::POST, "/api/v1/companies/bulk", &w.token, Some(body))
        .await;
    agree(&app, &w, "a bulk delete of companies").await;
    c.restore("companies", w.acme, &w.token).await;
    agree(&app, &w, "a company restored").await;
    let merge = format!("/api/v1/companies/{}/merge", w.globex);
    c.api_ok(
        Method::POST,
        &merge,
        &w.token,
        Some(json!({"merge_id": w.acme})),
    )
    .await;
    agree(&app, &w, "a merge of companies").await;
}

/// Many writers and readers at once (on PostgreSQL, really at once): once they are done,
/// the board served is the one the statements compute.
#[actix_web::test]
async fn boards_stay_exact_with_concurrent_writers() {
    let app = TestApp::new().await;
    let (mut c, w) = world(&app).await;
    deals_of_every_kind(&app, &mut c, &w).await;
    let (lead, won) = (w.stage("Lead"), w.stage("Won"));
    let writers = (0..12).map(|i| {
        let (db, who) = (&app.db, if i % 2 == 0 { &w.admin } else { &w.rep });
        async move {
            let input = serde_json::from_value(json!({"title": format!("Race {i}"), "amount": 1_000 + i, "currency": if i % 3 == 0 { "EUR" } else { "USD" }, "stage_id": lead}))
                .unwrap();
            let d = deals::create(db, who, &input).await.expect("create");
            let m = deals::Move {
                stage_id: won,
                position: None,
                after_id: None,
                version: d.version,
                lost_reason: None,
            };
            if i % 4 == 0 {
                deals::move_deal(db, who, d.id, &m).await.expect("move");
            }
        }
    });
    let readers = (0..12).map(|i| {
        let (db, who, q) = (
            &app.db,
            if i % 2 == 0 { &w.admin } else { &w.rep },
            w.queries()[i % 3].clone(),
        );
        async move {
            deals::board(db, who, &q).await.expect("board");
        }
    });
    tokio::join!(join_all(writers), join_all(readers));
    agree(&app, &w, "concurrent writers").await;
}
