//! Owners the files name who are not Cairn users (a colleague who left): such a row
//! fails, unless the user chose to import it as theirs, noted in the report.
use cairn::domain::import::apply::{Options, Outcome};
use cairn::domain::import::{ObjectKind, OnMatch, Target};
use cairn::entities::{contact, task};
use sea_orm::EntityTrait;

use crate::import_given::*;

const CT: ObjectKind = ObjectKind::Contact;
const TK: ObjectKind = ObjectKind::Task;

/// A contacts file and a tasks file, each naming `owner`.
fn files(owner: &str) -> Vec<File> {
    vec![
        sourced(
            "contacts.csv",
            CT,
            "id",
            &[("first", "first_name"), ("last", "last_name")],
            &[("owner", Target::Owner)],
            &[&["c1", "Ana", "Lima", owner]],
        ),
        sourced(
            "tasks.csv",
            TK,
            "id",
            &[("title", "title")],
            &[("assigned", Target::Owner)],
            &[&["t1", "Call back", owner]],
        ),
    ]
}

fn to_me() -> Options {
    Options {
        unknown_owners_to_me: true,
        ..options(OnMatch::Skip)
    }
}

#[actix_web::test]
async fn an_owner_who_is_no_user_fails_the_row_by_default() {
    let (app, admin) = with_admin().await;
    let r = dry(&app, &admin, files("Peter Former"), &options(OnMatch::Skip)).await;
    assert_eq!(
        (outcomes(&r, CT), outcomes(&r, TK)),
        (vec![Outcome::Failed], vec![Outcome::Failed]),
        "{r:#?}"
    );
}

#[actix_web::test]
async fn chosen_so_a_row_whose_owner_is_no_user_is_the_importers_with_a_note() {
    let (app, admin) = with_admin().await;
    let (_, r) = run(&app, &admin, files("Peter Former"), &to_me()).await;
    assert_eq!(
        (outcomes(&r, CT), outcomes(&r, TK)),
        (vec![Outcome::Created], vec![Outcome::Created]),
        "{r:#?}"
    );
    let note = rows(&r, CT)[0].reasons.join(" ");
    assert!(
        note.contains("“Peter Former” is not a Cairn user"),
        "{note}"
    );
    let c = contact::Entity::find_by_id(record(&r, CT, 0))
        .one(&app.db.read)
        .await
        .expect("read the contact")
        .expect("the contact");
    let t = task::Entity::find_by_id(record(&r, TK, 0))
        .one(&app.db.read)
        .await
        .expect("read the task")
        .expect("the task");
    assert_eq!((c.owner_id, t.assignee_id), (admin.id, admin.id));
}

#[actix_web::test]
async fn chosen_so_a_known_owner_still_owns_their_row() {
    let (app, admin) = with_admin().await;
    let rita = app.user("rita@example.com", "rep").await;
    let (_, r) = run(&app, &admin, files("rita@example.com"), &to_me()).await;
    assert!(rows(&r, CT)[0].reasons.is_empty(), "no note: {r:#?}");
    let c = contact::Entity::find_by_id(record(&r, CT, 0))
        .one(&app.db.read)
        .await
        .expect("read the contact")
        .expect("the contact");
    assert_eq!(c.owner_id, rita.id);
}

#[actix_web::test]
async fn an_owner_named_without_the_accents_of_their_cairn_name_is_found() {
    let (app, admin) = with_admin().await;
    let new = cairn::domain::users::NewUser {
        email: "jose@example.com".into(),
        name: "José Núñez".into(),
        password: crate::support::PASSWORD.into(),
        role: "rep".into(),
    };
    let jose = cairn::domain::users::create(&app.db, None, &new)
        .await
        .expect("create José");
    let (_, r) = run(&app, &admin, files("jose nunez"), &options(OnMatch::Skip)).await;
    let c = contact::Entity::find_by_id(record(&r, CT, 0))
        .one(&app.db.read)
        .await
        .expect("read the contact")
        .expect("the contact");
    assert_eq!(c.owner_id, jose.id, "{r:#?}");
}
