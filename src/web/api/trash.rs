//! `POST /api/v1/{contacts,companies,deals}/{id}/restore` (managers and admins): brings a
//! trashed record back, as `Settings → Trash` does. One handler for the three types; the
//! macro only gives each its documented path.
use actix_web::{HttpResponse, web};

use crate::app::AppState;
use crate::domain::trash::{self, Trashable};
use crate::error::AppError;
use crate::web::api::schema::ErrorBody;
use crate::web::auth::ApiUser;

async fn restore<T: Trashable>(
    state: web::Data<AppState>,
    actor: &crate::domain::Actor,
    id: i64,
) -> Result<HttpResponse, AppError> {
    trash::restore::<T>(&state.db, actor, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

macro_rules! restore_handler {
    ($name:ident, $trashable:ident, $path:tt, $op:tt, $tag:tt, $id_doc:tt) => {
        #[utoipa::path(post, path = $path, operation_id = $op, tag = $tag,
            params(("id" = i64, Path, description = $id_doc)),
            responses((status = 204, description = "Restored from the trash, with its tags, custom fields, activities and links."),
                (status = 401, response = crate::web::api::schema::Unauthorized),
                (status = 403, description = "Only managers and admins restore.", body = ErrorBody),
                (status = 404, description = "No such record is in the trash.", body = ErrorBody),
                (status = 409, description = "Another record now has its unique values.", body = ErrorBody),
                (status = 503, response = crate::web::api::schema::Unavailable)),
            security(("bearer" = [])))]
        pub async fn $name(
            state: web::Data<AppState>,
            ApiUser(actor): ApiUser,
            id: web::Path<i64>,
        ) -> Result<HttpResponse, AppError> {
            restore::<trash::$trashable>(state, &actor, *id).await
        }
    };
}

restore_handler!(
    restore_contact,
    Contacts,
    "/api/v1/contacts/{id}/restore",
    "restore_contact",
    "contacts",
    "Contact id"
);
restore_handler!(
    restore_company,
    Companies,
    "/api/v1/companies/{id}/restore",
    "restore_company",
    "companies",
    "Company id"
);
restore_handler!(
    restore_deal,
    Deals,
    "/api/v1/deals/{id}/restore",
    "restore_deal",
    "deals",
    "Deal id"
);
