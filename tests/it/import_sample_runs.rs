//! Each product's sample export imported as `cairn import` does it (system and kind
//! guessed from names and headers, columns by the preset): counts, links and owners.
use std::io::Cursor;

use cairn::domain::import::apply::{Options, Report, store};
use cairn::domain::import::read::CsvFile;
use cairn::domain::import::{FileSpec, ObjectKind, OnMatch, presets};
use cairn::domain::{Actor, companies, contacts, users};

use crate::import_given::{options, outcomes, record, rows, run_job, try_prepared, with_admin};
use crate::import_samples::{self as samples, Sample};
use crate::support::{PASSWORD, TestApp};

use cairn::domain::import::apply::Outcome::{Created, Skipped};

const CO: ObjectKind = ObjectKind::Company;
const CT: ObjectKind = ObjectKind::Contact;

/// A user the samples name as owner.
pub async fn person(app: &TestApp, name: &str, email: &str) -> i64 {
    let new = users::NewUser {
        email: email.into(),
        name: name.into(),
        password: PASSWORD.into(),
        role: "rep".into(),
    };
    users::create(&app.db, None, &new)
        .await
        .expect("create the owner")
        .id
}

fn describe(s: &Sample) -> FileSpec {
    let csv = CsvFile::open(Cursor::new(s.bytes.clone())).expect("the sample opens");
    presets::describe(s.name, csv.headers(), None, None, &[])
        .unwrap_or_else(|| panic!("{} is recognised", s.name))
}

/// Imports `files` as `cairn import` does: each described by its system's preset from its
/// name and headers, the import's system the first file's; its report, every row written.
pub async fn import_described(
    app: &TestApp,
    admin: &Actor,
    files: Vec<Sample>,
    o: Options,
) -> Report {
    let specs: Vec<FileSpec> = files.iter().map(describe).collect();
    let o = Options {
        system: specs[0].system,
        ..o
    };
    let uploads = files
        .into_iter()
        .map(|s| store::Upload {
            name: s.name.into(),
            bytes: s.bytes,
        })
        .collect();
    let id = try_prepared(app, admin, uploads, &specs, &o)
        .await
        .unwrap_or_else(|e| panic!("create the import and describe its files: {e}"));
    let r = run_job(app, id).await;
    assert!(r.written, "the files import whole: {r:#?}");
    r
}

/// The samples imported with their portal's zone (HubSpot's is Europe/Berlin in them).
pub async fn import(app: &TestApp, admin: &Actor, files: Vec<Sample>) -> Report {
    let o = Options {
        zone: Some("Europe/Berlin".into()),
        ..options(OnMatch::Skip)
    };
    import_described(app, admin, files, o).await
}

#[actix_web::test]
async fn hubspot_companies_and_contacts_keep_their_links_and_owners() {
    let (app, admin) = with_admin().await;
    let jane = person(&app, "Jane Doe", "jane@example.com").await;
    person(&app, "Bob Stone", "bob@example.com").await;
    let files = vec![samples::hubspot_contacts(), samples::hubspot_companies()];
    let r = import(&app, &admin, files).await;
    assert_eq!(
        (outcomes(&r, CO).len(), outcomes(&r, CT)),
        (2, vec![Created; 3])
    );
    let (muller, acme) = (record(&r, CO, 0), record(&r, CO, 1));
    let zoe = contacts::get(&app.db, &admin, record(&r, CT, 0))
        .await
        .unwrap();
    assert_eq!(
        (zoe.first_name.as_str(), zoe.company_id, zoe.owner_id),
        ("Zoë", Some(muller), jane)
    );
    let li = contacts::get(&app.db, &admin, record(&r, CT, 2))
        .await
        .unwrap();
    assert_eq!(
        li.company_id,
        Some(acme),
        "the first of the associated company ids"
    );
    let note = &rows(&r, CT)[2].reasons;
    assert!(
        note.iter()
            .any(|m| m.contains("one more company (source id 9001)")),
        "the company not linked is named in the report: {note:?}"
    );
    let c = companies::get(&app.db, &admin, muller).await.unwrap();
    assert_eq!(
        (c.name.as_str(), c.domain.as_deref()),
        ("Müller & Söhne GmbH", Some("mueller-soehne.de"))
    );
}

#[actix_web::test]
async fn salesforce_ids_of_both_lengths_link_and_deleted_rows_are_skipped() {
    let (app, admin) = with_admin().await;
    let jane = person(&app, "Renée Doe", "jane@acme.example").await;
    let files = vec![
        samples::salesforce_contact(),
        samples::salesforce_account(),
        samples::salesforce_user(),
    ];
    let r = import(&app, &admin, files).await;
    assert_eq!(
        outcomes(&r, CO),
        [Created, Skipped],
        "Globex is deleted in the source"
    );
    assert_eq!(outcomes(&r, CT), [Created, Created, Skipped]);
    let acme = record(&r, CO, 0);
    for n in 0..2 {
        let c = contacts::get(&app.db, &admin, record(&r, CT, n))
            .await
            .unwrap();
        assert_eq!(
            (c.company_id, c.owner_id),
            (Some(acme), jane),
            "contact {n}"
        );
    }
    assert_eq!(
        rows(&r, ObjectKind::User)[0].record_id,
        Some(jane),
        "User.csv matched by email"
    );
}

#[actix_web::test]
async fn pipedrive_people_link_to_their_organization_by_name() {
    let (app, admin) = with_admin().await;
    let jane = person(&app, "Jane Doe", "jane@example.com").await;
    let files = vec![
        samples::pipedrive_persons(),
        samples::pipedrive_organizations(),
    ];
    let r = import(&app, &admin, files).await;
    assert_eq!(
        (outcomes(&r, CO), outcomes(&r, CT)),
        (vec![Created], vec![Created; 2])
    );
    let per = contacts::get(&app.db, &admin, record(&r, CT, 1))
        .await
        .unwrap();
    assert_eq!(per.company_id, Some(record(&r, CO, 0)));
    assert_eq!(
        (per.email.as_deref(), per.owner_id),
        (Some("per.oberg@home.example"), jane)
    );
}
