//! /api/v1/contacts
use actix_web::HttpResponse;

use crate::domain::contacts::{self, Contact, ContactInput, ContactPatch, ListParams};
use crate::domain::records::ListQuery;
use crate::domain::{Actor, Db};
use crate::error::AppError;
use crate::web::api::records;
use crate::web::api::schema::ContactMergeField;

/// The list page, written as JSON by the database (`contacts::list_json`): the fast path.
async fn list_page(db: &Db, actor: &Actor, query: &ListQuery) -> Result<HttpResponse, AppError> {
    let (total, estimate, items) = contacts::list_json(db, actor, query).await?;
    let estimate = if estimate {
        ",\"total_is_estimate\":true"
    } else {
        ""
    };
    let body = format!(
        "{{\"total\":{total}{estimate},\"page\":{},\"per_page\":{},\"items\":{items}}}",
        query.page, query.per_page
    );
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

records::record_api! {
    contacts: Contact(ContactInput, ContactPatch) as ("contact", "contacts", "Contact"),
    schemas: (ContactList, ContactMergeRequest, ContactMergeField), list: list_page,
    conflict: "Another contact has this email, or a record it names was deleted meanwhile.",
    merge_conflict: "The merged values clash with another contact (email), or a record was deleted meanwhile.",
    merged: "The contact merged into this one, then deleted.",
}

records::trash_delete_handler! {
    domain = contacts, path = "/api/v1/contacts/{id}", op = "delete_contact", tag = "contacts",
    id = "Contact id",
}
