//! What the record types' API handlers share: the macros that declare each operation's
//! handler with its documentation (list, create, get, update, delete), and for contacts
//! and companies their list, bulk and merge handlers with a bulk request's selection and
//! answer. Each record type's module declares its paths, types and wording.
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

// Each record type's API is declared by the macros below: one per operation, each writing
// the handler and its `#[utoipa::path]` from what the type names (its domain module with
// `list`, `create`, `get`, `update` and `delete`, its structs, paths and wording). The
// answers every such operation shares are written here once; a type passes only what is
// its own (a 404 or 422 of its list, who may change it, what a conflict means).

/// A paged list's JSON body, `$list`, documented for `$record` and filled from the
/// domain's `Page`. A list whose total can be an estimate names the flag's field
/// (`total_is_estimate`) as the third argument.
macro_rules! page_body {
    ($list:ident, $record:ident $(, $estimate:ident)?) => {
        #[derive(serde::Serialize, utoipa::ToSchema)]
        pub struct $list {
            pub total: u64,
            $(
            /// Present and true when `total` is an estimate, rounded to two significant
            /// digits: a filtered list counts up to 10 000 matches exactly.
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            pub $estimate: bool,
            )?
            pub page: u64,
            pub per_page: u64,
            pub items: Vec<$record>,
        }

        impl From<crate::domain::Page<$record>> for $list {
            fn from(page: crate::domain::Page<$record>) -> Self {
                Self {
                    total: page.total,
                    $($estimate: page.$estimate,)?
                    page: page.page,
                    per_page: page.per_page,
                    items: page.items,
                }
            }
        }
    };
}

pub(crate) use page_body;

/// `GET $path`: `$domain::ListParams` read from the query string (25 a page unless it
/// says otherwise), `$domain::list`'s page answered as `$list`. The document's query
/// parameters are that same struct's (`IntoParams`); `errors` are the list's own error
/// answers beside 401 and 503.
macro_rules! list_handler {
    (
        $(#[doc = $doc:tt])*
        domain = $domain:ident, record = $record:ident, list = $list:ident,
        path = $path:tt, op = $op:tt, tag = $tag:tt, errors = ($($errors:tt)*) $(,)?
    ) => {
        crate::web::api::records::page_body!($list, $record);

        $(#[doc = $doc])*
        #[utoipa::path(get, path = $path, operation_id = $op, tag = $tag,
            params($domain::ListParams),
            responses((status = 200, body = $list),
                (status = 401, response = crate::web::api::schema::Unauthorized),
                (status = 503, response = crate::web::api::schema::Unavailable),
                $($errors)*),
            security(("bearer" = [])))]
        pub async fn list(
            req: actix_web::HttpRequest,
            state: actix_web::web::Data<crate::app::AppState>,
            crate::web::auth::ApiUser(actor): crate::web::auth::ApiUser,
        ) -> Result<actix_web::HttpResponse, crate::error::AppError> {
            let params: $domain::ListParams = crate::web::forms::parse_query(req.query_string())?;
            let page = $domain::list(&state.db, &actor, &params.validate(25)?).await?;
            Ok(actix_web::HttpResponse::Ok().json($list::from(page)))
        }
    };
}

pub(crate) use list_handler;

/// `POST $path`: `$domain::create` with an `$input` body, answered 201 with the record
/// (and, given `location`, its address under it). `conflict` documents a 409.
macro_rules! create_handler {
    (
        $(#[doc = $doc:tt])*
        domain = $domain:ident, record = $record:ident, input = $input:ident,
        path = $path:tt, op = $op:tt, tag = $tag:tt
        $(, location = $location:tt)? $(, conflict = $conflict:tt)? $(,)?
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(post, path = $path, operation_id = $op, tag = $tag,
                            request_body = $input,
                            responses((status = 201, body = $record),
                                (status = 403, response = crate::web::api::schema::Forbidden),
                                $((status = 409, description = $conflict,
                                    body = crate::web::api::schema::ErrorBody),)?
                                crate::web::api::schema::WriteErrors),
                            security(("bearer" = [])))]
        pub async fn create(
            state: actix_web::web::Data<crate::app::AppState>,
            crate::web::auth::ApiUser(actor): crate::web::auth::ApiUser,
            body: actix_web::web::Json<$input>,
        ) -> Result<actix_web::HttpResponse, crate::error::AppError> {
            let record = $domain::create(&state.db, &actor, &body).await?;
            let mut created = actix_web::HttpResponse::Created();
            $(created.insert_header(("Location", format!("{}/{}", $location, record.id)));)?
            Ok(created.json(record))
        }
    };
}

pub(crate) use create_handler;

/// `GET $path` (an item's path, `{id}` described as `$id_doc`): `$domain::get`'s record.
macro_rules! get_handler {
    (
        domain = $domain:ident, record = $record:ident,
        path = $path:tt, op = $op:tt, tag = $tag:tt, id = $id_doc:tt $(,)?
    ) => {
        #[utoipa::path(get, path = $path, operation_id = $op, tag = $tag,
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
    };
}

pub(crate) use get_handler;

/// `PATCH $path`: `$domain::update` with a `$patch` body, answered with the record.
/// `forbidden` is the 403's documentation (`response = …` or `description = …, body = …`),
/// `conflict` the 409's description.
macro_rules! update_handler {
    (
        $(#[doc = $doc:tt])*
        domain = $domain:ident, record = $record:ident, patch = $patch:ident,
        path = $path:tt, op = $op:tt, tag = $tag:tt, id = $id_doc:tt,
        forbidden = ($($forbidden:tt)*), conflict = $conflict:tt $(,)?
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(patch, path = $path, operation_id = $op, tag = $tag,
                            request_body = $patch,
                            params(("id" = i64, Path, description = $id_doc)),
                            responses((status = 200, body = $record),
                                (status = 403, $($forbidden)*),
                                (status = 404, response = crate::web::api::schema::NotFound),
                                (status = 409, description = $conflict,
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

pub(crate) use update_handler;

/// `DELETE $path`: `$domain::delete`, answered 204 (described as `removed`); `forbidden`
/// says who may not.
macro_rules! delete_handler {
    (
        domain = $domain:ident, path = $path:tt, op = $op:tt, tag = $tag:tt, id = $id_doc:tt,
        removed = $removed:tt, forbidden = $forbidden:tt $(,)?
    ) => {
        #[utoipa::path(delete, path = $path, operation_id = $op, tag = $tag,
            params(("id" = i64, Path, description = $id_doc)),
            responses((status = 204, description = $removed),
                (status = 401, response = crate::web::api::schema::Unauthorized),
                (status = 403, description = $forbidden, body = crate::web::api::schema::ErrorBody),
                (status = 404, response = crate::web::api::schema::NotFound),
                (status = 503, response = crate::web::api::schema::Unavailable)),
            security(("bearer" = [])))]
        pub async fn delete(
            state: actix_web::web::Data<crate::app::AppState>,
            crate::web::auth::ApiUser(actor): crate::web::auth::ApiUser,
            id: actix_web::web::Path<i64>,
        ) -> Result<actix_web::HttpResponse, crate::error::AppError> {
            $domain::delete(&state.db, &actor, *id).await?;
            Ok(actix_web::HttpResponse::NoContent().finish())
        }
    };
}

pub(crate) use delete_handler;

/// Create, read and update of a record that lives at `$base` and `$item`: a 201 gives its
/// address, anyone who writes may change it (viewers only read), and a conflict is what
/// `create_conflict` and `update_conflict` say.
macro_rules! crud_handlers {
    (
        domain = $domain:ident, record = $record:ident, input = $input:ident,
        patch = $patch:ident, tag = $tag:tt, base = $base:tt, item = $item:tt,
        ops = ($create_op:tt, $get_op:tt, $update_op:tt), id = $id_doc:tt,
        create_conflict = $create_conflict:tt, update_conflict = $update_conflict:tt $(,)?
    ) => {
        crate::web::api::records::create_handler! {
            domain = $domain, record = $record, input = $input,
            path = $base, op = $create_op, tag = $tag,
            location = $base, conflict = $create_conflict,
        }
        crate::web::api::records::get_handler! {
            domain = $domain, record = $record, path = $item, op = $get_op, tag = $tag,
            id = $id_doc,
        }
        crate::web::api::records::update_handler! {
            domain = $domain, record = $record, patch = $patch,
            path = $item, op = $update_op, tag = $tag, id = $id_doc,
            forbidden = (response = crate::web::api::schema::Forbidden),
            conflict = $update_conflict,
        }
    };
}

pub(crate) use crud_handlers;

/// What a trashed record's delete says: it can come back.
macro_rules! trash_delete_handler {
    (domain = $domain:ident, path = $path:tt, op = $op:tt, tag = $tag:tt, id = $id_doc:tt $(,)?) => {
        crate::web::api::records::delete_handler! {
            domain = $domain, path = $path, op = $op, tag = $tag, id = $id_doc,
            removed = "Moved to the trash, where managers can restore it for 30 days.",
            forbidden = "Viewers only read; reps delete only records they own.",
        }
    };
}

pub(crate) use trash_delete_handler;

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
        crate::web::api::records::page_body!($list, $record, total_is_estimate);

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

/// A record type's whole API but its delete: list, bulk, merge, create, read, update. It
/// lives at `/api/v1/<many>` (and `/<many>/{id}`, `/bulk`, `/{id}/merge`) under the tag
/// `<many>`; operations are `list_<many>`, `create_<one>` and so on. What differs per
/// type is given: its domain module (with `ListParams`), record, input and patch; the
/// names of its list body, merge request and merge field schemas; its list body's
/// writer; and what its conflicts and merges say.
macro_rules! record_api {
    (
        $domain:ident: $record:ident($input:ident, $patch:ident) as ($one:literal, $many:literal, $title:literal),
        schemas: ($list:ident, $request:ident, $field:ty), list: $list_body:ident,
        conflict: $conflict:literal, merge_conflict: $merge_conflict:literal,
        merged: $merged:literal $(,)?
    ) => {
        crate::web::api::records::list_bulk_merge_handlers! {
            record = $record, params = ListParams, tag = $many,
            list = ($list, (concat!("/api/v1/", $many)), (concat!("list_", $many)), $list_body),
            bulk = ((concat!("/api/v1/", $many, "/bulk")), (concat!("bulk_", $many))),
            merge = (crate::domain::records::merge::merge::<$record>,
                (concat!("/api/v1/", $many, "/{id}/merge")), (concat!("merge_", $many)),
                (concat!("The ", $one, " that stays")), $merge_conflict),
            request = ($request, $field, $merged,
                "Fields whose value comes from `merge_id`; the rest stay. Tags are combined."),
        }

        crate::web::api::records::crud_handlers! {
            domain = $domain, record = $record, input = $input, patch = $patch, tag = $many,
            base = (concat!("/api/v1/", $many)), item = (concat!("/api/v1/", $many, "/{id}")),
            ops = ((concat!("create_", $one)), (concat!("get_", $one)), (concat!("update_", $one))),
            id = (concat!($title, " id")),
            create_conflict = $conflict, update_conflict = $conflict,
        }
    };
}

pub(crate) use record_api;

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
