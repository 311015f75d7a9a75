//! Cairn's own export (`cairn export`): headers are the JSON API's field names, links
//! are `company_id`, `contact_id`, `deal_id`, owners `owner_id` / `assignee_id` /
//! `author_id` (ids from `users.csv`), custom fields `custom.<key>`.
use super::{field, fields};
use crate::domain::custom_fields::Field;
use crate::domain::import::{ObjectKind, Target};

pub fn target(kind: ObjectKind, header: &str, custom: &[&Field]) -> Option<Target> {
    use ObjectKind as K;
    if let Some(key) = header.strip_prefix("custom.") {
        return Some(if custom.iter().any(|f| f.key == key) {
            Target::Custom(key.to_string())
        } else {
            Target::NewCustom(key.to_string())
        });
    }
    match (kind, header) {
        (K::DealContact, "deal_id") => Some(Target::LinkId(K::Deal)),
        (K::DealContact, "contact_id") => Some(Target::LinkId(K::Contact)),
        (_, "id") => Some(Target::SourceId),
        (_, "owner_id" | "assignee_id" | "author_id") => Some(Target::Owner),
        (_, "company_id") => Some(Target::LinkId(K::Company)),
        (_, "contact_id") => Some(Target::LinkId(K::Contact)),
        (_, "deal_id") => Some(Target::LinkId(K::Deal)),
        (_, "tags") => Some(Target::Tags),
        (_, h) if fields(kind).contains(&h) => field(h),
        _ => None,
    }
}

pub fn kind(headers: &[String]) -> Option<ObjectKind> {
    let has = |name: &str| headers.iter().any(|h| h == name);
    if has("deal_id") && has("contact_id") && headers.len() == 2 {
        Some(ObjectKind::DealContact)
    } else if has("stage") {
        Some(ObjectKind::Deal)
    } else if has("first_name") && has("last_name") && !has("role") {
        Some(ObjectKind::Contact)
    } else if has("kind") && has("body") {
        Some(ObjectKind::Activity)
    } else if has("due_date") || has("due_at") {
        Some(ObjectKind::Task)
    } else if has("role") && has("email") {
        Some(ObjectKind::User)
    } else if has("domain") || has("size_band") {
        Some(ObjectKind::Company)
    } else {
        None
    }
}
