//! /api/openapi.json, generated from the handlers' annotations.
use actix_web::HttpResponse;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::web::api::{
    activities, audit, companies, contacts, dashboard, deals, export, personal_data, reports,
    schema, scoring, search, tasks, trash, webhook_endpoints,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Cairn API", description = "Contacts and more. Authenticate with `Authorization: Bearer <token>` (create one with `cairn token create`). Errors are `{\"error\": {\"code\", \"message\", \"fields\"}}`."),
    paths(
        contacts::list, contacts::create, contacts::get, contacts::update, contacts::delete,
        contacts::bulk, contacts::merge, personal_data::export, personal_data::erase,
        companies::list, companies::create, companies::get, companies::update, companies::delete,
        companies::merge, companies::bulk,
        deals::pipelines, deals::create_pipeline, deals::rename_pipeline, deals::add_stage, deals::update_stage, deals::delete_stage, deals::reorder_stage, deals::list, deals::create, deals::get, deals::update, deals::delete,
        deals::move_deal, deals::stage_changes,
        activities::list, activities::create, activities::update, activities::delete,
        activities::revisions,
        tasks::list, tasks::create, tasks::get, tasks::update, tasks::delete,
        search::search,
        trash::restore_contact, trash::restore_company, trash::restore_deal,
        audit::list, export::export, scoring::models,
        reports::funnel, reports::pipeline, reports::win_rate, reports::velocity, reports::forecast, reports::activity,
        reports::revenue, dashboard::dashboard,
        webhook_endpoints::list, webhook_endpoints::create, webhook_endpoints::get,
        webhook_endpoints::update, webhook_endpoints::delete, webhook_endpoints::deliveries,
        webhook_endpoints::redeliver, webhook_endpoints::enable, webhook_endpoints::test
    ),
    components(
        // Value sets only query parameters use are not collected from the paths.
        schemas(
            schema::ErrorBody, schema::Source, schema::Industry, schema::SizeBand,
            schema::ContactSort, schema::CompanySort, schema::DealSort, schema::DealStatus,
            schema::SortDirection
        ),
        responses(
            schema::BadRequest, schema::Unauthorized, schema::NotFound, schema::PayloadTooLarge,
            schema::UnsupportedMediaType, schema::Unprocessable, schema::Unavailable,
            schema::Forbidden
        )
    ),
    modifiers(&Bearer)
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
        }
    }
}

pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
