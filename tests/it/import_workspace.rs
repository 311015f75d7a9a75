//! A Cairn export's workspace.json uploaded with its files: the custom fields,
//! pipelines, stages and tags Cairn lacks are made before the rows (listed only by a
//! dry run), a field of another kind under the same key stops the import, and undo
//! removes what it made.
use cairn::domain::Actor;
use cairn::domain::import::apply::{Options, Outcome, Report, job, store, undo};
use cairn::domain::import::{FileSpec, ObjectKind, OnMatch, System, Target};
use cairn::domain::{contacts, custom_fields, deals};
use cairn::error::AppError;
use serde_json::json;

use crate::import_given::*;
use crate::support::TestApp;

/// What the export wrote for a workspace with a `tier` select on contacts, a Partners
/// pipeline, a Legal stage in Sales, and a `vip` tag.
fn workspace_json() -> store::Upload {
    let ws = json!({
        "format_version": 1,
        "exported_at": "2026-12-03T15:36:53Z",
        "cairn_version": "0.1.0",
        "custom_fields": {
            "contact": [{"key": "tier", "label": "Customer tier", "kind": "select",
                         "options": ["Gold", "Silver"], "required": false}],
            "company": [], "deal": []
        },
        "pipelines": [
            {"id": 1, "name": "Sales", "stages": [
                {"id": 1, "name": "Lead", "kind": "open", "probability": 10},
                {"id": 9, "name": "Legal", "kind": "open", "probability": 80}]},
            {"id": 2, "name": "Partners", "stages": [
                {"id": 7, "name": "Intro", "kind": "open", "probability": 20},
                {"id": 8, "name": "Signed", "kind": "won", "probability": 100}]}
        ],
        "tags": [{"name": "vip", "color": "purple"}],
        "counts": {"contacts.csv": 1}
    });
    store::Upload {
        name: "workspace.json".into(),
        bytes: ws.to_string().into_bytes(),
    }
}

/// A Cairn contacts file with the `tier` column.
fn tiered() -> File {
    let names = [("first_name", "first_name"), ("last_name", "last_name")];
    let tier = ("custom.tier", Target::NewCustom("tier".into()));
    let mut f = sourced(
        "contacts.csv",
        ObjectKind::Contact,
        "id",
        &names,
        &[tier],
        &[&["7", "Ana", "Lima", "Gold"]],
    );
    f.spec.system = System::Cairn;
    f
}

/// Creates the import of the contacts file with workspace.json beside it; its id.
async fn prepared_with_workspace(app: &TestApp, admin: &Actor) -> Result<i64, AppError> {
    prepared_with(app, admin, vec![tiered()]).await
}

/// Creates the import of `files` with workspace.json beside them; its id.
async fn prepared_with(app: &TestApp, admin: &Actor, files: Vec<File>) -> Result<i64, AppError> {
    let o = Options {
        system: System::Cairn,
        ..options(OnMatch::Skip)
    };
    let specs: Vec<FileSpec> = files.iter().map(|f| f.spec.clone()).collect();
    let mut uploads: Vec<store::Upload> = files.into_iter().map(|f| f.upload).collect();
    uploads.push(workspace_json());
    try_prepared(app, admin, uploads, &specs, &o).await
}

async fn pipeline_names(app: &TestApp) -> Vec<(String, Vec<(String, String, i32)>)> {
    deals::pipelines(&app.db.read)
        .await
        .expect("pipelines")
        .into_iter()
        .map(|p| {
            let stages = p
                .stages
                .into_iter()
                .map(|s| (s.name, s.kind, s.probability))
                .collect();
            (p.name, stages)
        })
        .collect()
}

fn listed(r: &Report) -> (Vec<&str>, Vec<&str>, Vec<&str>, Vec<&str>) {
    let w = &r.workspace;
    (
        w.custom_fields.iter().map(String::as_str).collect(),
        w.pipelines.iter().map(String::as_str).collect(),
        w.stages.iter().map(String::as_str).collect(),
        w.tags.iter().map(String::as_str).collect(),
    )
}

const MADE: (&[&str], &[&str], &[&str], &[&str]) = (
    &["contact.tier"],
    &["Partners"],
    &["Sales / Legal"],
    &["vip"],
);

#[actix_web::test]
async fn what_the_files_need_is_made_before_the_rows() {
    let (app, admin) = with_admin().await;
    let id = prepared_with_workspace(&app, &admin).await.expect("upload");
    let r = run_job(&app, id).await;
    assert_eq!(r.failed(), 0, "{r:#?}");
    let (f, p, s, t) = listed(&r);
    assert_eq!(
        (&f[..], &p[..], &s[..], &t[..]),
        MADE,
        "the report lists what was made"
    );
    let tier = custom_fields::for_entity(&app.db.read, "contact")
        .await
        .expect("fields")
        .into_iter()
        .find(|f| f.key == "tier")
        .expect("the tier field, under the file's key");
    assert_eq!(
        (
            tier.label.as_str(),
            tier.kind.as_str(),
            tier.options.clone()
        ),
        (
            "Customer tier",
            "select",
            vec!["Gold".to_string(), "Silver".to_string()]
        )
    );
    let ana = contacts::get(&app.db, &admin, record(&r, ObjectKind::Contact, 0))
        .await
        .expect("Ana");
    assert_eq!(
        ana.custom_fields.get("tier"),
        Some(&json!("Gold")),
        "{ana:?}"
    );
    let pipelines = pipeline_names(&app).await;
    let partners = pipelines
        .iter()
        .find(|(n, _)| n == "Partners")
        .expect("Partners");
    assert_eq!(
        partners.1,
        [
            ("Intro".to_string(), "open".to_string(), 20),
            ("Signed".to_string(), "won".to_string(), 100)
        ],
        "its stages in order, with kinds and probabilities"
    );
    let sales = pipelines.iter().find(|(n, _)| n == "Sales").expect("Sales");
    assert_eq!(sales.1.len(), 7, "Sales gained Legal: {:?}", sales.1);
    assert_eq!(
        app.count_where("tags", " WHERE name = 'vip' AND color = 'purple'")
            .await,
        1
    );
}

#[actix_web::test]
async fn a_dry_run_lists_what_it_would_make_and_makes_nothing() {
    let (app, admin) = with_admin().await;
    let (fields, tags) = (app.count("custom_fields").await, app.count("tags").await);
    let stages = app.count("pipeline_stages").await;
    let id = prepared_with_workspace(&app, &admin).await.expect("upload");
    let r = store::dry_run(&app.db, &admin, id).await.expect("dry run");
    assert_eq!(
        r.failed(),
        0,
        "the tier value is checked against the field to be: {r:#?}"
    );
    let (f, p, s, t) = listed(&r);
    assert_eq!((&f[..], &p[..], &s[..], &t[..]), MADE);
    assert_eq!(
        (
            app.count("custom_fields").await,
            app.count("tags").await,
            app.count("pipeline_stages").await
        ),
        (fields, tags, stages),
        "nothing made"
    );
}

#[actix_web::test]
async fn a_field_of_another_kind_under_the_same_key_stops_the_import() {
    let (app, admin) = with_admin().await;
    custom_fields::create(&app.db, &admin, "contact", "Tier", "number", &[], false)
        .await
        .expect("a number field keyed tier");
    let id = prepared_with_workspace(&app, &admin).await.expect("upload");
    let err = store::dry_run(&app.db, &admin, id)
        .await
        .expect_err("the dry run is refused");
    let text = err.to_string();
    assert!(
        matches!(err, AppError::Conflict { .. })
            && text.contains("“tier” as select")
            && text.contains("number"),
        "a 409 naming the field and both kinds: {text}"
    );
    let err = job::run(&app.db, id).await.expect_err("the run fails");
    assert!(err.to_string().contains("tier"), "{err}");
    assert_eq!(
        app.count_where("pipelines", " WHERE name = 'Partners'")
            .await,
        0,
        "nothing made"
    );
}

#[actix_web::test]
async fn undo_removes_what_workspace_json_made() {
    let (app, admin) = with_admin().await;
    let before = pipeline_names(&app).await;
    let (fields, tags) = (app.count("custom_fields").await, app.count("tags").await);
    let id = prepared_with_workspace(&app, &admin).await.expect("upload");
    run_job(&app, id).await;
    undo::undo(&app.db, &admin, id).await.expect("undo");
    assert_eq!(pipeline_names(&app).await, before, "pipelines as they were");
    assert_eq!(
        (app.count("custom_fields").await, app.count("tags").await),
        (fields, tags)
    );
}

#[actix_web::test]
async fn a_dry_run_s_deals_find_the_pipelines_and_stages_it_would_make() {
    let (app, admin) = with_admin().await;
    let mut deals_file = file(
        "deals.csv",
        ObjectKind::Deal,
        &[
            ("id", Target::SourceId),
            ("title", field("title")),
            ("pipeline", field("pipeline")),
            ("stage", field("stage")),
        ],
        &[
            &["1", "Reseller deal", "Partners", "Intro"],
            &["2", "Big one", "Sales", "Legal"],
        ],
    );
    deals_file.spec.system = System::Cairn;
    let id = prepared_with(&app, &admin, vec![deals_file])
        .await
        .expect("upload");
    let r = store::dry_run(&app.db, &admin, id).await.expect("dry run");
    assert_eq!(
        outcomes(&r, ObjectKind::Deal),
        [Outcome::Created, Outcome::Created],
        "{r:#?}"
    );
}

#[actix_web::test]
async fn the_import_page_lists_what_workspace_json_added() {
    let (app, admin) = with_admin().await;
    let id = prepared_with_workspace(&app, &admin).await.expect("upload");
    run_job(&app, id).await;
    let mut c = app.signed_in("second-admin@example.com", "admin").await;
    let html = c.get(&format!("/settings/import/{id}")).await.text();
    assert!(
        html.contains("Added to Cairn for these files") && html.contains("<dd>Partners</dd>"),
        "the report names the pipeline workspace.json made: {html}"
    );
}
