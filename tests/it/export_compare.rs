//! For the round trip (export → import into an empty Cairn → export again): every record
//! and link of a workspace in comparable form, read from its export, with ids mapped
//! through the importer's source ids, so two workspaces compare row by row and link by
//! link whatever ids the second one gave its records.
use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::export_zip::{Csv, Export, export_as};
use crate::support::*;

/// The columns that are ids of another file's rows.
pub const LINKS: &[(&str, &str, &str)] = &[
    ("companies.csv", "owner_id", "users.csv"),
    ("contacts.csv", "company_id", "companies.csv"),
    ("contacts.csv", "owner_id", "users.csv"),
    ("deals.csv", "company_id", "companies.csv"),
    ("deals.csv", "owner_id", "users.csv"),
    ("deal_contacts.csv", "deal_id", "deals.csv"),
    ("deal_contacts.csv", "contact_id", "contacts.csv"),
    ("activities.csv", "deal_id", "deals.csv"),
    ("activities.csv", "contact_id", "contacts.csv"),
    ("activities.csv", "company_id", "companies.csv"),
    ("activities.csv", "author_id", "users.csv"),
    ("tasks.csv", "assignee_id", "users.csv"),
    ("tasks.csv", "created_by", "users.csv"),
    ("tasks.csv", "contact_id", "contacts.csv"),
    ("tasks.csv", "company_id", "companies.csv"),
    ("tasks.csv", "deal_id", "deals.csv"),
];

pub const TABLES: [&str; 7] = [
    "users.csv",
    "companies.csv",
    "contacts.csv",
    "deals.csv",
    "deal_contacts.csv",
    "activities.csv",
    "tasks.csv",
];

/// Each file's rows by key (the mapped id; a deal link's two mapped ids), each row its
/// cells by column, links mapped too.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub files: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>,
}

/// `zip`'s records with every id (a row's own and every link) passed through
/// `map(file, id)`: the identity for the workspace exported first, the importer's record
/// of source ids for the one imported into. Columns in `ignore` (`updated_at`, …) are
/// left out.
pub fn snapshot(zip: &Export, map: impl Fn(&str, &str) -> String, ignore: &[&str]) -> Snapshot {
    let mut files = BTreeMap::new();
    for file in TABLES {
        let csv = zip.csv(file);
        files.insert(file.to_string(), rows(file, &csv, &map, ignore));
    }
    Snapshot { files }
}

fn rows(
    file: &str,
    csv: &Csv,
    map: &impl Fn(&str, &str) -> String,
    ignore: &[&str],
) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for row in &csv.rows {
        let mut cells = BTreeMap::new();
        for (column, value) in csv.header.iter().zip(row) {
            if ignore.contains(&column.as_str()) {
                continue;
            }
            let target = LINKS
                .iter()
                .find(|(f, c, _)| *f == file && c == column)
                .map(|(_, _, target)| *target);
            let value = match target {
                Some(target) if !value.is_empty() => map(target, value),
                _ if column == "id" => map(file, value),
                _ => value.clone(),
            };
            cells.insert(column.clone(), value);
        }
        let key = match cells.get("id") {
            Some(id) => id.clone(),
            None => format!("{},{}", cells["deal_id"], cells["contact_id"]),
        };
        out.insert(key, cells);
    }
    out
}

/// Every difference between two snapshots, one line each (file, row, column, both
/// values): empty when they hold the same records and links.
pub fn differences(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let mut found = Vec::new();
    for file in TABLES {
        let (a, b) = (&before.files[file], &after.files[file]);
        let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for key in keys {
            match (a.get(key), b.get(key)) {
                (Some(_), None) => found.push(format!("{file} row {key}: missing after")),
                (None, Some(_)) => found.push(format!("{file} row {key}: new after")),
                (Some(x), Some(y)) => {
                    let columns: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                    for c in columns {
                        if x.get(c) != y.get(c) {
                            found.push(format!(
                                "{file} row {key} {c}: {:?} before, {:?} after",
                                x.get(c),
                                y.get(c)
                            ));
                        }
                    }
                }
                (None, None) => {}
            }
        }
    }
    found
}

/// The identity map: a workspace compared with itself.
fn same(_: &str, id: &str) -> String {
    id.to_string()
}

#[actix_web::test]
async fn a_moved_link_is_a_difference_and_nothing_else_is() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let acme = c.add_company(&token, "Acme").await;
    let globex = c.add_company(&token, "Globex").await;
    let ana = json!({"first_name": "Ana", "last_name": "S", "company_id": acme});
    let ana = c.add("contacts", &token, ana).await;
    let before = snapshot(&Export::read(&export_as(&mut c, &token).await), same, &[]);
    let moved = json!({"company_id": globex});
    c.api_ok(
        actix_web::http::Method::PATCH,
        &format!("/api/v1/contacts/{ana}"),
        &token,
        Some(moved),
    )
    .await;
    let ignore = ["updated_at"];
    let after = snapshot(
        &Export::read(&export_as(&mut c, &token).await),
        same,
        &ignore,
    );
    let before_kept = snapshot_without(&before, &ignore);
    assert_eq!(
        differences(&before_kept, &after),
        [format!(
            "contacts.csv row {ana} company_id: Some(\"{acme}\") before, Some(\"{globex}\") after"
        )]
    );
}

#[actix_web::test]
async fn ids_are_compared_through_the_map() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let acme = c.add_company(&token, "Acme").await;
    let ana = json!({"first_name": "Ana", "last_name": "S", "company_id": acme});
    c.add("contacts", &token, ana).await;
    let zip = Export::read(&export_as(&mut c, &token).await);
    let before = snapshot(&zip, same, &[]);
    // As if imported with every id shifted by 100: the map brings them back.
    let shifted = |_: &str, id: &str| (id.parse::<i64>().expect("an id") - 100).to_string();
    let renumbered = renumber(&zip, 100);
    assert_eq!(
        differences(&before, &snapshot(&renumbered, shifted, &[])),
        Vec::<String>::new()
    );
    let unmapped = snapshot(&renumbered, same, &[]);
    assert!(
        !differences(&before, &unmapped).is_empty(),
        "unmapped ids differ"
    );
}

fn snapshot_without(s: &Snapshot, ignore: &[&str]) -> Snapshot {
    let mut files = s.files.clone();
    for rows in files.values_mut() {
        for row in rows.values_mut() {
            row.retain(|c, _| !ignore.contains(&c.as_str()));
        }
    }
    Snapshot { files }
}

/// `zip` with every id and link raised by `by`.
fn renumber(zip: &Export, by: i64) -> Export {
    let mut files = zip.files.clone();
    for file in TABLES {
        let csv = zip.csv(file);
        let ids: Vec<usize> = csv
            .header
            .iter()
            .enumerate()
            .filter(|(_, h)| {
                h.as_str() == "id" || LINKS.iter().any(|(f, c, _)| *f == file && c == h)
            })
            .map(|(i, _)| i)
            .collect();
        let mut text = String::new();
        cairn::domain::csv::row(&mut text, csv.header.iter().map(String::as_str));
        for row in &csv.rows {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, v)| match (ids.contains(&i), v.parse::<i64>()) {
                    (true, Ok(id)) => (id + by).to_string(),
                    _ => v.clone(),
                })
                .collect();
            cairn::domain::csv::row(&mut text, cells.iter().map(String::as_str));
        }
        files.insert(file.to_string(), text);
    }
    Export { files }
}
