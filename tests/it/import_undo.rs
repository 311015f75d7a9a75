//! Undoing an import, and the integrity report kept with it.
use cairn::domain::contacts::{self, ContactPatch};
use cairn::domain::import::apply::{store, undo};
use cairn::domain::import::{ObjectKind, OnMatch};

use crate::import_given::*;

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
