//! Pending links: a row naming by source id a record that is in neither its import nor
//! Cairn imports with the link empty, and a later import bringing that record fills it
//! (issue 16: related files imported one by one link up in any order). The dry run and
//! the integrity report say so; undo of the later import leaves the link waiting again;
//! a company set by hand meanwhile stays.
use cairn::domain::Actor;
use cairn::domain::contacts::{self, ContactPatch};
use cairn::domain::import::apply::{Report, undo};
use cairn::domain::import::{ObjectKind, OnMatch, Target};
use cairn::entities::{activity, task};
use sea_orm::EntityTrait;

use crate::import_given::*;
use crate::support::TestApp;

use cairn::domain::import::apply::Outcome::Created;

const CT: ObjectKind = ObjectKind::Contact;
const DL: ObjectKind = ObjectKind::Deal;
const AC: ObjectKind = ObjectKind::Activity;
const TK: ObjectKind = ObjectKind::Task;

/// A deals file: source id, title, the contacts' source ids.
fn deals_file(rows: &[&[&str]]) -> File {
    let contacts = ("Contacts", Target::LinkIds(CT));
    sourced(
        "deals.csv",
        DL,
        "Id",
        &[("Title", "title")],
        &[contacts],
        rows,
    )
}

/// An activities file: source id, body, time, the contact's source id.
fn notes_file(rows: &[&[&str]]) -> File {
    let cols = [("Body", "body"), ("When", "occurred_at")];
    let contact = ("Contact", Target::LinkId(CT));
    sourced("notes.csv", AC, "Id", &cols, &[contact], rows)
}

/// A tasks file: source id, title, the contact's source id.
fn tasks_file(rows: &[&[&str]]) -> File {
    let contact = ("Contact", Target::LinkId(CT));
    sourced(
        "tasks.csv",
        TK,
        "Id",
        &[("Title", "title")],
        &[contact],
        rows,
    )
}

/// Imports `files` (all-or-nothing, matches updated); the import's id and report,
/// checked written.
async fn imported(app: &TestApp, admin: &Actor, files: Vec<File>) -> (i64, Report) {
    let (id, r) = run(app, admin, files, &options(OnMatch::Update)).await;
    assert!(r.written, "import {id} wrote nothing: {r:#?}");
    (id, r)
}

/// Ana (source id c1), whose company a1 is in no file yet; the import's id and her id.
async fn ana_waiting_for_acme(app: &TestApp, admin: &Actor) -> (i64, i64) {
    let files = vec![contacts(&[&["c1", "Ana", "Lima", "", "a1"]])];
    let (id, r) = imported(app, admin, files).await;
    assert_eq!(app.count("import_pending_links").await, 1, "the link waits");
    (id, record(&r, CT, 0))
}

async fn company_of(app: &TestApp, admin: &Actor, contact: i64) -> Option<i64> {
    contacts::get(&app.db, admin, contact)
        .await
        .unwrap_or_else(|e| panic!("contact {contact}: {e}"))
        .company_id
}

#[actix_web::test]
async fn a_contact_imported_before_its_company_is_linked_when_the_company_comes() {
    let (app, admin) = with_admin().await;
    let (_, ana) = ana_waiting_for_acme(&app, &admin).await;
    assert_eq!(company_of(&app, &admin, ana).await, None, "no company yet");
    let (_, r) = imported(&app, &admin, vec![companies(&[&["a1", "Acme", ""]])]).await;
    let acme = record(&r, ObjectKind::Company, 0);
    assert_eq!(company_of(&app, &admin, ana).await, Some(acme), "linked");
    assert_eq!(r.linked, 1, "the report counts the link it completed");
    assert_eq!(app.count("import_pending_links").await, 0, "nothing waits");
}

#[actix_web::test]
async fn the_row_says_its_link_waits_and_it_is_no_failure() {
    let (app, admin) = with_admin().await;
    let files = vec![contacts(&[&["c1", "Ana", "Lima", "", "a1"]])];
    let (_, r) = imported(&app, &admin, files).await;
    assert_eq!(outcomes(&r, CT), [Created]);
    assert_eq!(
        rows(&r, CT)[0].reasons,
        ["Company a1 is not in Cairn yet: linked when it is imported."]
    );
}

#[actix_web::test]
async fn the_dry_run_says_the_link_would_wait() {
    let (app, admin) = with_admin().await;
    let files = vec![contacts(&[&["c1", "Ana", "Lima", "", "a1"]])];
    let r = dry(&app, &admin, files, &options(OnMatch::Update)).await;
    assert_eq!(outcomes(&r, CT), [Created]);
    assert_eq!(
        rows(&r, CT)[0].reasons,
        ["Company a1 is not in Cairn yet: would link later, when it is imported."]
    );
    assert_eq!(app.count("import_pending_links").await, 0, "nothing kept");
}

#[actix_web::test]
async fn a_later_dry_run_counts_the_links_it_would_complete() {
    let (app, admin) = with_admin().await;
    ana_waiting_for_acme(&app, &admin).await;
    let files = vec![companies(&[&["a1", "Acme", ""]])];
    let r = dry(&app, &admin, files, &options(OnMatch::Update)).await;
    assert_eq!(r.linked, 1, "{r:#?}");
}

#[actix_web::test]
async fn the_integrity_report_lists_the_link_as_pending_not_broken() {
    let (app, admin) = with_admin().await;
    let (id, ana) = ana_waiting_for_acme(&app, &admin).await;
    let i = integrity_of(&app, &admin, id).await;
    assert!(i.ok() && i.broken.is_empty(), "{i:#?}");
    assert_eq!(i.pending_total, 1, "{i:#?}");
    let p = &i.pending[0];
    assert_eq!((p.kind, p.record_id, p.link.as_str()), (CT, ana, "company"));
    assert_eq!(
        (p.waits_for.as_str(), p.source_id.as_str()),
        ("companies", "a1")
    );
    let (later, _) = imported(&app, &admin, vec![companies(&[&["a1", "Acme", ""]])]).await;
    assert_eq!(integrity_of(&app, &admin, later).await.completed, 1);
}

#[actix_web::test]
async fn a_deal_imported_before_its_contact_gets_the_contact_when_it_comes() {
    let (app, admin) = with_admin().await;
    imported(&app, &admin, vec![deals_file(&[&["d1", "Pilot", "c1"]])]).await;
    assert_eq!(app.count("deal_contacts").await, 0);
    let files = vec![contacts(&[&["c1", "Ana", "Lima", "", ""]])];
    let (_, r) = imported(&app, &admin, files).await;
    assert_eq!(r.linked, 1, "{r:#?}");
    assert_eq!(app.count("deal_contacts").await, 1, "Ana is on the deal");
}

#[actix_web::test]
async fn an_activity_imported_before_its_contact_is_put_on_her_when_she_comes() {
    let (app, admin) = with_admin().await;
    let files = vec![notes_file(&[&["n1", "Met", "2024-01-31T12:00:00Z", "c1"]])];
    let (_, r) = imported(&app, &admin, files).await;
    let note = record(&r, AC, 0);
    let files = vec![contacts(&[&["c1", "Ana", "Lima", "", ""]])];
    let (_, r) = imported(&app, &admin, files).await;
    let ana = record(&r, CT, 0);
    let a = activity::Entity::find_by_id(note)
        .one(&app.db.read)
        .await
        .unwrap()
        .expect("the note");
    assert_eq!(a.contact_id, Some(ana), "the note is on Ana");
}

#[actix_web::test]
async fn a_task_imported_before_its_contact_is_about_her_when_she_comes() {
    let (app, admin) = with_admin().await;
    let (_, r) = imported(&app, &admin, vec![tasks_file(&[&["t1", "Call", "c1"]])]).await;
    let call = record(&r, TK, 0);
    let files = vec![contacts(&[&["c1", "Ana", "Lima", "", ""]])];
    let (_, r) = imported(&app, &admin, files).await;
    let t = task::Entity::find_by_id(call)
        .one(&app.db.read)
        .await
        .unwrap()
        .expect("the task");
    assert_eq!(
        t.contact_id,
        Some(record(&r, CT, 0)),
        "the task is about Ana"
    );
}

#[actix_web::test]
async fn undo_of_the_contact_an_earlier_activity_waited_for_is_not_refused() {
    let (app, admin) = with_admin().await;
    let files = vec![notes_file(&[&["n1", "Met", "2024-01-31T12:00:00Z", "c1"]])];
    let (_, r) = imported(&app, &admin, files).await;
    let note = record(&r, AC, 0);
    let files = vec![contacts(&[&["c1", "Ana", "Lima", "", ""]])];
    let (later, _) = imported(&app, &admin, files).await;
    undo::undo(&app.db, &admin, later)
        .await
        .unwrap_or_else(|e| panic!("the note's link is the import's own: {e}"));
    let a = activity::Entity::find_by_id(note)
        .one(&app.db.read)
        .await
        .unwrap()
        .expect("the note stays with the earlier import");
    assert_eq!(a.contact_id, None, "waiting again");
    assert_eq!(app.count("import_pending_links").await, 1);
}

#[actix_web::test]
async fn undo_of_the_later_import_leaves_the_link_waiting_again() {
    let (app, admin) = with_admin().await;
    let (_, ana) = ana_waiting_for_acme(&app, &admin).await;
    let (later, _) = imported(&app, &admin, vec![companies(&[&["a1", "Acme", ""]])]).await;
    undo::undo(&app.db, &admin, later)
        .await
        .unwrap_or_else(|e| panic!("undo the companies import: {e}"));
    assert_eq!(company_of(&app, &admin, ana).await, None, "empty again");
    assert_eq!(app.count("import_pending_links").await, 1, "waiting again");
    let (_, r) = imported(&app, &admin, vec![companies(&[&["a1", "Acme", ""]])]).await;
    let acme = record(&r, ObjectKind::Company, 0);
    assert_eq!(
        company_of(&app, &admin, ana).await,
        Some(acme),
        "linked again"
    );
}

#[actix_web::test]
async fn undo_of_the_earlier_import_drops_what_it_left_waiting() {
    let (app, admin) = with_admin().await;
    let (earlier, _) = ana_waiting_for_acme(&app, &admin).await;
    undo::undo(&app.db, &admin, earlier)
        .await
        .unwrap_or_else(|e| panic!("undo the contacts import: {e}"));
    assert_eq!(app.count("import_pending_links").await, 0);
}

#[actix_web::test]
async fn deleting_the_record_holding_a_link_drops_the_link() {
    let (app, admin) = with_admin().await;
    let (_, ana) = ana_waiting_for_acme(&app, &admin).await;
    cairn::entities::contact::Entity::delete_by_id(ana)
        .exec(&app.db.write)
        .await
        .expect("delete Ana");
    assert_eq!(app.count("import_pending_links").await, 0);
}

#[actix_web::test]
async fn a_company_set_by_hand_meanwhile_is_not_overwritten() {
    let (app, admin) = with_admin().await;
    let (_, ana) = ana_waiting_for_acme(&app, &admin).await;
    let patch = ContactPatch {
        company: Some(Some("Initech".into())),
        ..ContactPatch::default()
    };
    contacts::update(&app.db, &admin, ana, patch)
        .await
        .expect("set her company by hand");
    let initech = company_of(&app, &admin, ana).await;
    assert!(initech.is_some(), "Initech set");
    let (_, r) = imported(&app, &admin, vec![companies(&[&["a1", "Acme", ""]])]).await;
    assert_eq!(company_of(&app, &admin, ana).await, initech, "kept Initech");
    assert_eq!(r.linked, 0, "nothing filled");
    assert_eq!(
        app.count("import_pending_links").await,
        0,
        "resolved by hand"
    );
}

#[actix_web::test]
async fn a_link_to_a_record_in_the_trash_fails_rather_than_waits() {
    let (app, admin) = with_admin().await;
    let (_, r) = imported(&app, &admin, vec![companies(&[&["a1", "Acme", ""]])]).await;
    let acme = record(&r, ObjectKind::Company, 0);
    cairn::domain::companies::delete(&app.db, &admin, acme, false)
        .await
        .expect("trash Acme");
    let files = vec![contacts(&[&["c1", "Ana", "Lima", "", "a1"]])];
    let (_, r) = run(&app, &admin, files, &options(OnMatch::Update)).await;
    assert_eq!(
        rows(&r, CT)[0].reasons,
        ["Company a1 is in the trash; restore it first."]
    );
    assert_eq!(app.count("import_pending_links").await, 0, "nothing waits");
}
