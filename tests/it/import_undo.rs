//! Undoing an import, and the integrity report kept with it.
use cairn::domain::contacts::{self, Contact, ContactPatch};
use cairn::domain::import::apply::{store, undo};
use cairn::domain::import::{ObjectKind, OnMatch, Target};
use cairn::domain::records::bulk;
use cairn::domain::{Actor, activities, deals, tasks};
use serde_json::json;

use crate::import_given::*;
use crate::support::TestApp;

const CT: ObjectKind = ObjectKind::Contact;

#[actix_web::test]
async fn undo_removes_what_was_created_and_restores_what_was_updated() {
    let (app, admin) = with_admin().await;
    let files = vec![contacts(&[&["c1", "Ana", "Lima", "ana@example.com", ""]])];
    let (_, r) = run(&app, &admin, files, &options(OnMatch::Skip)).await;
    let ana = record(&r, CT, 0);
    let files = vec![
        companies(&[&["a1", "Acme", ""]]),
        contacts(&[
            &["c1", "Anna", "Lima", "ana@example.com", "a1"],
            &["c2", "Bo", "Berg", "", "a1"],
        ]),
    ];
    let (id, _) = run(&app, &admin, files, &options(OnMatch::Update)).await;
    undo::undo(&app.db, &admin, id).await.expect("undo");
    assert_eq!(
        (app.count("contacts").await, app.count("companies").await),
        (1, 0)
    );
    let c = contacts::get(&app.db, &admin, ana).await.unwrap();
    assert_eq!(
        (c.first_name.as_str(), c.company_id),
        ("Ana", None),
        "Ana as she was"
    );
    assert_eq!(
        store::progress(&app.db, &admin, id).await.unwrap().status,
        "undone"
    );
    assert_eq!(
        app.count("import_sources").await,
        1,
        "only the first import's source id stays"
    );
}

#[actix_web::test]
async fn undo_is_refused_when_a_record_changed_since() {
    let (app, admin) = with_admin().await;
    let files = vec![contacts(&[&["c1", "Ana", "Lima", "", ""]])];
    let (id, r) = run(&app, &admin, files, &options(OnMatch::Skip)).await;
    let patch = ContactPatch {
        title: Some(Some("CEO".into())),
        ..ContactPatch::default()
    };
    contacts::update(&app.db, &admin, record(&r, CT, 0), patch)
        .await
        .expect("edit");
    undo_refused(&app, &admin, id, "contacts", 1).await;
}

#[actix_web::test]
async fn undo_is_refused_when_an_imported_contact_was_tagged_since() {
    let (app, admin) = with_admin().await;
    let files = vec![contacts(&[&["c1", "Ana", "Lima", "", ""]])];
    let (id, r) = run(&app, &admin, files, &options(OnMatch::Skip)).await;
    let selection = bulk::Selection::Ids(vec![record(&r, CT, 0)]);
    let req = bulk::Request {
        selection: &selection,
        action: bulk::Action::Tag,
        owner_id: None,
        tag: Some("vip"),
        expected: None,
    };
    let tagged = bulk::apply::<Contact>(&app.db, &admin, req).await;
    assert_eq!(tagged.expect("bulk tag"), 1);
    undo_refused(&app, &admin, id, "contacts", 1).await;
}

#[actix_web::test]
async fn undo_is_refused_when_an_imported_contact_s_tags_were_edited_on_its_own() {
    let (app, admin) = with_admin().await;
    let files = vec![contacts(&[&["c1", "Ana", "Lima", "", ""]])];
    let (id, r) = run(&app, &admin, files, &options(OnMatch::Skip)).await;
    let patch = ContactPatch {
        tags: Some(vec!["vip".into()]),
        ..ContactPatch::default()
    };
    contacts::update(&app.db, &admin, record(&r, CT, 0), patch)
        .await
        .expect("tag edit");
    undo_refused(&app, &admin, id, "contacts", 1).await;
}

#[actix_web::test]
async fn the_integrity_report_checks_links_and_counts() {
    let (app, admin) = with_admin().await;
    let files = vec![
        companies(&[&["a1", "Acme", ""], &["a2", "Globex", ""]]),
        contacts(&[
            &["c1", "Ana", "Lima", "", "a1"],
            &["c2", "Bo", "Berg", "", ""],
        ]),
    ];
    let (id, _) = run(&app, &admin, files, &options(OnMatch::Skip)).await;
    let i = integrity_of(&app, &admin, id).await;
    assert!(i.ok(), "{i:#?}");
    let (co, ct) = (&i.kinds["companies"], &i.kinds["contacts"]);
    assert_eq!((co.rows, co.created, co.present), (2, 2, 2));
    // Two owners and one company link.
    assert_eq!((ct.rows, ct.present, ct.links), (2, 2, 3));
    assert!(i.broken.is_empty());
}

#[actix_web::test]
async fn a_run_that_died_part_way_is_reverted_and_run_again() {
    use cairn::entities::import;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    let (app, admin) = with_admin().await;
    let files = vec![contacts(&[
        &["c1", "Ana", "Lima", "", ""],
        &["c2", "Bo", "Berg", "", ""],
    ])];
    let (id, _) = run(&app, &admin, files, &options(OnMatch::Skip)).await;
    // As a process that died while writing leaves it: running, its rows written.
    let imp = import::Entity::find_by_id(id)
        .one(&app.db.read)
        .await
        .unwrap()
        .unwrap();
    let mut am: import::ActiveModel = imp.into();
    am.status = Set("running".into());
    am.update(&app.db.write).await.unwrap();
    let r = run_job(&app, id).await;
    assert!(r.written);
    assert_eq!(app.count("contacts").await, 2, "no contact twice");
    assert_eq!(
        app.count("import_changes").await,
        2,
        "one change per contact"
    );
}

/// Imports company Acme and its contact Ana: (import, Acme's id, Ana's id).
async fn acme_and_ana(app: &TestApp, admin: &Actor) -> (i64, i64, i64) {
    let files = vec![
        companies(&[&["a1", "Acme", ""]]),
        contacts(&[&["c1", "Ana", "Lima", "", "a1"]]),
    ];
    let (id, r) = run(app, admin, files, &options(OnMatch::Skip)).await;
    (id, record(&r, ObjectKind::Company, 0), record(&r, CT, 0))
}

/// The rows of every table undo deletes from or a deletion cascades to.
async fn counts(app: &TestApp) -> Vec<i64> {
    let mut n = Vec::new();
    for table in [
        "companies",
        "contacts",
        "deals",
        "deal_contacts",
        "activities",
        "tasks",
        "import_changes",
    ] {
        n.push(app.count_where(table, "").await);
    }
    n
}

/// Undo of import `id` is refused before it starts, saying `says`, and nothing is
/// deleted.
async fn refused(app: &TestApp, admin: &Actor, id: i64, says: &str) {
    let before = counts(app).await;
    let err = undo::undo(&app.db, admin, id)
        .await
        .expect_err("undo refused");
    assert_eq!(err.code(), "conflict", "{err}");
    let whole = format!("The import cannot be undone: {says}");
    assert!(
        err.to_string().contains(&whole),
        "expected {whole:?} in: {err}"
    );
    assert_eq!(counts(app).await, before, "nothing deleted");
}

#[actix_web::test]
async fn undo_is_refused_when_a_call_was_logged_on_an_imported_contact() {
    let (app, admin) = with_admin().await;
    let (id, _, ana) = acme_and_ana(&app, &admin).await;
    let call = json!({"kind": "call", "body": "Rang Ana", "contact_id": ana});
    let call = serde_json::from_value(call).expect("activity input");
    activities::create(&app.db, &admin, &call)
        .await
        .expect("call logged");
    refused(
        &app,
        &admin,
        id,
        "1 activity was added to or linked with its records",
    )
    .await;
}

#[actix_web::test]
async fn undo_is_refused_when_a_task_is_about_an_imported_company() {
    let (app, admin) = with_admin().await;
    let (id, acme, _) = acme_and_ana(&app, &admin).await;
    let task = json!({"title": "Send the offer", "company_id": acme});
    let task = serde_json::from_value(task).expect("task input");
    tasks::create(&app.db, &admin, &task)
        .await
        .expect("task created");
    refused(&app, &admin, id, "1 task was added").await;
}

#[actix_web::test]
async fn undo_is_refused_when_a_deal_made_since_links_an_imported_contact() {
    let (app, admin) = with_admin().await;
    let (id, _, ana) = acme_and_ana(&app, &admin).await;
    let deal = json!({"title": "Pilot", "contact_ids": [ana]});
    let deal = serde_json::from_value(deal).expect("deal input");
    deals::create(&app.db, &admin, &deal)
        .await
        .expect("deal created");
    refused(&app, &admin, id, "1 deal link was added").await;
}

#[actix_web::test]
async fn undo_is_refused_when_a_contact_made_by_hand_works_at_an_imported_company() {
    let (app, admin) = with_admin().await;
    let (id, acme, _) = acme_and_ana(&app, &admin).await;
    let bo = json!({"first_name": "Bo", "last_name": "Berg", "company_id": acme});
    let bo = serde_json::from_value(bo).expect("contact input");
    let bo = contacts::create(&app.db, &admin, &bo)
        .await
        .expect("contact created");
    assert_eq!(bo.company_id, Some(acme), "Bo works at Acme");
    refused(&app, &admin, id, "1 contact was added").await;
}

#[actix_web::test]
async fn undo_is_refused_when_another_import_linked_contacts_to_its_company() {
    let (app, admin) = with_admin().await;
    let (id, acme, _) = acme_and_ana(&app, &admin).await;
    let files = vec![contacts(&[
        &["c2", "Bo", "Berg", "", "a1"],
        &["c3", "Cy", "Cruz", "", "a1"],
    ])];
    let (_, r) = run(&app, &admin, files, &options(OnMatch::Skip)).await;
    let bo = contacts::get(&app.db, &admin, record(&r, CT, 0)).await;
    assert_eq!(
        bo.expect("Bo").company_id,
        Some(acme),
        "linked by source id"
    );
    refused(&app, &admin, id, "2 contacts were added").await;
}

#[actix_web::test]
async fn undo_removes_records_that_link_only_to_each_other() {
    let (app, admin) = with_admin().await;
    let about_ana = [("Contact", Target::LinkId(CT))];
    let files = vec![
        companies(&[&["a1", "Acme", ""]]),
        contacts(&[&["c1", "Ana", "Lima", "", "a1"]]),
        file(
            "notes.csv",
            ObjectKind::Activity,
            &[
                ("Id", Target::SourceId),
                ("Body", field("body")),
                about_ana[0].clone(),
            ],
            &[&["n1", "Met Ana", "c1"]],
        ),
        file(
            "tasks.csv",
            ObjectKind::Task,
            &[
                ("Id", Target::SourceId),
                ("Title", field("title")),
                about_ana[0].clone(),
            ],
            &[&["t1", "Call Ana", "c1"]],
        ),
        file(
            "deals.csv",
            ObjectKind::Deal,
            &[
                ("Id", Target::SourceId),
                ("Title", field("title")),
                ("Account", Target::LinkId(ObjectKind::Company)),
                ("Contacts", Target::LinkIds(CT)),
            ],
            &[&["d1", "Pilot", "a1", "c1"]],
        ),
    ];
    let (id, r) = run(&app, &admin, files, &options(OnMatch::Skip)).await;
    assert!(r.written, "the import was written");
    assert_eq!(counts(&app).await[..6], [1, 1, 1, 1, 1, 1], "all imported");
    undo::undo(&app.db, &admin, id).await.expect("undo");
    assert_eq!(counts(&app).await, [0; 7], "all removed");
}
