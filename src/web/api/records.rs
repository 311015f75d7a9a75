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

/// Create, read and update for a record type, with their documentation: each record type
/// declares its paths, names and conflict wording here instead of copying three handlers.
/// `$domain` is the domain module with `create`, `get` and `update`.
macro_rules! crud_handlers {
    (
        domain = $domain:ident, record = $record:ident, input = $input:ident,
        patch = $patch:ident, tag = $tag:tt, base = $base:tt, item = $item:tt,
        ops = ($create_op:tt, $get_op:tt, $update_op:tt), id = $id_doc:tt,
        create_conflict = $create_conflict:tt, update_conflict = $update_conflict:tt $(,)?
    ) => {
        #[utoipa::path(post, path = $base, operation_id = $create_op, tag = $tag,
                            request_body = $input,
                            responses((status = 201, body = $record),
                                (status = 403, response = crate::web::api::schema::Forbidden),
                                (status = 409, description = $create_conflict,
                                    body = crate::web::api::schema::ErrorBody),
                                crate::web::api::schema::WriteErrors),
                            security(("bearer" = [])))]
        pub async fn create(
            state: actix_web::web::Data<crate::app::AppState>,
            crate::web::auth::ApiUser(actor): crate::web::auth::ApiUser,
            body: actix_web::web::Json<$input>,
        ) -> Result<actix_web::HttpResponse, crate::error::AppError> {
            let record = $domain::create(&state.db, &actor, &body).await?;
            Ok(actix_web::HttpResponse::Created()
                .insert_header(("Location", format!("{}/{}", $base, record.id)))
                .json(record))
        }

        #[utoipa::path(get, path = $item, operation_id = $get_op, tag = $tag,
                            params(("id" = i64, Path, description = $id_doc)),
                            responses((status = 200, body = $record),
                                (status = 401, response = crate::web::api::schema::Unauthorized),
                                (status = 404, response = crate::web::api::schema::NotFound),
                                (status = 503, response = crate::web::api::schema::Unavailable)),
                            security(("bearer" = [])))]
        pub async fn get(
            state: actix_web::web::Data<crate::app::AppState>,
            crate::web::auth::ApiUser(actor): crate::web::auth::ApiUser,
            id: actix_web::web::Path<i64>,
        ) -> Result<actix_web::HttpResponse, crate::error::AppError> {
            Ok(actix_web::HttpResponse::Ok().json($domain::get(&state.db, &actor, *id).await?))
        }

        #[utoipa::path(patch, path = $item, operation_id = $update_op, tag = $tag,
                            request_body = $patch,
                            params(("id" = i64, Path, description = $id_doc)),
                            responses((status = 200, body = $record),
                                (status = 403, response = crate::web::api::schema::Forbidden),
                                (status = 404, response = crate::web::api::schema::NotFound),
                                (status = 409, description = $update_conflict,
                                    body = crate::web::api::schema::ErrorBody),
                                crate::web::api::schema::WriteErrors),
                            security(("bearer" = [])))]
        pub async fn update(
            state: actix_web::web::Data<crate::app::AppState>,
            crate::web::auth::ApiUser(actor): crate::web::auth::ApiUser,
            id: actix_web::web::Path<i64>,
            body: actix_web::web::Json<$patch>,
        ) -> Result<actix_web::HttpResponse, crate::error::AppError> {
            let record = $domain::update(&state.db, &actor, *id, body.into_inner()).await?;
            Ok(actix_web::HttpResponse::Ok().json(record))
        }
    };
}

pub(crate) use crud_handlers;

/// A record type's list, bulk and merge handlers, with their documentation: the list
/// parses `$params` and answers with `$list_body` (the record type's own fastest way to
/// write the page), bulk runs on the records `$params` selects, merge calls `$merge`.
macro_rules! list_bulk_merge_handlers {
    (
        record = $record:ident, params = $params:ident, tag = $tag:tt,
        list = ($list:ident, $list_path:tt, $list_op:tt, $list_body:ident),
        bulk = ($bulk_path:tt, $bulk_op:tt),
        merge = ($merge:path, $merge_path:tt, $merge_op:tt, $stays:tt, $merge_conflict:tt),
        request = ($request_schema:ident, $field:ty, $merged_doc:tt, $take_doc:tt) $(,)?
    ) => {
        #[derive(serde::Serialize, utoipa::ToSchema)]
        pub struct $list {
            pub total: u64,
            /// Present and true when `total` is an estimate, rounded to two significant
            /// digits: a filtered list counts up to 10 000 matches exactly.
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            pub total_is_estimate: bool,
            pub page: u64,
            pub per_page: u64,
            pub items: Vec<$record>,
        }

        #[utoipa::path(get, path = $list_path, operation_id = $list_op, tag = $tag, params($params),
            responses((status = 200, body = $list),
                (status = 401, response = crate::web::api::schema::Unauthorized),
                (status = 422, response = crate::web::api::schema::Unprocessable),
                (status = 503, response = crate::web::api::schema::Unavailable)),
            security(("bearer" = [])))]
        pub async fn list(
            req: actix_web::HttpRequest,
            state: actix_web::web::Data<crate::app::AppState>,
            crate::web::auth::ApiUser(actor): crate::web::auth::ApiUser,
        ) -> Result<actix_web::HttpResponse, crate::error::AppError> {
            let query = $params::from_query(req.query_string())?.validate(25)?;
            $list_body(&state.db, &actor, &query).await
        }

        #[utoipa::path(post, path = $bulk_path, operation_id = $bulk_op, tag = $tag,
            request_body = crate::web::api::records::BulkRequest,
            responses((status = 200, body = crate::web::api::records::BulkResult),
                (status = 403, response = crate::web::api::schema::Forbidden),
                (status = 409, description = "A record the action names was deleted meanwhile.",
                    body = crate::web::api::schema::ErrorBody),
                crate::web::api::schema::WriteErrors),
            security(("bearer" = [])))]
        pub async fn bulk(
            state: actix_web::web::Data<crate::app::AppState>,
            crate::web::auth::ApiUser(actor): crate::web::auth::ApiUser,
            body: actix_web::web::Json<crate::web::api::records::BulkRequest>,
        ) -> Result<actix_web::HttpResponse, crate::error::AppError> {
            let body = body.into_inner();
            crate::web::api::records::bulk::<$record, $params>(&state.db, &actor, body, |query| {
                $params::from_query(query)?.validate(25)
            })
            .await
        }

        #[derive(serde::Deserialize, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        #[schema(as = $request_schema)]
        pub struct MergeRequest {
            #[doc = $merged_doc]
            pub merge_id: i64,
            #[doc = $take_doc]
            #[serde(default)]
            #[schema(value_type = Vec<$field>)]
            pub take: Vec<String>,
        }

        #[utoipa::path(post, path = $merge_path, operation_id = $merge_op, tag = $tag,
            request_body = MergeRequest,
            params(("id" = i64, Path, description = $stays)),
            responses((status = 200, body = $record),
                (status = 403, response = crate::web::api::schema::Forbidden),
                (status = 404, response = crate::web::api::schema::NotFound),
                (status = 409, description = $merge_conflict,
                    body = crate::web::api::schema::ErrorBody),
                crate::web::api::schema::WriteErrors),
            security(("bearer" = [])))]
        pub async fn merge(
            state: actix_web::web::Data<crate::app::AppState>,
            crate::web::auth::ApiUser(actor): crate::web::auth::ApiUser,
            id: actix_web::web::Path<i64>,
            body: actix_web::web::Json<MergeRequest>,
        ) -> Result<actix_web::HttpResponse, crate::error::AppError> {
            let merged = $merge(&state.db, &actor, *id, body.merge_id, &body.take).await?;
            Ok(actix_web::HttpResponse::Ok().json(merged))
        }
    };
}

pub(crate) use list_bulk_merge_handlers;

/// Which records a bulk action covers: listed ids, or every record matching a filter.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    pub action: bulk::Action,
    /// The new owner, for `change_owner`.
    pub owner_id: Option<i64>,
    /// The tag to add or remove, for `tag` and `untag`.
    #[schema(value_type = Option<crate::web::api::schema::TagName>)]
    pub tag: Option<String>,
    /// Up to 10 000 record ids.
    #[schema(min_items = 1, max_items = 10000)]
    pub ids: Option<Vec<i64>>,
    /// The record type's list filters (its list's query parameters, `cf.<key>` included):
    /// every match. A key that is not a filter is refused.
    #[schema(value_type = Option<Object>)]
    pub filter: Option<BTreeMap<String, serde_json::Value>>,
    /// The count the client expects: if given, the action is refused (409) unless exactly
    /// this many records are selected when it runs.
    pub expected: Option<u64>,
}

/// Runs a bulk request on records of type `R`, whose list filters `P` parses (`parse`
/// reads a filter object given as a query string).
pub async fn bulk<R: Record, P: serde::Serialize + Default>(
    db: &Db,
    actor: &Actor,
    body: BulkRequest,
    parse: impl FnOnce(&str) -> Result<ListQuery, AppError>,
) -> Result<HttpResponse, AppError> {
    let selection = selection::<P>(body.ids, body.filter, parse)?;
    let request = bulk::Request {
        selection: &selection,
        action: body.action,
        owner_id: body.owner_id,
        tag: body.tag.as_deref(),
        expected: body.expected,
    };
    apply::<R>(db, actor, request).await
}
