//! The value sets the API accepts, as OpenAPI schemas built from the domain's own
//! constants, so the document cannot drift from what is checked. The domain's request
//! types name them in their schema attributes; `web::api::schema` re-exports them.
use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::{activities, companies, contacts, deals, records, tasks};

/// A string schema allowing exactly `values` (and `""` when `empty` is true: the domain
/// reads an empty string as "not given").
pub fn one_of<'a>(
    values: impl IntoIterator<Item = &'a str>,
    empty: bool,
    description: &str,
) -> RefOr<Schema> {
    let mut all: Vec<&str> = Vec::new();
    if empty {
        all.push("");
    }
    all.extend(values);
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(all))
        .description(Some(description))
        .into()
}

/// Declares a string value set as a named schema component.
macro_rules! value_set {
    ($(#[$doc:meta])* $name:ident, $values:expr, empty = $empty:expr, $description:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                one_of($values, $empty, $description)
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

value_set!(
    Source,
    contacts::SOURCES,
    empty = true,
    "Where a contact or deal came from; empty means organic."
);
value_set!(
    Industry,
    companies::INDUSTRIES.iter().map(|(k, _)| *k),
    empty = true,
    "A company's industry (any letter case); empty means none."
);
value_set!(
    SizeBand,
    companies::SIZE_BANDS,
    empty = true,
    "A company's head count; empty means none."
);
value_set!(
    Currency,
    deals::CURRENCIES,
    empty = true,
    "ISO 4217 code (any letter case); empty means the organisation's currency."
);
value_set!(
    StageKind,
    ["open", "won", "lost"],
    empty = false,
    "Whether a stage holds open, won or lost deals."
);
value_set!(
    DealStatus,
    ["open", "won", "lost"],
    empty = true,
    "Only open, won or lost deals; empty means all."
);
value_set!(
    ActivityKind,
    activities::KINDS.iter().map(|(k, _)| *k),
    empty = false,
    "What kind of activity (any letter case)."
);
value_set!(
    TaskPriority,
    tasks::PRIORITIES.iter().map(|(k, _)| *k),
    empty = false,
    "A task's priority (any letter case)."
);
value_set!(
    ContactSort,
    contacts::KIND.sorts.iter().map(|s| s.key),
    empty = true,
    "The contact list's order; empty means newest."
);
value_set!(
    CompanySort,
    companies::KIND.sorts.iter().map(|s| s.key),
    empty = true,
    "The company list's order; empty means name."
);
value_set!(
    DealSort,
    // The deal table's sort keys (`deals::LIST_SORTS`); a test sends each of them.
    [
        "title", "stage", "amount", "owner", "company", "close", "score", "updated", "created"
    ],
    empty = true,
    "The deal list's order; empty means updated."
);
value_set!(
    SortDirection,
    ["asc", "desc"],
    empty = true,
    "Ascending or descending; empty means the sort's usual direction."
);
value_set!(
    StageDirection,
    ["up", "down"],
    empty = true,
    "One place earlier (up) or later (down); empty means none (give a position)."
);
value_set!(
    ContactMergeField,
    <contacts::Contact as records::Fields>::merge_keys(),
    empty = false,
    "A contact field whose value a merge takes from the merged contact."
);
value_set!(
    CompanyMergeField,
    <companies::Company as records::Fields>::merge_keys(),
    empty = false,
    "A company field whose value a merge takes from the merged company."
);

/// A tag name: at most 60 characters once spaces are collapsed.
pub struct TagName;

impl PartialSchema for TagName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(crate::domain::tags::NAME_MAX))
            .description(Some(
                "A tag name, at most 60 characters; a new name creates the tag.",
            ))
            .into()
    }
}

impl ToSchema for TagName {}
