//! The sample exports of each product read to the expected rows, kinds and targets.
use std::io::Cursor;

use cairn::domain::custom_fields::Field;
use cairn::domain::import::presets::{self, describe};
use cairn::domain::import::read::{CsvFile, Encoding, ReadError, RowError, mapped};
use cairn::domain::import::values::salesforce_id;
use cairn::domain::import::{FileSpec, MappedRow, ObjectKind as K, System, Target};

use crate::import_samples::{self as samples, Sample};

fn field(name: &str) -> Target {
    Target::Field(name.into())
}

/// Opens a sample, describes it from its name and headers, and maps all its rows.
fn read(
    sample: &Sample,
    custom: &[Field],
) -> (FileSpec, Encoding, Vec<Result<MappedRow, RowError>>) {
    let file = CsvFile::open(Cursor::new(sample.bytes.clone()))
        .unwrap_or_else(|e| panic!("{} should open: {e}", sample.name));
    let spec = describe(sample.name, file.headers(), None, None, custom)
        .unwrap_or_else(|| panic!("{} should be recognised", sample.name));
    let encoding = file.encoding();
    let rows = mapped(0, &spec, file.rows()).collect();
    (spec, encoding, rows)
}

fn ok_rows(rows: Vec<Result<MappedRow, RowError>>) -> Vec<MappedRow> {
    rows.into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("every row should read: {e}")))
        .collect()
}

fn value<'a>(row: &'a MappedRow, target: &Target) -> Vec<&'a str> {
    row.values
        .iter()
        .filter(|(t, _)| t == target)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn hubspot_contacts_map_labels_owners_and_id_lists() {
    let (spec, encoding, rows) = read(&samples::hubspot_contacts(), &[]);
    assert_eq!(
        (spec.system, spec.kind, encoding),
        (System::HubSpot, K::Contact, Encoding::Utf8Bom)
    );
    assert_eq!(
        spec.columns,
        [
            Target::SourceId,
            field("first_name"),
            field("last_name"),
            field("email"),
            field("phone"),
            Target::Owner,
            field("title"),
            Target::LinkName(K::Company),
            Target::LinkIds(K::Company),
            Target::LinkIds(K::Deal),
            field("created_at"),
            Target::Ignore,
        ]
    );
    let rows = ok_rows(rows);
    assert_eq!(rows.len(), 3);
    assert_eq!(value(&rows[2], &field("first_name")), ["李"]);
    assert_eq!(value(&rows[2], &Target::LinkIds(K::Company)), ["9002;9001"]);
    assert_eq!(value(&rows[0], &Target::Owner), ["Jane Doe"]);
    assert_eq!(rows[2].row, 4);
}

#[test]
fn hubspot_companies_and_deals_are_told_apart_by_name_and_headers() {
    let (companies, _, rows) = read(&samples::hubspot_companies(), &[]);
    assert_eq!(companies.kind, K::Company);
    assert_eq!(companies.columns[2], field("domain"));
    assert_eq!(companies.columns[10], Target::LinkIds(K::Contact));
    assert_eq!(value(&ok_rows(rows)[1], &field("name")), ["Acme, Inc."]);
    let (deals, _, rows) = read(&samples::hubspot_deals(), &[]);
    assert_eq!(deals.kind, K::Deal);
    assert_eq!(
        deals.columns[1..8],
        [
            field("title"),
            field("stage"),
            field("pipeline"),
            field("amount"),
            field("currency"),
            field("expected_close"),
            Target::Owner
        ]
    );
    assert_eq!(ok_rows(rows).len(), 2);
}

#[test]
fn salesforce_files_are_latin1_with_api_names() {
    let cases = [
        (samples::salesforce_user(), K::User, 1),
        (samples::salesforce_account(), K::Company, 2),
        (samples::salesforce_contact(), K::Contact, 3),
        (samples::salesforce_opportunity(), K::Deal, 1),
        (samples::salesforce_contact_role(), K::DealContact, 1),
        (samples::salesforce_task(), K::Task, 1),
    ];
    for (sample, kind, count) in cases {
        let (spec, encoding, rows) = read(&sample, &[]);
        assert_eq!(
            (spec.system, spec.kind),
            (System::Salesforce, kind),
            "{}",
            sample.name
        );
        assert_eq!(encoding, Encoding::Windows1252, "{}", sample.name);
        assert_eq!(spec.columns[0], Target::SourceId, "{}", sample.name);
        assert_eq!(ok_rows(rows).len(), count, "{}", sample.name);
    }
}

#[test]
fn salesforce_contacts_keep_accents_deleted_flags_and_link_by_either_id_form() {
    let (spec, _, rows) = read(&samples::salesforce_contact(), &[]);
    assert_eq!(
        spec.columns[1..5],
        [
            Target::Deleted,
            Target::LinkId(K::Company),
            field("last_name"),
            field("first_name")
        ]
    );
    let rows = ok_rows(rows);
    assert_eq!(value(&rows[0], &field("first_name")), ["Amélie"]);
    assert_eq!(value(&rows[2], &Target::Deleted), ["true"]);
    let accounts: Vec<_> = rows
        .iter()
        .map(|r| salesforce_id(value(r, &Target::LinkId(K::Company))[0]).unwrap())
        .collect();
    assert_eq!(
        accounts[0], accounts[1],
        "the 15- and 18-character AccountIds are one account"
    );
    assert_eq!(accounts[0].as_deref(), Some(samples::SF_ACME.1));
}

#[test]
fn salesforce_tasks_keep_quoted_line_breaks() {
    let (spec, _, rows) = read(&samples::salesforce_task(), &[]);
    assert_eq!(
        spec.columns[1..4],
        [
            Target::LinkId(K::Contact),
            Target::LinkId(K::Deal),
            field("title")
        ]
    );
    let rows = ok_rows(rows);
    assert_eq!(
        value(&rows[0], &field("notes")),
        ["Préparer l'offre\navant l'appel"]
    );
}

#[test]
fn pipedrive_entity_field_headers_map_to_their_records() {
    let (orgs, _, _) = read(&samples::pipedrive_organizations(), &[]);
    assert_eq!((orgs.system, orgs.kind), (System::Pipedrive, K::Company));
    assert_eq!(
        orgs.columns[..4],
        [
            Target::SourceId,
            field("name"),
            Target::Owner,
            field("address")
        ]
    );
    let (people, _, rows) = read(&samples::pipedrive_persons(), &[]);
    assert_eq!(people.kind, K::Contact);
    assert_eq!(
        people.columns[4..8],
        [
            field("email"),
            field("email"),
            field("phone"),
            Target::LinkName(K::Company)
        ]
    );
    assert_eq!(
        value(&ok_rows(rows)[1], &field("email")),
        ["", "per.oberg@home.example"]
    );
    let (deals, _, rows) = read(&samples::pipedrive_deals(), &[]);
    assert_eq!(deals.kind, K::Deal);
    assert_eq!(
        deals.columns[2..6],
        [
            field("amount"),
            field("currency"),
            Target::LinkName(K::Company),
            Target::LinkName(K::Contact)
        ]
    );
    assert_eq!(value(&ok_rows(rows)[0], &field("amount")), ["12,500.00"]);
}

#[test]
fn pipedrives_import_template_spellings_link_the_rows_person_and_organization() {
    let (spec, _, _) = read(&samples::pipedrive_template(), &[]);
    assert_eq!((spec.system, spec.kind), (System::Pipedrive, K::Deal));
    assert_eq!(
        spec.columns,
        [
            field("title"),
            field("amount"),
            field("currency"),
            Target::LinkName(K::Contact),
            Target::Ignore,
            Target::LinkName(K::Company)
        ]
    );
}

fn custom(entity: &str, key: &str, label: &str) -> Field {
    Field {
        id: 1,
        entity: entity.into(),
        key: key.into(),
        label: label.into(),
        kind: "text".into(),
        options: vec![],
        required: false,
        version: 1,
    }
}

#[test]
fn presets_ignore_unknown_columns_unless_a_custom_field_has_their_name() {
    let headers: Vec<String> = ["Record ID", "Deal Name", "Contract Number", "Mystery"]
        .map(String::from)
        .to_vec();
    let fields = [
        custom("deal", "contract_no", "Contract number"),
        custom("contact", "mystery", "Mystery"),
    ];
    let got = presets::columns(System::HubSpot, K::Deal, &headers, &fields);
    assert_eq!(
        got,
        [
            Target::SourceId,
            field("title"),
            Target::Custom("contract_no".into()),
            Target::Ignore
        ]
    );
}

#[test]
fn salesforce_and_hubspot_descriptions_become_a_description_field() {
    let description = Target::NewCustom("Description".into());
    let sf: Vec<String> = ["Id", "Name", "Description"].map(String::from).to_vec();
    let got = presets::columns(System::Salesforce, K::Deal, &sf, &[]);
    assert_eq!(got, [Target::SourceId, field("title"), description.clone()]);
    let hs: Vec<String> = ["Record ID", "Deal Name", "Deal Description"]
        .map(String::from)
        .to_vec();
    let got = presets::columns(System::HubSpot, K::Deal, &hs, &[]);
    assert_eq!(got, [Target::SourceId, field("title"), description]);
}

#[test]
fn generic_files_map_by_names_spellings_custom_labels_and_near_misses() {
    let headers: Vec<String> = [
        "E-Mail Address",
        "Surname",
        "Given name",
        "Compnay",
        "Phone",
        "Adress",
        "Shoe size",
        "Owner",
    ]
    .map(String::from)
    .to_vec();
    let fields = [custom("contact", "shoe", "Shoe Size")];
    let got = presets::columns(System::Generic, K::Contact, &headers, &fields);
    assert_eq!(
        got,
        [
            field("email"),
            field("last_name"),
            field("first_name"),
            Target::Ignore,
            field("phone"),
            Target::Ignore,
            Target::Custom("shoe".into()),
            Target::Owner,
        ]
    );
    assert_eq!(presets::guess_system(&headers), System::Generic);
}

#[test]
fn cairn_export_columns_and_formula_escapes_round_trip() {
    let bytes =
        b"id,first_name,last_name,email,company_id,owner_id,tags,custom.shoe,custom.new\r\n\
7,\"'=HYPERLINK(1)\",Lee,ann@example.com,3,1,vip;beta,42,x\r\n"
            .to_vec();
    let sample = Sample {
        name: "contacts.csv",
        bytes,
    };
    let (spec, _, rows) = read(&sample, &[custom("contact", "shoe", "Shoe size")]);
    assert_eq!((spec.system, spec.kind), (System::Cairn, K::Contact));
    assert_eq!(
        spec.columns[4..],
        [
            Target::LinkId(K::Company),
            Target::Owner,
            Target::Tags,
            Target::Custom("shoe".into()),
            Target::NewCustom("new".into())
        ]
    );
    assert_eq!(
        value(&ok_rows(rows)[0], &field("first_name")),
        ["=HYPERLINK(1)"]
    );
}

#[test]
fn the_bad_samples_give_their_row_errors() {
    let (_, _, rows) = read(&samples::broken_quoting(), &[]);
    let errors: Vec<u64> = rows
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(|e| e.row)
        .collect();
    let good: Vec<u64> = rows
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|r| r.row)
        .collect();
    assert_eq!((errors, good), (vec![3, 5], vec![2, 4, 6]));

    let (_, _, rows) = read(&samples::wrong_encoding(), &[]);
    let errors: Vec<&RowError> = rows.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].row, 2002);
    assert_eq!(rows.len(), 2002);

    let refused = CsvFile::open(Cursor::new(samples::binary().bytes)).err();
    assert!(
        matches!(refused, Some(ReadError::NotText(_))),
        "{refused:?}"
    );
}

#[test]
fn the_semicolon_quoted_newline_and_date_samples_read() {
    let file = CsvFile::open(Cursor::new(samples::semicolon().bytes)).unwrap();
    assert_eq!(
        (file.delimiter(), file.encoding()),
        (';', Encoding::Windows1252)
    );
    assert_eq!(file.headers()[2], "Währung");
    let rows: Vec<_> = file.rows().collect::<Result<_, _>>().unwrap();
    assert_eq!(rows[0].1, ["Großauftrag", "1.234,50", "EUR", "31.01.2024"]);

    let file = CsvFile::open(Cursor::new(samples::quoted_newlines().bytes)).unwrap();
    let rows: Vec<_> = file.rows().collect::<Result<_, _>>().unwrap();
    assert_eq!((rows[0].0, rows[1].0), (2, 3));
    assert_eq!(rows[0].1[1], "First line\nsecond line with \"quotes\"");

    let file = CsvFile::open(Cursor::new(samples::three_date_formats().bytes)).unwrap();
    let zone: chrono_tz::Tz = "UTC".parse().unwrap();
    for row in file.rows() {
        let (n, cells) = row.unwrap();
        let at = cairn::domain::import::values::date(&cells[1], zone);
        assert_eq!(
            at,
            Ok(chrono::NaiveDate::from_ymd_opt(2024, 1, 31).unwrap()),
            "row {n}"
        );
    }
}

#[test]
fn cairn_users_and_deal_contacts_files_are_told_by_name_and_headers() {
    let users: Vec<String> = ["id", "email", "name", "role", "active"]
        .map(String::from)
        .to_vec();
    let spec = describe("users.csv", &users, None, None, &[]).unwrap();
    assert_eq!((spec.system, spec.kind), (System::Cairn, K::User));
    assert_eq!(spec.columns[..2], [Target::SourceId, field("email")]);
    let links: Vec<String> = ["deal_id", "contact_id"].map(String::from).to_vec();
    let spec = describe("deal_contacts.csv", &links, None, None, &[]).unwrap();
    assert_eq!((spec.system, spec.kind), (System::Cairn, K::DealContact));
    assert_eq!(
        spec.columns,
        [Target::LinkId(K::Deal), Target::LinkId(K::Contact)]
    );
}
