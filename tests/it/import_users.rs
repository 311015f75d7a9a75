//! Users files: a row with an email no user has makes a deactivated user without a
//! password, who owns what the files give them; the dry run only says so; undo removes
//! them; an invitation to their address takes them up.
use cairn::domain::import::apply::{Options, Outcome, undo};
use cairn::domain::import::{ObjectKind, OnMatch, System, Target};
use cairn::domain::{contacts, invites, users};
use cairn::entities::user;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::import_given::*;
use crate::support::TestApp;

use Outcome::{Created, Skipped};

const US: ObjectKind = ObjectKind::User;
const CT: ObjectKind = ObjectKind::Contact;

/// A users file: source id, email, name, role.
fn people(rows: &[&[&str]]) -> File {
    let cols = [("email", "email"), ("name", "name"), ("role", "role")];
    sourced("users.csv", US, "id", &cols, &[], rows)
}

/// A contacts file whose owner column names users by source id.
fn owned(rows: &[&[&str]]) -> File {
    let names = [("first_name", "first_name"), ("last_name", "last_name")];
    sourced(
        "contacts.csv",
        CT,
        "id",
        &names,
        &[("owner_id", Target::Owner)],
        rows,
    )
}

fn cairn(on_match: OnMatch) -> Options {
    Options {
        system: System::Cairn,
        ..options(on_match)
    }
}

async fn user_by_email(app: &TestApp, email: &str) -> Option<user::Model> {
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(&app.db.read)
        .await
        .expect("read users")
}

#[actix_web::test]
async fn a_new_email_makes_a_deactivated_user_who_owns_their_records() {
    let (app, admin) = with_admin().await;
    let files = vec![
        people(&[
            &["u1", "admin@example.com", "Admin", "admin"],
            &["u2", "rita@example.com", "Rita Rep", "manager"],
        ]),
        owned(&[&["c1", "Ana", "Lima", "u2"]]),
    ];
    let (_, r) = run(&app, &admin, files, &cairn(OnMatch::Skip)).await;
    assert_eq!(outcomes(&r, US), [Skipped, Created], "{r:#?}");
    let rita = user_by_email(&app, "rita@example.com")
        .await
        .expect("Rita was created");
    assert_eq!(
        (rita.active, rita.role.as_str(), rita.name.as_str()),
        (false, "manager", "Rita Rep"),
        "deactivated, with the role of Cairn's own file"
    );
    assert!(users::is_unclaimed(&rita), "no password: {rita:?}");
    assert_eq!(record(&r, US, 1), rita.id, "the report names the new user");
    let ana = contacts::get(&app.db, &admin, record(&r, CT, 0))
        .await
        .expect("Ana imported");
    assert_eq!(ana.owner_id, rita.id, "Ana keeps her owner");
}

#[actix_web::test]
async fn a_file_never_makes_an_admin_and_other_systems_make_reps() {
    let (app, admin) = with_admin().await;
    let (_, r) = run(
        &app,
        &admin,
        vec![people(&[&["u2", "boss@example.com", "Boss", "admin"]])],
        &cairn(OnMatch::Skip),
    )
    .await;
    assert_eq!(outcomes(&r, US), [Created], "{r:#?}");
    let boss = user_by_email(&app, "boss@example.com").await.expect("Boss");
    assert_eq!(boss.role, "rep", "an admin in the file becomes a rep");
    let files = vec![people(&[&["u3", "gen@example.com", "Gen", "viewer"]])];
    let (_, r) = run(&app, &admin, files, &options(OnMatch::Skip)).await;
    assert_eq!(outcomes(&r, US), [Created], "{r:#?}");
    let gen_ = user_by_email(&app, "gen@example.com").await.expect("Gen");
    assert_eq!(gen_.role, "rep", "a generic file's role is not taken");
}

#[actix_web::test]
async fn the_dry_run_says_who_it_would_create_and_creates_nobody() {
    let (app, admin) = with_admin().await;
    let files = vec![
        people(&[&["u2", "rita@example.com", "Rita Rep", "rep"]]),
        owned(&[&["c1", "Ana", "Lima", "u2"]]),
    ];
    let r = dry(&app, &admin, files, &cairn(OnMatch::Skip)).await;
    assert_eq!(
        (outcomes(&r, US), outcomes(&r, CT)),
        (vec![Created], vec![Created]),
        "{r:#?}"
    );
    assert!(
        rows(&r, US)[0]
            .reasons
            .iter()
            .any(|m| m.contains("deactivated")),
        "the row says how the user is made: {r:#?}"
    );
    assert_eq!(app.count("users").await, 1, "only the admin");
}

#[actix_web::test]
async fn undo_removes_the_users_the_import_created() {
    let (app, admin) = with_admin().await;
    let files = vec![
        people(&[&["u2", "rita@example.com", "Rita Rep", "rep"]]),
        owned(&[&["c1", "Ana", "Lima", "u2"]]),
    ];
    let (id, _) = run(&app, &admin, files, &cairn(OnMatch::Skip)).await;
    let integrity = integrity_of(&app, &admin, id).await;
    let k = &integrity.kinds["users"];
    assert_eq!(
        (k.created, k.written, k.present),
        (1, 1, 1),
        "{integrity:#?}"
    );
    undo::undo(&app.db, &admin, id).await.expect("undo");
    assert_eq!(
        (app.count("users").await, app.count("contacts").await),
        (1, 0),
        "Rita went with Ana"
    );
}

#[actix_web::test]
async fn an_invitation_takes_up_an_imported_user_with_their_records() {
    let (app, admin) = with_admin().await;
    let files = vec![
        people(&[&["u2", "rita@example.com", "Rita", "rep"]]),
        owned(&[&["c1", "Ana", "Lima", "u2"]]),
    ];
    let (_, r) = run(&app, &admin, files, &cairn(OnMatch::Skip)).await;
    invites::create(&app.db, &admin, "rita@example.com", "manager")
        .await
        .expect("an imported user may be invited");
    let secret = crate::invites::secret_sent_to(&app, "rita@example.com").await;
    let rita = invites::accept(&app.db, &secret, "Rita Rocha", "a long enough passphrase")
        .await
        .expect("accepting");
    assert_eq!(
        (rita.id, rita.active, rita.role.as_str()),
        (record(&r, US, 0), true, "manager"),
        "the same user, active, with the invited role"
    );
    assert_eq!(app.count("users").await, 2, "no second Rita");
}

/// A tasks file whose owner column (the assignee) names users by source id.
fn assigned(rows: &[&[&str]]) -> File {
    file(
        "tasks.csv",
        ObjectKind::Task,
        &[("title", field("title")), ("assignee_id", Target::Owner)],
        rows,
    )
}

#[actix_web::test]
async fn a_user_the_import_creates_is_assigned_their_tasks() {
    let (app, admin) = with_admin().await;
    let files = || {
        vec![
            people(&[&["u2", "rita@example.com", "Rita Rep", "rep"]]),
            assigned(&[&["Call back", "u2"]]),
        ]
    };
    let r = dry(&app, &admin, files(), &cairn(OnMatch::Skip)).await;
    assert_eq!(outcomes(&r, ObjectKind::Task), [Created], "dry run: {r:#?}");
    let (_, r) = run(&app, &admin, files(), &cairn(OnMatch::Skip)).await;
    assert_eq!(outcomes(&r, ObjectKind::Task), [Created], "run: {r:#?}");
    let rita = user_by_email(&app, "rita@example.com").await.expect("Rita");
    let task = cairn::entities::task::Entity::find_by_id(record(&r, ObjectKind::Task, 0))
        .one(&app.db.read)
        .await
        .expect("read the task")
        .expect("the task");
    assert_eq!(task.assignee_id, rita.id, "the task is Rita's");
}
