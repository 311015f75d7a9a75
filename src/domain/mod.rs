//! The CRM's rules: validation, permissions, uniqueness and audit, once for pages and API.
//! Nothing here knows about HTTP.
pub mod access;
pub mod activities;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod cache;
pub mod companies;
pub mod contacts;
pub mod credentials;
pub mod csv;
pub mod custom_fields;
pub mod deals;
pub mod export;
pub mod filters;
pub mod forms;
pub(crate) mod group_commit;
pub mod import;
pub mod invites;
pub mod markdown;
pub mod monitoring;
pub mod onboarding;
pub mod organisation;
pub mod params;
pub mod passwords;
pub mod permissions;
pub mod pick;
pub mod records;
pub mod reports;
pub mod resets;
pub mod schema;
pub mod scoring;
pub mod search;
pub mod secrets;
pub mod seed;
pub mod seed_audit;
pub mod seed_year;
pub mod sessions;
pub mod settings;
pub mod setup;
pub mod signature;
pub mod sql;
pub mod sso;
mod store;
pub mod stripe;
pub mod tags;
pub mod tasks;
pub mod tokens;
pub mod trash;
pub mod two_factor;
pub mod users;
pub mod views;
pub mod webhooks;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
pub use permissions::Action;
pub use records::bulk;
pub use store::Db;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Manager,
    Rep,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Manager, Role::Rep, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Rep => "rep",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }
}

/// Who is acting: the signed-in user or the owner of an API token.
#[derive(Clone, Debug)]
pub struct Actor {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: Role,
    /// The client's address when a request acts (set once where the request's user is
    /// read, `web::auth`), so the audit trail has it for every write; None for the
    /// command line and jobs.
    pub ip: Option<String>,
}

impl Actor {
    /// Whoever runs a read on the command line: not a user, and able to read the whole
    /// database anyway, so it sees every record.
    pub fn command_line() -> Actor {
        Actor {
            id: 0,
            name: "command line".into(),
            email: String::new(),
            role: Role::Admin,
            ip: None,
        }
    }
}

/// Current time, at the precision both engines store (microseconds), so a value reads
/// back equal to what was written.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A list page and where it sits in the whole result.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub total: u64,
    /// `total` is an estimate, rounded (a filtered record list with more than
    /// `records::EXACT_COUNT` matches); pages say "about".
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub total_is_estimate: bool,
    pub page: u64,
    pub per_page: u64,
    pub items: Vec<T>,
}

impl<T> Page<T> {
    pub fn pages(&self) -> u64 {
        self.total.div_ceil(self.per_page).max(1)
    }
}

/// For PATCH bodies: tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

pub const PER_PAGE_MAX: u64 = 100;
/// Far beyond any real list, and small enough that page × per_page never overflows.
pub const PAGE_MAX: u64 = 1_000_000;

/// `page` (1 to a million) and `per_page` (1–100) of a list request, with field messages
/// on `fields`.
pub fn paging(
    page: &Option<String>,
    per_page: &Option<String>,
    default_per_page: u64,
    fields: &mut crate::error::FieldErrors,
) -> (u64, u64) {
    let page = match clean(page.as_deref()) {
        None => 1,
        Some(p) => match p.parse::<u64>() {
            Ok(n) if (1..=PAGE_MAX).contains(&n) => n,
            _ => {
                fields.set(
                    "page",
                    format!("page must be a whole number from 1 to {PAGE_MAX}."),
                );
                1
            }
        },
    };
    let per_page = match clean(per_page.as_deref()) {
        None => default_per_page,
        Some(p) => match p.parse::<u64>() {
            Ok(n) if (1..=PER_PAGE_MAX).contains(&n) => n,
            _ => {
                fields.set(
                    "per_page",
                    format!("per_page must be between 1 and {PER_PAGE_MAX}."),
                );
                default_per_page
            }
        },
    };
    (page, per_page)
}

/// Digits with the usual separators, at most 30 characters.
pub fn valid_phone(phone: &str) -> bool {
    phone.chars().count() <= 30
        && phone.chars().any(|c| c.is_ascii_digit())
        && phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().x/".contains(c))
}

/// Trims, and turns an empty string into nothing.
pub fn clean(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Text fields hold no control characters (PostgreSQL refuses NUL outright).
pub fn has_control(value: &str) -> bool {
    value.chars().any(char::is_control)
}

/// The check every single-line text that reaches a query goes through (filters,
/// suggestions, names): false, with a message on `field`, when it holds a control
/// character.
pub fn check_text(fields: &mut crate::error::FieldErrors, field: &str, value: &str) -> bool {
    if has_control(value) {
        fields.set(field, format!("{field} cannot contain control characters."));
        return false;
    }
    true
}

/// Puts "`label` must be one of: …." on `field` when `value` is set to none of `allowed`.
pub fn check_one_of(
    fields: &mut crate::error::FieldErrors,
    field: &str,
    label: &str,
    value: Option<&str>,
    allowed: &[&str],
) {
    if let Some(v) = value
        && !allowed.contains(&v)
    {
        fields.set(
            field,
            format!("{label} must be one of: {}.", allowed.join(", ")),
        );
    }
}

/// Lower case with runs of whitespace collapsed: the form uniqueness is checked on.
pub fn normalise(value: &str) -> String {
    value
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A practical email check: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn valid_email(email: &str) -> bool {
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && !local.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.')
}

/// Fresh random bytes from the operating system, for secrets. If the source fails no
/// secret is made: the action fails instead.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], AppError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| {
        AppError::Internal(format!("the operating system's random source failed: {e}"))
    })?;
    Ok(buf)
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

/// Compares secrets in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Adds a field message unless that field already has one (the first problem wins).
pub trait FieldErrorsExt {
    fn set(&mut self, field: &str, message: impl Into<String>);
}

impl FieldErrorsExt for crate::error::FieldErrors {
    fn set(&mut self, field: &str, message: impl Into<String>) {
        self.entry(field.to_string())
            .or_insert_with(|| message.into());
    }
}
