//! The audit log's filters and pages against the rows themselves: every combination of
//! who, what, which record and when returns exactly its rows, newest first, and walking
//! the pages either way meets every row once, with many rows sharing a time.
use chrono::{DateTime, Duration, SubsecRound, Utc};
use sea_orm::{EntityTrait, Set};

use cairn::entities::audit_log;

use crate::support::*;

/// (actor, action, entity, entity id) of the made-up rows; each time is shared by three.
const ROWS: &[(Option<usize>, &str, &str, i64)] = &[
    (Some(0), "create", "contact", 1),
    (Some(0), "update", "contact", 1),
    (Some(1), "update", "contact", 2),
    (Some(1), "sign_in", "user", 0),
    (None, "purge", "deal", 1),
    (Some(0), "update", "deal", 1),
    (Some(1), "create", "deal", 2),
    (Some(0), "sign_in", "user", 0),
    (Some(1), "update", "contact", 1),
    (None, "update", "contact", 2),
    (Some(0), "delete", "contact", 2),
    (Some(1), "update", "deal", 2),
    (Some(0), "update", "contact", 2),
    (Some(1), "create", "contact", 1),
    (None, "create", "deal", 1),
    (Some(0), "move", "deal", 1),
    (Some(1), "update", "deal", 1),
    (Some(0), "create", "contact", 2),
];

/// The time of row `i`: whole minutes back, three rows to a minute.
fn time_of(base: DateTime<Utc>, i: usize) -> DateTime<Utc> {
    base - Duration::minutes(60 - (i / 3) as i64)
}

/// An admin's token, and the made-up rows written by two reps and the system (besides
/// what making the users wrote); the time they count back from.
async fn log_with_ties(app: &TestApp) -> (String, [i64; 2], DateTime<Utc>) {
    let admin = app.api_user("admin").await;
    let reps = [
        app.user("rep1@x.test", "rep").await.id,
        app.user("rep2@x.test", "rep").await.id,
    ];
    let base = cairn::domain::now().trunc_subsecs(0);
    let rows = ROWS
        .iter()
        .enumerate()
        .map(|(i, (who, action, entity, id))| audit_log::ActiveModel {
            actor_id: Set(who.map(|w| reps[w])),
            action: Set(action.to_string()),
            entity: Set(entity.to_string()),
            entity_id: Set(*id),
            detail: Set(None),
            created_at: Set(time_of(base, i)),
            ip: Set(None),
            ..Default::default()
        });
    audit_log::Entity::insert_many(rows.collect::<Vec<_>>())
        .exec_without_returning(&app.db.write)
        .await
        .unwrap();
    (admin, reps, base)
}

/// Which rows a filter should return.
type Keep = Box<dyn Fn(&audit_log::Model) -> bool>;

/// Every row's id, newest first, among those `keep` keeps.
async fn expected(app: &TestApp, keep: impl Fn(&audit_log::Model) -> bool) -> Vec<i64> {
    let mut rows: Vec<audit_log::Model> = audit_log::Entity::find()
        .all(&app.db.read)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| keep(r))
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse((r.created_at, r.id)));
    rows.into_iter().map(|r| r.id).collect()
}

/// The ids on each page of `query`, `per_page` at a time, following `older` from the
/// first page to the last; and the last page's cursors.
async fn walk_older(
    c: &mut Client<impl TestService>,
    admin: &str,
    query: &str,
    per_page: usize,
) -> (Vec<Vec<i64>>, serde_json::Value) {
    let mut pages = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = c
            .get_json(
                &format!("/api/v1/audit?{query}&per_page={per_page}{cursor}"),
                admin,
            )
            .await;
        pages.push(ids(&page));
        assert!(pages.len() <= 100, "the pages never end: {query}");
        match page["older"].as_str() {
            Some(older) => cursor = format!("&before={older}"),
            None => return (pages, page),
        }
    }
}

fn ids(page: &serde_json::Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

#[actix_web::test]
async fn every_combination_of_filters_returns_exactly_its_rows_newest_first() {
    let app = TestApp::new().await;
    let (admin, [rep1, rep2], base) = log_with_ties(&app).await;
    let mut c = app.client().await;
    // The window [from, to) starts and ends inside groups of rows with the same time.
    let (from, to) = (time_of(base, 4), time_of(base, 13));
    let when = move |r: &audit_log::Model| r.created_at >= from && r.created_at < to;
    let span = format!(
        "from={}&to={}",
        urlencoding(&from.to_rfc3339()),
        urlencoding(&to.to_rfc3339())
    );
    let cases: Vec<(String, Keep)> = vec![
        ("".into(), Box::new(|_| true)),
        (
            format!("actor_id={rep1}"),
            Box::new(move |r| r.actor_id == Some(rep1)),
        ),
        ("action=update".into(), Box::new(|r| r.action == "update")),
        ("entity=deal".into(), Box::new(|r| r.entity == "deal")),
        (
            "entity=contact&entity_id=2".into(),
            Box::new(|r| r.entity == "contact" && r.entity_id == 2),
        ),
        (
            format!("actor_id={rep2}&action=update"),
            Box::new(move |r| r.actor_id == Some(rep2) && r.action == "update"),
        ),
        (
            format!("actor_id={rep1}&entity=contact"),
            Box::new(move |r| r.actor_id == Some(rep1) && r.entity == "contact"),
        ),
        (
            "action=create&entity=deal".into(),
            Box::new(|r| r.action == "create" && r.entity == "deal"),
        ),
        (
            format!("actor_id={rep1}&action=update&entity=deal"),
            Box::new(move |r| {
                r.actor_id == Some(rep1) && r.action == "update" && r.entity == "deal"
            }),
        ),
        (
            format!("actor_id={rep2}&action=update&entity=contact&entity_id=1"),
            Box::new(move |r| {
                r.actor_id == Some(rep2)
                    && r.action == "update"
                    && (r.entity.as_str(), r.entity_id) == ("contact", 1)
            }),
        ),
        ("action=sign_in&entity=contact".into(), Box::new(|_| false)),
        (span.clone(), Box::new(when)),
        (
            format!("{span}&action=update&entity=contact"),
            Box::new(move |r| when(r) && r.action == "update" && r.entity == "contact"),
        ),
        (
            format!("{span}&actor_id={rep2}&entity=deal&entity_id=2"),
            Box::new(move |r| {
                when(r)
                    && r.actor_id == Some(rep2)
                    && (r.entity.as_str(), r.entity_id) == ("deal", 2)
            }),
        ),
    ];
    for (query, keep) in cases {
        let want = expected(&app, keep).await;
        let page = c
            .get_json(&format!("/api/v1/audit?{query}&per_page=100"), &admin)
            .await;
        assert_eq!(
            ids(&page),
            want,
            "?{query} returns exactly its rows, newest first"
        );
    }
}

#[actix_web::test]
async fn pages_meet_every_row_once_either_way_when_rows_share_a_time() {
    let app = TestApp::new().await;
    let (admin, [rep1, _], _) = log_with_ties(&app).await;
    let mut c = app.client().await;
    for (query, per_page) in [
        (String::new(), 2),
        ("entity=contact".to_string(), 4),
        (format!("actor_id={rep1}&entity=deal"), 1),
    ] {
        let (pages, last) = walk_older(&mut c, &admin, &query, per_page).await;
        let all = c
            .get_json(&format!("/api/v1/audit?{query}&per_page=100"), &admin)
            .await;
        assert_eq!(
            pages.concat(),
            ids(&all),
            "?{query}: older pages, in order, once"
        );
        assert!(
            pages[..pages.len() - 1].iter().all(|p| p.len() == per_page),
            "?{query}: only the last page may be short: {pages:?}"
        );
        // Back from the last page by `newer`: the same pages, in reverse.
        let mut back = vec![ids(&last)];
        let mut page = last;
        while let Some(newer) = page["newer"].as_str() {
            page = c
                .get_json(
                    &format!("/api/v1/audit?{query}&per_page={per_page}&after={newer}"),
                    &admin,
                )
                .await;
            back.push(ids(&page));
            assert!(
                back.len() <= pages.len(),
                "?{query}: newer goes past the first page"
            );
        }
        back.reverse();
        assert_eq!(back, pages, "?{query}: newer pages retrace the older ones");
    }
}

/// `s` as a query string value.
fn urlencoding(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}
