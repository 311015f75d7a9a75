//! Deal files naming pipelines and stages Cairn lacks: added before the rows (HubSpot's
//! "Sales Pipeline" as it is), listed by a dry run, undone with the import, and left
//! alone when the import fails.
use cairn::domain::Actor;
use cairn::domain::deals;
use cairn::domain::import::apply::{Outcome, Report, undo};
use cairn::domain::import::{ObjectKind, OnMatch};

use crate::import_given::*;
use crate::import_sample_runs::{import, person};
use crate::import_samples as samples;
use crate::support::TestApp;

const DL: ObjectKind = ObjectKind::Deal;

/// A deals file: title, pipeline, stage, probability.
fn deals_file(rows: &[&[&str]]) -> File {
    file(
        "deals.csv",
        DL,
        &[
            ("Title", field("title")),
            ("Pipeline", field("pipeline")),
            ("Stage", field("stage")),
            ("Probability", field("probability")),
        ],
        rows,
    )
}

/// Deals in a new pipeline (Partners) and in a new stage of Cairn's (Demo booked; Lead
/// is Sales' own).
fn partners_and_demo_booked() -> File {
    deals_file(&[
        &["A", "Partners", "Intro", ""],
        &["B", "", "Demo booked", ""],
        &["C", "", "Lead", ""],
    ])
}

/// Each pipeline's name and its stages as `name:kind`, in the board's order.
async fn pipelines(app: &TestApp) -> Vec<(String, Vec<String>)> {
    deals::pipelines(&app.db.read)
        .await
        .expect("read the pipelines")
        .into_iter()
        .map(|p| {
            let stages = p.stages.iter().map(|s| format!("{}:{}", s.name, s.kind));
            (p.name, stages.collect())
        })
        .collect()
}

async fn stage_of(app: &TestApp, admin: &Actor, r: &Report, n: usize) -> String {
    let d = deals::get(&app.db, admin, record(r, DL, n))
        .await
        .expect("the imported deal");
    let all = deals::pipelines(&app.db.read).await.expect("pipelines");
    let p = all
        .iter()
        .find(|p| p.id == d.pipeline_id)
        .expect("its pipeline");
    format!("{}/{}", p.name, d.stage)
}

#[actix_web::test]
async fn hubspot_deals_bring_their_pipeline_into_an_empty_cairn() {
    let (app, admin) = with_admin().await;
    person(&app, "Jane Doe", "jane@example.com").await;
    person(&app, "Bob Stone", "bob@example.com").await;
    let files = vec![
        samples::hubspot_deals(),
        samples::hubspot_contacts(),
        samples::hubspot_companies(),
    ];
    let r = import(&app, &admin, files).await;
    assert_eq!(r.workspace.pipelines, ["Sales Pipeline"], "{r:#?}");
    let all = pipelines(&app).await;
    let hubspot = all.iter().find(|(n, _)| n == "Sales Pipeline");
    assert_eq!(
        hubspot.map(|(_, s)| s.clone()),
        Some(vec![
            "Contract Sent:open".to_string(),
            "Closed Won:won".into(),
            "Lost:lost".into()
        ]),
        "HubSpot's stages, a lost stage added: {all:?}"
    );
    assert_eq!(
        stage_of(&app, &admin, &r, 0).await,
        "Sales Pipeline/Contract Sent"
    );
}

#[actix_web::test]
async fn a_new_open_stage_of_cairns_pipeline_goes_before_won_and_lost() {
    let (app, admin) = with_admin().await;
    let file = deals_file(&[
        &["Pilot", "", "Demo booked", ""],
        &["Known", "", "Qualified", ""],
        &["Signed", "", "Closed Won", ""],
    ]);
    let (_, r) = run(&app, &admin, vec![file], &options(OnMatch::Skip)).await;
    assert_eq!(
        r.workspace.stages,
        ["Sales / Demo booked"],
        "Sales has a won stage already: {r:#?}"
    );
    let sales = &pipelines(&app).await[0].1;
    let at = |name: &str| sales.iter().position(|s| s.starts_with(name));
    assert!(
        at("Demo booked:open") < at("Won") && at("Demo booked").is_some(),
        "{sales:?}"
    );
    assert_eq!(stage_of(&app, &admin, &r, 0).await, "Sales/Demo booked");
    assert_eq!(stage_of(&app, &admin, &r, 2).await, "Sales/Won");
}

#[actix_web::test]
async fn a_new_pipelines_open_stages_follow_their_deals_probability() {
    let (app, admin) = with_admin().await;
    let file = deals_file(&[
        &["A", "Partners", "Contract", "80"],
        &["B", "Partners", "Intro", "10%"],
        &["C", "Partners", "Closed Lost", ""],
        &["D", "Partners", "Demo", "40"],
    ]);
    let (_, r) = run(&app, &admin, vec![file], &options(OnMatch::Skip)).await;
    assert!(r.written, "{r:#?}");
    let all = pipelines(&app).await;
    let partners = all.iter().find(|(n, _)| n == "Partners").map(|p| &p.1);
    let expected = [
        "Intro:open",
        "Demo:open",
        "Contract:open",
        "Won:won",
        "Closed Lost:lost",
    ];
    assert_eq!(
        partners.map(|s| s.as_slice()),
        Some(&expected.map(String::from)[..])
    );
}

#[actix_web::test]
async fn a_dry_run_lists_the_stages_it_would_add_and_adds_none() {
    let (app, admin) = with_admin().await;
    let before = pipelines(&app).await;
    let file = partners_and_demo_booked();
    let r = dry(&app, &admin, vec![file], &options(OnMatch::Skip)).await;
    assert_eq!(outcomes(&r, DL), [Outcome::Created; 3], "{r:#?}");
    assert_eq!(
        (r.workspace.pipelines.clone(), r.workspace.stages.clone()),
        (
            vec!["Partners".to_string()],
            vec!["Sales / Demo booked".to_string()]
        )
    );
    assert_eq!(pipelines(&app).await, before, "a dry run adds nothing");
}

#[actix_web::test]
async fn undo_removes_the_pipelines_and_stages_the_import_added() {
    let (app, admin) = with_admin().await;
    let before = pipelines(&app).await;
    let file = partners_and_demo_booked();
    let (id, r) = run(&app, &admin, vec![file], &options(OnMatch::Skip)).await;
    assert!(r.written, "{r:#?}");
    undo::undo(&app.db, &admin, id).await.expect("undo");
    assert_eq!(pipelines(&app).await, before, "pipelines as they were");
}

#[actix_web::test]
async fn a_failed_import_leaves_no_pipeline_behind() {
    let (app, admin) = with_admin().await;
    let before = pipelines(&app).await;
    let bad = file(
        "deals.csv",
        DL,
        &[
            ("Title", field("title")),
            ("Pipeline", field("pipeline")),
            ("Amount", field("amount")),
        ],
        &[&["A", "Partners", "12"], &["B", "Partners", "lots"]],
    );
    let (_, r) = run(&app, &admin, vec![bad], &options(OnMatch::Skip)).await;
    assert_eq!(
        outcomes(&r, DL),
        [Outcome::Created, Outcome::Failed],
        "{r:#?}"
    );
    assert!(!r.written);
    assert_eq!(pipelines(&app).await, before, "nothing of the import stays");
}

#[actix_web::test]
async fn a_file_naming_no_pipeline_and_none_of_cairns_stages_gets_a_pipeline_of_its_own() {
    let (app, admin) = with_admin().await;
    let file = deals_file(&[&["A", "", "Prospecting", ""], &["B", "", "Closed Won", ""]]);
    let (_, r) = run(&app, &admin, vec![file], &options(OnMatch::Skip)).await;
    assert_eq!(r.workspace.pipelines, ["Imported pipeline"], "{r:#?}");
    let all = pipelines(&app).await;
    let sales = all.iter().find(|(n, _)| n == "Sales").map(|p| p.1.len());
    assert_eq!(
        sales,
        Some(6),
        "Cairn's pipeline is left as it was: {all:?}"
    );
    assert_eq!(
        (
            stage_of(&app, &admin, &r, 0).await,
            stage_of(&app, &admin, &r, 1).await
        ),
        (
            "Imported pipeline/Prospecting".into(),
            "Imported pipeline/Closed Won".into()
        )
    );
}
