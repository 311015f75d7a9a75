//! "Erase this person" (GDPR erasure): the contact and everything that is only theirs
//! go, in one transaction; what other records need stays without the person in it.
//!
//! - Removed: the contact (its tags, custom values and Stripe summary go with the row),
//!   its activities and tasks (those also about a deal or company stay, unlinked from the
//!   person), its deal links and its form submissions (linked, or holding its email).
//! - Kept, without the person: deals and companies; Stripe payments and subscription
//!   changes (the revenue reports' amounts) lose their link; the raw Stripe events lose
//!   the customer's email, name, phone and address; the audit entries about the contact
//!   keep their action, time, actor and which fields changed, every value erased.
//! - Free text elsewhere that repeats the email, full name or phone (other records' notes
//!   and tasks, audit details, queued webhook payloads and jobs, the outbox) has it
//!   replaced by `ERASED`.
//! - Roll-ups stay exact: the deletes go through the tables' triggers (record counts,
//!   activity hours, search, the board's and tasks' change counters).
//!
//! The erase itself is audited with counts only. `personal_data` lists the same sources.
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect, Set,
};
use serde::Serialize;
use serde_json::Value;

use super::personal_data::{Identity, mentions};
use crate::domain::{Action, Actor, Db, audit, webhooks};
use crate::entities::{
    activity, activity_revision, audit_log, billing_entry, contact, deal_contact, form_submission,
    job, mrr_change, outbox, stripe_event, task, webhook_delivery,
};
use crate::error::AppError;

/// What replaces the person's data where a row stays.
pub const ERASED: &str = "[erased]";

/// Free-text needles shorter than this are not replaced: a two-letter name or phone
/// fragment would mangle unrelated text.
const NEEDLE_MIN: usize = 4;

/// Keys of a Stripe object that carry the customer as a person.
const STRIPE_PERSONAL: [&str; 10] = [
    "email",
    "customer_email",
    "name",
    "customer_name",
    "phone",
    "customer_phone",
    "address",
    "customer_address",
    "shipping",
    "billing_details",
];

/// How much went, for the answer and the audit entry (numbers only).
#[derive(Debug, Default, Clone, Serialize, utoipa::ToSchema)]
pub struct Erased {
    pub activities: u64,
    pub tasks: u64,
    pub deal_links: u64,
    pub form_submissions: u64,
    /// Payments and subscription changes kept, no longer linked to anyone.
    pub payments_unlinked: u64,
    pub stripe_events_scrubbed: u64,
    pub audit_entries_scrubbed: u64,
    /// Other rows whose free text named the person.
    pub texts_scrubbed: u64,
}

/// Erases contact `id` (live or in the trash) for an admin, in one transaction.
pub async fn erase(db: &Db, actor: &Actor, id: i64) -> Result<Erased, AppError> {
    actor.require(Action::PersonalData)?;
    let tx = db.begin_write().await?;
    let who = Identity::load(&tx, id).await?;
    let keys = who.keys();
    // Receivers that hold the contact are told it is gone (a trashed one was told
    // already); the payload is scrubbed below with everything else.
    let hooked = match who.row.deleted_at {
        None => webhooks::emit_record(db, &tx, "contact", "deleted", id).await?,
        Some(_) => 0,
    };
    let mut done = Erased {
        activities: activities(&tx, id).await?,
        tasks: tasks(&tx, id).await?,
        ..Erased::default()
    };
    done.deal_links = deal_contact::Entity::delete_many()
        .filter(deal_contact::Column::ContactId.eq(id))
        .exec(&tx)
        .await?
        .rows_affected;
    done.form_submissions = form_submission::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(form_submission::Column::ContactId.eq(id))
                .add(mentions(form_submission::Column::Data, &keys)),
        )
        .exec(&tx)
        .await?
        .rows_affected;
    done.payments_unlinked = unlink_payments(&tx, id).await?;
    done.stripe_events_scrubbed = stripe_events(&tx, &keys).await?;
    done.audit_entries_scrubbed = audit_entries(&tx, id).await?;
    done.texts_scrubbed = deliveries(&tx, id).await?;
    let gone = contact::Entity::delete_by_id(id).exec(&tx).await?;
    if gone.rows_affected == 0 {
        return Err(AppError::not_found("Contact"));
    }
    done.texts_scrubbed += texts(&tx, &needles(&who.row)).await?;
    let detail = serde_json::to_value(&done).unwrap_or_default();
    audit::record(&tx, Some(actor), "erase", "contact", id, Some(detail)).await?;
    tx.commit().await?;
    webhooks::wake_if(hooked);
    db.forget_task_counts();
    Ok(done)
}

/// The strings that name the person in free text: email (as written and normalised),
/// full name, phone.
fn needles(row: &contact::Model) -> Vec<String> {
    let name = format!("{} {}", row.first_name.trim(), row.last_name.trim());
    let mut all: Vec<String> = [
        row.email.clone(),
        row.email_norm.clone(),
        Some(name),
        row.phone.clone(),
    ]
    .into_iter()
    .flatten()
    .map(|s| s.trim().to_string())
    .filter(|s| s.chars().count() >= NEEDLE_MIN)
    .collect();
    // Longest first: the email goes before a name it may contain.
    all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    all.dedup();
    all
}

/// The contact's activities: those about it alone are deleted (their revisions
/// cascade); one also about a deal or company stays, unlinked. Returns how many went.
async fn activities(tx: &impl ConnectionTrait, id: i64) -> Result<u64, AppError> {
    activity::Entity::update_many()
        .col_expr(
            activity::Column::ContactId,
            Expr::value(Option::<i64>::None),
        )
        .filter(activity::Column::ContactId.eq(id))
        .filter(
            sea_orm::Condition::any()
                .add(activity::Column::DealId.is_not_null())
                .add(activity::Column::CompanyId.is_not_null()),
        )
        .exec(tx)
        .await?;
    Ok(activity::Entity::delete_many()
        .filter(activity::Column::ContactId.eq(id))
        .exec(tx)
        .await?
        .rows_affected)
}

/// The contact's tasks, as `activities`.
async fn tasks(tx: &impl ConnectionTrait, id: i64) -> Result<u64, AppError> {
    task::Entity::update_many()
        .col_expr(task::Column::ContactId, Expr::value(Option::<i64>::None))
        .filter(task::Column::ContactId.eq(id))
        .filter(
            sea_orm::Condition::any()
                .add(task::Column::DealId.is_not_null())
                .add(task::Column::CompanyId.is_not_null()),
        )
        .exec(tx)
        .await?;
    Ok(task::Entity::delete_many()
        .filter(task::Column::ContactId.eq(id))
        .exec(tx)
        .await?
        .rows_affected)
}

/// Payments and subscription changes stay (the money was received) with no person.
async fn unlink_payments(tx: &impl ConnectionTrait, id: i64) -> Result<u64, AppError> {
    let payments = billing_entry::Entity::update_many()
        .col_expr(
            billing_entry::Column::ContactId,
            Expr::value(Option::<i64>::None),
        )
        .filter(billing_entry::Column::ContactId.eq(id))
        .exec(tx)
        .await?;
    let changes = mrr_change::Entity::update_many()
        .col_expr(
            mrr_change::Column::ContactId,
            Expr::value(Option::<i64>::None),
        )
        .filter(mrr_change::Column::ContactId.eq(id))
        .exec(tx)
        .await?;
    Ok(payments.rows_affected + changes.rows_affected)
}

/// Raw Stripe events naming the person (customer id or email): the personal keys of
/// every object in them are nulled; ids, amounts and times stay for the ledger.
async fn stripe_events(tx: &impl ConnectionTrait, keys: &[String]) -> Result<u64, AppError> {
    let rows = stripe_event::Entity::find()
        .filter(mentions(stripe_event::Column::Body, keys))
        .all(tx)
        .await?;
    let mut n = 0;
    for row in rows {
        let Ok(mut body) = serde_json::from_str::<Value>(&row.body) else {
            continue;
        };
        null_personal(&mut body);
        let mut active = row.into_active_model();
        active.body = Set(body.to_string());
        active.update(tx).await?;
        n += 1;
    }
    Ok(n)
}

fn null_personal(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if STRIPE_PERSONAL.contains(&key.as_str()) {
                    *v = Value::Null;
                } else {
                    null_personal(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(null_personal),
        _ => {}
    }
}

/// The audit entries about the contact keep their shape (which fields changed) with
/// every string value erased.
async fn audit_entries(tx: &impl ConnectionTrait, id: i64) -> Result<u64, AppError> {
    let rows = audit_log::Entity::find()
        .filter(audit_log::Column::Entity.eq("contact"))
        .filter(audit_log::Column::EntityId.eq(id))
        .filter(audit_log::Column::Detail.is_not_null())
        .all(tx)
        .await?;
    let mut n = 0;
    for row in rows {
        let detail = row
            .detail
            .as_deref()
            .and_then(|d| serde_json::from_str::<Value>(d).ok())
            .map(|mut d| {
                erase_strings(&mut d);
                d.to_string()
            });
        let mut active = row.into_active_model();
        active.detail = Set(detail);
        active.update(tx).await?;
        n += 1;
    }
    Ok(n)
}

fn erase_strings(value: &mut Value) {
    match value {
        Value::String(s) => *s = ERASED.to_string(),
        Value::Object(map) => map.values_mut().for_each(erase_strings),
        Value::Array(items) => items.iter_mut().for_each(erase_strings),
        _ => {}
    }
}

/// Outbound webhook payloads about the contact (its own events, whose `data.id` is it,
/// and payments, whose `data.contact_id` is): every string of `data` erased, ids kept.
async fn deliveries(tx: &impl ConnectionTrait, id: i64) -> Result<u64, AppError> {
    let shapes = [
        format!("\"id\":{id},"),
        format!("\"id\":{id}}}"),
        format!("\"contact_id\":{id},"),
        format!("\"contact_id\":{id}}}"),
    ];
    let rows = webhook_delivery::Entity::find()
        .filter(mentions(webhook_delivery::Column::Payload, &shapes))
        .all(tx)
        .await?;
    let mut n = 0;
    for row in rows {
        let Ok(mut body) = serde_json::from_str::<Value>(&row.payload) else {
            continue;
        };
        let data = &body["data"];
        let about = match row.event_type.split('.').next() {
            Some("contact") => data["id"] == id,
            _ => data["contact_id"] == id,
        };
        if !about {
            continue;
        }
        erase_strings(&mut body["data"]);
        let mut active = row.into_active_model();
        active.payload = Set(body.to_string());
        active.update(tx).await?;
        n += 1;
    }
    Ok(n)
}

/// `column` with every `needle` (in any case) replaced by `ERASED`, in the rows that
/// contain one. The replacing is done here, not by SQL's REPLACE, which matches case
/// exactly: "ZELDA QUILLFEATHER" in a note names her as much as "Zelda Quillfeather".
/// Few rows name one person, so they are read and written back one by one.
async fn replace_in<E: EntityTrait>(
    tx: &impl ConnectionTrait,
    id: E::Column,
    column: E::Column,
    needles: &[String],
) -> Result<u64, AppError> {
    let rows: Vec<(i64, Option<String>)> = E::find()
        .select_only()
        .column(id)
        .column(column)
        .filter(mentions(column, needles))
        .into_tuple()
        .all(tx)
        .await?;
    let mut n = 0;
    for (row, text) in rows {
        let Some(text) = text else { continue };
        let scrubbed = scrub(&text, needles);
        if scrubbed != text {
            E::update_many()
                .col_expr(column, Expr::value(scrubbed))
                .filter(id.eq(row))
                .exec(tx)
                .await?;
            n += 1;
        }
    }
    Ok(n)
}

/// `text` with each needle, in any case, replaced by `ERASED` (needles in order: the
/// longest first, so an email goes before a name inside it).
fn scrub(text: &str, needles: &[String]) -> String {
    let mut out = text.to_string();
    for needle in needles {
        let want: Vec<char> = needle.chars().flat_map(char::to_lowercase).collect();
        let chars: Vec<char> = out.chars().collect();
        let mut next = String::with_capacity(out.len());
        let mut i = 0;
        while i < chars.len() {
            match matched(&chars[i..], &want) {
                Some(len) => {
                    next.push_str(ERASED);
                    i += len;
                }
                None => {
                    next.push(chars[i]);
                    i += 1;
                }
            }
        }
        out = next;
    }
    out
}

/// How many of `chars` make `want` (lower-cased) when lower-cased, if they start with it.
fn matched(chars: &[char], want: &[char]) -> Option<usize> {
    let mut w = 0;
    let mut used = 0;
    while w < want.len() {
        let c = chars.get(used)?;
        for lower in c.to_lowercase() {
            if want.get(w) != Some(&lower) {
                return None;
            }
            w += 1;
        }
        used += 1;
    }
    Some(used)
}

/// Free text of the rows that stay.
async fn texts(tx: &impl ConnectionTrait, needles: &[String]) -> Result<u64, AppError> {
    Ok(replace_in::<audit_log::Entity>(
        tx,
        audit_log::Column::Id,
        audit_log::Column::Detail,
        needles,
    )
    .await?
        + replace_in::<stripe_event::Entity>(
            tx,
            stripe_event::Column::Id,
            stripe_event::Column::Body,
            needles,
        )
        .await?
        + replace_in::<webhook_delivery::Entity>(
            tx,
            webhook_delivery::Column::Id,
            webhook_delivery::Column::Payload,
            needles,
        )
        .await?
        + replace_in::<job::Entity>(tx, job::Column::Id, job::Column::Payload, needles).await?
        + replace_in::<outbox::Entity>(tx, outbox::Column::Id, outbox::Column::ToEmail, needles)
            .await?
        + replace_in::<outbox::Entity>(tx, outbox::Column::Id, outbox::Column::Subject, needles)
            .await?
        + replace_in::<outbox::Entity>(tx, outbox::Column::Id, outbox::Column::Content, needles)
            .await?
        + replace_in::<outbox::Entity>(tx, outbox::Column::Id, outbox::Column::HtmlBody, needles)
            .await?
        + replace_in::<outbox::Entity>(tx, outbox::Column::Id, outbox::Column::TextBody, needles)
            .await?
        + replace_in::<activity::Entity>(tx, activity::Column::Id, activity::Column::Body, needles)
            .await?
        + replace_in::<activity_revision::Entity>(
            tx,
            activity_revision::Column::Id,
            activity_revision::Column::Body,
            needles,
        )
        .await?
        + replace_in::<task::Entity>(tx, task::Column::Id, task::Column::Title, needles).await?
        + replace_in::<task::Entity>(tx, task::Column::Id, task::Column::Notes, needles).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_replaces_every_case_and_keeps_the_rest() {
        let needles = vec!["ada@x.test".to_string(), "Ada Byron".to_string()];
        assert_eq!(
            scrub("ADA BYRON (Ada@X.test) and ada byron; Adam", &needles),
            "[erased] ([erased]) and [erased]; Adam"
        );
        assert_eq!(scrub("Ünïcode stays", &needles), "Ünïcode stays");
    }

    #[test]
    fn stripe_objects_lose_the_person_but_keep_the_money() {
        let mut body = serde_json::json!({"data": {"object": {"customer": "cus_1",
            "customer_email": "a@x.test", "customer_name": "Ada", "amount_paid": 4900,
            "lines": [{"billing_details": {"name": "Ada"}}]}}});
        null_personal(&mut body);
        let object = &body["data"]["object"];
        assert_eq!(object["customer_email"], Value::Null);
        assert_eq!(object["customer_name"], Value::Null);
        assert_eq!(object["lines"][0]["billing_details"], Value::Null);
        assert_eq!(object["amount_paid"], 4900, "amounts stay");
        assert_eq!(object["customer"], "cus_1", "the customer id stays");
    }
}
