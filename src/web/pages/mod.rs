//! HTML page handlers, one module per area. Each handler translates HTTP into a call to
//! `domain` and renders its answer; the rules live in `domain`.
pub mod account;
pub mod activities;
pub mod audit;
pub mod backups;
pub mod companies;
pub mod contacts;
pub mod custom;
pub mod dashboard;
pub mod deal_form;
pub mod deal_list;
pub mod deals;
pub mod email;
pub mod export;
pub mod fields;
pub mod form_post;
mod import_view;
pub mod imports;
pub mod integrations;
pub mod invites;
pub mod jobs;
pub mod login;
pub mod monitoring;
pub mod organisation;
pub mod password_reset;
pub mod personal_data;
pub mod pick;
pub mod pipelines;
pub mod records;
pub mod reports;
pub mod scoring;
pub mod search;
pub mod setup;
pub mod sso;
pub mod tags;
pub mod tasks;
pub mod tokens;
pub mod trash;
pub mod two_factor;
pub mod users;
pub mod views;
pub mod web_forms;
pub mod webhooks;
pub mod welcome;

use actix_session::Session;
use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use askama::Template;

use crate::domain::Action;
use crate::domain::Actor;
use crate::error::AppError;
use crate::web::assets::{self, Urls};
use crate::web::auth::{CurrentUser, csrf_token, take_flash};

/// What a form shows again after a refused submission: a validation error answers 422 and
/// a conflict 409, each with its message and field messages; no error is a plain 200. Any
/// other error is handed back for the error page. Every page handler that re-renders a
/// form goes through this.
pub struct Refusal {
    pub status: StatusCode,
    pub message: Option<String>,
    pub fields: crate::error::FieldErrors,
}

impl Refusal {
    pub fn of(error: Option<AppError>) -> Result<Refusal, AppError> {
        let (status, message, fields) = match error {
            None => (StatusCode::OK, None, Default::default()),
            Some(AppError::Validation { message, fields }) => {
                (StatusCode::UNPROCESSABLE_ENTITY, Some(message), fields)
            }
            Some(AppError::Conflict { message, fields }) => {
                (StatusCode::CONFLICT, Some(message), fields)
            }
            Some(other) => return Err(other),
        };
        Ok(Refusal {
            status,
            message,
            fields,
        })
    }
}

/// A page (or a part of one) whose form shows a message beside each refused field: its
/// template asks `self.err("email")`, "" when the field has none. A type names where its
/// messages are; `field_messages!` does that for the usual `errors` field.
pub trait FieldMessages {
    fn field_errors(&self) -> &crate::error::FieldErrors;

    /// Field `field`'s message ("" for none).
    fn err(&self, field: &str) -> &str {
        self.field_errors()
            .get(field)
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// `FieldMessages` for page structs that keep their field messages in `errors`, or
/// (`Page: parts.errors`) in the field named.
macro_rules! field_messages {
    ($page:ty: $($field:ident).+) => {
        impl crate::web::pages::FieldMessages for $page {
            fn field_errors(&self) -> &crate::error::FieldErrors {
                &self.$($field).+
            }
        }
    };
    ($($page:ty),+ $(,)?) => {$(
        impl crate::web::pages::FieldMessages for $page {
            fn field_errors(&self) -> &crate::error::FieldErrors {
                &self.errors
            }
        }
    )+};
}

pub(crate) use field_messages;

/// What `base.html` needs on every page.
pub struct Layout {
    pub user: Option<Actor>,
    pub csrf: String,
    pub flash: Option<String>,
    pub assets: &'static Urls,
    /// The nav entry to highlight.
    pub section: &'static str,
    /// The signed-in user's overdue tasks (the badge beside Tasks).
    pub overdue: u64,
    /// The organisation's name in the header (None: "Cairn").
    pub org: Option<String>,
}

impl Layout {
    pub fn for_user(user: &CurrentUser, section: &'static str) -> Layout {
        Layout {
            user: Some(user.actor.clone()),
            csrf: csrf_token(&user.session),
            flash: take_flash(&user.session),
            assets: assets::urls(),
            section,
            overdue: user.overdue,
            org: user.org.clone(),
        }
    }

    pub fn anonymous(session: &Session) -> Layout {
        Layout {
            user: None,
            csrf: csrf_token(session),
            flash: take_flash(session),
            assets: assets::urls(),
            section: "",
            overdue: 0,
            org: None,
        }
    }

    pub fn can_write(&self) -> bool {
        self.user.as_ref().is_some_and(Actor::can_write)
    }

    pub fn user_id(&self) -> i64 {
        self.user.as_ref().map(|u| u.id).unwrap_or(0)
    }

    /// Whether the user's role may do `action` (the table in `domain::permissions`):
    /// the pages show a link or button only then.
    pub fn can(&self, action: Action) -> bool {
        self.user.as_ref().is_some_and(|u| u.can(action))
    }

    /// Whether the user may delete a record owned by `owner` (`trash::may_delete`): the
    /// pages show Delete only then.
    pub fn may_delete(&self, owner: &Option<i64>) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| crate::domain::trash::may_delete(u, *owner))
    }

    /// `may_delete` for a record that always has an owner.
    pub fn may_delete_owned_by(&self, owner: &i64) -> bool {
        self.may_delete(&Some(*owner))
    }
}

/// A rendered template with the given status. Pages vary on `HX-Request` because the
/// same URL answers with a fragment or a whole page.
pub fn render(template: &impl Template, status: StatusCode) -> Result<HttpResponse, AppError> {
    let body = template
        .render()
        .map_err(|e| AppError::Internal(format!("template: {e}")))?;
    let mut res = HttpResponse::build(status);
    res.content_type("text/html; charset=utf-8")
        .insert_header((header::VARY, "HX-Request"))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    // A refused form post shows the form again, but its URL (where it posted) may not be
    // a page: the address bar keeps the page the user was on.
    if status.is_client_error() {
        res.insert_header(("HX-Push-Url", "false"));
    }
    Ok(res.body(body))
}

pub fn ok(template: &impl Template) -> Result<HttpResponse, AppError> {
    render(template, StatusCode::OK)
}

/// After a successful form post: 303 to `to`, which browsers and boosted htmx forms follow.
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// A form's `return_to` when it is a contact's or a company's page on this site (where
/// a record started from that page goes back to), else None: never an address from
/// elsewhere.
pub fn record_page(return_to: &str) -> Option<&str> {
    let local_record = ["/contacts/", "/companies/"].iter().any(|prefix| {
        return_to
            .strip_prefix(prefix)
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
    });
    local_record.then_some(return_to)
}

/// Only same-site paths are followed after sign-in, so `next` cannot send users away;
/// without one (or with one from elsewhere) a sign-in lands on the dashboard.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        // A path on this site only: browsers drop tabs and newlines and read `\` as `/`,
        // so `/\t/evil.example` would leave the site.
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.chars().any(|c| c == '\\' || c.is_control()) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

/// The query string of a list page: the non-empty filters, then the page number.
/// `cf.<key>` filters of a list's query, set ones only, as kept across pages, bulk
/// actions and saved views.
pub fn custom_filters(
    custom: &std::collections::BTreeMap<String, String>,
) -> Vec<(String, String)> {
    custom
        .iter()
        .filter(|(k, v)| k.starts_with("cf.") && !v.is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// What the contact and company lists' filter echo shares: given a list's named filters
/// (`sort` among them) and its custom ones, the set ones for links (`page_query`), for
/// hidden form fields (`hidden`, without the sort), and whether any filter is set.
pub struct SetFilters<'a> {
    pairs: Vec<(&'a str, &'a String)>,
}

impl<'a> SetFilters<'a> {
    pub fn new(named: &[(&'a str, &'a String)], custom: &'a [(String, String)]) -> Self {
        let pairs = named
            .iter()
            .copied()
            .filter(|(_, v)| !v.is_empty())
            .chain(custom.iter().map(|(k, v)| (k.as_str(), v)))
            .collect();
        SetFilters { pairs }
    }

    /// The query string for page `n` of the same list.
    pub fn page_query(&self, n: u64) -> String {
        list_query(&self.pairs, n)
    }

    /// The filters that are set, as hidden form fields carry them.
    pub fn hidden(&self) -> Vec<(&'a str, &'a str)> {
        self.pairs
            .iter()
            .filter(|(k, _)| *k != "sort")
            .map(|(k, v)| (*k, v.as_str()))
            .collect()
    }

    pub fn any(&self) -> bool {
        !self.hidden().is_empty()
    }
}

pub fn list_query(filters: &[(&str, &String)], page: u64) -> String {
    let mut parts: Vec<String> = filters
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", crate::web::errors::url_encode(v)))
        .collect();
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    parts.join("&")
}

/// Formats a date for display; `app.js` turns `<time>` elements into the viewer's zone.
pub use crate::domain::records::fields::iso;

pub fn short_date(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}
