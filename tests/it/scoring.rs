//! Deal scoring (issue 17): trained on closed deals drawn from a known logistic rule, it
//! recovers the rule's ranking and its weighted features, learns nothing from after a
//! close, refuses too few outcomes, keeps a model no better than the current one, and
//! can switch an earlier one back in.
use chrono::{Duration, TimeZone, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use cairn::domain::scoring::{self, facts, model::Model};
use cairn::entities::{
    activity, billing_entry, deal, deal_contact, deal_stage_change, mrr_change, pipeline_stage,
    scoring_model,
};

use crate::support::*;

/// The hidden rule: log-odds of a win.
fn true_log_odds(source: &str, calls: i64) -> f64 {
    let s = match source {
        "referral" => 1.6,
        "paid" => -0.8,
        _ => 0.0,
    };
    -1.0 + s + 0.7 * calls as f64
}

/// A deterministic stream of numbers in [0, 1).
pub(crate) struct Draws(pub(crate) u64);

impl Draws {
    pub(crate) fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n` closed deals, one an hour, each won with the hidden rule's probability, with its
/// calls logged before the close; `note_after_win` adds a note an hour after each win.
/// Answers each deal's id and true probability.
pub(crate) async fn closed_deals(
    app: &TestApp,
    n: usize,
    seed: u64,
    note_after_win: bool,
) -> Vec<(i64, f64)> {
    let owner = app.user(&format!("owner{seed}@example.com"), "admin").await;
    let Stages {
        pipeline,
        open,
        won: won_stage,
        lost: lost_stage,
    } = stages(app).await;
    let start = Utc.with_ymd_and_hms(2025, 1, 1, 9, 0, 0).unwrap();
    let mut draws = Draws(seed);
    let mut truth = Vec::new();
    for i in 0..n {
        let source = ["referral", "organic", "paid"][(draws.next() * 3.0) as usize];
        let calls = (draws.next() * 5.0) as i64;
        let p = 1.0 / (1.0 + (-true_log_odds(source, calls)).exp());
        let won = draws.next() < p;
        let closed = start + Duration::hours(i as i64);
        let created = closed - Duration::days(30);
        let stage = if won { won_stage } else { lost_stage };
        let d = plant(
            app,
            Planted {
                pipeline,
                stage,
                closed_from: Some((open, closed)),
                created,
                owner: owner.id,
                source,
                custom: "{}",
            },
        )
        .await;
        let mut logged: Vec<(&str, chrono::DateTime<Utc>)> = (0..calls)
            .map(|c| ("call", created + Duration::days(c + 1)))
            .collect();
        if won && note_after_win {
            logged.push(("note", closed + Duration::hours(1)));
        }
        for (kind, at) in logged {
            activity::Entity::insert(activity::ActiveModel {
                kind: sea_orm::Set(kind.into()),
                body: sea_orm::Set(String::new()),
                occurred_at: sea_orm::Set(at),
                deal_id: sea_orm::Set(Some(d)),
                author_id: sea_orm::Set(Some(owner.id)),
                created_at: sea_orm::Set(at),
                version: sea_orm::Set(1),
                ..Default::default()
            })
            .exec(&app.db.write)
            .await
            .expect("an activity");
        }
        truth.push((d, p));
    }
    truth
}

/// The first pipeline and its first open, won and lost stages.
pub(crate) struct Stages {
    pub pipeline: i64,
    pub open: i64,
    pub won: i64,
    pub lost: i64,
}

pub(crate) async fn stages(app: &TestApp) -> Stages {
    let stages = pipeline_stage::Entity::find()
        .order_by_asc(pipeline_stage::Column::Position)
        .all(&app.db.read)
        .await
        .expect("stages");
    let pipeline = stages[0].pipeline_id;
    let of = |kind: &str| {
        stages
            .iter()
            .find(|s| s.pipeline_id == pipeline && s.kind == kind)
            .expect("a stage of that kind")
            .id
    };
    Stages {
        pipeline,
        open: of("open"),
        won: of("won"),
        lost: of("lost"),
    }
}

/// A deal as `plant` writes it.
pub(crate) struct Planted<'a> {
    pub pipeline: i64,
    pub stage: i64,
    /// For a closed deal: the open stage it closed from, and when.
    pub closed_from: Option<(i64, chrono::DateTime<Utc>)>,
    pub created: chrono::DateTime<Utc>,
    pub owner: i64,
    pub source: &'a str,
    /// Its custom values as stored (JSON).
    pub custom: &'a str,
}

/// Writes deal `p` (EUR 1 000.00) as if it had lived its life, with its close in the
/// stage history when it is closed; its id.
pub(crate) async fn plant(app: &TestApp, p: Planted<'_>) -> i64 {
    let at = p.closed_from.map_or(p.created, |(_, at)| at);
    let id = deal::Entity::insert(deal::ActiveModel {
        title: sea_orm::Set(format!("Planted at {at}")),
        pipeline_id: sea_orm::Set(p.pipeline),
        stage_id: sea_orm::Set(p.stage),
        position: sea_orm::Set(at.timestamp()),
        amount_minor: sea_orm::Set(100_000),
        currency: sea_orm::Set("EUR".into()),
        owner_id: sea_orm::Set(p.owner),
        source: sea_orm::Set(p.source.into()),
        closed_at: sea_orm::Set(p.closed_from.map(|(_, at)| at)),
        custom: sea_orm::Set(p.custom.into()),
        version: sea_orm::Set(1),
        stage_entered_at: sea_orm::Set(at),
        created_at: sea_orm::Set(p.created),
        updated_at: sea_orm::Set(at),
        ..Default::default()
    })
    .exec(&app.db.write)
    .await
    .expect("a deal")
    .last_insert_id;
    if let Some((from, at)) = p.closed_from {
        deal_stage_change::Entity::insert(deal_stage_change::ActiveModel {
            deal_id: sea_orm::Set(id),
            from_stage_id: sea_orm::Set(Some(from)),
            to_stage_id: sea_orm::Set(p.stage),
            created_at: sea_orm::Set(at),
            ..Default::default()
        })
        .exec(&app.db.write)
        .await
        .expect("its close");
    }
    id
}

/// The model of the run of `version`.
async fn model_of(app: &TestApp, version: i32) -> Model {
    let row = scoring_model::Entity::find()
        .filter(scoring_model::Column::Version.eq(version))
        .one(&app.db.read)
        .await
        .expect("read the run")
        .expect("the run");
    serde_json::from_str(&row.model).expect("a stored model")
}

#[actix_web::test]
async fn training_recovers_the_hidden_ranking_and_its_weighted_features() {
    let app = TestApp::new().await;
    let truth = closed_deals(&app, 1500, 7, false).await;
    let run = scoring::train(&app.db, cairn::domain::scoring::Kind::Deal)
        .await
        .expect("train");
    assert_eq!(
        run.status, "active",
        "the first model beats the stages: {run:?}"
    );
    let held = run.holdout as usize;
    let newest = &truth[truth.len() - held..];
    let deals = facts::deals(&app.db, Utc::now(), facts::Which::Closed)
        .await
        .expect("facts");
    let won: Vec<bool> = newest
        .iter()
        .map(|(id, _)| deals.iter().find(|d| d.id == *id).and_then(|d| d.won) == Some(true))
        .collect();
    let p: Vec<f64> = newest.iter().map(|(_, p)| *p).collect();
    let true_auc = scoring::metrics::auc(&p, &won);
    let learned = run.metrics.expect("metrics").model.auc;
    assert!(
        (learned - true_auc).abs() <= 0.03,
        "hold-out AUC {learned:.3}, the hidden rule's {true_auc:.3}"
    );
    // The features the rule weights most move the scores most: by the mean size of
    // their factor over the deals (a weight alone says little of a column that is
    // mostly zero).
    let m = model_of(&app, run.version).await;
    let mut moved: std::collections::BTreeMap<String, f64> = Default::default();
    for d in &deals {
        for f in m.factors(d) {
            *moved.entry(f.label).or_default() += f.log_odds.abs() / deals.len() as f64;
        }
    }
    let mut by_size: Vec<(String, f64)> = moved.into_iter().collect();
    by_size.sort_by(|a, b| b.1.total_cmp(&a.1));
    let top: Vec<&str> = by_size.iter().take(3).map(|(l, _)| l.as_str()).collect();
    for expected in ["Source: referral", "Activities: call"] {
        assert!(
            top.contains(&expected),
            "{expected} not among the top factors {by_size:?}"
        );
    }
}

#[actix_web::test]
async fn an_activity_logged_after_the_close_is_not_learned_from() {
    let app = TestApp::new().await;
    closed_deals(&app, 200, 3, true).await;
    let run = scoring::train(&app.db, cairn::domain::scoring::Kind::Deal)
        .await
        .expect("train");
    let m = model_of(&app, run.version).await;
    let labels: Vec<&str> = m.columns.iter().map(|c| c.label()).collect();
    assert!(
        !labels.iter().any(|l| l.contains("note")),
        "a note logged only after each win became a feature: {labels:?}"
    );
}

#[actix_web::test]
async fn too_few_outcomes_are_refused_with_the_counts() {
    let app = TestApp::new().await;
    closed_deals(&app, 20, 5, false).await;
    let run = scoring::train(&app.db, cairn::domain::scoring::Kind::Deal)
        .await
        .expect("a refused run is still a run");
    assert_eq!(run.status, "refused");
    let says = run.message.unwrap_or_default();
    assert!(
        says.contains("at least 30 won and 30 lost") && says.contains("stage's probability"),
        "{says}"
    );
    assert!(
        scoring::train::active(&app.db, cairn::domain::scoring::Kind::Deal)
            .await
            .expect("read")
            .is_none(),
        "no model scores"
    );
}

#[actix_web::test]
async fn a_model_no_better_than_the_current_one_is_kept_not_switched_in() {
    let app = TestApp::new().await;
    closed_deals(&app, 300, 11, false).await;
    let first = scoring::train(&app.db, cairn::domain::scoring::Kind::Deal)
        .await
        .expect("first run");
    assert_eq!(first.status, "active", "{first:?}");
    let second = scoring::train(&app.db, cairn::domain::scoring::Kind::Deal)
        .await
        .expect("second run on the same deals");
    assert_eq!(second.status, "kept", "{second:?}");
    assert!(
        second
            .message
            .unwrap_or_default()
            .contains("does not beat the current model's"),
        "the run says why it was not switched in"
    );
    let runs = scoring::runs(&app.db, cairn::domain::scoring::Kind::Deal)
        .await
        .expect("runs");
    let active: Vec<i32> = runs
        .iter()
        .filter(|r| r.status == "active")
        .map(|r| r.version)
        .collect();
    assert_eq!(active, vec![first.version], "the first model still scores");
}

#[actix_web::test]
async fn an_earlier_model_can_be_switched_back_in() {
    let app = TestApp::new().await;
    closed_deals(&app, 300, 13, false).await;
    let first = scoring::train(&app.db, cairn::domain::scoring::Kind::Deal)
        .await
        .expect("first run");
    let second = scoring::train(&app.db, cairn::domain::scoring::Kind::Deal)
        .await
        .expect("second run");
    let back = scoring::activate(
        &app.db,
        None,
        cairn::domain::scoring::Kind::Deal,
        second.version,
    )
    .await
    .expect("switch in");
    assert_eq!(back.status, "active");
    let runs = scoring::runs(&app.db, cairn::domain::scoring::Kind::Deal)
        .await
        .expect("runs");
    let status = |v: i32| {
        runs.iter()
            .find(|r| r.version == v)
            .map(|r| r.status.clone())
    };
    assert_eq!(status(first.version).as_deref(), Some("retired"));
    assert_eq!(status(second.version).as_deref(), Some("active"));
}

#[actix_web::test]
async fn every_score_is_the_sum_of_its_factors() {
    let app = TestApp::new().await;
    closed_deals(&app, 300, 17, false).await;
    scoring::train(&app.db, cairn::domain::scoring::Kind::Deal)
        .await
        .expect("train");
    let (_, m) = scoring::train::active(&app.db, cairn::domain::scoring::Kind::Deal)
        .await
        .expect("read")
        .expect("a model");
    for d in facts::deals(&app.db, Utc::now(), facts::Which::Closed)
        .await
        .expect("facts")
    {
        let sum = m.intercept + m.factors(&d).iter().map(|f| f.log_odds).sum::<f64>();
        let p = m.probability(&d);
        assert!(
            p.is_finite() && (0.0..=1.0).contains(&p),
            "deal {}: {p}",
            d.id
        );
        assert!(
            (sum - m.log_odds(&d)).abs() < 1e-9,
            "deal {}: factors sum to {sum}, the score's log-odds are {}",
            d.id,
            m.log_odds(&d)
        );
    }
}

/// The newest job of `kind`'s id.
async fn newest_job(app: &TestApp, kind: &str) -> i64 {
    cairn::entities::job::Entity::find()
        .filter(cairn::entities::job::Column::Kind.eq(kind))
        .order_by_desc(cairn::entities::job::Column::Id)
        .one(&app.db.read)
        .await
        .expect("read jobs")
        .expect("a queued job")
        .id
}

#[actix_web::test]
async fn train_now_on_the_settings_page_queues_a_run_that_the_page_then_lists() {
    let app = TestApp::new().await;
    closed_deals(&app, 300, 19, false).await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    assert!(
        c.get("/settings/scoring")
            .await
            .text()
            .contains("No model scores deals yet")
    );
    let res = c.post_form("/settings/scoring/train", &[]).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let audited = app
        .count_where("audit_log", " WHERE action = 'train'")
        .await;
    assert_eq!(audited, 1, "the request is in the audit log");
    let id = newest_job(&app, scoring::job::JOB).await;
    let options = cairn::jobs::Options {
        workers: 1,
        poll: std::time::Duration::from_millis(20),
        ..Default::default()
    };
    let running =
        cairn::jobs::Runner::new(app.db.clone(), cairn::jobs::kinds::registry(), options).start();
    crate::jobs::wait_for(&app.db, id, "done", |j| j.state == "done").await;
    assert!(running.finish(std::time::Duration::from_secs(5)).await);
    let page = c.get("/settings/scoring").await.text();
    assert!(page.contains("Model 1 scores deals now."), "{page}");
}

#[actix_web::test]
async fn an_open_deal_shows_its_score_and_what_moves_it_until_it_closes() {
    let app = TestApp::new().await;
    closed_deals(&app, 300, 23, false).await;
    scoring::train(&app.db, cairn::domain::scoring::Kind::Deal)
        .await
        .expect("train");
    let token = app.api_user("rep").await;
    let mut api = app.client().await;
    let body = serde_json::json!({"title": "Open one", "amount": 500, "currency": "EUR"});
    let id = api.create("/api/v1/deals", &token, body).await;
    let scored = scoring::scores::score_open(&app.db).await.expect("score");
    assert_eq!(scored, 1, "the one open deal");
    let json = api.get_json(&format!("/api/v1/deals/{id}"), &token).await;
    let score = json["score"].as_i64().expect("a score in the API");
    assert!((0..=100).contains(&score), "{json}");
    assert!(json["score_factors"]["up"].is_array() && json["score_factors"]["down"].is_array());
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let page = c.get(&format!("/deals/{id}")).await.text();
    assert!(
        page.contains("chance to win"),
        "no score on the page: {page}"
    );
    assert!(
        page.contains("Raising it:") || page.contains("Lowering it:"),
        "no factors on the page"
    );
    let stages = pipeline_stage::Entity::find()
        .all(&app.db.read)
        .await
        .expect("stages");
    let won = stages
        .iter()
        .find(|s| s.kind == "won")
        .expect("a won stage")
        .id;
    let moved = serde_json::json!({"stage_id": won, "version": 1});
    api.api_ok(
        actix_web::http::Method::POST,
        &format!("/api/v1/deals/{id}/move"),
        &token,
        Some(moved),
    )
    .await;
    scoring::scores::score_open(&app.db)
        .await
        .expect("score again");
    let left = scoring::scores::for_deal(&app.db, &app.user("x@example.com", "admin").await, id)
        .await
        .expect("read");
    assert_eq!(left, None, "a closed deal keeps no score");
}

#[actix_web::test]
async fn a_rep_seeing_only_their_own_records_gets_no_score_of_another_s_deal() {
    let app = TestApp::new().await;
    let w = crate::access::world(&app).await;
    crate::access::rule(&app, true).await;
    let rep1 = cairn::domain::Actor {
        id: w.rep1_id,
        name: "rep".into(),
        email: crate::access::REP1.into(),
        role: cairn::domain::Role::Rep,
        ip: None,
    };
    let err = scoring::scores::for_deal(&app.db, &rep1, w.quin.deal)
        .await
        .expect_err("another rep's deal");
    assert_eq!(err.code(), "not_found", "{err}");
    let own = scoring::scores::for_deal(&app.db, &rep1, w.zeb.deal).await;
    assert_eq!(own.expect("their own deal"), None, "not scored yet");
}

#[actix_web::test]
async fn only_a_trained_model_not_scoring_now_can_be_switched_in() {
    let app = TestApp::new().await;
    closed_deals(&app, 20, 29, false).await;
    let refused = scoring::train(&app.db, cairn::domain::scoring::Kind::Deal)
        .await
        .expect("a refused run");
    let err = scoring::activate(
        &app.db,
        None,
        cairn::domain::scoring::Kind::Deal,
        refused.version,
    )
    .await
    .expect_err("no model to switch in");
    assert!(err.to_string().contains("trained no model"), "{err}");
    closed_deals(&app, 300, 31, false).await;
    let active = scoring::train(&app.db, cairn::domain::scoring::Kind::Deal)
        .await
        .expect("a model");
    assert_eq!(active.status, "active", "{active:?}");
    let err = scoring::activate(
        &app.db,
        None,
        cairn::domain::scoring::Kind::Deal,
        active.version,
    )
    .await
    .expect_err("already scoring");
    assert!(err.to_string().contains("scores deals already"), "{err}");
}

#[actix_web::test]
async fn a_closed_deal_counts_its_contacts_payments_and_subscription_before_it_closed() {
    let app = TestApp::new().await;
    let owner = app.user("payer@example.com", "admin").await;
    let s = stages(&app).await;
    let closed = Utc::now() - Duration::days(5);
    let deal = plant(
        &app,
        Planted {
            pipeline: s.pipeline,
            stage: s.won,
            closed_from: Some((s.open, closed)),
            created: closed - Duration::days(30),
            owner: owner.id,
            source: "organic",
            custom: "{}",
        },
    )
    .await;
    let token = app.api_user("admin").await;
    let body = serde_json::json!({"first_name": "Paying", "last_name": "Customer"});
    let contact = app
        .client()
        .await
        .create("/api/v1/contacts", &token, body)
        .await;
    deal_contact::Entity::insert(deal_contact::ActiveModel {
        deal_id: sea_orm::Set(deal),
        contact_id: sea_orm::Set(contact),
    })
    .exec(&app.db.write)
    .await
    .expect("the deal's contact");
    for (n, at) in [closed - Duration::days(1), closed + Duration::days(1)]
        .into_iter()
        .enumerate()
    {
        billing_entry::Entity::insert(billing_entry::ActiveModel {
            contact_id: sea_orm::Set(Some(contact)),
            kind: sea_orm::Set("payment".into()),
            amount_minor: sea_orm::Set(4_900),
            currency: sea_orm::Set("USD".into()),
            occurred_at: sea_orm::Set(at),
            stripe_event_id: sea_orm::Set(format!("evt_paid_{n}")),
            created_at: sea_orm::Set(at),
            ..Default::default()
        })
        .exec(&app.db.write)
        .await
        .expect("a payment");
    }
    let changes = [
        (closed - Duration::days(2), "trialing"),
        (closed + Duration::days(2), "active"),
    ];
    for (n, (at, status)) in changes.into_iter().enumerate() {
        mrr_change::Entity::insert(mrr_change::ActiveModel {
            contact_id: sea_orm::Set(Some(contact)),
            subscription_id: sea_orm::Set("sub_1".into()),
            mrr_minor: sea_orm::Set(4_900),
            currency: sea_orm::Set(Some("USD".into())),
            status: sea_orm::Set(status.into()),
            effective_at: sea_orm::Set(at),
            stripe_event_id: sea_orm::Set(format!("evt_sub_{n}")),
            created_at: sea_orm::Set(at),
            ..Default::default()
        })
        .exec(&app.db.write)
        .await
        .expect("a subscription change");
    }
    let facts = facts::deals(&app.db, Utc::now(), facts::Which::Closed)
        .await
        .expect("facts");
    let f = facts
        .iter()
        .find(|f| f.id == deal)
        .expect("the closed deal");
    assert_eq!(
        f.payments, 1,
        "only the payment made before the close counts"
    );
    assert_eq!(
        f.subscription.as_deref(),
        Some("trialing"),
        "the subscription as it was before the close"
    );
}
