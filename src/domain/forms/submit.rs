//! One post to a form's endpoint. In order: the address's rate limit (nothing stored
//! past it), the honeypot (answered as accepted, stored as rejected, nothing else
//! written), the form's required fields (422, stored as rejected), then one transaction:
//! the contact created or updated (matched by email, any case) through the contact
//! rules, a note on it with what was sent, the submission row, and the owner's email
//! when the form asks for it. A submission that fails there leaves no contact, note or
//! email, only its rejected row with the reason.
use std::collections::BTreeMap;

use chrono::Duration;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, NotSet, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::{CUSTOM_PREFIX, Form, HONEYPOT, PER_MINUTE};
use crate::domain::contacts::{ContactInput, intake};
use crate::domain::webhooks::{self, EventType, FormSubmitted};
use crate::domain::{Actor, Db, FieldErrorsExt, Role, activities, now};
use crate::entities::form_submission;
use crate::error::{AppError, FieldErrors};
use crate::mail::notify::{Notification, notify};

/// What was sent: each field's text (a repeated field keeps its last value).
pub type Sent = BTreeMap<String, String>;

/// What the sender may be told: the same for a stored submission and a honeypot hit.
#[derive(Debug, PartialEq, Eq)]
pub struct Accepted;

/// Status values of a stored submission.
pub const CREATED: &str = "created";
pub const UPDATED: &str = "updated";
pub const REJECTED: &str = "rejected";

pub async fn submit(db: &Db, form: &Form, sent: &Sent, ip: &str) -> Result<Accepted, AppError> {
    if !form.active {
        return Err(AppError::not_found("Form"));
    }
    throttle(db, form.id, ip).await?;
    let data = serde_json::to_string(sent).unwrap_or_else(|_| "{}".into());
    if sent.get(HONEYPOT).is_some_and(|v| !v.trim().is_empty()) {
        let why = "The hidden field was filled in, as only bots do.";
        reject(db, form.id, &data, ip, why).await?;
        return Ok(Accepted);
    }
    if let Some(missing) = missing(form, sent) {
        reject(db, form.id, &data, ip, &reason(&missing)).await?;
        return Err(AppError::validation(missing));
    }
    let mut outcome = apply(db, form, sent, &data, ip).await;
    if matches!(outcome, Err(AppError::Conflict { .. })) {
        // Another submission created the contact between the lookup and the insert:
        // once more, which now finds and updates it.
        outcome = apply(db, form, sent, &data, ip).await;
    }
    match outcome {
        Ok(()) => Ok(Accepted),
        Err(AppError::Validation { message, fields }) => {
            reject(db, form.id, &data, ip, &reason(&fields)).await?;
            if fields
                .keys()
                .all(|k| form.fields.iter().any(|f| &f.key == k))
            {
                return Err(AppError::Validation { message, fields });
            }
            // Not the sender's doing: the form's settings no longer hold (its owner was
            // deactivated, a field it asks for was removed). Kept for the admins, who
            // read why in the log; the sender is not shown the settings.
            Err(AppError::Unavailable(
                "This form cannot take submissions until its settings are fixed.".into(),
            ))
        }
        // The sender could do nothing about it (the email's contact is in the trash):
        // kept for the admins, and the sender is not told what the CRM holds.
        Err(e @ AppError::Conflict { .. }) => {
            reject(db, form.id, &data, ip, &e.to_string()).await?;
            Ok(Accepted)
        }
        Err(e) => {
            let _ = reject(db, form.id, &data, ip, &e.to_string()).await;
            Err(e)
        }
    }
}

/// 429 once `PER_MINUTE` submissions from `ip` reached this form in the last minute.
/// Counted in the database, so every process of an install counts the same.
async fn throttle(db: &Db, form_id: i64, ip: &str) -> Result<(), AppError> {
    let t = now();
    let recent = || {
        form_submission::Entity::find()
            .filter(form_submission::Column::FormId.eq(form_id))
            .filter(form_submission::Column::Ip.eq(ip))
            .filter(form_submission::Column::ReceivedAt.gt(t - Duration::minutes(1)))
    };
    if recent().count(&db.read).await? < PER_MINUTE {
        return Ok(());
    }
    let oldest = recent()
        .order_by_asc(form_submission::Column::ReceivedAt)
        .one(&db.read)
        .await?
        .map(|s| s.received_at)
        .unwrap_or(t);
    let wait = 60 - (t - oldest).num_seconds();
    Err(AppError::TooManyRequests {
        message: "Too many submissions from your address; try again in a minute.".into(),
        retry_after: wait.clamp(1, 60) as u64,
    })
}

/// The form's required fields that came empty, by input name.
fn missing(form: &Form, sent: &Sent) -> Option<FieldErrors> {
    let mut errors = FieldErrors::new();
    for f in form.fields.iter().filter(|f| f.required) {
        if value(sent, &f.key).is_none() {
            errors.set(&f.key, format!("{} is required.", f.label));
        }
    }
    (!errors.is_empty()).then_some(errors)
}

fn reason(errors: &FieldErrors) -> String {
    let parts: Vec<String> = errors.iter().map(|(k, m)| format!("{k}: {m}")).collect();
    parts.join("; ")
}

/// A field's text, trimmed; None when absent or empty.
fn value<'a>(sent: &'a Sent, key: &str) -> Option<&'a str> {
    sent.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
}

async fn store(
    conn: &impl ConnectionTrait,
    form_id: i64,
    contact_id: Option<i64>,
    status: &str,
    reason: Option<&str>,
    data: &str,
    ip: &str,
) -> Result<i64, AppError> {
    Ok(
        form_submission::Entity::insert(form_submission::ActiveModel {
            id: NotSet,
            form_id: Set(form_id),
            contact_id: Set(contact_id),
            status: Set(status.into()),
            reason: Set(reason.map(|r| r.chars().take(2000).collect())),
            ip: Set(Some(ip.chars().take(64).collect())),
            received_at: Set(now()),
            data: Set(data.to_string()),
        })
        .exec(conn)
        .await?
        .last_insert_id,
    )
}

async fn reject(db: &Db, form_id: i64, data: &str, ip: &str, why: &str) -> Result<(), AppError> {
    store(&db.write, form_id, None, REJECTED, Some(why), data, ip).await?;
    Ok(())
}

/// Who writes a submission's contact: no user (audit rows name none), with an admin's
/// reach so a contact of any owner is found and updated, from the sender's address.
fn writer(ip: &str) -> Actor {
    Actor {
        id: 0,
        name: "Web form".into(),
        email: String::new(),
        role: Role::Admin,
        ip: Some(ip.to_string()),
    }
}

/// The submission's one transaction (see the module's comment).
async fn apply(db: &Db, form: &Form, sent: &Sent, data: &str, ip: &str) -> Result<(), AppError> {
    let actor = writer(ip);
    let email = value(sent, "email").unwrap_or_default();
    let holder = intake::holder(&db.read, email).await?;
    let detail = serde_json::json!({"form": form.name, "form_id": form.id});
    let tx = db.begin_write().await?;
    let (contact_id, created, company_hooked) = match holder {
        Some(h) if h.deleted_at.is_some() => {
            return Err(AppError::conflict_field(
                "email",
                "A contact in the trash has this email; restore it from Settings → Trash.",
            ));
        }
        Some(h) => {
            let current = intake::read(&db.read, h.id).await?;
            let input = over(ContactInput::from(&current), &current.tags, form, sent);
            let hooked = intake::update_in(db, &tx, &actor, &current, &input, detail).await?;
            (h.id, false, hooked)
        }
        None => {
            let input = new_contact(form, sent);
            let (id, hooked) = intake::create_in(db, &tx, &actor, &input, detail).await?;
            (id, true, hooked)
        }
    };
    activities::note_in(&tx, contact_id, &note(form, sent), Some(ip)).await?;
    let status = if created { CREATED } else { UPDATED };
    let submission_id = store(&tx, form.id, Some(contact_id), status, None, data, ip).await?;
    let mut told = false;
    if form.notify_owner {
        let contact = intake::read(&tx, contact_id).await?;
        let n = Notification::FormSubmitted {
            submission_id,
            form: form.name.clone(),
            contact_id,
            contact_name: contact.full_name(),
            created,
            to: contact.owner_id,
        };
        told = notify(&tx, n).await?.is_some();
    }
    let hooked = company_hooked + events(db, &tx, form, sent, contact_id, created).await?;
    tx.commit().await?;
    if told {
        crate::jobs::wake();
    }
    webhooks::wake_if(hooked);
    Ok(())
}

/// The outbound webhook events of an applied submission, in its transaction: the
/// contact created or updated, then `form.submitted`. How many deliveries were queued.
async fn events(
    db: &Db,
    tx: &impl ConnectionTrait,
    form: &Form,
    sent: &Sent,
    contact_id: i64,
    created: bool,
) -> Result<usize, AppError> {
    let what = if created { "created" } else { "updated" };
    let mut hooked = webhooks::emit_record(db, tx, "contact", what, contact_id).await?;
    if webhooks::wants(db, tx, EventType::FormSubmitted).await? {
        let contact = intake::read(tx, contact_id).await?;
        let data = FormSubmitted {
            form_id: form.id,
            form_name: form.name.clone(),
            contact_id,
            contact_name: contact.full_name(),
            created_contact: created,
            fields: sent
                .iter()
                .filter(|(k, _)| form.fields.iter().any(|f| &f.key == *k))
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect(),
        };
        hooked += webhooks::emit_kind(db, tx, EventType::FormSubmitted, &data).await?;
    }
    Ok(hooked)
}

/// The sent values of the form's fields laid over `input`; the form's tags added to
/// `tags`. Fields sent empty keep what the contact has.
fn over(mut input: ContactInput, tags: &[String], form: &Form, sent: &Sent) -> ContactInput {
    let mut custom = BTreeMap::new();
    for f in &form.fields {
        let Some(v) = value(sent, &f.key) else {
            continue;
        };
        let v = v.to_string();
        match f.key.as_str() {
            "first_name" => input.first_name = v,
            "last_name" => input.last_name = v,
            // The contact was found by it: its stored spelling stays.
            "email" if input.email.is_some() => {}
            "email" => input.email = Some(v),
            "phone" => input.phone = Some(v),
            "company" => input.company = Some(v),
            "title" => input.title = Some(v),
            key => {
                if let Some(k) = key.strip_prefix(CUSTOM_PREFIX) {
                    custom.insert(k.to_string(), serde_json::Value::String(v));
                }
            }
        }
    }
    input.custom_fields = Some(custom);
    let mut all = tags.to_vec();
    all.extend(form.tags.iter().cloned());
    input.tags = Some(all);
    input
}

/// A new contact from a submission: the form's source, owner and tags. A contact needs
/// both names; a form that does not ask for them names the contact after the email.
fn new_contact(form: &Form, sent: &Sent) -> ContactInput {
    let email = value(sent, "email").unwrap_or_default();
    let local = email.split('@').next().unwrap_or(email).to_string();
    let base = ContactInput {
        first_name: local,
        last_name: "(web form)".into(),
        source: Some(form.source.clone()),
        owner_id: Some(form.owner_id),
        ..ContactInput::default()
    };
    over(base, &[], form, sent)
}

/// The note's text: the form's name, then each field sent as "Label: value" (fields the
/// form does not ask for too, under their names; the honeypot left out).
fn note(form: &Form, sent: &Sent) -> String {
    let mut lines = vec![format!("Sent through the web form “{}”:", form.name)];
    for f in &form.fields {
        if let Some(v) = value(sent, &f.key) {
            lines.push(format!("{}: {v}", f.label));
        }
    }
    for (k, v) in sent {
        let known = form.fields.iter().any(|f| &f.key == k);
        if !known && k != HONEYPOT && !v.trim().is_empty() {
            lines.push(format!("{k}: {}", v.trim()));
        }
    }
    lines.join("\n")
}
