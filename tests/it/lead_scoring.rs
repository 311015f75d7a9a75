//! The lead score (issue 17): trained on monthly snapshots of contacts drawn from a known
//! rule, it recovers the rule's weighted features, learns nothing from after a win,
//! refuses too few outcomes, scores every lead (and no contact with a won deal) with an
//! explanation that sums to its score, shows on the contact page, list and API, and
//! follows a change within seconds.
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, Utc};
use sea_orm::{EntityTrait, QueryFilter};

use cairn::domain::scoring::{self, Kind, leads, model::Model};
use cairn::entities::{activity, billing_entry, contact, contact_score, deal_contact, mrr_change};

use crate::scoring::{Draws, Planted, Stages, plant, stages};
use crate::support::*;

/// The hidden rule: the log-odds that a lead gets a won deal (about a month after it is
/// added).
fn true_log_odds(source: &str, calls: i64) -> f64 {
    let s = match source {
        "referral" => 1.5,
        "paid" => -1.0,
        _ => 0.0,
    };
    -1.5 + s + 0.8 * calls as f64
}

/// `n` contacts added over the year before the last 100 days, each with its calls
/// logged in its first days, and a deal won with the hidden rule's probability (else,
/// for some, a deal lost); `note_after_win` logs a note on the contact an hour after
/// each win. Answers each contact's id and whether it won.
async fn leads_drawn(app: &TestApp, n: usize, seed: u64, note_after_win: bool) -> Vec<(i64, bool)> {
    let owner = app.user(&format!("leads{seed}@example.com"), "admin").await;
    let Stages {
        pipeline,
        open,
        won: won_stage,
        lost: lost_stage,
    } = stages(app).await;
    let now = Utc::now();
    let mut draws = Draws(seed);
    let mut out = Vec::new();
    for i in 0..n {
        let created = now - Duration::days(450) + Duration::hours((i * 350 * 24 / n) as i64);
        let source = ["referral", "organic", "paid"][(draws.next() * 3.0) as usize];
        let calls = (draws.next() * 4.0) as i64;
        let p = 1.0 / (1.0 + (-true_log_odds(source, calls)).exp());
        let won = draws.next() < p;
        let lost = !won && draws.next() < 0.5;
        let id = contact::Entity::insert(contact::ActiveModel {
            first_name: sea_orm::Set("Lead".into()),
            last_name: sea_orm::Set(format!("{seed}-{i}")),
            source: sea_orm::Set(source.into()),
            owner_id: sea_orm::Set(owner.id),
            custom: sea_orm::Set("{}".into()),
            created_at: sea_orm::Set(created),
            updated_at: sea_orm::Set(created),
            ..Default::default()
        })
        .exec(&app.db.write)
        .await
        .expect("a contact")
        .last_insert_id;
        for c in 0..calls {
            log(app, id, "call", created + Duration::days(c + 1), owner.id).await;
        }
        if won || lost {
            let closed = created + Duration::days(10 + (draws.next() * 40.0) as i64);
            let stage = if won { won_stage } else { lost_stage };
            let deal = plant(
                app,
                Planted {
                    pipeline,
                    stage,
                    closed_from: Some((open, closed)),
                    created: created + Duration::days(3),
                    owner: owner.id,
                    source,
                    custom: "{}",
                },
            )
            .await;
            deal_contact::Entity::insert(deal_contact::ActiveModel {
                deal_id: sea_orm::Set(deal),
                contact_id: sea_orm::Set(id),
            })
            .exec(&app.db.write)
            .await
            .expect("the deal's contact");
            if won && note_after_win {
                log(app, id, "note", closed + Duration::hours(1), owner.id).await;
            }
        }
        out.push((id, won));
    }
    out
}

async fn log(app: &TestApp, contact: i64, kind: &str, at: chrono::DateTime<Utc>, author: i64) {
    activity::Entity::insert(activity::ActiveModel {
        kind: sea_orm::Set(kind.into()),
        body: sea_orm::Set(String::new()),
        occurred_at: sea_orm::Set(at),
        contact_id: sea_orm::Set(Some(contact)),
        author_id: sea_orm::Set(Some(author)),
        created_at: sea_orm::Set(at),
        version: sea_orm::Set(1),
        ..Default::default()
    })
    .exec(&app.db.write)
    .await
    .expect("an activity");
}

/// A lead model trained on drawn contacts, scoring now.
async fn trained(app: &TestApp, seed: u64, note_after_win: bool) -> (Vec<(i64, bool)>, Model) {
    let drawn = leads_drawn(app, 600, seed, note_after_win).await;
    let run = scoring::train(&app.db, Kind::Lead).await.expect("train");
    assert_eq!(
        run.status, "active",
        "the first lead model beats the base rate: {run:?}"
    );
    let (_, model) = scoring::train::active(&app.db, Kind::Lead)
        .await
        .expect("read the model")
        .expect("a lead model scores");
    (drawn, model)
}

fn weight(m: &Model, label: &str) -> f64 {
    m.columns
        .iter()
        .zip(&m.weights)
        .find(|(c, _)| c.label() == label)
        .map(|(_, w)| *w)
        .unwrap_or_else(|| panic!("no column {label:?} in {:?}", m.columns))
}

#[actix_web::test]
async fn training_on_snapshots_recovers_the_hidden_rule_s_features() {
    let app = TestApp::new().await;
    let (_, model) = trained(&app, 11, false).await;
    let runs = scoring::runs(&app.db, Kind::Lead).await.expect("runs");
    let m = runs[0].metrics.as_ref().expect("hold-out metrics");
    assert!(
        m.model.auc > 0.7,
        "hold-out AUC {} should show the rule",
        m.model.auc
    );
    assert!(
        (m.stage.auc - 0.5).abs() < 1e-9,
        "the base rate ranks nothing: {}",
        m.stage.auc
    );
    assert!(weight(&model, "Source: referral") > weight(&model, "Source: organic"));
    assert!(weight(&model, "Source: paid") < weight(&model, "Source: organic"));
    assert!(
        weight(&model, "Activities: call") > 0.0,
        "calls raise the chance: {model:?}"
    );
}

#[actix_web::test]
async fn nothing_logged_after_a_win_is_learned_from() {
    let app = TestApp::new().await;
    let (_, model) = trained(&app, 12, true).await;
    assert!(
        !model
            .columns
            .iter()
            .any(|c| c.label() == "Activities: note"),
        "a note logged only after each win must not be a feature: {:?}",
        model.columns
    );
}

#[actix_web::test]
async fn too_few_leads_that_won_refuse_training_and_say_why() {
    let app = TestApp::new().await;
    leads_drawn(&app, 20, 13, false).await;
    let run = scoring::train(&app.db, Kind::Lead)
        .await
        .expect("a refused run");
    assert_eq!(run.status, "refused", "{run:?}");
    let why = run.message.unwrap_or_default();
    assert!(why.contains("lead score needs at least 30"), "{why}");
    assert!(
        scoring::train::active(&app.db, Kind::Lead)
            .await
            .expect("read")
            .is_none(),
        "no lead model scores"
    );
}

#[actix_web::test]
async fn every_lead_is_scored_and_its_factors_sum_to_its_score() {
    let app = TestApp::new().await;
    let (drawn, model) = trained(&app, 14, false).await;
    let scored = scoring::lead_scores::score_all(&app.db)
        .await
        .expect("score");
    let won: Vec<i64> = drawn
        .iter()
        .filter(|(_, w)| *w)
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(
        scored,
        drawn.len() - won.len(),
        "every contact without a won deal"
    );
    let mut reader = leads::now_reader(Utc::now(), None, Vec::new());
    while let Some(chunk) = reader.next(&app.db).await.expect("read leads") {
        for f in chunk {
            let sum = model.intercept + model.factors(&f).iter().map(|x| x.log_odds).sum::<f64>();
            assert!(
                (sum - model.log_odds(&f)).abs() < 1e-9,
                "contact {}'s factors",
                f.id
            );
            let row = contact_score::Entity::find_by_id(f.id)
                .one(&app.db.read)
                .await
                .expect("read")
                .unwrap_or_else(|| panic!("lead {} has no score", f.id));
            assert!(
                (row.probability - model.probability(&f)).abs() < 1e-6,
                "contact {}: stored {} vs its facts' {}",
                f.id,
                row.probability,
                model.probability(&f)
            );
        }
    }
    let with_won = contact_score::Entity::find_by_id(won[0])
        .one(&app.db.read)
        .await
        .expect("read");
    assert!(
        with_won.is_none(),
        "a contact with a won deal is no lead: {with_won:?}"
    );
}

/// A scored lead of the drawn ones (without a won deal).
async fn a_scored_lead(app: &TestApp) -> i64 {
    let (drawn, _) = trained(app, 15, false).await;
    scoring::lead_scores::score_all(&app.db)
        .await
        .expect("score");
    drawn.iter().find(|(_, w)| !*w).expect("a lead").0
}

#[actix_web::test]
async fn the_api_gives_a_contact_s_score_and_its_factors() {
    let app = TestApp::new().await;
    let id = a_scored_lead(&app).await;
    let token = app.api_user("admin").await;
    let body = app
        .client()
        .await
        .get_json(&format!("/api/v1/contacts/{id}"), &token)
        .await;
    let score = body["score"]
        .as_i64()
        .unwrap_or_else(|| panic!("no score: {body}"));
    assert!((0..=100).contains(&score), "{body}");
    let factors = &body["score_factors"];
    assert!(
        factors["up"].is_array() && factors["down"].is_array(),
        "score_factors has up and down: {body}"
    );
}

#[actix_web::test]
async fn the_contact_page_and_list_show_the_lead_score() {
    let app = TestApp::new().await;
    let id = a_scored_lead(&app).await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let page = c.get(&format!("/contacts/{id}")).await.text();
    assert!(
        page.contains("Lead score"),
        "the contact page shows it: {page}"
    );
    assert!(
        page.contains("chance of a won deal within 90 days"),
        "{page}"
    );
    let list = c.get("/contacts").await.text();
    assert!(
        list.contains("<th class=\"num\" title=\"Lead score"),
        "the list has the column"
    );
}

#[actix_web::test]
async fn a_call_logged_on_a_lead_rescores_it_within_seconds() {
    let app = TestApp::new().await;
    let id = a_scored_lead(&app).await;
    let before = contact_score::Entity::find_by_id(id)
        .one(&app.db.read)
        .await
        .expect("read")
        .expect("scored");
    let token = app.api_user("admin").await;
    let running = crate::scoring_changes::runner(&app);
    let body = serde_json::json!({"kind": "call", "body": "Keen", "contact_id": id});
    app.client()
        .await
        .create("/api/v1/activities", &token, body)
        .await;
    let deadline = Instant::now() + StdDuration::from_secs(20);
    loop {
        let now = contact_score::Entity::find_by_id(id)
            .one(&app.db.read)
            .await
            .expect("read")
            .expect("still scored");
        if now.scored_at > before.scored_at {
            assert_ne!(
                now.probability, before.probability,
                "a call moves the score"
            );
            break;
        }
        assert!(Instant::now() < deadline, "contact {id} was never rescored");
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn the_horizon_is_set_on_the_settings_page_and_checked() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let page = c.get("/settings/scoring").await.text();
    assert!(page.contains("Lead score"), "{page}");
    let res = c
        .post_form("/settings/scoring/horizon", &[("horizon_days", "0")])
        .await;
    assert_eq!(res.status, 422, "a horizon of 0 days is refused");
    let res = c
        .post_form("/settings/scoring/horizon", &[("horizon_days", "60")])
        .await;
    assert_eq!(res.status, 303, "a horizon of 60 days is saved");
    assert_eq!(leads::horizon_days(&app.db.read).await.expect("read"), 60);
}

#[actix_web::test]
async fn the_contact_list_keeps_the_leads_scored_at_least_the_minimum() {
    let app = TestApp::new().await;
    a_scored_lead(&app).await;
    let token = app.api_user("admin").await;
    let mut api = app.client().await;
    let all = api.get_json("/api/v1/contacts?per_page=100", &token).await;
    let scores: Vec<i64> = all["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|c| c["score"].as_i64())
        .collect();
    let first = &all["items"][0];
    assert!(
        first["score_factors"].is_null(),
        "a list carries scores, not their explanations: {first}"
    );
    let min = *scores.iter().max().expect("scored leads on the first page");
    let kept = api
        .get_json(
            &format!("/api/v1/contacts?per_page=100&min_score={min}"),
            &token,
        )
        .await;
    let items = kept["items"].as_array().expect("items");
    assert!(
        !items.is_empty(),
        "the best lead of the first page is kept at {min}"
    );
    for c in items {
        let s = c["score"]
            .as_i64()
            .unwrap_or_else(|| panic!("an unscored contact kept: {c}"));
        assert!(s >= min, "a lead scored {s} kept at a minimum of {min}");
    }
    assert!(
        kept["total"].as_i64() < all["total"].as_i64(),
        "some are left out: {} of {}",
        kept["total"],
        all["total"]
    );
}

#[actix_web::test]
async fn a_minimum_lead_score_outside_0_to_100_is_refused() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    let mut api = app.client().await;
    let path = "/api/v1/contacts?min_score=101";
    let res = api
        .api(actix_web::http::Method::GET, path, &token, None)
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(
        res.json()["error"]["fields"]["min_score"].is_string(),
        "{}",
        res.text()
    );
}

#[actix_web::test]
async fn the_models_api_lists_the_lead_runs_beside_the_deal_runs() {
    let app = TestApp::new().await;
    trained(&app, 16, false).await;
    let token = app.api_user("rep").await;
    let runs = app
        .client()
        .await
        .get_json("/api/v1/scoring/models", &token)
        .await;
    let lead = runs
        .as_array()
        .expect("a list of runs")
        .iter()
        .find(|r| r["kind"] == "lead")
        .unwrap_or_else(|| panic!("no lead run: {runs}"));
    assert_eq!(lead["status"], "active", "{lead}");
    assert!(lead["metrics"]["model"]["auc"].is_number(), "{lead}");
}

#[actix_web::test]
async fn an_earlier_lead_model_is_switched_back_in_from_the_settings_page() {
    let app = TestApp::new().await;
    trained(&app, 17, false).await;
    scoring::train(&app.db, Kind::Lead)
        .await
        .expect("a second run");
    let runs = scoring::runs(&app.db, Kind::Lead).await.expect("runs");
    let back = runs
        .iter()
        .find(|r| r.can_switch_in())
        .expect("a run not scoring now");
    let mut c = app.signed_in("admin@example.com", "admin").await;
    c.get("/settings/scoring").await;
    let path = format!("/settings/scoring/lead/{}/activate", back.version);
    let res = c.post_form(&path, &[]).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let (now, _) = scoring::train::active(&app.db, Kind::Lead)
        .await
        .expect("read")
        .expect("a lead model");
    assert_eq!(now, back.version, "the chosen run scores leads now");
    let (deal, _) = (
        scoring::train::active(&app.db, Kind::Deal)
            .await
            .expect("read"),
        (),
    );
    assert!(deal.is_none(), "no deal model was switched in by it");
}

#[actix_web::test]
async fn a_lead_s_payments_and_subscription_count_as_of_the_moment_scored() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    let body = serde_json::json!({"first_name": "Paying", "last_name": "Lead"});
    let id = app
        .client()
        .await
        .create("/api/v1/contacts", &token, body)
        .await;
    // Stripe's clock a little ahead: the contact is a lead before and after.
    let paid = Utc::now() + Duration::hours(1);
    billing_entry::Entity::insert(billing_entry::ActiveModel {
        contact_id: sea_orm::Set(Some(id)),
        kind: sea_orm::Set("payment".into()),
        amount_minor: sea_orm::Set(4_900),
        currency: sea_orm::Set("USD".into()),
        occurred_at: sea_orm::Set(paid),
        stripe_event_id: sea_orm::Set("evt_lead_paid".into()),
        created_at: sea_orm::Set(paid),
        ..Default::default()
    })
    .exec(&app.db.write)
    .await
    .expect("a payment");
    mrr_change::Entity::insert(mrr_change::ActiveModel {
        contact_id: sea_orm::Set(Some(id)),
        subscription_id: sea_orm::Set("sub_lead".into()),
        mrr_minor: sea_orm::Set(4_900),
        currency: sea_orm::Set(Some("USD".into())),
        status: sea_orm::Set("active".into()),
        effective_at: sea_orm::Set(paid),
        stripe_event_id: sea_orm::Set("evt_lead_sub".into()),
        created_at: sea_orm::Set(paid),
        ..Default::default()
    })
    .exec(&app.db.write)
    .await
    .expect("a subscription");
    let before = lead_at(&app, id, Utc::now()).await;
    assert_eq!(
        (before.payments, before.subscription),
        (0, None),
        "before paying"
    );
    let after = lead_at(&app, id, paid + Duration::hours(1)).await;
    assert_eq!(after.payments, 1, "the payment counts once made");
    assert_eq!(after.subscription.as_deref(), Some("active"));
}

/// Contact `id` as the lead score sees it at `moment`.
async fn lead_at(app: &TestApp, id: i64, moment: chrono::DateTime<Utc>) -> leads::LeadFacts {
    let mut reader = leads::now_reader(moment, Some(vec![id]), Vec::new());
    let facts = reader.next(&app.db).await.expect("read").expect("a chunk");
    facts.into_iter().next().expect("the contact is a lead")
}

/// Stores `probability` as contact `id`'s score, written an hour from now (as a change's
/// rescoring newer than a full run would be).
async fn plant_score(app: &TestApp, id: i64, probability: f64) {
    contact_score::Entity::insert(contact_score::ActiveModel {
        id: sea_orm::Set(id),
        model_version: sea_orm::Set(1),
        probability: sea_orm::Set(probability),
        factors: sea_orm::Set(r#"{"up":[],"down":[]}"#.into()),
        scored_at: sea_orm::Set(Utc::now() + Duration::hours(1)),
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::column(contact_score::Column::Id)
            .update_columns([
                contact_score::Column::Probability,
                contact_score::Column::ScoredAt,
            ])
            .to_owned(),
    )
    .exec(&app.db.write)
    .await
    .expect("a planted score");
}

#[actix_web::test]
async fn a_full_run_drops_any_score_of_a_contact_with_a_won_deal_and_keeps_newer_ones() {
    let app = TestApp::new().await;
    let (drawn, _) = trained(&app, 18, false).await;
    let won = drawn.iter().find(|(_, w)| *w).expect("a winner").0;
    let lead = drawn.iter().find(|(_, w)| !*w).expect("a lead").0;
    plant_score(&app, won, 0.5).await;
    plant_score(&app, lead, 0.123).await;
    scoring::lead_scores::score_all(&app.db)
        .await
        .expect("score");
    let read = |id| contact_score::Entity::find_by_id(id).one(&app.db.read);
    assert!(
        read(won).await.expect("read").is_none(),
        "a contact with a won deal keeps no score, however new"
    );
    let kept = read(lead).await.expect("read").expect("the lead's score");
    assert_eq!(
        kept.probability, 0.123,
        "a newer score is not overwritten by an older run"
    );
}

#[actix_web::test]
async fn a_new_horizon_is_trained_against_the_base_rate_and_shown_once_it_scores() {
    let app = TestApp::new().await;
    let id = a_scored_lead(&app).await;
    let admin = app.user("horizon@example.com", "admin").await;
    leads::set_horizon(&app.db, &admin, "60")
        .await
        .expect("set");
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let page = c.get(&format!("/contacts/{id}")).await.text();
    assert!(
        page.contains("within 90 days"),
        "the scores are still the 90-day model's"
    );
    let run = scoring::train(&app.db, Kind::Lead)
        .await
        .expect("train at 60 days");
    let m = run.metrics.as_ref().expect("metrics");
    assert!(
        m.current.is_none(),
        "a 90-day model is no bar for a 60-day one: {run:?}"
    );
    assert_eq!(run.status, "active", "{run:?}");
    let (_, model) = scoring::train::active(&app.db, Kind::Lead)
        .await
        .expect("read")
        .expect("a lead model");
    assert_eq!(model.horizon_days, Some(60));
    let page = c.get(&format!("/contacts/{id}")).await.text();
    assert!(
        page.contains("within 60 days"),
        "the 60-day model's horizon"
    );
}

#[actix_web::test]
async fn a_bulk_owner_change_of_contacts_queues_every_lead_to_be_scored_again() {
    let app = TestApp::new().await;
    let id = a_scored_lead(&app).await;
    let token = app.api_user("admin").await;
    let other = app.user("new-owner@example.com", "rep").await;
    let queued = "jobs WHERE kind = 'scoring.score' AND payload LIKE '%lead%'";
    assert_eq!(
        app.count_where(queued, "").await,
        0,
        "nothing queued before"
    );
    let body = serde_json::json!({"action": "change_owner", "owner_id": other.id, "ids": [id]});
    let mut c = app.client().await;
    let res = c
        .api(
            actix_web::http::Method::POST,
            "/api/v1/contacts/bulk",
            &token,
            Some(body),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        app.count_where(queued, "").await,
        1,
        "the leads' rescoring is queued"
    );
}

#[actix_web::test]
async fn a_contact_custom_field_marked_for_the_lead_score_is_learned_from() {
    let app = TestApp::new().await;
    let drawn = leads_drawn(&app, 600, 19, false).await;
    let admin = app.user("fields@example.com", "admin").await;
    let options = ["gold".to_string(), "basic".to_string()];
    let tier = cairn::domain::custom_fields::create(
        &app.db, &admin, "contact", "Tier", "select", &options, false,
    )
    .await
    .expect("define the field");
    // Four in five winners are gold, four in five of the rest basic.
    let mut draws = Draws(19);
    for (id, won) in &drawn {
        let gold = (draws.next() < 0.8) == *won;
        let value = if gold { "gold" } else { "basic" };
        contact::Entity::update_many()
            .col_expr(
                contact::Column::Custom,
                sea_orm::sea_query::Expr::value(format!("{{\"{}\": \"{value}\"}}", tier.key)),
            )
            .filter(sea_orm::ColumnTrait::eq(&contact::Column::Id, *id))
            .exec(&app.db.write)
            .await
            .expect("set the tier");
    }
    scoring::features::set(&app.db, &admin, Kind::Lead, &[tier.id])
        .await
        .expect("mark the field");
    let run = scoring::train(&app.db, Kind::Lead).await.expect("train");
    assert_eq!(run.status, "active", "{run:?}");
    let (_, model) = scoring::train::active(&app.db, Kind::Lead)
        .await
        .expect("read")
        .expect("a lead model");
    assert!(
        weight(&model, "Tier: gold") > weight(&model, "Tier: basic"),
        "gold leads win more: {:?}",
        model.columns
    );
}

#[actix_web::test]
async fn the_settings_page_marks_contact_fields_for_the_lead_score() {
    let app = TestApp::new().await;
    let admin = app.user("marker@example.com", "admin").await;
    let tier = cairn::domain::custom_fields::create(
        &app.db,
        &admin,
        "contact",
        "Tier",
        "select",
        &["gold".to_string()],
        false,
    )
    .await
    .expect("define the field");
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let page = c.get("/settings/scoring").await.text();
    assert!(
        page.contains("Contact custom fields it learns from"),
        "{page}"
    );
    let id = tier.id.to_string();
    let res = c
        .post_form(
            "/settings/scoring/features",
            &[("kind", "lead"), ("field", id.as_str())],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let chosen = scoring::features::chosen(&app.db, Kind::Lead)
        .await
        .expect("read");
    assert_eq!(
        chosen.iter().map(|f| f.id).collect::<Vec<_>>(),
        vec![tier.id]
    );
    let deal = scoring::features::chosen(&app.db, Kind::Deal)
        .await
        .expect("read");
    assert!(
        deal.is_empty(),
        "the deal score's fields are apart: {deal:?}"
    );
    let res = c
        .post_form(
            "/settings/scoring/features",
            &[("kind", "deal"), ("field", id.as_str())],
        )
        .await;
    assert_eq!(
        res.status,
        422,
        "a contact field is no deal field: {}",
        res.text()
    );
}

#[actix_web::test]
async fn cairn_score_lead_scores_one_contact_and_says_how_long_it_took() {
    let app = TestApp::new().await;
    let id = a_scored_lead(&app).await;
    let out = crate::cli::stdout_of(&app.url, &["score", "lead", &id.to_string()]);
    let stored = contact_score::Entity::find_by_id(id)
        .one(&app.db.read)
        .await
        .expect("read")
        .expect("the contact is scored");
    let percent = (stored.probability * 100.0).round() as i64;
    assert!(
        out.starts_with(&format!("contact {id}: {percent}% (model 1;")),
        "{out}"
    );
    assert!(out.contains(" ms, scored and stored in "), "{out}");
}
