//! What the contact and company lists' filters share: every tag and custom field a filter
//! names must exist, so a mistyped name is a 422 rather than an empty list (or, for a bulk
//! action or an export, a different set of records than the person meant).
use std::collections::BTreeMap;

use crate::domain::Db;
use crate::domain::check_text;
use crate::error::{AppError, FieldErrors};

/// Checks the names in a list's filters; `entity` is `contact` or `company`.
pub async fn check_names(
    db: &Db,
    entity: &str,
    tags: &[String],
    custom: &[(String, String)],
) -> Result<(), AppError> {
    let unknown = crate::domain::tags::unknown(db, tags).await?;
    if !unknown.is_empty() {
        return Err(AppError::field(
            "tags",
            format!("No tag is called {}.", unknown.join(", ")),
        ));
    }
    if custom.is_empty() {
        return Ok(());
    }
    let defs = crate::domain::custom_fields::defs(db, entity).await?;
    match custom
        .iter()
        .find(|(k, _)| !defs.iter().any(|d| &d.key == k))
    {
        Some((key, _)) => Err(AppError::field(
            &format!("cf.{key}"),
            format!("There is no custom field “{key}”."),
        )),
        None => Ok(()),
    }
}

/// The `cf.<key>=value` filters of a list's query string as (key, value) pairs, empty
/// values dropped; a control character in a key or value is a field message.
pub fn custom_pairs(
    params: &BTreeMap<String, String>,
    fields: &mut FieldErrors,
) -> Vec<(String, String)> {
    params
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("cf.")?, v.trim())))
        .filter(|(k, v)| {
            check_text(fields, &format!("cf.{k}"), k) && check_text(fields, &format!("cf.{k}"), v)
        })
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A JSON filter object (the API's bulk actions) as the query string a list would get,
/// so it goes through the list's own parser. Keys are the filters of `P` (a list's
/// params) or `cf.<key>`; any other key is refused, since ignoring a mistyped filter
/// would widen the selection.
pub fn query_from_object<P: serde::Serialize + Default>(
    filter: &BTreeMap<String, serde_json::Value>,
) -> Result<String, AppError> {
    let known = serde_json::to_value(P::default()).unwrap_or_default();
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in filter {
        // `cf` documents the `cf.<key>` filters; it is no filter itself.
        if key == "cf" || (!key.starts_with("cf.") && known.get(key).is_none()) {
            return Err(AppError::field(
                &format!("filter.{key}"),
                format!("{key} is not a filter of this list."),
            ));
        }
        let text = match value {
            serde_json::Value::Null => continue,
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            _ => {
                return Err(AppError::field(
                    &format!("filter.{key}"),
                    format!("{key} must be a string or a number."),
                ));
            }
        };
        query.append_pair(key, &text);
    }
    Ok(query.finish())
}
