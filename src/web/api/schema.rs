//! What the OpenAPI document says beyond the Rust types: the error body, the error
//! responses operations share, and the value sets the domain accepts, built from the
//! domain's own constants so the document cannot drift from what is checked.
use std::collections::BTreeMap;

use utoipa::openapi::schema::Schema;
use utoipa::openapi::{RefOr, Response};
use utoipa::{PartialSchema, ToResponse, ToSchema};

pub use crate::domain::schema::*;

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
error_response!(Forbidden, "Viewers only read.");

/// The error answers every write operation can give whatever it writes: a body that is
/// not JSON, too large or not valid, no token, a busy database. Operations list only
/// what is their own (403, 404, 409) beside it.
pub struct WriteErrors;

impl utoipa::IntoResponses for WriteErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        [
            ("400", "BadRequest"),
            ("401", "Unauthorized"),
            ("413", "PayloadTooLarge"),
            ("415", "UnsupportedMediaType"),
            ("422", "Unprocessable"),
            ("503", "Unavailable"),
        ]
        .into_iter()
        .map(|(status, name)| {
            (
                status.to_string(),
                RefOr::Ref(utoipa::openapi::Ref::from_response_name(name)),
            )
        })
        .collect()
    }
}
