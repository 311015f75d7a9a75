//! Importing activities and tasks: Salesforce tasks linked by either id form, Pipedrive
//! activities with their type and done flag, due dates in the import's zone, links that
//! hold nothing, re-imports, the dry run, undo with the timeline's roll-ups back, and the
//! contact's timeline page.
use std::collections::BTreeMap;
use std::io::Cursor;

use cairn::domain::import::apply::{Options, Report, job, store, undo};
use cairn::domain::import::read::CsvFile;
use cairn::domain::import::{FileSpec, ObjectKind, OnMatch, Target, presets};
use cairn::domain::{Actor, contacts};
use cairn::entities::{activity, activity_hour, task};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use sea_orm::EntityTrait;

use crate::import_given::*;
use crate::support::{PASSWORD, TestApp};

use cairn::domain::import::apply::Outcome::{Created, Failed, Skipped, Updated};

const AC: ObjectKind = ObjectKind::Activity;
const TK: ObjectKind = ObjectKind::Task;

/// An activities file: source id, kind, body, when, the contact's source id.
fn acts(rows: &[&[&str]]) -> File {
    file(
        "notes.csv",
        AC,
        &[
            ("Id", Target::SourceId),
            ("Type", field("kind")),
            ("Body", field("body")),
            ("When", field("occurred_at")),
            ("Contact", Target::LinkId(ObjectKind::Contact)),
        ],
        rows,
    )
}

/// A tasks file: source id, title, due time, due date, done, the contact's source id.
fn todo(rows: &[&[&str]]) -> File {
    file(
        "tasks.csv",
        TK,
        &[
            ("Id", Target::SourceId),
            ("Title", field("title")),
            ("Due at", field("due_at")),
            ("Due date", field("due_date")),
            ("Done", field("done")),
            ("Contact", Target::LinkId(ObjectKind::Contact)),
        ],
        rows,
    )
}

fn in_zone(zone: &str) -> Options {
    Options {
        zone: Some(zone.into()),
        ..options(OnMatch::Skip)
    }
}

/// Imports files described by their system's preset from their names and headers.
async fn import_exports(
    app: &TestApp,
    admin: &Actor,
    files: &[(&str, String)],
    o: Options,
) -> Report {
    let specs: Vec<FileSpec> = files
        .iter()
        .map(|(name, text)| {
            let csv = CsvFile::open(Cursor::new(text.clone().into_bytes())).expect("opens");
            presets::describe(name, csv.headers(), None, None, &[])
                .unwrap_or_else(|| panic!("{name} is recognised"))
        })
        .collect();
    let o = Options {
        system: specs[0].system,
        ..o
    };
    let uploads = files
        .iter()
        .map(|(name, text)| store::Upload {
            name: name.to_string(),
            bytes: text.clone().into_bytes(),
        })
        .collect();
    let id = store::create(&app.db, admin, uploads, &o)
        .await
        .expect("create");
    store::set_files(&app.db, admin, id, &specs, &o)
        .await
        .expect("describe");
    let r = job::run(&app.db, id).await.expect("run");
    assert!(r.written, "the files import whole: {r:#?}");
    r
}

async fn task_row(app: &TestApp, id: i64) -> task::Model {
    task::Entity::find_by_id(id)
        .one(&app.db.read)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("task {id} exists"))
}

async fn activity_row(app: &TestApp, id: i64) -> activity::Model {
    activity::Entity::find_by_id(id)
        .one(&app.db.read)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("activity {id} exists"))
}

#[actix_web::test]
async fn salesforce_tasks_link_to_contacts_of_the_same_import_by_either_id_form() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    let contacts_csv = "Id,IsDeleted,LastName,FirstName,Email,OwnerId\r\n\
        0035000000Ctc01AAB,false,Dubois,Amélie,amelie@acme.example,\r\n\
        0035000000Ctc02AAB,false,Grün,Jürgen,juergen@acme.example,\r\n";
    // WhoId in its 15-character form on the first task; a WhatId naming an account
    // (prefix 001) that no file holds is a link that holds nothing.
    let tasks_csv = "Id,WhoId,WhatId,Subject,ActivityDate,Status,Priority,IsClosed,OwnerId,IsDeleted\r\n\
        00T5000000Tsk01EAB,0035000000Ctc01,,Appeler Amélie,2024-02-05,Completed,High,true,,false\r\n\
        00T5000000Tsk02EAB,0035000000Ctc02AAB,,Offre,2024-03-01,Not Started,Normal,false,,false\r\n";
    let files = [
        ("Contact.csv", contacts_csv.to_string()),
        ("Task.csv", tasks_csv.to_string()),
    ];
    let r = import_exports(&app, &admin, &files, in_zone("Europe/Paris")).await;
    assert_eq!(outcomes(&r, TK), [Created, Created], "{r:#?}");
    let (first, second) = (
        task_row(&app, record(&r, TK, 0)).await,
        task_row(&app, record(&r, TK, 1)).await,
    );
    assert_eq!(first.contact_id, Some(record(&r, ObjectKind::Contact, 0)));
    assert_eq!(second.contact_id, Some(record(&r, ObjectKind::Contact, 1)));
    assert_eq!(
        (first.done, first.priority.as_str(), first.due_date),
        (true, "high", NaiveDate::from_ymd_opt(2024, 2, 5)),
        "Completed and closed is done"
    );
    assert!(!second.done, "Not Started is open");
    assert_eq!(app.count("import_sources").await, 4, "every source id kept");
}

#[actix_web::test]
async fn pipedrive_activities_become_tasks_with_their_type_and_done_flag() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    let people = "Person - ID,Person - Name,Person - First name,Person - Last name\r\n\
        71,Åsa Lindqvist,Åsa,Lindqvist\r\n";
    let activities_csv = "Activity - ID,Activity - Subject,Activity - Type,Activity - Done,Activity - Due date,Activity - Contact person\r\n\
        901,Call Åsa,call,Done,2024-02-01,Åsa Lindqvist\r\n\
        902,Send the offer,task,To do,2030-02-10,Åsa Lindqvist\r\n";
    let files = [
        ("people-8811-20240201.csv", people.to_string()),
        ("activities-8811-20240201.csv", activities_csv.to_string()),
    ];
    let r = import_exports(&app, &admin, &files, in_zone("Europe/Stockholm")).await;
    let asa = record(&r, ObjectKind::Contact, 0);
    let (call, offer) = (
        task_row(&app, record(&r, TK, 0)).await,
        task_row(&app, record(&r, TK, 1)).await,
    );
    assert_eq!(
        (call.done, call.notes.as_deref(), call.contact_id),
        (true, Some("Type: call"), Some(asa)),
        "a done call keeps its type"
    );
    assert_eq!(
        (offer.done, offer.notes, offer.contact_id),
        (false, None, Some(asa))
    );
}

#[actix_web::test]
async fn tasks_are_due_and_done_in_the_imports_zone() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    let files = vec![todo(&[
        &["t1", "Call back", "2024-03-10 09:00", "", "yes", ""],
        &["t2", "Renew", "", "31.01.2030", "no", ""],
    ])];
    let (_, r) = run(&app, &admin, files, &in_zone("Europe/Berlin")).await;
    let (call, renew) = (
        task_row(&app, record(&r, TK, 0)).await,
        task_row(&app, record(&r, TK, 1)).await,
    );
    let nine_in_berlin = Utc.with_ymd_and_hms(2024, 3, 10, 8, 0, 0).unwrap();
    assert_eq!(call.due_at, Some(nine_in_berlin), "09:00 in Berlin");
    assert_eq!(
        (call.done, call.done_at),
        (true, Some(nine_in_berlin)),
        "done when it was due"
    );
    assert_eq!(
        (renew.due_date, renew.done, renew.done_at),
        (NaiveDate::from_ymd_opt(2030, 1, 31), false, None)
    );
}

#[actix_web::test]
async fn a_link_that_holds_nothing_and_a_row_about_nothing_fail_with_why() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    let files = vec![acts(&[
        &["n1", "note", "Lost", "2024-01-31T12:00:00Z", "c9"],
        &["n2", "note", "Adrift", "2024-01-31T12:00:00Z", ""],
    ])];
    let (_, r) = run(&app, &admin, files, &options(OnMatch::Skip)).await;
    assert!(!r.written, "one failed row and nothing is written");
    let reasons: Vec<String> = rows(&r, AC).iter().map(|x| x.reasons.join(" ")).collect();
    assert_eq!(outcomes(&r, AC), [Failed, Failed], "{r:#?}");
    assert!(
        reasons[0].contains("Contact with source id c9 is in no file"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("An activity belongs to a record"),
        "{reasons:?}"
    );
    assert_eq!(app.count("activities").await, 0);
}

#[actix_web::test]
async fn a_reimport_by_source_id_skips_or_updates() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    let files = |body: &str| {
        vec![
            contacts(&[&["c1", "Ana", "Lima", "", ""]]),
            acts(&[&["n1", "Call", body, "2024-01-31T12:00:00Z", "c1"]]),
        ]
    };
    let (_, first) = run(&app, &admin, files("Spoke"), &options(OnMatch::Skip)).await;
    let id = record(&first, AC, 0);
    let (_, again) = run(&app, &admin, files("Spoke"), &options(OnMatch::Skip)).await;
    assert_eq!(outcomes(&again, AC), [Skipped]);
    let (_, changed) = run(
        &app,
        &admin,
        files("Spoke twice"),
        &options(OnMatch::Update),
    )
    .await;
    assert_eq!(outcomes(&changed, AC), [Updated], "{changed:#?}");
    let a = activity_row(&app, id).await;
    assert_eq!((a.kind.as_str(), a.body.as_str()), ("call", "Spoke twice"));
    assert_eq!(app.count("activities").await, 1, "never a second copy");
}

#[actix_web::test]
async fn a_dry_run_writes_no_activity_or_task() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    let files = vec![
        contacts(&[&["c1", "Ana", "Lima", "", ""]]),
        acts(&[&["n1", "meeting", "Met", "2024-01-31T12:00:00Z", "c1"]]),
        todo(&[&["t1", "Follow up", "", "2024-02-01", "", "c1"]]),
    ];
    let r = dry(&app, &admin, files, &options(OnMatch::Skip)).await;
    assert_eq!(
        (outcomes(&r, AC), outcomes(&r, TK)),
        (vec![Created], vec![Created])
    );
    assert_eq!(
        (app.count("activities").await, app.count("tasks").await),
        (0, 0)
    );
}

/// The hourly activity counters that are not zero.
async fn hours(app: &TestApp) -> BTreeMap<(String, i64, String), i64> {
    activity_hour::Entity::find()
        .all(&app.db.read)
        .await
        .unwrap()
        .into_iter()
        .filter(|h| h.n != 0)
        .map(|h| ((h.hour.to_rfc3339(), h.author_id, h.kind), h.n))
        .collect()
}

#[actix_web::test]
async fn undo_removes_them_and_the_timeline_roll_ups_are_back() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    let (_, r) = run(
        &app,
        &admin,
        vec![contacts(&[&["c1", "Ana", "Lima", "", ""]])],
        &options(OnMatch::Skip),
    )
    .await;
    let ana = record(&r, ObjectKind::Contact, 0);
    let interacted = " WHERE first_interaction_at IS NOT NULL";
    let soon = (Utc::now() + Duration::hours(2)).to_rfc3339();
    let files = vec![
        acts(&[&["n1", "call", "Called", &soon, "c1"]]),
        todo(&[&["t1", "Sent", "", "", "true", "c1"]]),
    ];
    let (id, r) = run(&app, &admin, files, &options(OnMatch::Skip)).await;
    assert!(r.written, "{r:#?}");
    assert_eq!(
        hours(&app).await.values().sum::<i64>(),
        1,
        "the call is counted"
    );
    assert_eq!(app.count_where("contacts", interacted).await, 1);
    undo::undo(&app.db, &admin, id).await.expect("undo");
    assert_eq!(
        (app.count("activities").await, app.count("tasks").await),
        (0, 0)
    );
    assert!(
        hours(&app).await.is_empty(),
        "the counters are back at zero"
    );
    assert_eq!(
        app.count_where("contacts", interacted).await,
        0,
        "Ana's first interaction is gone with them"
    );
    let c = contacts::get(&app.db, &admin, ana).await.unwrap();
    assert_eq!(c.id, ana, "the contact stays");
}

#[actix_web::test]
async fn imported_activities_show_on_the_contacts_timeline() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    let files = vec![
        contacts(&[&["c1", "Ana", "Lima", "", ""]]),
        acts(&[&[
            "n1",
            "LinkedIn",
            "Liked the post",
            "2024-01-31T12:00:00Z",
            "c1",
        ]]),
    ];
    let (_, r) = run(&app, &admin, files, &options(OnMatch::Skip)).await;
    let note = activity_row(&app, record(&r, AC, 0)).await;
    assert_eq!(
        (note.kind.as_str(), note.body.as_str()),
        ("note", "LinkedIn: Liked the post"),
        "an unknown type is a note that keeps it"
    );
    assert!(
        rows(&r, AC)[0].reasons[0].contains("none of Cairn's"),
        "the report says so"
    );
    let mut c = app.client().await;
    c.sign_in("admin@example.com", PASSWORD).await;
    let page = c
        .get(&format!("/contacts/{}", record(&r, ObjectKind::Contact, 0)))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Liked the post"), "{}", page.text());
}
