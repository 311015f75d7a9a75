//! Importing deals and deal contacts: Salesforce's and HubSpot's exports linking up,
//! stages by name, amounts, won and lost deals, updates by source id, the dry run, undo,
//! the integrity report and the board.
use cairn::domain::Actor;
use cairn::domain::deals::{self, BoardParams, StageInput};
use cairn::domain::import::apply::{Options, Outcome, undo};
use cairn::domain::import::{ObjectKind, OnMatch, System, Target};

use crate::import_given::*;
use crate::import_sample_runs::{import, person};
use crate::import_samples as samples;
use crate::support::TestApp;

use Outcome::{Created, Failed, Skipped, Updated};

const CO: ObjectKind = ObjectKind::Company;
const CT: ObjectKind = ObjectKind::Contact;
const DL: ObjectKind = ObjectKind::Deal;
const DC: ObjectKind = ObjectKind::DealContact;

/// A deals file: source id, title, amount, currency, stage, lost reason, the contacts'
/// source ids (`;`-separated).
fn deals_file(rows: &[&[&str]]) -> File {
    let cols = [
        ("Title", "title"),
        ("Amount", "amount"),
        ("Currency", "currency"),
        ("Stage", "stage"),
        ("Lost reason", "lost_reason"),
    ];
    let contacts = ("Contacts", Target::LinkIds(CT));
    sourced("deals.csv", DL, "Id", &cols, &[contacts], rows)
}

/// A deal contacts file: the deal's and the contact's source ids.
fn deal_contacts_file(rows: &[&[&str]]) -> File {
    file(
        "deal_contacts.csv",
        DC,
        &[
            ("Deal", Target::LinkId(DL)),
            ("Contact", Target::LinkId(CT)),
        ],
        rows,
    )
}

async fn deal(app: &TestApp, admin: &Actor, id: i64) -> deals::Deal {
    deals::get(&app.db, admin, id)
        .await
        .unwrap_or_else(|e| panic!("deal {id}: {e}"))
}

/// Renames stage `from` of the first pipeline to `to` (as an admin does in Settings).
async fn rename_stage(app: &TestApp, admin: &Actor, from: &str, to: &str) {
    let all = deals::pipelines(&app.db.read).await.unwrap();
    let s = all[0].stages.iter().find(|s| s.name == from).unwrap();
    let input = StageInput {
        name: to.into(),
        probability: s.probability,
        kind: s.kind.clone(),
    };
    deals::update_stage(&app.db, admin, s.id, &input)
        .await
        .expect("rename the stage");
}

/// Names the first pipeline and its Proposal stage as the source product calls them.
async fn named_as(app: &TestApp, admin: &Actor, pipeline: &str, proposal: &str) {
    let sales = deals::pipelines(&app.db.read).await.unwrap()[0].id;
    deals::rename_pipeline(&app.db, admin, sales, pipeline)
        .await
        .expect("rename the pipeline");
    rename_stage(app, admin, "Proposal", proposal).await;
}

/// The ids of the contacts on deal `d`, in order.
fn contacts_on(d: &deals::Deal) -> Vec<i64> {
    let mut ids: Vec<i64> = d.contacts.iter().map(|c| c.id).collect();
    ids.sort_unstable();
    ids
}

#[actix_web::test]
async fn salesforce_opportunities_link_accounts_and_contact_roles_in_any_file_order() {
    let (app, admin) = with_admin().await;
    let jane = person(&app, "Renée Doe", "jane@acme.example").await;
    rename_stage(&app, &admin, "Negotiation", "Negotiation/Review").await;
    let files = vec![
        samples::salesforce_contact_role(),
        samples::salesforce_opportunity(),
        samples::salesforce_contact(),
        samples::salesforce_account(),
        samples::salesforce_user(),
    ];
    let r = import(&app, &admin, files).await;
    assert_eq!(
        (outcomes(&r, DL), outcomes(&r, DC)),
        (vec![Created], vec![Created])
    );
    let d = deal(&app, &admin, record(&r, DL, 0)).await;
    assert_eq!(
        d.company_id,
        Some(record(&r, CO, 0)),
        "the opportunity's account"
    );
    assert_eq!(
        contacts_on(&d),
        [record(&r, CT, 0)],
        "the contact role, by its 15-character id"
    );
    assert_eq!(
        (d.stage.as_str(), d.amount, d.owner_id, d.probability),
        ("Negotiation/Review", 4_800_000, jane, 90)
    );
    assert_eq!(d.expected_close.as_deref(), Some("2024-03-31"));
}

#[actix_web::test]
async fn hubspot_deals_link_their_associated_companies_and_contacts() {
    let (app, admin) = with_admin().await;
    person(&app, "Jane Doe", "jane@example.com").await;
    person(&app, "Bob Stone", "bob@example.com").await;
    named_as(&app, &admin, "Sales Pipeline", "Contract Sent").await;
    let files = vec![
        samples::hubspot_deals(),
        samples::hubspot_contacts(),
        samples::hubspot_companies(),
    ];
    let r = import(&app, &admin, files).await;
    let d = deal(&app, &admin, record(&r, DL, 0)).await;
    assert_eq!(contacts_on(&d), [record(&r, CT, 0), record(&r, CT, 1)]);
    assert_eq!(d.company_id, Some(record(&r, CO, 0)));
    assert_eq!(
        (d.stage.as_str(), d.amount, d.currency.as_str()),
        ("Contract Sent", 2_400_050, "EUR")
    );
    let won = deal(&app, &admin, record(&r, DL, 1)).await;
    assert_eq!(
        won.stage_kind, "won",
        "“Closed Won” is the pipeline's won stage"
    );
    assert!(won.closed_at.is_some(), "a won deal is closed");
}

#[actix_web::test]
async fn pipedrive_deals_link_their_organization_and_contact_person_by_name() {
    let (app, admin) = with_admin().await;
    person(&app, "Jane Doe", "jane@example.com").await;
    named_as(&app, &admin, "Default pipeline", "Proposal Made").await;
    let files = vec![
        samples::pipedrive_deals(),
        samples::pipedrive_persons(),
        samples::pipedrive_organizations(),
    ];
    let r = import(&app, &admin, files).await;
    let d = deal(&app, &admin, record(&r, DL, 0)).await;
    assert_eq!(contacts_on(&d), [record(&r, CT, 0)], "Åsa, by her name");
    assert_eq!(d.company_id, Some(record(&r, CO, 0)));
    assert_eq!((d.amount, d.currency.as_str()), (1_250_000, "SEK"));
}

#[actix_web::test]
async fn a_deals_labels_are_left_out_with_a_note() {
    let (app, admin) = with_admin().await;
    let labelled = file(
        "deals.csv",
        DL,
        &[("Title", field("title")), ("Labels", Target::Tags)],
        &[&["Pilot", "hot;big"]],
    );
    let (_, r) = run(&app, &admin, vec![labelled], &options(OnMatch::Skip)).await;
    assert_eq!(outcomes(&r, DL), [Created], "labels fail no row");
    let notes = rows(&r, DL)[0].reasons.join(" ");
    assert!(notes.contains("no tags"), "the report says so: {notes}");
}

#[actix_web::test]
async fn a_stage_is_found_by_its_name_in_any_case() {
    let (app, admin) = with_admin().await;
    let file = deals_file(&[&["d1", "Pilot", "", "", "qUALIFIED", "", ""]]);
    let (_, r) = run(&app, &admin, vec![file], &options(OnMatch::Skip)).await;
    let d = deal(&app, &admin, record(&r, DL, 0)).await;
    assert_eq!(d.stage, "Qualified");
}

#[actix_web::test]
async fn without_adding_stages_an_unknown_stage_fails_its_row_naming_the_pipelines_stages() {
    let (app, admin) = with_admin().await;
    let file = deals_file(&[&["d1", "Pilot", "", "", "Nowhere", "", ""]]);
    let o = Options {
        add_stages: false,
        ..options(OnMatch::Skip)
    };
    let (_, r) = run(&app, &admin, vec![file], &o).await;
    assert_eq!(outcomes(&r, DL), [Failed]);
    let why = rows(&r, DL)[0].reasons.join(" ");
    assert!(
        why.contains("“Nowhere”") && why.contains("Lead, Qualified, Proposal"),
        "names the stage and the pipeline's stages: {why}"
    );
    assert_eq!(app.count("deals").await, 0);
}

#[actix_web::test]
async fn an_amount_is_kept_in_its_currencys_minor_units() {
    let (app, admin) = with_admin().await;
    let file = deals_file(&[&["d1", "Pilot", "1,234.50", "eur", "", "", ""]]);
    let (_, r) = run(&app, &admin, vec![file], &options(OnMatch::Skip)).await;
    let d = deal(&app, &admin, record(&r, DL, 0)).await;
    assert_eq!((d.amount, d.currency.as_str()), (123_450, "EUR"));
    assert_eq!(d.stage, "Lead", "no stage: the pipeline's first open one");
}

#[actix_web::test]
async fn cairns_own_export_gives_amounts_in_minor_units() {
    let (app, admin) = with_admin().await;
    let mut o = options(OnMatch::Skip);
    o.system = System::Cairn;
    let file = deals_file(&[&["7", "Pilot", "123450", "EUR", "", "", ""]]);
    let (_, r) = run(&app, &admin, vec![file], &o).await;
    let d = deal(&app, &admin, record(&r, DL, 0)).await;
    assert_eq!(d.amount, 123_450, "cents as written");
}

#[actix_web::test]
async fn won_and_lost_deals_are_closed_and_a_lost_one_keeps_or_gets_a_reason() {
    let (app, admin) = with_admin().await;
    let file = deals_file(&[
        &["d1", "Won one", "", "", "won", "", ""],
        &["d2", "Lost one", "", "", "Lost", "Too dear", ""],
        &["d3", "Lost quietly", "", "", "closedlost", "", ""],
    ]);
    let (_, r) = run(&app, &admin, vec![file], &options(OnMatch::Skip)).await;
    let mut got = Vec::new();
    for n in 0..3 {
        let d = deal(&app, &admin, record(&r, DL, n)).await;
        assert!(d.closed_at.is_some(), "{} is closed", d.title);
        got.push((d.stage_kind, d.lost_reason));
    }
    assert_eq!(
        got,
        [
            ("won".to_string(), None),
            ("lost".to_string(), Some("Too dear".to_string())),
            ("lost".to_string(), Some("Imported".to_string())),
        ]
    );
}

#[actix_web::test]
async fn a_deal_imported_again_by_its_source_id_is_updated() {
    let (app, admin) = with_admin().await;
    let first = deals_file(&[&["d1", "Pilot", "100", "", "Lead", "", ""]]);
    let (_, r) = run(&app, &admin, vec![first], &options(OnMatch::Skip)).await;
    let id = record(&r, DL, 0);
    let again = deals_file(&[&["d1", "Pilot, phase 2", "200", "", "Proposal", "", ""]]);
    let (_, r) = run(&app, &admin, vec![again], &options(OnMatch::Update)).await;
    assert_eq!(outcomes(&r, DL), [Updated]);
    assert_eq!(record(&r, DL, 0), id, "the same deal");
    let d = deal(&app, &admin, id).await;
    assert_eq!(
        (d.title.as_str(), d.amount, d.stage.as_str()),
        ("Pilot, phase 2", 20_000, "Proposal")
    );
    assert_eq!(
        app.count("deal_stage_changes").await,
        2,
        "created, then moved"
    );
}

#[actix_web::test]
async fn a_dry_run_of_deals_writes_nothing() {
    let (app, admin) = with_admin().await;
    let files = vec![
        contacts(&[&["c1", "Ana", "Lima", "", ""]]),
        deals_file(&[&["d1", "Pilot", "10", "", "", "", "c1"]]),
        deal_contacts_file(&[&["d1", "c1"]]),
    ];
    let r = dry(&app, &admin, files, &options(OnMatch::Skip)).await;
    assert_eq!(outcomes(&r, DL), [Created]);
    assert_eq!(
        outcomes(&r, DC),
        [Skipped],
        "the deal's own row links the contact already"
    );
    assert_eq!(
        (app.count("deals").await, app.count("deal_contacts").await),
        (0, 0)
    );
}

#[actix_web::test]
async fn a_deal_contact_row_naming_nothing_fails_naming_both_ends() {
    let (app, admin) = with_admin().await;
    let files = vec![deal_contacts_file(&[&["d404", "c404"]])];
    let (_, r) = run(&app, &admin, files, &options(OnMatch::Skip)).await;
    assert_eq!(outcomes(&r, DC), [Failed]);
    let why = rows(&r, DC)[0].reasons.join(" ");
    assert!(
        why.contains("Neither deal d404 nor contact c404 is in Cairn yet"),
        "{why}"
    );
}

#[actix_web::test]
async fn a_deal_contact_row_whose_contact_comes_later_links_up_then() {
    let (app, admin) = with_admin().await;
    let files = vec![
        deals_file(&[&["d1", "Pilot", "", "", "", "", ""]]),
        deal_contacts_file(&[&["d1", "c1"]]),
    ];
    let (_, r) = run(&app, &admin, files, &options(OnMatch::Skip)).await;
    assert_eq!(outcomes(&r, DC), [Created], "{r:#?}");
    assert_eq!(app.count("deal_contacts").await, 0, "c1 is not in Cairn");
    let files = vec![contacts(&[&["c1", "Ana", "Lima", "", ""]])];
    let (_, r) = run(&app, &admin, files, &options(OnMatch::Skip)).await;
    assert_eq!(r.linked, 1, "{r:#?}");
    assert_eq!(app.count("deal_contacts").await, 1, "Ana is on the deal");
}

/// Ana (c1) and a deal (d1) linked to her by the deal contacts file; the import's id.
async fn linked_deal(app: &TestApp, admin: &Actor) -> i64 {
    let files = vec![
        deal_contacts_file(&[&["d1", "c1"]]),
        deals_file(&[&["d1", "Pilot", "10", "", "", "", ""]]),
        contacts(&[&["c1", "Ana", "Lima", "", ""]]),
    ];
    let (id, r) = run(app, admin, files, &options(OnMatch::Skip)).await;
    assert_eq!(outcomes(&r, DC), [Created], "{r:#?}");
    id
}

#[actix_web::test]
async fn undo_removes_the_imported_deals_with_their_links_and_history() {
    let (app, admin) = with_admin().await;
    let id = linked_deal(&app, &admin).await;
    assert_eq!(app.count("deal_contacts").await, 1);
    undo::undo(&app.db, &admin, id).await.expect("undo");
    for table in ["deals", "deal_contacts", "deal_stage_changes", "contacts"] {
        assert_eq!(app.count(table).await, 0, "{table} are gone");
    }
}

#[actix_web::test]
async fn undo_restores_an_updated_deal_and_removes_the_links_it_added() {
    let (app, admin) = with_admin().await;
    linked_deal(&app, &admin).await;
    let files = vec![
        contacts(&[&["c2", "Bo", "Berg", "", ""]]),
        deals_file(&[&["d1", "Renamed", "10", "", "Won", "", "c2"]]),
    ];
    let (id, r) = run(&app, &admin, files, &options(OnMatch::Update)).await;
    assert_eq!(outcomes(&r, DL), [Updated]);
    undo::undo(&app.db, &admin, id).await.expect("undo");
    let d = deal(&app, &admin, record(&r, DL, 0)).await;
    assert_eq!((d.title.as_str(), d.stage.as_str()), ("Pilot", "Lead"));
    assert_eq!(d.contacts.len(), 1, "only Ana, linked by the first import");
    assert_eq!(app.count("deal_stage_changes").await, 1, "the move is gone");
}

#[actix_web::test]
async fn the_integrity_report_counts_deals_and_their_contact_links() {
    let (app, admin) = with_admin().await;
    let id = linked_deal(&app, &admin).await;
    let i = integrity_of(&app, &admin, id).await;
    assert!(i.ok(), "{i:#?}");
    let (dl, dc) = (&i.kinds["deals"], &i.kinds["deal_contacts"]);
    // Owner, stage and pipeline.
    assert_eq!((dl.rows, dl.present, dl.links), (1, 1, 3));
    assert_eq!((dc.rows, dc.written, dc.present, dc.links), (1, 1, 1, 2));
}

#[actix_web::test]
async fn the_board_shows_the_imported_deals() {
    let (app, admin) = with_admin().await;
    let q = BoardParams::default().validate().unwrap();
    let before = deals::board(&app.db, &admin, &q).await.unwrap();
    assert_eq!(before.columns[0].count, 0);
    let files = vec![deals_file(&[&["d1", "Pilot", "10", "", "", "", ""]])];
    run(&app, &admin, files, &options(OnMatch::Skip)).await;
    let after = deals::board(&app.db, &admin, &q).await.unwrap();
    let titles: Vec<&str> = after.columns[0]
        .cards
        .iter()
        .map(|c| c.title.as_str())
        .collect();
    assert_eq!(titles, ["Pilot"], "the kept board was retired");
}
