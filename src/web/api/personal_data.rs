//! `GET /api/v1/contacts/{id}/personal-data` and `POST /api/v1/contacts/{id}/erase`
//! (admins): a person's data under the GDPR (`domain::contacts::{personal_data, erase}`).
use actix_web::{HttpResponse, web};

use crate::app::AppState;
use crate::domain::contacts::{erase, personal_data};
use crate::error::AppError;
use crate::web::api::schema::ErrorBody;
use crate::web::auth::ApiUser;

/// The file name pages and the API give the download.
pub fn file_name(id: i64) -> String {
    format!("contact-{id}-personal-data.json")
}

#[utoipa::path(get, path = "/api/v1/contacts/{id}/personal-data", operation_id = "contact_personal_data",
    tag = "contacts", params(("id" = i64, Path, description = "Contact id")),
    responses((status = 200, description = "Everything held about the person: the contact with its custom fields and tags, activities, tasks, deal links, Stripe billing, payments and raw events, form submissions and audit entries.", body = Object),
        (status = 401, response = crate::web::api::schema::Unauthorized),
        (status = 403, description = "Only admins export a person's data.", body = ErrorBody),
        (status = 404, description = "No such contact.", body = ErrorBody),
        (status = 503, response = crate::web::api::schema::Unavailable)),
    security(("bearer" = [])))]
pub async fn export(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let data = personal_data::export(&state.db, &actor, *id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{}\"", file_name(*id)),
        ))
        .json(data))
}

#[utoipa::path(post, path = "/api/v1/contacts/{id}/erase", operation_id = "erase_contact",
    tag = "contacts", params(("id" = i64, Path, description = "Contact id")),
    responses((status = 200, description = "The person is erased; what went, counted.", body = erase::Erased),
        (status = 401, response = crate::web::api::schema::Unauthorized),
        (status = 403, description = "Only admins erase a person.", body = ErrorBody),
        (status = 404, description = "No such contact.", body = ErrorBody),
        (status = 503, response = crate::web::api::schema::Unavailable)),
    security(("bearer" = [])))]
pub async fn erase(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(erase::erase(&state.db, &actor, *id).await?))
}
