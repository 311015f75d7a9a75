//! Custom fields as features of the deal score (issue 17): a deal custom field an admin
//! marks is learned from, one not marked is not, one deleted after training scores as
//! missing (never an error or NaN), and a kind a model cannot learn from is refused.
use chrono::{Duration, TimeZone, Utc};
use sea_orm::{EntityTrait, QueryOrder};

use cairn::domain::custom_fields::{self, Field};
use cairn::domain::scoring::{self, features, model::Model};
use cairn::domain::{Actor, users};
use cairn::entities::{pipeline_stage, scoring_model};

use crate::scoring::{Draws, Planted, plant};
use crate::support::*;

async fn admin(app: &TestApp) -> Actor {
    app.api_user("admin").await;
    let admin = users::find_by_email(&app.db.read, "admin-api@example.com")
        .await
        .expect("read")
        .expect("the admin");
    Actor::from(&admin)
}

/// A deal custom field `label` of `kind`.
async fn field(app: &TestApp, admin: &Actor, label: &str, kind: &str) -> Field {
    custom_fields::create(&app.db, admin, "deal", label, kind, &[], false)
        .await
        .expect("define the field")
}

/// 300 closed deals whose outcome only the custom number `seats` (0 to 5) decides, one
/// open deal with 4 seats; the open deal's id.
/// Marks `field` as a feature of the deal score, as Settings → Scoring does.
async fn mark(app: &TestApp, admin: &Actor, field: &Field) {
    features::set(&app.db, admin, scoring::Kind::Deal, &[field.id])
        .await
        .expect("mark");
}

async fn deals_decided_by_seats(app: &TestApp, admin: &Actor) -> i64 {
    let stages = pipeline_stage::Entity::find()
        .order_by_asc(pipeline_stage::Column::Position)
        .all(&app.db.read)
        .await
        .expect("stages");
    let of = |kind: &str| stages.iter().find(|s| s.kind == kind).expect("a stage").id;
    let (open, won, lost) = (of("open"), of("won"), of("lost"));
    let start = Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap();
    let mut draws = Draws(71);
    for i in 0..=300 {
        let seats = (draws.next() * 6.0) as i64;
        let p = 1.0 / (1.0 + (2.5 - 1.0 * seats as f64).exp());
        let closed = start + Duration::hours(i);
        let stage = match i {
            300 => open,
            _ if draws.next() < p => won,
            _ => lost,
        };
        let seats = if i == 300 { 4 } else { seats };
        let custom = format!("{{\"seats\": {seats}}}");
        let planted = Planted {
            pipeline: stages[0].pipeline_id,
            stage,
            closed_from: (stage != open).then_some((open, closed)),
            created: closed - Duration::days(20),
            owner: admin.id,
            source: "organic",
            custom: &custom,
        };
        let id = plant(app, planted).await;
        if stage == open {
            return id;
        }
    }
    unreachable!("the last deal is the open one")
}

/// The labels of the newest run's model's columns, heaviest first.
async fn labels(app: &TestApp) -> Vec<String> {
    let row = scoring_model::Entity::find()
        .order_by_desc(scoring_model::Column::Version)
        .one(&app.db.read)
        .await
        .expect("read")
        .expect("a run");
    let model: Model = serde_json::from_str(&row.model).expect("a trained model");
    let mut cols: Vec<(String, f64)> = model
        .columns
        .iter()
        .zip(&model.weights)
        .map(|(c, w)| (c.label().to_string(), *w))
        .collect();
    cols.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    cols.into_iter().map(|(l, _)| l).collect()
}

#[actix_web::test]
async fn a_custom_field_marked_as_a_feature_is_learned_from() {
    let app = TestApp::new().await;
    let admin = admin(&app).await;
    let seats = field(&app, &admin, "Seats", "number").await;
    deals_decided_by_seats(&app, &admin).await;
    mark(&app, &admin, &seats).await;
    let run = scoring::train(&app.db, cairn::domain::scoring::Kind::Deal)
        .await
        .expect("train");
    assert_eq!(run.status, "active", "{run:?}");
    let auc = run.metrics.expect("metrics").model.auc;
    assert!(auc > 0.75, "hold-out AUC {auc}");
    assert_eq!(labels(&app).await[0], "Seats", "the heaviest column");
}

#[actix_web::test]
async fn a_custom_field_not_marked_is_not_learned_from() {
    let app = TestApp::new().await;
    let admin = admin(&app).await;
    field(&app, &admin, "Seats", "number").await;
    deals_decided_by_seats(&app, &admin).await;
    scoring::train(&app.db, cairn::domain::scoring::Kind::Deal)
        .await
        .expect("train");
    let found = labels(&app).await;
    assert!(!found.iter().any(|l| l.contains("Seats")), "{found:?}");
}

#[actix_web::test]
async fn a_marked_field_deleted_after_training_scores_as_missing() {
    let app = TestApp::new().await;
    let admin = admin(&app).await;
    let seats = field(&app, &admin, "Seats", "number").await;
    let open = deals_decided_by_seats(&app, &admin).await;
    mark(&app, &admin, &seats).await;
    scoring::train(&app.db, cairn::domain::scoring::Kind::Deal)
        .await
        .expect("train");
    custom_fields::delete(&app.db, &admin, seats.id)
        .await
        .expect("delete the field");
    let scored = scoring::scores::score_open(&app.db).await.expect("score");
    assert_eq!(scored, 1, "the open deal is scored");
    let stored = cairn::entities::deal_score::Entity::find_by_id(open)
        .one(&app.db.read)
        .await
        .expect("read")
        .expect("a score");
    let p = stored.probability;
    assert!(p.is_finite() && p > 0.0 && p < 1.0, "{stored:?}");
    let (_, model) = scoring::train::active(&app.db, cairn::domain::scoring::Kind::Deal)
        .await
        .unwrap()
        .unwrap();
    let seats = model
        .columns
        .iter()
        .position(|c| c.label() == "Seats")
        .expect("Seats");
    let mut columns = model.columns.clone();
    columns.remove(seats);
    let mut weights = model.weights.clone();
    weights.remove(seats);
    let without = Model {
        columns,
        weights,
        ..model
    };
    let facts = scoring::facts::open(&app.db, Utc::now(), &[])
        .await
        .expect("facts");
    let expected = without.probability(&facts[0]);
    assert!(
        (p - expected).abs() < 1e-9,
        "scored {p}, as missing {expected}"
    );
}

#[actix_web::test]
async fn a_field_of_a_kind_no_model_learns_from_is_refused() {
    let app = TestApp::new().await;
    let admin = admin(&app).await;
    let date = field(&app, &admin, "Signed on", "date").await;
    let err = features::set(
        &app.db,
        &admin,
        cairn::domain::scoring::Kind::Deal,
        &[date.id],
    )
    .await
    .expect_err("a date field");
    assert_eq!(err.code(), "validation_failed", "{err}");
    assert!(err.to_string().contains("Signed on"), "{err}");
    let err = features::set(
        &app.db,
        &admin,
        cairn::domain::scoring::Kind::Deal,
        &[999_999],
    )
    .await
    .expect_err("no such field");
    assert!(err.to_string().contains("999999"), "{err}");
}

#[actix_web::test]
async fn the_settings_page_marks_the_fields_ticked() {
    let app = TestApp::new().await;
    let admin = admin(&app).await;
    let seats = field(&app, &admin, "Seats", "number").await;
    field(&app, &admin, "Tier", "text").await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let before = c.get("/settings/scoring").await.text();
    assert!(
        before.contains("Tier"),
        "the text field is offered: {before}"
    );
    let id = seats.id.to_string();
    let res = c
        .post_form("/settings/scoring/features", &[("field", id.as_str())])
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let chosen = features::chosen(&app.db, cairn::domain::scoring::Kind::Deal)
        .await
        .expect("read");
    assert_eq!(
        chosen.iter().map(|f| f.id).collect::<Vec<_>>(),
        vec![seats.id]
    );
    let page = c.get("/settings/scoring").await.text();
    let ticked = format!("value=\"{}\" checked", seats.id);
    assert!(page.contains(&ticked), "Seats shows ticked: {page}");
}
