//! What the contact and company API handlers share: a bulk request's selection and its
//! answer. Each record type's module declares its documented request types.
use std::collections::BTreeMap;

use actix_web::HttpResponse;

use crate::domain::records::{ListQuery, Record};
use crate::domain::{Actor, Db, bulk, filters};
use crate::error::AppError;

/// The records a bulk request names: its ids, or every record its filter object matches,
/// read by the list's own parser (`parse`, given the filter as a query string).
pub fn selection<P: serde::Serialize + Default>(
    ids: Option<Vec<i64>>,
    filter: Option<BTreeMap<String, serde_json::Value>>,
    parse: impl FnOnce(&str) -> Result<ListQuery, AppError>,
) -> Result<bulk::Selection, AppError> {
    match (ids, filter) {
        (Some(ids), None) => Ok(bulk::Selection::Ids(ids)),
        (None, Some(filter)) => Ok(bulk::Selection::Filter(parse(
            &filters::query_from_object::<P>(&filter)?,
        )?)),
        _ => Err(AppError::field("ids", "Give either ids or filter.")),
    }
}

/// How many records a bulk action touched.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct BulkResult {
    pub affected: u64,
}

/// Applies a bulk action and answers with how many records it touched.
pub async fn apply<R: Record>(
    db: &Db,
    actor: &Actor,
    request: bulk::Request<'_>,
) -> Result<HttpResponse, AppError> {
    let affected = bulk::apply::<R>(db, actor, request).await?;
    Ok(HttpResponse::Ok().json(BulkResult { affected }))
}
