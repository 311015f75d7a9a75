//! Presets: which [`Target`] each column of a known export becomes, which kind of record
//! a file holds, and which system wrote it.
//!
//! Two columns may map to one text field (a Salesforce event's `Subject` and
//! `Description` both to `body`, a street and a city to `address`): applying joins their
//! non-empty values with a newline, in the file's order; for other fields (a Pipedrive
//! person's work, home and other emails) the first non-empty value counts.
use super::{FileSpec, ObjectKind, System, Target};
use crate::domain::custom_fields::Field;

pub mod cairn;
pub mod generic;
pub mod hubspot;
pub mod pipedrive;
pub mod salesforce;

/// Cairn's built-in fields of each kind, by the names the JSON API uses; presets map to
/// these and nothing else. `created_at` keeps the source's creation time.
pub fn fields(kind: ObjectKind) -> &'static [&'static str] {
    match kind {
        // `name` is a full name, split into first and last when those are not given.
        ObjectKind::Contact => &[
            "first_name",
            "last_name",
            "name",
            "email",
            "phone",
            "title",
            "source",
            "created_at",
        ],
        ObjectKind::Company => &[
            "name",
            "domain",
            "industry",
            "size_band",
            "website",
            "phone",
            "address",
            "created_at",
        ],
        ObjectKind::Deal => &[
            "title",
            "amount",
            "currency",
            "pipeline",
            "stage",
            "expected_close",
            "probability",
            "source",
            "lost_reason",
            "created_at",
            "closed_at",
            // Whether the source had the deal won, lost or open, beside its stage:
            // Salesforce's IsWon and IsClosed, Pipedrive's status (open, won, lost). A
            // closed deal goes to a won or lost stage (`apply::deal`).
            "won",
            "closed",
            "status",
        ],
        ObjectKind::Activity => &["kind", "body", "occurred_at", "created_at"],
        // `kind`: the source's type of activity (Pipedrive's call, meeting…), which a
        // task keeps at the head of its notes.
        ObjectKind::Task => &[
            "title",
            "kind",
            "notes",
            "due_at",
            "due_date",
            // The time of day of a due date given apart (Pipedrive's "Due time").
            "due_time",
            "priority",
            "done",
            "done_at",
            "created_at",
        ],
        ObjectKind::User => &["email", "name", "first_name", "last_name", "role", "active"],
        ObjectKind::DealContact => &[],
    }
}

/// The entity name custom fields of `kind` are defined on, if it has any.
pub fn custom_entity(kind: ObjectKind) -> Option<&'static str> {
    match kind {
        ObjectKind::Contact => Some("contact"),
        ObjectKind::Company => Some("company"),
        ObjectKind::Deal => Some("deal"),
        _ => None,
    }
}

/// One target per header. `custom` are the existing custom fields (of any entity: those
/// of other kinds are passed over).
pub fn columns(
    system: System,
    kind: ObjectKind,
    headers: &[String],
    custom: &[Field],
) -> Vec<Target> {
    let custom: Vec<&Field> = match custom_entity(kind) {
        Some(entity) => custom.iter().filter(|f| f.entity == entity).collect(),
        None => Vec::new(),
    };
    headers
        .iter()
        .map(|h| {
            let preset = match system {
                System::Cairn => cairn::target(kind, h, &custom),
                System::HubSpot => hubspot::target(kind, h),
                System::Salesforce => salesforce::target(kind, h),
                System::Pipedrive => pipedrive::target(kind, h),
                System::Generic => generic::target(kind, h, &custom),
            };
            preset
                .or_else(|| custom_by_name(h, &custom))
                .unwrap_or(Target::Ignore)
        })
        .collect()
}

/// A file described by its name and headers: the system the user named or the one its
/// headers show, the kind the user named or the one its name and headers show (`None`
/// when neither tells), and its columns' targets.
pub fn describe(
    name: &str,
    headers: &[String],
    system: Option<System>,
    kind: Option<ObjectKind>,
    custom: &[Field],
) -> Option<FileSpec> {
    let system = system.unwrap_or_else(|| guess_system(headers));
    let kind = kind.or_else(|| guess_kind(system, name, headers))?;
    Some(FileSpec {
        name: name.to_string(),
        kind,
        system,
        columns: columns(system, kind, headers, custom),
    })
}

/// The system of an import (`Options::system`: which its source ids are kept and looked
/// up under, so a later import's links find its records): the one the user named, else
/// the one its files' headers show (`shown`, each file's as `describe` tells it): the
/// system they all agree on, else the first file's. Settings → Import and `cairn import`
/// both decide it here.
pub fn import_system(named: Option<System>, shown: impl IntoIterator<Item = System>) -> System {
    named.unwrap_or_else(|| shown.into_iter().next().unwrap_or(System::Generic))
}

/// The system whose export these headers look like.
pub fn guess_system(headers: &[String]) -> System {
    let has = |name: &str| headers.iter().any(|h| h == name);
    let prefixed = headers
        .iter()
        .filter(|h| pipedrive::split(h).is_some())
        .count();
    // Cairn's export: snake_case names only, with an id column (deal_contacts.csv has two).
    let snake = headers
        .iter()
        .all(|h| h.starts_with("custom.") || h.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
    if snake && (has("id") || has("deal_id") && has("contact_id")) {
        System::Cairn
    } else if has("Id")
        && ["IsDeleted", "OwnerId", "CreatedDate", "SystemModstamp"]
            .iter()
            .any(|h| has(h))
    {
        System::Salesforce
    } else if has("Record ID")
        || headers
            .iter()
            .any(|h| h.starts_with("Associated ") && h.contains(" IDs"))
    {
        System::HubSpot
    } else if prefixed * 2 > headers.len() {
        System::Pipedrive
    } else {
        System::Generic
    }
}

/// The kind of record a file holds, from its name (`Opportunity.csv`,
/// `hubspot-crm-exports-all-deals-2024-01-31.csv`, `people-1234-5.csv`) or else its headers.
pub fn guess_kind(system: System, name: &str, headers: &[String]) -> Option<ObjectKind> {
    let by_headers = match system {
        System::Cairn => cairn::kind(headers),
        System::HubSpot => hubspot::kind(headers),
        System::Salesforce => salesforce::kind(headers),
        System::Pipedrive => pipedrive::kind(headers),
        System::Generic => None,
    };
    kind_by_name(system, name).or(by_headers)
}

fn kind_by_name(system: System, name: &str) -> Option<ObjectKind> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let stem = base.split('.').next().unwrap_or(base).to_lowercase();
    let stem = stem.replace(['-', '_', ' '], "");
    let table: [(&str, ObjectKind); 17] = [
        ("opportunitycontactrole", ObjectKind::DealContact),
        ("dealcontacts", ObjectKind::DealContact),
        ("opportunit", ObjectKind::Deal),
        ("deal", ObjectKind::Deal),
        ("account", ObjectKind::Company),
        ("compan", ObjectKind::Company),
        ("organi", ObjectKind::Company),
        ("contact", ObjectKind::Contact),
        ("people", ObjectKind::Contact),
        ("person", ObjectKind::Contact),
        ("lead", ObjectKind::Contact),
        ("task", ObjectKind::Task),
        // Pipedrive's activities have a due date and a done flag: they are tasks.
        (
            "activit",
            if system == System::Pipedrive {
                ObjectKind::Task
            } else {
                ObjectKind::Activity
            },
        ),
        ("event", ObjectKind::Activity),
        ("note", ObjectKind::Activity),
        ("call", ObjectKind::Activity),
        ("user", ObjectKind::User),
    ];
    table
        .iter()
        .find(|(part, _)| stem.contains(part))
        .map(|(_, k)| *k)
}

/// An existing custom field whose label or key is the header, in any case and spacing.
fn custom_by_name(header: &str, custom: &[&Field]) -> Option<Target> {
    let h = norm(header);
    custom
        .iter()
        .find(|f| norm(&f.label) == h || norm(&f.key) == h)
        .map(|f| Target::Custom(f.key.clone()))
}

/// Lower case, letters and digits only: "Phone Number" and "phone_number" are one name.
pub fn norm(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn field(name: &str) -> Option<Target> {
    Some(Target::Field(name.to_string()))
}
