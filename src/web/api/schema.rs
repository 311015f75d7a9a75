//! What the OpenAPI document says beyond the Rust types: the error body, the error
//! responses operations share, and the value sets the domain accepts, built from the
//! domain's own constants so the document cannot drift from what is checked.
use std::borrow::Cow;
use std::collections::BTreeMap;

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, Response};
use utoipa::{PartialSchema, ToResponse, ToSchema};

use crate::domain::{activities, companies, contacts, deals};

/// Every error answer: `{"error": {"code", "message", "fields"}}`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// What went wrong, in a sentence for people.
    pub message: String,
    /// A message per field that needs attention (validation errors, some conflicts);
    /// absent otherwise.
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    pub fields: Option<BTreeMap<String, String>>,
}

/// The error codes, as `AppError::code` and the 405 answer name them.
pub const ERROR_CODES: [&str; 12] = [
    "validation_failed",
    "conflict",
    "not_found",
    "forbidden",
    "unauthorized",
    "bad_request",
    "unsupported_media_type",
    "payload_too_large",
    "too_many_requests",
    "unavailable",
    "internal",
    "method_not_allowed",
];

/// What kind of error it is, for programs.
pub struct ErrorCode;

impl PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        one_of(
            ERROR_CODES,
            false,
            "What kind of error it is, for programs.",
        )
    }
}

impl ToSchema for ErrorCode {}

/// A string schema allowing exactly `values` (and `""` when `empty` is true: the domain
/// reads an empty string as "not given").
fn one_of<'a>(
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
    ContactSort,
    contacts::Sort::ALL.iter().map(|(_, k, _)| *k),
    empty = true,
    "The contact list's order; empty means newest."
);
value_set!(
    CompanySort,
    companies::Sort::ALL.iter().map(|(_, k, _)| *k),
    empty = true,
    "The company list's order; empty means name."
);
value_set!(
    DealSort,
    // The deal table's sort keys (`deals::LIST_SORTS`); a test sends each of them.
    [
        "title", "stage", "amount", "owner", "close", "updated", "created"
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
    contacts::merge::FIELDS,
    empty = false,
    "A contact field whose value a merge takes from the merged contact."
);
value_set!(
    CompanyMergeField,
    companies::MERGE_FIELDS,
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

/// An error response described once, referenced by the operations that can answer it.
macro_rules! error_response {
    ($name:ident, $description:expr) => {
        pub struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                (
                    stringify!($name),
                    utoipa::openapi::ResponseBuilder::new()
                        .description($description)
                        .content(
                            "application/json",
                            utoipa::openapi::ContentBuilder::new()
                                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                                    "ErrorBody",
                                ))))
                                .build(),
                        )
                        .into(),
                )
            }
        }
    };
}

error_response!(
    BadRequest,
    "The body is empty or not valid JSON (a lone surrogate escape such as `\\ud800` counts as \
     not valid)."
);
error_response!(
    Unauthorized,
    "No API token, or one that is revoked or unknown."
);
error_response!(NotFound, "Nothing has this id.");
error_response!(PayloadTooLarge, "The body is larger than 1 MiB.");
error_response!(
    UnsupportedMediaType,
    "The body is not sent as application/json."
);
error_response!(
    Unprocessable,
    "A value is not valid (unknown choice, too long, wrong type, control characters): \
     `fields` says which."
);
error_response!(Unavailable, "The database is busy; try again shortly.");
