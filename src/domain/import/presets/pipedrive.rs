//! Pipedrive's exports and import template: `Entity - Field` headers (`Person - Email -
//! Work`, `Deal - Currency of Value`, `Organization - Name`). A column about another
//! entity than the file's (`Organization - Name` in a deals file, as the template puts
//! deal, person and organization on one row) links to that record by name or id.
//! Pipedrive's activities, with a due date and a done flag, are Cairn's tasks; its notes
//! are Cairn's activities.
use super::{field, norm};
use crate::domain::import::{ObjectKind, Target};

/// The entity and field of an `Entity - Field` header.
pub fn split(header: &str) -> Option<(ObjectKind, &str)> {
    let (entity, rest) = header.split_once(" - ")?;
    let kind = match entity.trim() {
        "Deal" => ObjectKind::Deal,
        "Person" => ObjectKind::Contact,
        "Organization" | "Organisation" => ObjectKind::Company,
        "Activity" => ObjectKind::Task,
        "Note" => ObjectKind::Activity,
        _ => return None,
    };
    Some((kind, rest.trim()))
}

pub fn target(kind: ObjectKind, header: &str) -> Option<Target> {
    let (mut entity, rest) = split(header).unwrap_or((kind, header));
    // Pipedrive's activities imported as Cairn's activities rather than tasks.
    if kind == ObjectKind::Activity && entity == ObjectKind::Task {
        entity = kind;
    }
    let f = norm(rest);
    if entity != kind {
        return match f.as_str() {
            "id" => Some(Target::LinkId(entity)),
            "name" | "title" => Some(Target::LinkName(entity)),
            _ => None,
        };
    }
    own(kind, &f)
}

fn own(kind: ObjectKind, f: &str) -> Option<Target> {
    use ObjectKind as K;
    match (kind, f) {
        (_, "id") => Some(Target::SourceId),
        (_, "owner" | "assignedtouser" | "user") => Some(Target::Owner),
        (K::Activity, "addtime" | "notecreated") => field("occurred_at"),
        (_, "dealcreated" | "personcreated" | "organizationcreated" | "addtime") => {
            field("created_at")
        }
        (_, "organization") => Some(Target::LinkName(K::Company)),
        (_, "organizationid") => Some(Target::LinkId(K::Company)),
        (K::Deal | K::Task | K::Activity, "contactperson" | "person") => {
            Some(Target::LinkName(K::Contact))
        }
        (K::Deal | K::Task | K::Activity, "contactpersonid" | "personid") => {
            Some(Target::LinkId(K::Contact))
        }
        (K::Task | K::Activity, "deal") => Some(Target::LinkName(K::Deal)),
        (K::Task | K::Activity, "dealid") => Some(Target::LinkId(K::Deal)),
        (K::Contact, "name") => field("name"),
        (K::Contact, "firstname") => field("first_name"),
        (K::Contact, "lastname") => field("last_name"),
        (K::Contact, "email" | "emailwork" | "emailhome" | "emailother") => field("email"),
        (K::Contact, "phone" | "phonework" | "phonemobile" | "phonehome" | "phoneother") => {
            field("phone")
        }
        (K::Contact, "jobtitle") => field("title"),
        (K::Contact | K::Company | K::Deal, "labels" | "label") => Some(Target::Tags),
        (K::Company, "name") => field("name"),
        (K::Company, "address" | "fulladdress") => field("address"),
        (K::Company, "website") => field("website"),
        (K::Company, "industry") => field("industry"),
        (K::Company, "numberofemployees") => field("size_band"),
        (K::Deal, "title") => field("title"),
        (K::Deal, "value") => field("amount"),
        (K::Deal, "currency" | "currencyofvalue") => field("currency"),
        (K::Deal, "pipeline") => field("pipeline"),
        (K::Deal, "stage") => field("stage"),
        (K::Deal, "expectedclosedate") => field("expected_close"),
        (K::Deal, "probability") => field("probability"),
        (K::Deal, "lostreason") => field("lost_reason"),
        (K::Deal, "status") => field("status"),
        (K::Deal, "wontime" | "losttime" | "dealclosedon") => field("closed_at"),
        (K::Task, "subject") => field("title"),
        (K::Task, "note") => field("notes"),
        (K::Task, "duedate") => field("due_date"),
        (K::Task, "duetime") => field("due_time"),
        (K::Task, "done") => field("done"),
        (K::Task, "priority") => field("priority"),
        (K::Task | K::Activity, "type") => field("kind"),
        (K::Activity, "content" | "subject" | "note") => field("body"),
        (K::Activity, "duedate") => field("occurred_at"),
        _ => None,
    }
}

/// The entity most of the headers are about.
pub fn kind(headers: &[String]) -> Option<ObjectKind> {
    let mut counts: Vec<(ObjectKind, usize)> = Vec::new();
    for (k, _) in headers.iter().filter_map(|h| split(h)) {
        match counts.iter_mut().find(|(c, _)| *c == k) {
            Some((_, n)) => *n += 1,
            None => counts.push((k, 1)),
        }
    }
    counts.into_iter().max_by_key(|(_, n)| *n).map(|(k, _)| k)
}
