//! Web-to-lead forms (Settings → Forms, admins): which contact fields a form asks for,
//! what a submission's contact gets (source, owner, tags), where the sender goes after,
//! and which web sites may post to it from their pages (CORS). A form's public endpoint
//! is `POST /f/{public_key}`; what a submission does is `submit`, its log `log`.
pub mod check;
pub mod log;
pub mod submit;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};

use crate::domain::{Action, Actor, Db, audit, now, users};
use crate::entities::form;
use crate::error::AppError;

/// The contact fields a form may ask for, with their usual labels. A custom field of
/// contacts is asked for as `custom_fields.<key>`.
pub const CONTACT_FIELDS: [(&str, &str); 6] = [
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("company", "Company"),
    ("title", "Title"),
];

/// The custom fields' prefix in a form field's key (and its input's name).
pub const CUSTOM_PREFIX: &str = "custom_fields.";

/// The hidden input people never see and bots fill in: a submission with it filled is
/// answered as accepted and stored as rejected, with nothing else written.
pub const HONEYPOT: &str = "website";

/// The largest body the endpoint reads.
pub const MAX_BODY: usize = 64 * 1024;

/// Submissions to one form from one address per minute; more are answered 429.
pub const PER_MINUTE: u64 = 10;

/// One input of a form: a contact field or `custom_fields.<key>`, its label on the
/// snippet, and whether a submission without it is refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormField {
    pub key: String,
    pub label: String,
    pub required: bool,
}

/// A form as pages show it.
#[derive(Clone, Debug)]
pub struct Form {
    pub id: i64,
    pub name: String,
    pub public_key: String,
    pub fields: Vec<FormField>,
    pub source: String,
    pub owner_id: i64,
    pub tags: Vec<String>,
    pub thank_you_url: Option<String>,
    pub thank_you_message: Option<String>,
    pub allowed_origins: Vec<String>,
    pub notify_owner: bool,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<form::Model> for Form {
    fn from(m: form::Model) -> Form {
        // Written only by `create`/`update` from checked values; an unreadable list (a
        // hand edit) reads as empty rather than failing every page.
        Form {
            id: m.id,
            name: m.name,
            public_key: m.public_key,
            fields: serde_json::from_str(&m.fields).unwrap_or_default(),
            source: m.source,
            owner_id: m.owner_id,
            tags: serde_json::from_str(&m.tags).unwrap_or_default(),
            thank_you_url: m.thank_you_url,
            thank_you_message: m.thank_you_message,
            allowed_origins: serde_json::from_str(&m.allowed_origins).unwrap_or_default(),
            notify_owner: m.notify_owner,
            active: m.active,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

impl Form {
    /// Whether a page of `origin` may read this form's answers (exact match).
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|o| o == origin)
    }
}

/// What the admin's form sends: everything a form holds but its key.
#[derive(Clone, Debug, Default)]
pub struct FormInput {
    pub name: String,
    pub fields: Vec<FormField>,
    pub source: String,
    pub owner_id: i64,
    pub tags: Vec<String>,
    pub thank_you_url: String,
    pub thank_you_message: String,
    /// One origin per entry (`https://www.example.com`).
    pub allowed_origins: Vec<String>,
    pub notify_owner: bool,
    pub active: bool,
}

pub async fn list(db: &Db, actor: &Actor) -> Result<Vec<Form>, AppError> {
    actor.require(Action::ManageForms)?;
    Ok(form::Entity::find()
        .order_by_asc(form::Column::Name)
        .order_by_asc(form::Column::Id)
        .all(&db.read)
        .await?
        .into_iter()
        .map(Form::from)
        .collect())
}

pub async fn get(db: &Db, actor: &Actor, id: i64) -> Result<Form, AppError> {
    actor.require(Action::ManageForms)?;
    form::Entity::find_by_id(id)
        .one(&db.read)
        .await?
        .map(Form::from)
        .ok_or_else(|| AppError::not_found("Form"))
}

/// The form a public key names (active or not: the endpoint decides).
pub async fn by_key(db: &Db, key: &str) -> Result<Option<Form>, AppError> {
    if key.len() != 32 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    Ok(form::Entity::find()
        .filter(form::Column::PublicKey.eq(key))
        .one(&db.read)
        .await?
        .map(Form::from))
}

fn json_text<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// The row's columns from checked input (the id, key and `created_at` left out).
fn columns(v: &check::Valid, at: DateTime<Utc>) -> form::ActiveModel {
    form::ActiveModel {
        name: Set(v.name.clone()),
        fields: Set(json_text(&v.fields)),
        source: Set(v.source.clone()),
        owner_id: Set(v.owner_id),
        tags: Set(json_text(&v.tags)),
        thank_you_url: Set(v.thank_you_url.clone()),
        thank_you_message: Set(v.thank_you_message.clone()),
        allowed_origins: Set(json_text(&v.allowed_origins)),
        notify_owner: Set(v.notify_owner),
        active: Set(v.active),
        updated_at: Set(at),
        ..Default::default()
    }
}

pub async fn create(db: &Db, actor: &Actor, input: &FormInput) -> Result<Form, AppError> {
    actor.require(Action::ManageForms)?;
    let v = check::check(db, input).await?;
    let key = hex::encode(crate::domain::random_bytes::<16>()?);
    let t = now();
    let tx = db.begin_write().await?;
    let model = form::ActiveModel {
        id: NotSet,
        public_key: Set(key),
        created_at: Set(t),
        ..columns(&v, t)
    }
    .insert(&tx)
    .await?;
    let detail = serde_json::json!({"name": model.name});
    audit::record(&tx, Some(actor), "create", "form", model.id, Some(detail)).await?;
    tx.commit().await?;
    Ok(model.into())
}

pub async fn update(db: &Db, actor: &Actor, id: i64, input: &FormInput) -> Result<Form, AppError> {
    let before = get(db, actor, id).await?;
    let v = check::check(db, input).await?;
    let tx = db.begin_write().await?;
    let model = form::ActiveModel {
        id: sea_orm::Unchanged(id),
        ..columns(&v, now())
    }
    .update(&tx)
    .await?;
    let after: Form = model.into();
    let detail = serde_json::json!({"name": after.name, "was": before.name});
    audit::record(&tx, Some(actor), "update", "form", id, Some(detail)).await?;
    tx.commit().await?;
    Ok(after)
}

/// Removes a form with its submission log (the contacts it made stay).
pub async fn delete(db: &Db, actor: &Actor, id: i64) -> Result<Form, AppError> {
    let before = get(db, actor, id).await?;
    let tx = db.begin_write().await?;
    form::Entity::delete_by_id(id).exec(&tx).await?;
    let detail = serde_json::json!({"name": before.name});
    audit::record(&tx, Some(actor), "delete", "form", id, Some(detail)).await?;
    tx.commit().await?;
    Ok(before)
}

/// The fields a form may ask for: the contact fields, then contacts' custom fields, as
/// (key, usual label).
pub async fn available_fields(db: &Db) -> Result<Vec<(String, String)>, AppError> {
    let mut all: Vec<(String, String)> = CONTACT_FIELDS
        .iter()
        .map(|(k, l)| (k.to_string(), l.to_string()))
        .collect();
    for f in crate::domain::custom_fields::defs(db, "contact").await? {
        all.push((format!("{CUSTOM_PREFIX}{}", f.key), f.label));
    }
    Ok(all)
}

/// The users a form's contacts may be given to.
pub async fn owner_choices(db: &Db, keep: Option<i64>) -> Result<Vec<users::Person>, AppError> {
    users::owner_choices(db, keep).await
}
