//! Any other CSV: headers matched to Cairn's field names and their usual spellings, to
//! existing custom fields by label or key, to the presets' headers, and last by a
//! near-miss (one letter off, for a name of five letters or more).
use super::{field, fields, hubspot, norm, pipedrive, salesforce};
use crate::domain::custom_fields::Field;
use crate::domain::import::{ObjectKind, Target};

/// Usual spellings of Cairn's fields, normalised (`norm`), per kind.
fn synonyms(kind: ObjectKind) -> &'static [(&'static str, &'static str)] {
    use ObjectKind as K;
    match kind {
        K::Contact => &[
            ("firstname", "first_name"),
            ("givenname", "first_name"),
            ("forename", "first_name"),
            ("lastname", "last_name"),
            ("surname", "last_name"),
            ("familyname", "last_name"),
            ("fullname", "name"),
            ("name", "name"),
            ("contactname", "name"),
            ("emailaddress", "email"),
            ("mail", "email"),
            ("email", "email"),
            ("phonenumber", "phone"),
            ("telephone", "phone"),
            ("tel", "phone"),
            ("mobile", "phone"),
            ("jobtitle", "title"),
            ("position", "title"),
            ("role", "title"),
        ],
        K::Company => &[
            ("companyname", "name"),
            ("organization", "name"),
            ("organisation", "name"),
            ("account", "name"),
            ("accountname", "name"),
            ("url", "website"),
            ("web", "website"),
            ("site", "website"),
            ("employees", "size_band"),
            ("companysize", "size_band"),
            ("size", "size_band"),
            ("sector", "industry"),
            ("street", "address"),
            ("city", "address"),
            ("zip", "address"),
            ("postcode", "address"),
            ("country", "address"),
            ("phonenumber", "phone"),
        ],
        K::Deal => &[
            ("dealname", "title"),
            ("name", "title"),
            ("opportunity", "title"),
            ("value", "amount"),
            ("dealvalue", "amount"),
            ("closedate", "expected_close"),
            ("expectedclosedate", "expected_close"),
            ("dealstage", "stage"),
        ],
        K::Activity => &[
            ("note", "body"),
            ("notes", "body"),
            ("text", "body"),
            ("description", "body"),
            ("type", "kind"),
            ("date", "occurred_at"),
            ("when", "occurred_at"),
        ],
        K::Task => &[
            ("subject", "title"),
            ("task", "title"),
            ("description", "notes"),
            ("due", "due_date"),
            ("duedate", "due_date"),
            ("duetime", "due_time"),
            ("completed", "done"),
            ("status", "done"),
        ],
        K::User => &[
            ("emailaddress", "email"),
            ("fullname", "name"),
            ("isactive", "active"),
        ],
        K::DealContact => &[],
    }
}

pub fn target(kind: ObjectKind, header: &str, custom: &[&Field]) -> Option<Target> {
    let h = norm(header);
    if h.is_empty() {
        return None;
    }
    match h.as_str() {
        "id" | "recordid" | "externalid" => return Some(Target::SourceId),
        "owner" | "assignedto" | "assignee" | "salesrep" => return Some(Target::Owner),
        "tags" | "labels" => return Some(Target::Tags),
        "company" | "companyname" | "organization" | "account" if kind != ObjectKind::Company => {
            return Some(Target::LinkName(ObjectKind::Company));
        }
        _ => {}
    }
    let own = fields(kind)
        .iter()
        .find(|f| norm(f) == h)
        .map(|f| f.to_string());
    let synonym = synonyms(kind)
        .iter()
        .find(|(s, _)| *s == h)
        .map(|(_, f)| f.to_string());
    if let Some(f) = own.or(synonym) {
        return field(&f);
    }
    if let Some(f) = custom
        .iter()
        .find(|f| norm(&f.label) == h || norm(&f.key) == h)
    {
        return Some(Target::Custom(f.key.clone()));
    }
    let preset = hubspot::target(kind, header)
        .or_else(|| salesforce::target(kind, header))
        .or_else(|| pipedrive::target(kind, header));
    if preset.is_some() {
        return preset;
    }
    near_miss(kind, &h, custom)
}

/// A name one edit away from a field's or custom field's name ("adress", "emial").
fn near_miss(kind: ObjectKind, h: &str, custom: &[&Field]) -> Option<Target> {
    if h.chars().count() < 5 {
        return None;
    }
    let names = fields(kind)
        .iter()
        .map(|f| (norm(f), Target::Field(f.to_string())))
        .chain(
            synonyms(kind)
                .iter()
                .map(|(s, f)| (s.to_string(), Target::Field(f.to_string()))),
        )
        .chain(
            custom
                .iter()
                .map(|f| (norm(&f.label), Target::Custom(f.key.clone()))),
        );
    names
        .filter(|(n, _)| n.chars().count() >= 5 && edits(n, h) <= 1)
        .map(|(_, t)| t)
        .next()
}

/// Levenshtein distance, for short names.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut row = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            row.push((prev[j] + cost).min(prev[j + 1] + 1).min(row[j] + 1));
        }
        prev = row;
    }
    prev[b.len()]
}
