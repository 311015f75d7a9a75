//! /api/v1/contacts
use actix_web::HttpResponse;

use crate::domain::contacts::{self, Contact, ContactInput, ContactPatch, ListParams};
use crate::domain::records::ListQuery;
use crate::domain::{Actor, Db};
use crate::error::AppError;
use crate::web::api::records;
use crate::web::api::schema::ContactMergeField;

records::list_bulk_merge_handlers! {
    record = Contact, params = ListParams, tag = "contacts",
    list = (ContactList, "/api/v1/contacts", "list_contacts", list_page),
    bulk = ("/api/v1/contacts/bulk", "bulk_contacts"),
    merge = (crate::domain::records::merge::merge::<Contact>, "/api/v1/contacts/{id}/merge", "merge_contacts",
        "The contact that stays",
        "The merged values clash with another contact (email), or a record was deleted meanwhile."),
    request = (ContactMergeRequest, ContactMergeField,
        "The contact merged into this one, then deleted.",
        "Fields whose value comes from `merge_id` (first_name, last_name, email, phone,\ncompany, title, source, owner_id); the rest stay. Tags are combined."),
}

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

records::crud_handlers! {
    domain = contacts, record = Contact, input = ContactInput, patch = ContactPatch,
    tag = "contacts", base = "/api/v1/contacts", item = "/api/v1/contacts/{id}",
    ops = ("create_contact", "get_contact", "update_contact"), id = "Contact id",
    create_conflict = "Another contact has this email, or a record it names was deleted meanwhile.",
    update_conflict = "Another contact has this email, or a record it names was deleted meanwhile.",
}

records::trash_delete_handler! {
    domain = contacts, path = "/api/v1/contacts/{id}", op = "delete_contact", tag = "contacts",
    id = "Contact id",
}
