//! Custom fields: extra fields admins define per record type. Values are kept in the
//! record's `custom` JSON object under the field's key, validated here like built-in
//! fields (errors name `custom_fields.<key>`), and removed from every record when the
//! definition goes. Editing a definition (its label, choices and required flag) is in
//! `edit`, with the reads and rewrites of stored values every record type shares.
mod edit;

use std::collections::BTreeMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, QueryOrder,
    Set,
};
use serde::Serialize;
use serde_json::Value;

use crate::domain::Db;
use crate::domain::{Action, Actor, FieldErrorsExt, audit, has_control, now};
use crate::entities::custom_field;

use crate::error::{AppError, FieldErrors};
pub use edit::{FieldEdit, OptionEdit, update, usage};

pub const KINDS: [(&str, &str); 7] = [
    ("text", "Text"),
    ("number", "Number"),
    ("date", "Date"),
    ("select", "Single select"),
    ("multiselect", "Multi select"),
    ("checkbox", "Checkbox"),
    ("url", "URL"),
];
pub const ENTITIES: [&str; 3] = ["contact", "company", "deal"];
pub const TEXT_MAX: usize = 1000;

/// A definition as pages and validation use it.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    pub id: i64,
    pub entity: String,
    pub key: String,
    pub label: String,
    pub kind: String,
    pub options: Vec<String>,
    pub required: bool,
    pub version: i32,
}

impl Field {
    /// Whether its values are picked from `options`.
    pub fn has_choices(&self) -> bool {
        matches!(self.kind.as_str(), "select" | "multiselect")
    }
}

/// What records of `entity` are called in messages ("contacts").
pub fn plural(entity: &str) -> &'static str {
    match entity {
        "company" => "companies",
        "deal" => "deals",
        _ => "contacts",
    }
}

impl From<custom_field::Model> for Field {
    fn from(m: custom_field::Model) -> Field {
        Field {
            options: serde_json::from_str(&m.options).unwrap_or_default(),
            id: m.id,
            entity: m.entity,
            key: m.key,
            label: m.label,
            kind: m.kind,
            required: m.required,
            version: m.version,
        }
    }
}

/// The definitions of `entity`, cached briefly (every create and edit needs them).
pub async fn defs(db: &Db, entity: &str) -> Result<Vec<Field>, AppError> {
    if let Some(d) = db.auth_cache.custom_fields.get(&entity.to_string()) {
        return Ok(d);
    }
    let d = for_entity(&db.read, entity).await?;
    db.auth_cache
        .custom_fields
        .insert(entity.to_string(), d.clone());
    Ok(d)
}

pub async fn for_entity(conn: &impl ConnectionTrait, entity: &str) -> Result<Vec<Field>, AppError> {
    Ok(custom_field::Entity::find()
        .filter(custom_field::Column::Entity.eq(entity))
        .order_by_asc(custom_field::Column::Position)
        .order_by_asc(custom_field::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(Field::from)
        .collect())
}

/// A label as stored: inner whitespace collapsed; None when it is not a usable label.
fn clean_label(label: &str) -> Option<String> {
    let label = label.split_whitespace().collect::<Vec<_>>().join(" ");
    let ok = !label.is_empty()
        && label.chars().count() <= 80
        && !has_control(&label)
        && !key_of(&label).is_empty();
    ok.then_some(label)
}

const LABEL_RULE: &str = "Give the field a name of up to 80 characters, with a letter or digit.";

/// Whether a choice's name can be stored.
fn bad_option(o: &str) -> bool {
    o.chars().count() > 80 || has_control(o)
}

/// One definition; 404 when there is none with this id.
pub async fn for_id(conn: &impl ConnectionTrait, id: i64) -> Result<Field, AppError> {
    custom_field::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(Field::from)
        .ok_or_else(|| AppError::not_found("Field"))
}

pub(crate) fn key_of(label: &str) -> String {
    let mut key = String::new();
    for c in label.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c);
        } else if !key.ends_with('_') && !key.is_empty() {
            key.push('_');
        }
    }
    key.trim_end_matches('_').chars().take(40).collect()
}

/// Defines a field (admins). The key comes from the label: "Deal size" → `deal_size`.
pub async fn create(
    db: &Db,
    actor: &Actor,
    entity: &str,
    label: &str,
    kind: &str,
    options: &[String],
    required: bool,
) -> Result<Field, AppError> {
    let spec = Spec {
        label,
        kind,
        options,
        required,
    };
    create_with_key(db, actor, entity, None, &spec).await
}

/// A definition to create: its label, kind, choices and whether it is required.
pub struct Spec<'a> {
    pub label: &'a str,
    pub kind: &'a str,
    pub options: &'a [String],
    pub required: bool,
}

/// Defines a field under `key`, or the label's key when `None`: an import re-creates a
/// Cairn export's fields under their own keys, which its files' columns name and which
/// need not follow a label renamed since. A little over the usual length: one check per
/// part of the definition, then the insert.
pub async fn create_with_key(
    db: &Db,
    actor: &Actor,
    entity: &str,
    key: Option<&str>,
    spec: &Spec<'_>,
) -> Result<Field, AppError> {
    let Spec {
        label,
        kind,
        options,
        required,
    } = *spec;
    actor.require(Action::ManageFields)?;
    let mut fields = FieldErrors::new();
    if !ENTITIES.contains(&entity) {
        fields.set(
            "entity",
            "Fields can be added to contacts, companies and deals.",
        );
    }
    let label = clean_label(label).unwrap_or_else(|| {
        fields.set("label", LABEL_RULE);
        String::new()
    });
    let key = match key {
        Some(k) if k.is_empty() || key_of(k) != k => {
            fields.set(
                "key",
                "A key is lower-case letters, digits and _, up to 40.",
            );
            String::new()
        }
        Some(k) => k.to_string(),
        None => key_of(&label),
    };
    if !KINDS.iter().any(|(k, _)| *k == kind) {
        fields.set("kind", "Choose a kind of field.");
    }
    let options: Vec<String> = options
        .iter()
        .map(|o| o.trim().to_string())
        .filter(|o| !o.is_empty())
        .collect();
    let choice = matches!(kind, "select" | "multiselect");
    if choice && options.is_empty() {
        fields.set("options", "List the choices, one per line.");
    }
    if options.iter().any(|o| bad_option(o)) {
        fields.set("options", "Each choice is up to 80 characters.");
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let tx = db.begin_write().await?;
    let taken = custom_field::Entity::find()
        .filter(custom_field::Column::Entity.eq(entity))
        .filter(custom_field::Column::Key.eq(key.as_str()))
        .one(&tx)
        .await?;
    if taken.is_some() {
        return Err(AppError::conflict_field(
            "label",
            "A field with this name exists already.",
        ));
    }
    let position = for_entity(&tx, entity).await?.len() as i32;
    let model = custom_field::ActiveModel {
        id: NotSet,
        entity: Set(entity.to_string()),
        key: Set(key.clone()),
        label: Set(label),
        kind: Set(kind.to_string()),
        options: Set(
            serde_json::to_string(&if choice { options } else { Vec::new() }).unwrap_or_default(),
        ),
        required: Set(required),
        position: Set(position),
        version: Set(1),
        created_at: Set(now()),
    }
    .insert(&tx)
    .await?;
    audit::record(
        &tx,
        Some(actor),
        "create",
        "custom_field",
        model.id,
        Some(serde_json::json!({"key": key})),
    )
    .await?;
    tx.commit().await?;
    db.auth_cache.forget();
    Ok(Field::from(model))
}

/// Removes a definition and its values from every record, in one transaction.
pub async fn delete(db: &Db, actor: &Actor, id: i64) -> Result<(), AppError> {
    actor.require(Action::ManageFields)?;
    let tx = db.begin_write().await?;
    let field = custom_field::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or_else(|| AppError::not_found("Field"))?;
    let holders = edit::holders(&tx, &field.entity, &field.key).await?;
    let changed = holders
        .into_iter()
        .map(|(record, mut values)| {
            values.remove(&field.key);
            (record, values)
        })
        .collect();
    edit::store(&tx, &field.entity, changed).await?;
    custom_field::Entity::delete_by_id(id).exec(&tx).await?;
    audit::record(
        &tx,
        Some(actor),
        "delete",
        "custom_field",
        id,
        Some(serde_json::json!({"key": field.key})),
    )
    .await?;
    tx.commit().await?;
    db.auth_cache.forget();
    Ok(())
}

fn error_key(key: &str) -> String {
    format!("custom_fields.{key}")
}

/// Checks `values` against the definitions and returns the object to store. `current`
/// holds what the record has now (a PATCH changes only the keys it names; `null` clears).
pub fn validate(
    defs: &[Field],
    current: &BTreeMap<String, Value>,
    values: Option<&BTreeMap<String, Value>>,
    fields: &mut FieldErrors,
) -> BTreeMap<String, Value> {
    let mut out = current.clone();
    out.retain(|k, _| defs.iter().any(|d| &d.key == k));
    if let Some(values) = values {
        for (key, value) in values {
            let Some(def) = defs.iter().find(|d| &d.key == key) else {
                fields.set(
                    &error_key(key),
                    format!("There is no custom field “{key}”."),
                );
                continue;
            };
            match check(def, value) {
                Ok(None) => {
                    out.remove(key);
                }
                Ok(Some(v)) => {
                    out.insert(key.clone(), v);
                }
                Err(message) => fields.set(&error_key(key), message),
            }
        }
    }
    for def in defs.iter().filter(|d| d.required) {
        if !out.contains_key(&def.key) && !fields.contains_key(&error_key(&def.key)) {
            fields.set(&error_key(&def.key), format!("{} is required.", def.label));
        }
    }
    out
}

/// One value: `Ok(None)` when it is empty (the key is dropped). Long on purpose: one
/// short arm per field kind, the whole rule set for values in one place.
fn check(def: &Field, value: &Value) -> Result<Option<Value>, String> {
    let label = &def.label;
    let text = |v: &Value| -> Option<String> {
        match v {
            Value::String(s) => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    };
    if value.is_null() || text(value).is_some_and(|t| t.is_empty()) && def.kind != "checkbox" {
        return Ok(None);
    }
    match def.kind.as_str() {
        "text" => {
            let t = text(value).ok_or(format!("{label} must be text."))?;
            if t.chars().count() > TEXT_MAX || has_control(&t) {
                return Err(format!("{label} is at most {TEXT_MAX} characters of text."));
            }
            Ok(Some(Value::String(t)))
        }
        "number" => {
            let n = match value {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            }
            .filter(|n| n.is_finite())
            .ok_or(format!("{label} must be a number."))?;
            // Whole numbers stay whole, so `cf.size=12` finds them in either engine.
            if n.fract() == 0.0 && n.abs() < 9.0e15 {
                return Ok(Some(Value::Number((n as i64).into())));
            }
            Ok(serde_json::Number::from_f64(n).map(Value::Number))
        }
        "date" => {
            let t = text(value).ok_or(format!("{label} must be a date like 2026-11-26."))?;
            chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d")
                .map_err(|_| format!("{label} must be a date like 2026-11-26."))?;
            Ok(Some(Value::String(t)))
        }
        "url" => {
            let t = text(value).ok_or(format!("{label} must be a web address."))?;
            let ok = url::Url::parse(&t)
                .ok()
                .is_some_and(|u| matches!(u.scheme(), "http" | "https"));
            if !ok || t.len() > 500 {
                return Err(format!(
                    "{label} must be a web address like https://example.com."
                ));
            }
            Ok(Some(Value::String(t)))
        }
        "checkbox" => match value {
            Value::Bool(b) => Ok(Some(Value::Bool(*b))),
            Value::String(s) if matches!(s.as_str(), "true" | "on" | "1" | "yes") => {
                Ok(Some(Value::Bool(true)))
            }
            Value::String(s) if matches!(s.as_str(), "false" | "off" | "0" | "no" | "") => {
                Ok(Some(Value::Bool(false)))
            }
            _ => Err(format!("{label} must be true or false.")),
        },
        "select" => {
            let t = text(value).ok_or(format!("{label} must be one of the choices."))?;
            if !def.options.contains(&t) {
                return Err(format!(
                    "{label} must be one of: {}.",
                    def.options.join(", ")
                ));
            }
            Ok(Some(Value::String(t)))
        }
        _ => {
            // multiselect: an array of choices (a single string counts as one).
            let items: Vec<String> = match value {
                Value::Array(a) => a
                    .iter()
                    .filter_map(text)
                    .filter(|s| !s.is_empty())
                    .collect(),
                other => text(other).into_iter().filter(|s| !s.is_empty()).collect(),
            };
            if let Some(bad) = items.iter().find(|i| !def.options.contains(i)) {
                return Err(format!(
                    "{bad} is not a choice of {label} ({}).",
                    def.options.join(", ")
                ));
            }
            if items.is_empty() {
                return Ok(None);
            }
            let mut items = items;
            items.dedup();
            Ok(Some(Value::Array(
                items.into_iter().map(Value::String).collect(),
            )))
        }
    }
}

/// Parses the stored JSON object.
pub fn parse(stored: &str) -> BTreeMap<String, Value> {
    serde_json::from_str(stored).unwrap_or_default()
}
