//! The askama filters the templates share. A template finds them as `filters::NAME`
//! from the module its struct is declared in, so each pages module imports this one
//! as `filters`.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

/// What a role may do, for `l.can(filters::Action::…)`: templates reach the domain's
/// permission table through this module only, never by a `crate::` path.
pub use crate::domain::Action;

/// A time as RFC 3339 for a `<time datetime>`; `app.js` shows it in the viewer's zone.
#[askama::filter_fn]
pub fn iso(t: &DateTime<Utc>, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(crate::web::pages::iso(t))
}

/// A time's UTC date, the text shown before `app.js` localises it.
#[askama::filter_fn]
pub fn short_date(t: &DateTime<Utc>, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(crate::web::pages::short_date(t))
}

/// The custom value stored under `key` as text (see `pages::custom::display`).
#[askama::filter_fn]
pub fn custom_value(
    values: &BTreeMap<String, Value>,
    _: &dyn askama::Values,
    key: &str,
) -> askama::Result<String> {
    Ok(crate::web::pages::custom::display(values, key))
}

/// A note's Markdown as sanitised HTML (`domain::markdown`): the one output a template
/// may print with `|safe`.
#[askama::filter_fn]
pub fn markdown(text: &str, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(crate::domain::markdown::render(text))
}
