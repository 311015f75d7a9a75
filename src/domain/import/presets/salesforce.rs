//! Salesforce's weekly data export: one `<Object>.csv` per object, API field names as
//! headers, 15- or 18-character ids (`values::salesforce_id` makes them one key).
//!
//! `WhatId` on tasks and events may name an account, an opportunity or another object:
//! it is mapped as a deal link, and applying tells the object by the id's three-character
//! prefix (`values::salesforce_kind`). A lead's `IsConverted` marks it as living on as the
//! contact it became, so the row is skipped like a deleted one.
use super::field;
use crate::domain::import::{ObjectKind, Target};

pub fn target(kind: ObjectKind, header: &str) -> Option<Target> {
    use ObjectKind as K;
    match (kind, header) {
        (_, "Id") => Some(Target::SourceId),
        (_, "IsDeleted") => Some(Target::Deleted),
        (K::Contact, "IsConverted") => Some(Target::Deleted),
        (K::User, "IsActive") => field("active"),
        (K::User, "Email") => field("email"),
        (K::User, "Name") => field("name"),
        (K::User, "FirstName") => field("first_name"),
        (K::User, "LastName") => field("last_name"),
        (_, "OwnerId") => Some(Target::Owner),
        (_, "CreatedDate") => field("created_at"),
        (K::Contact, "FirstName") => field("first_name"),
        (K::Contact, "LastName") => field("last_name"),
        (K::Contact, "Email") => field("email"),
        (K::Contact, "Phone" | "MobilePhone") => field("phone"),
        (K::Contact, "Title") => field("title"),
        (K::Contact, "AccountId") => Some(Target::LinkId(K::Company)),
        // A lead's company is a name.
        (K::Contact, "Company") => Some(Target::LinkName(K::Company)),
        (K::Company, "Name") => field("name"),
        (K::Company, "Website") => field("website"),
        (K::Company, "Phone") => field("phone"),
        (K::Company, "Industry") => field("industry"),
        (K::Company, "NumberOfEmployees") => field("size_band"),
        (
            K::Company,
            "BillingStreet" | "BillingCity" | "BillingPostalCode" | "BillingState"
            | "BillingCountry",
        ) => field("address"),
        (K::Deal, "Name") => field("title"),
        (K::Deal, "Amount") => field("amount"),
        (K::Deal, "CurrencyIsoCode") => field("currency"),
        (K::Deal, "StageName") => field("stage"),
        (K::Deal, "CloseDate") => field("expected_close"),
        (K::Deal, "Probability") => field("probability"),
        (K::Deal, "IsWon") => field("won"),
        (K::Deal, "IsClosed") => field("closed"),
        (K::Deal, "AccountId") => Some(Target::LinkId(K::Company)),
        (K::Deal, "ContactId") => Some(Target::LinkId(K::Contact)),
        (K::DealContact, "OpportunityId") => Some(Target::LinkId(K::Deal)),
        (K::DealContact, "ContactId") => Some(Target::LinkId(K::Contact)),
        // Cairn has no description of its own: kept whole in a text field of that name.
        (K::Contact | K::Company | K::Deal, "Description") => {
            Some(Target::NewCustom("Description".into()))
        }
        (K::Task, "Subject") => field("title"),
        (K::Task, "Description") => field("notes"),
        (K::Task, "ActivityDate") => field("due_date"),
        (K::Task, "Priority") => field("priority"),
        // Either says whether it is done (a status of Completed, or closed).
        (K::Task, "IsClosed" | "Status") => field("done"),
        (K::Activity, "Subject" | "Description") => field("body"),
        // An event's date and time is taken over its date (`apply` prefers a time).
        (K::Activity, "ActivityDateTime" | "StartDateTime" | "ActivityDate") => {
            field("occurred_at")
        }
        (K::Activity, "TaskSubtype" | "EventSubtype") => field("kind"),
        (K::Task | K::Activity, "WhoId") => Some(Target::LinkId(K::Contact)),
        (K::Task | K::Activity, "WhatId") => Some(Target::LinkId(K::Deal)),
        (K::Task | K::Activity, "AccountId") => Some(Target::LinkId(K::Company)),
        _ => None,
    }
}

/// The kind of an object export from the fields only that object has.
pub fn kind(headers: &[String]) -> Option<ObjectKind> {
    let has = |name: &str| headers.iter().any(|h| h == name);
    if has("OpportunityId") && has("ContactId") {
        Some(ObjectKind::DealContact)
    } else if has("StageName") {
        Some(ObjectKind::Deal)
    } else if has("Username") {
        Some(ObjectKind::User)
    } else if has("ActivityDateTime") || has("StartDateTime") {
        Some(ObjectKind::Activity)
    } else if has("WhoId") || has("WhatId") {
        Some(ObjectKind::Task)
    } else if has("LastName") {
        Some(ObjectKind::Contact)
    } else if has("Name") && (has("BillingCity") || has("Industry") || has("Website")) {
        Some(ObjectKind::Company)
    } else {
        None
    }
}
