//! Applying imports: what each choice on a match does, links across files, a missing
//! link, the dry run, owners and new custom fields.
use cairn::domain::import::apply::{Outcome, store};
use cairn::domain::import::{ObjectKind, OnMatch, Target};
use cairn::domain::{contacts, custom_fields};

use crate::import_given::*;

use Outcome::{Created, Failed, Skipped, Updated};

const CO: ObjectKind = ObjectKind::Company;
const CT: ObjectKind = ObjectKind::Contact;

#[actix_web::test]
async fn new_rows_are_created_with_their_fields() {
    let (app, admin) = with_admin().await;
    let file = contacts(&[&["c1", "Ana", "Lima", "ana@example.com", ""]]);
    let (_, r) = run(&app, &admin, vec![file], &options(OnMatch::Skip)).await;
    assert_eq!(outcomes(&r, CT), [Created], "{r:#?}");
    let c = contacts::get(&app.db, &admin, record(&r, CT, 0))
        .await
        .unwrap();
    assert_eq!(
        (c.first_name.as_str(), c.email.as_deref()),
        ("Ana", Some("ana@example.com"))
    );
    assert_eq!(
        c.source, "import",
        "imported contacts say where they came from"
    );
}

#[actix_web::test]
async fn a_match_is_skipped_updated_or_created_as_chosen() {
    let (app, admin) = with_admin().await;
    let first = || contacts(&[&["c1", "Ana", "Lima", "ana@example.com", ""]]);
    let (_, r) = run(&app, &admin, vec![first()], &options(OnMatch::Skip)).await;
    let id = record(&r, CT, 0);
    let (_, r) = run(&app, &admin, vec![first()], &options(OnMatch::Skip)).await;
    assert_eq!(
        outcomes(&r, CT),
        [Skipped],
        "a second import of one row skips it"
    );
    let renamed = contacts(&[&["c1", "Anna", "Lima", "ana@example.com", ""]]);
    let (_, r) = run(&app, &admin, vec![renamed], &options(OnMatch::Update)).await;
    assert_eq!(outcomes(&r, CT), [Updated]);
    let c = contacts::get(&app.db, &admin, id).await.unwrap();
    assert_eq!(c.first_name, "Anna", "the update took the file's name");
    // Creating beside a match: without an email a second contact is made.
    let no_email = || contacts(&[&["c9", "Bo", "Berg", "", ""]]);
    run(&app, &admin, vec![no_email()], &options(OnMatch::Skip)).await;
    let (_, r) = run(&app, &admin, vec![no_email()], &options(OnMatch::Create)).await;
    assert_eq!(outcomes(&r, CT), [Created]);
    assert_eq!(app.count("contacts").await, 3, "Ana once, Bo twice");
}

#[actix_web::test]
async fn a_repeated_row_without_id_or_email_fails_and_names_the_first() {
    let (app, admin) = with_admin().await;
    let file = contacts(&[
        &["", "Bo", "Berg", "", ""],
        &["", "Bo", "Berg", "", ""],
        &["", "Bo", "Bergman", "", ""],
    ]);
    let (_, r) = run(&app, &admin, vec![file], &valid_rows(OnMatch::Skip)).await;
    assert_eq!(outcomes(&r, CT), [Created, Failed, Created], "{r:#?}");
    let repeat = rows(&r, CT)[1];
    assert!(
        repeat.reasons.iter().any(|m| m.contains("Repeats row 2")),
        "names the row it repeats: {repeat:?}"
    );
    assert_eq!(
        app.count("contacts").await,
        2,
        "Bo Berg once, Bo Bergman once"
    );
}

#[actix_web::test]
async fn contacts_link_to_companies_in_either_file_order_without_duplicates() {
    let (app, admin) = with_admin().await;
    let files = || {
        vec![
            contacts(&[&["c1", "Ana", "Lima", "ana@example.com", "a1"]]),
            companies(&[&["a1", "Acme", "acme.test"]]),
        ]
    };
    let (_, r) = run(&app, &admin, files(), &options(OnMatch::Skip)).await;
    let c = contacts::get(&app.db, &admin, record(&r, CT, 0))
        .await
        .unwrap();
    assert_eq!(
        c.company_id,
        Some(record(&r, CO, 0)),
        "the contact links to its company"
    );
    let (_, r) = run(&app, &admin, files(), &options(OnMatch::Skip)).await;
    assert_eq!(
        (outcomes(&r, CT), outcomes(&r, CO)),
        (vec![Skipped], vec![Skipped])
    );
    assert_eq!(
        (app.count("contacts").await, app.count("companies").await),
        (1, 1)
    );
}

#[actix_web::test]
async fn a_later_import_links_to_records_of_an_earlier_one() {
    let (app, admin) = with_admin().await;
    let files = vec![companies(&[&["a1", "Acme", ""]])];
    let (_, first) = run(&app, &admin, files, &options(OnMatch::Skip)).await;
    let later = contacts(&[&["c1", "Ana", "Lima", "", "a1"]]);
    let (_, r) = run(&app, &admin, vec![later], &options(OnMatch::Skip)).await;
    let c = contacts::get(&app.db, &admin, record(&r, CT, 0))
        .await
        .unwrap();
    assert_eq!(c.company_id, Some(record(&first, CO, 0)));
}

#[actix_web::test]
async fn a_failed_row_writes_nothing() {
    let (app, admin) = with_admin().await;
    let file = contacts(&[
        &["c1", "Ana", "Lima", "", ""],
        &["c2", "Bo", "Berg", "zz9", ""],
    ]);
    let (id, r) = run(&app, &admin, vec![file], &options(OnMatch::Skip)).await;
    assert_eq!(outcomes(&r, CT), [Created, Failed], "{r:#?}");
    let failed = rows(&r, CT)[1];
    assert_eq!(failed.row, 3, "the row number as a spreadsheet shows it");
    assert!(
        failed.reasons.iter().any(|m| m.contains("email")),
        "names the field: {failed:?}"
    );
    assert!(!r.written);
    assert_eq!(app.count("contacts").await, 0, "all or nothing");
    let p = store::progress(&app.db, &admin, id).await.unwrap();
    assert_eq!(p.status, "failed");
}

#[actix_web::test]
async fn valid_rows_mode_writes_the_valid_rows() {
    let (app, admin) = with_admin().await;
    let file = contacts(&[
        &["c1", "Ana", "Lima", "", ""],
        &["c2", "Bo", "Berg", "zz9", ""],
    ]);
    let mut o = options(OnMatch::Skip);
    o.valid_rows_only = true;
    let (_, r) = run(&app, &admin, vec![file], &o).await;
    assert_eq!(outcomes(&r, CT), [Created, Failed]);
    assert!(r.written);
    assert_eq!(app.count("contacts").await, 1);
}

#[actix_web::test]
async fn a_dry_run_reports_and_writes_nothing() {
    let (app, admin) = with_admin().await;
    let files = vec![
        companies(&[&["a1", "Acme", "acme.test"]]),
        contacts(&[&["c1", "Ana", "Lima", "not-an-email", "a1"]]),
    ];
    let r = dry(&app, &admin, files, &options(OnMatch::Skip)).await;
    assert_eq!(
        (outcomes(&r, CO), outcomes(&r, CT)),
        (vec![Created], vec![Failed])
    );
    let why = &rows(&r, CT)[0].reasons;
    assert!(
        why.iter().any(|m| m.contains("valid email")),
        "the domain's own message: {why:?}"
    );
    assert_eq!(
        (app.count("contacts").await, app.count("companies").await),
        (0, 0)
    );
}

#[actix_web::test]
async fn owners_resolve_by_email_or_name_and_an_unknown_owner_fails_its_row() {
    let (app, admin) = with_admin().await;
    let rep = app.user("rep@example.com", "rep").await;
    let file = file(
        "contacts.csv",
        CT,
        &[
            ("First", field("first_name")),
            ("Last", field("last_name")),
            ("Owner", Target::Owner),
        ],
        &[
            &["Ana", "Lima", "rep@example.com"],
            &["Bo", "Berg", &rep.name],
            &["Cy", "Dahl", "Nobody Known"],
        ],
    );
    let mut o = options(OnMatch::Skip);
    o.valid_rows_only = true;
    let (_, r) = run(&app, &admin, vec![file], &o).await;
    assert_eq!(outcomes(&r, CT), [Created, Created, Failed]);
    for n in 0..2 {
        let c = contacts::get(&app.db, &admin, record(&r, CT, n))
            .await
            .unwrap();
        assert_eq!(c.owner_id, rep.id, "row {n} goes to the rep");
    }
    let why = &rows(&r, CT)[2].reasons;
    assert!(
        why.iter().any(|m| m.contains("Nobody Known")),
        "names the owner: {why:?}"
    );
}

#[actix_web::test]
async fn a_users_file_resolves_source_owner_ids() {
    let (app, admin) = with_admin().await;
    let rep = app.user("rep@example.com", "rep").await;
    let users = file(
        "User.csv",
        ObjectKind::User,
        &[("Id", Target::SourceId), ("Email", field("email"))],
        &[&["005A", "rep@example.com"]],
    );
    let people = file(
        "Contact.csv",
        CT,
        &[
            ("First", field("first_name")),
            ("Last", field("last_name")),
            ("OwnerId", Target::Owner),
        ],
        &[&["Ana", "Lima", "005A"]],
    );
    let (_, r) = run(&app, &admin, vec![people, users], &options(OnMatch::Skip)).await;
    let c = contacts::get(&app.db, &admin, record(&r, CT, 0))
        .await
        .unwrap();
    assert_eq!(c.owner_id, rep.id);
}

#[actix_web::test]
async fn a_new_custom_column_creates_a_text_field_holding_the_values() {
    let (app, admin) = with_admin().await;
    let file = file(
        "contacts.csv",
        CT,
        &[
            ("First", field("first_name")),
            ("Last", field("last_name")),
            ("Shoe size", Target::NewCustom("Shoe size".into())),
        ],
        &[&["Ana", "Lima", "38"]],
    );
    let (_, r) = run(&app, &admin, vec![file], &options(OnMatch::Skip)).await;
    let defs = custom_fields::for_entity(&app.db.read, "contact")
        .await
        .unwrap();
    let def = defs
        .iter()
        .find(|d| d.label == "Shoe size")
        .expect("the field was created");
    assert_eq!(def.kind, "text");
    let c = contacts::get(&app.db, &admin, record(&r, CT, 0))
        .await
        .unwrap();
    assert_eq!(
        c.custom_fields.get(&def.key),
        Some(&serde_json::json!("38"))
    );
}

#[actix_web::test]
async fn files_over_the_size_setting_are_refused() {
    let (app, admin) = with_admin().await;
    cairn::domain::settings::set(&app.db.write, store::MAX_MB_SETTING, "0")
        .await
        .unwrap();
    let f = contacts(&[&["c1", "Ana", "Lima", "", ""]]);
    let err = store::create(&app.db, &admin, vec![f.upload], &options(OnMatch::Skip))
        .await
        .expect_err("a file over the limit is refused");
    assert_eq!(err.code(), "payload_too_large", "{err}");
}

#[actix_web::test]
async fn a_created_record_keeps_the_source_s_creation_time() {
    let (app, admin) = with_admin().await;
    let file = file(
        "contacts.csv",
        CT,
        &[
            ("Id", Target::SourceId),
            ("First", field("first_name")),
            ("Last", field("last_name")),
            ("Created", field("created_at")),
        ],
        &[
            &["c1", "Ana", "Lima", "2024-01-31T12:00:00.000Z"],
            &["c2", "Bo", "Berg", "soon"],
        ],
    );
    let (_, r) = run(&app, &admin, vec![file], &valid_rows(OnMatch::Skip)).await;
    assert_eq!(outcomes(&r, CT), [Created, Failed], "{r:#?}");
    assert!(
        rows(&r, CT)[1]
            .reasons
            .iter()
            .any(|m| m.contains("\"soon\" is not a date")),
        "the bad time is named: {r:#?}"
    );
    let c = contacts::get(&app.db, &admin, record(&r, CT, 0))
        .await
        .unwrap();
    assert_eq!(c.created_at.to_rfc3339(), "2024-01-31T12:00:00+00:00");
}

#[actix_web::test]
async fn the_kept_report_holds_the_failed_rows_and_the_counts_of_all() {
    let (app, admin) = with_admin().await;
    let file = contacts(&[
        &["c1", "Ana", "Lima", "ana@example.com", ""],
        &["c2", "Bo", "Berg", "not an email", ""],
        &["c3", "Cy", "Dahl", "cy@example.com", ""],
    ]);
    let (id, r) = run(&app, &admin, vec![file], &valid_rows(OnMatch::Skip)).await;
    assert_eq!(outcomes(&r, CT), [Created, Failed, Created], "{r:#?}");
    let kept = store::get(&app.db, &admin, id)
        .await
        .expect("the import")
        .report
        .expect("its report");
    let listed: Vec<u64> = kept.rows.iter().map(|row| row.row).collect();
    assert_eq!(listed, [3], "only the failed row is kept: {kept:#?}");
    let counts = &kept.counts()["contacts"];
    assert_eq!((counts.rows, counts.created, counts.failed), (3, 2, 1));
}

#[actix_web::test]
async fn a_contacts_company_name_nothing_has_makes_one_company_for_its_rows() {
    let (app, admin) = with_admin().await;
    let file = file(
        "customers.csv",
        CT,
        &[
            ("First Name", field("first_name")),
            ("Last Name", field("last_name")),
            ("Company", Target::LinkName(CO)),
        ],
        &[&["Jan", "Kowalski", "Dup Co"], &["Eva", "Nowak", "dup co"]],
    );
    let (_, r) = run(&app, &admin, vec![file], &options(OnMatch::Skip)).await;
    assert_eq!(outcomes(&r, CT), [Created, Created], "{r:#?}");
    let mut companies = Vec::new();
    for n in [0, 1] {
        let c = contacts::get(&app.db, &admin, record(&r, CT, n)).await;
        companies.push(c.expect("read the contact").company_id);
    }
    assert_eq!(app.count("companies").await, 1, "one company, made once");
    assert!(
        companies[0].is_some() && companies[0] == companies[1],
        "{companies:?}"
    );
}

#[actix_web::test]
async fn a_row_linking_to_a_failed_row_says_that_row_failed() {
    let (app, admin) = with_admin().await;
    let files = vec![
        companies(&[&["a1", "", "nameless.example"]]),
        contacts(&[&["c1", "Ana", "Lima", "", "a1"]]),
    ];
    let r = dry(&app, &admin, files, &options(OnMatch::Skip)).await;
    assert_eq!(
        outcomes(&r, CO),
        [Failed],
        "the company has no name: {r:#?}"
    );
    let why = rows(&r, CT)[0].reasons.join(" ");
    assert!(
        why.contains("source id a1 is not imported: its row (companies.csv, row 2) is not"),
        "{why}"
    );
}

#[actix_web::test]
async fn files_with_a_header_and_no_rows_are_refused_with_why() {
    let (app, admin) = with_admin().await;
    let id = prepared(&app, &admin, vec![contacts(&[])], &options(OnMatch::Skip)).await;
    let err = store::dry_run(&app.db, &admin, id)
        .await
        .expect_err("nothing to import");
    assert!(err.to_string().contains("no rows to import"), "{err}");
}

#[actix_web::test]
async fn a_file_writing_31_12_reads_its_other_slash_dates_day_first() {
    let (app, admin) = with_admin().await;
    let file = file(
        "contacts.csv",
        CT,
        &[
            ("First", field("first_name")),
            ("Last", field("last_name")),
            ("Created", field("created_at")),
        ],
        &[
            &["Ana", "Lima", "31/12/2023"],
            &["Bo", "Berg", "03/04/2024"],
        ],
    );
    let (_, r) = run(&app, &admin, vec![file], &options(OnMatch::Skip)).await;
    let bo = contacts::get(&app.db, &admin, record(&r, CT, 1))
        .await
        .expect("Bo");
    assert_eq!(
        bo.created_at.date_naive().to_string(),
        "2024-04-03",
        "3 April"
    );
}
