//! CSV export of a record list: every record its filters match, streamed in chunks.

use actix_web::{HttpResponse, web};

use super::Listed;
use crate::app::AppState;
use crate::domain::custom_fields;
use crate::domain::records::{self, Params};
use crate::error::AppError;
use crate::web::auth::CurrentUser;
use crate::web::pages::custom;

/// `/<records>/export.csv` with the list's filters: every matching record, streamed.
pub async fn export<R: Listed>(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let query = R::Params::from_query(req.query_string())?.validate(25)?;
    // Refused now, while an error can still be a status: once streaming starts it can't.
    records::check_filters(&state.db, &query).await?;
    // The definitions as the download starts: one header for every chunk.
    let defs = std::sync::Arc::new(custom_fields::defs(&state.db, R::KIND.entity).await?);
    let header = export_header(&R::csv_header(), &defs);
    let (db, actor) = (state.db.clone(), user.actor.clone());
    let next = move |after| {
        let (db, actor, query) = (db.clone(), actor.clone(), query.clone());
        async move { records::export_chunk::<R>(&db, &actor, &query, after).await }
    };
    // Each chunk's records come with their tags and custom values (one statement per
    // chunk, see `records::reads`), so these columns cost no query of their own.
    let write = move |out: &mut String, r: &R| {
        let mut values = r.csv_values();
        values.push(crate::domain::records::Record::tags(r).join("; "));
        values.extend(defs.iter().map(|d| export_value(r.custom(), &d.key)));
        crate::domain::csv::row(out, values.iter().map(String::as_str));
    };
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let body = crate::web::csv::stream(&header, records::EXPORT_CHUNK, next, write, R::id);
    Ok(crate::web::csv::download(R::KIND.table, body))
}

/// A custom value as the record's page shows it (dates ISO, Yes/No, choices by label),
/// with several choices joined like the tags column.
fn export_value(
    values: &std::collections::BTreeMap<String, serde_json::Value>,
    key: &str,
) -> String {
    match values.get(key) {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join("; "),
        _ => custom::display(values, key),
    }
}

/// The export's columns: the record's own (its field table's), its tags, then one per custom field in the
/// order settings list them, headed by the label users know it by. A label that repeats a
/// column already there is marked, so every header names one column.
fn export_header(own: &[&str], defs: &[custom_fields::Field]) -> Vec<String> {
    let mut header: Vec<String> = own.iter().map(|h| h.to_string()).collect();
    header.push("tags".into());
    for d in defs {
        let label = if header.iter().any(|h| h.eq_ignore_ascii_case(&d.label)) {
            format!("{} (custom field)", d.label)
        } else {
            d.label.clone()
        };
        header.push(label);
    }
    header
}
