//! The funnel's "interacted" reads each contact's first interaction, kept by triggers
//! (the `first_interaction` migration): every write that adds, removes, moves or
//! re-dates an interaction shows in the funnel at once, and a seeded year's funnel
//! matches a count made here, in Rust, from the activities and tasks themselves.
use std::collections::HashMap;

use actix_web::http::Method;
use cairn::domain::seed_year::{self, Year};
use cairn::entities::{activity, contact, deal, deal_stage_change, pipeline_stage, task};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::support::*;

/// The funnel's totals for the last `days` days: (created, interacted).
async fn totals(c: &mut Client<impl TestService>, token: &str, days: i64) -> (i64, i64) {
    let f = c
        .get_json(&format!("/api/v1/reports/funnel?days={days}"), token)
        .await;
    let t = &f["total"];
    (
        t["created"].as_i64().unwrap(),
        t["interacted"].as_i64().unwrap(),
    )
}

/// A note about contact `id`; its id.
async fn note(c: &mut Client<impl TestService>, token: &str, id: i64) -> i64 {
    let body = json!({"kind": "note", "body": "Spoke", "contact_id": id});
    c.add("activities", token, body).await
}

async fn patch(c: &mut Client<impl TestService>, token: &str, path: &str, body: Value) {
    c.api_ok(Method::PATCH, path, token, Some(body)).await;
}

async fn delete(c: &mut Client<impl TestService>, token: &str, path: &str) {
    c.api_ok(Method::DELETE, path, token, None).await;
}

#[actix_web::test]
async fn a_note_counts_at_once_and_its_deletion_uncounts_it() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let ana = c
        .add_contact(&token, "Ana", "Silva", "ana@example.com")
        .await;
    assert_eq!(
        totals(&mut c, &token, 7).await,
        (1, 0),
        "no interaction yet"
    );
    let n = note(&mut c, &token, ana).await;
    assert_eq!(totals(&mut c, &token, 7).await, (1, 1), "the note counts");
    delete(&mut c, &token, &format!("/api/v1/activities/{n}")).await;
    assert_eq!(
        totals(&mut c, &token, 7).await,
        (1, 0),
        "deleted, uncounted"
    );
}

#[actix_web::test]
async fn redating_the_first_note_before_the_contact_falls_back_to_the_next() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let ana = c
        .add_contact(&token, "Ana", "Silva", "ana@example.com")
        .await;
    let first = note(&mut c, &token, ana).await;
    let second = note(&mut c, &token, ana).await;
    let early = (Utc::now() - chrono::Duration::days(3)).to_rfc3339();
    let path = format!("/api/v1/activities/{first}");
    patch(
        &mut c,
        &token,
        &path,
        json!({"occurred_at": early, "version": 1}),
    )
    .await;
    assert_eq!(
        totals(&mut c, &token, 7).await,
        (1, 1),
        "the second still counts"
    );
    delete(&mut c, &token, &format!("/api/v1/activities/{second}")).await;
    assert_eq!(
        totals(&mut c, &token, 7).await,
        (1, 0),
        "a note from before the contact was created is no interaction"
    );
}

/// Deletes contact `id`'s activities (a completed task leaves a note on its timeline).
async fn drop_notes(app: &TestApp, c: &mut Client<impl TestService>, token: &str, id: i64) {
    let notes = activity::Entity::find()
        .filter(activity::Column::ContactId.eq(id))
        .all(&app.db.read)
        .await
        .unwrap();
    for n in notes {
        delete(c, token, &format!("/api/v1/activities/{}", n.id)).await;
    }
}

#[actix_web::test]
async fn a_task_done_counts_undone_or_deleted_it_does_not() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let ana = c
        .add_contact(&token, "Ana", "Silva", "ana@example.com")
        .await;
    let t = c
        .add_task(&token, json!({"title": "Call", "contact_id": ana}))
        .await;
    let path = format!("/api/v1/tasks/{t}");
    assert_eq!(
        totals(&mut c, &token, 7).await,
        (1, 0),
        "an open task is none"
    );
    patch(&mut c, &token, &path, json!({"done": true, "version": 1})).await;
    drop_notes(&app, &mut c, &token, ana).await;
    assert_eq!(
        totals(&mut c, &token, 7).await,
        (1, 1),
        "the done task counts"
    );
    patch(&mut c, &token, &path, json!({"done": false, "version": 2})).await;
    assert_eq!(totals(&mut c, &token, 7).await, (1, 0), "undone, uncounted");
    patch(&mut c, &token, &path, json!({"done": true, "version": 3})).await;
    drop_notes(&app, &mut c, &token, ana).await;
    assert_eq!(totals(&mut c, &token, 7).await, (1, 1), "done again");
    delete(&mut c, &token, &path).await;
    assert_eq!(
        totals(&mut c, &token, 7).await,
        (1, 0),
        "deleted, uncounted"
    );
}

#[actix_web::test]
async fn a_merge_moves_the_merged_contacts_interactions_to_the_kept_one() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let keep = c
        .add_contact(&token, "Ana", "Silva", "ana@example.com")
        .await;
    let lose = c.add_contact(&token, "Ana", "S.", "ana@new.example").await;
    note(&mut c, &token, lose).await;
    assert_eq!(totals(&mut c, &token, 7).await, (2, 1));
    let path = format!("/api/v1/contacts/{keep}/merge");
    c.api_ok(Method::POST, &path, &token, Some(json!({"merge_id": lose})))
        .await;
    assert_eq!(
        totals(&mut c, &token, 7).await,
        (1, 1),
        "the kept contact has the note now"
    );
}

#[actix_web::test]
async fn a_contact_created_after_its_only_note_has_no_interaction() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let ana = c
        .add_contact(&token, "Ana", "Silva", "ana@example.com")
        .await;
    note(&mut c, &token, ana).await;
    assert_eq!(totals(&mut c, &token, 7).await, (1, 1));
    // As an import keeping a contact's original time would: a raw write of the column.
    let later = Utc::now() + chrono::Duration::minutes(1);
    crate::reports_funnel::set_time(&app, "contacts", "created_at", ana, later).await;
    assert_eq!(totals(&mut c, &token, 7).await, (1, 0), "the note is older");
}

/// Per live contact, whether it has an activity or a done task at or after its creation:
/// counted here from the rows themselves. (created, interacted)
async fn counted(app: &TestApp) -> (i64, i64) {
    let contacts: Vec<contact::Model> = contact::Entity::find()
        .filter(contact::Column::DeletedAt.is_null())
        .all(&app.db.read)
        .await
        .unwrap();
    let mut times: HashMap<i64, Vec<DateTime<Utc>>> = HashMap::new();
    for a in activity::Entity::find().all(&app.db.read).await.unwrap() {
        if let Some(id) = a.contact_id {
            times.entry(id).or_default().push(a.occurred_at);
        }
    }
    for t in task::Entity::find().all(&app.db.read).await.unwrap() {
        if let (Some(id), true, Some(at)) = (t.contact_id, t.done, t.done_at) {
            times.entry(id).or_default().push(at);
        }
    }
    let interacted = contacts
        .iter()
        .filter(|c| {
            times
                .get(&c.id)
                .is_some_and(|ts| ts.iter().any(|t| *t >= c.created_at))
        })
        .count();
    (contacts.len() as i64, interacted as i64)
}

#[actix_web::test]
async fn a_seeded_year_matches_a_count_made_from_its_rows() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let made = seed_year::run(&app.db, &Year::for_contacts(1500), 4)
        .await
        .unwrap();
    let count = |what: &str| made.iter().find(|m| m.what == what).unwrap().count;
    assert_eq!(count("contacts"), 1500, "{made:?}");
    assert_eq!(count("activities"), 7500, "{made:?}");
    assert_eq!(count("deals"), 300, "{made:?}");
    assert_eq!(count("payments (invoice.paid applied)"), 150, "{made:?}");
    let (created, interacted) = counted(&app).await;
    assert!(
        interacted > 1000 && interacted < created,
        "{interacted} of {created}"
    );
    // The whole year falls in 400 days' weeks.
    assert_eq!(totals(&mut c, &token, 400).await, (created, interacted));
    let failed = app
        .count_where("stripe_events", " WHERE status <> 'processed'")
        .await;
    assert_eq!(failed, 0, "every seeded Stripe event applied");
}

#[actix_web::test]
async fn a_seeded_deal_is_where_its_last_stage_change_took_it() {
    let app = TestApp::new().await;
    app.api_client("admin").await;
    seed_year::run(&app.db, &Year::for_contacts(1000), 5)
        .await
        .unwrap();
    let kinds: HashMap<i64, String> = pipeline_stage::Entity::find()
        .all(&app.db.read)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.id, s.kind))
        .collect();
    let mut last: HashMap<i64, deal_stage_change::Model> = HashMap::new();
    let changes = deal_stage_change::Entity::find()
        .order_by_asc(deal_stage_change::Column::CreatedAt)
        .order_by_asc(deal_stage_change::Column::Id)
        .all(&app.db.read)
        .await
        .unwrap();
    let reopened = changes
        .iter()
        .filter(|c| c.from_stage_id.is_some_and(|f| kinds[&f] == "lost"))
        .count();
    assert!(reopened > 0, "some lost deals are reopened");
    for ch in changes {
        last.insert(ch.deal_id, ch);
    }
    let deals = deal::Entity::find().all(&app.db.read).await.unwrap();
    assert_eq!(deals.len(), 200);
    for d in deals {
        let ch = &last[&d.id];
        assert_eq!(
            ch.to_stage_id, d.stage_id,
            "deal {} ends in its last move's stage",
            d.id
        );
        let closed = kinds[&d.stage_id] != "open";
        assert_eq!(
            d.closed_at,
            closed.then_some(ch.created_at),
            "deal {}",
            d.id
        );
        assert!(
            ch.created_at >= d.created_at,
            "deal {} moved after its creation",
            d.id
        );
    }
}
