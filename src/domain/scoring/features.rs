//! The custom fields an admin marks as features of a score (Settings → Scoring): deal
//! fields for the deal score, contact fields for the lead score, each score's kept as
//! their ids in one setting; training learns from those ticked, and a model's scores
//! read the fields it learned from. A field deleted since is simply no
//! longer one: a model trained with it finds its value missing on every deal (its
//! "unknown" column, or the training deals' average where training saw none missing),
//! never an error.
//!
//! Custom values have no history: a deal's value is today's, also for a deal long closed.
//! So only fields that are settled before a deal closes should be marked (the page says
//! so); one filled in because of the outcome would teach the model the outcome.
use std::collections::BTreeSet;

use serde_json::Value;

use super::Kind;
use super::model::Model;
use crate::domain::custom_fields::{self, Field};
use crate::domain::{Action, Actor, Db, FieldErrorsExt, audit, settings};
use crate::error::{AppError, FieldErrors};

/// The setting of `kind`'s ticked fields, and the record type whose fields they are.
fn of(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Deal => ("scoring.custom_fields", "deal"),
        Kind::Lead => ("scoring.lead_custom_fields", "contact"),
    }
}

/// The kinds a model can learn from: a number as a number, the others as categories.
pub const KINDS: [&str; 5] = ["number", "select", "checkbox", "text", "url"];

/// A marked field's value on one deal.
#[derive(Debug, Clone, PartialEq)]
pub enum CustomValue {
    Number(f64),
    Category(String),
}

/// The custom fields of `kind`'s records of a kind a model can learn from, in the custom
/// fields' order: what Settings → Scoring offers to tick.
pub async fn offered(db: &Db, kind: Kind) -> Result<Vec<Field>, AppError> {
    Ok(custom_fields::for_entity(&db.read, of(kind).1)
        .await?
        .into_iter()
        .filter(|f| KINDS.contains(&f.kind.as_str()))
        .collect())
}

/// The custom fields marked for `kind` now, in the custom fields' order.
pub async fn chosen(db: &Db, kind: Kind) -> Result<Vec<Field>, AppError> {
    let ids = ids(db, kind).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut fields = offered(db, kind).await?;
    fields.retain(|f| ids.contains(&f.id));
    Ok(fields)
}

/// The custom fields `model` (of `kind`) learned from that still exist (by key): what
/// its scores read, whatever is ticked since (a change of the ticks takes effect at the
/// next training, as the page says).
pub async fn of_model(db: &Db, kind: Kind, model: &Model) -> Result<Vec<Field>, AppError> {
    let keys = model.custom_keys();
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut fields = offered(db, kind).await?;
    fields.retain(|f| keys.contains(&f.key));
    Ok(fields)
}

async fn ids(db: &Db, kind: Kind) -> Result<BTreeSet<i64>, AppError> {
    Ok(settings::get(&db.read, of(kind).0)
        .await?
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default())
}

/// Marks exactly `ids` (custom fields of `kind`'s records, of a kind a model can learn
/// from) as features of `kind`'s score, for `actor` (admins); audited. Takes effect at
/// the next training.
pub async fn set(db: &Db, actor: &Actor, kind: Kind, ids: &[i64]) -> Result<(), AppError> {
    actor.require(Action::Scoring)?;
    let (setting, entity) = of(kind);
    let fields = custom_fields::for_entity(&db.read, entity).await?;
    let mut chosen = BTreeSet::new();
    for id in ids {
        match fields.iter().find(|f| f.id == *id) {
            Some(f) if KINDS.contains(&f.kind.as_str()) => {
                chosen.insert(*id);
            }
            Some(f) => {
                return Err(refused(format!(
                    "{} is a {} field: a score learns from numbers, single choices, \
                     checkboxes, texts and links.",
                    f.label, f.kind
                )));
            }
            None => {
                return Err(refused(format!(
                    "No {entity} custom field has the id {id}."
                )));
            }
        }
    }
    let value = serde_json::to_string(&chosen)
        .map_err(|e| AppError::Internal(format!("the scoring features: {e}")))?;
    let tx = db.begin_write().await?;
    settings::set(&tx, setting, &value).await?;
    let detail = serde_json::json!({ setting: chosen });
    audit::record(&tx, Some(actor), "update", "settings", 0, Some(detail)).await?;
    tx.commit().await?;
    Ok(())
}

fn refused(message: String) -> AppError {
    let mut fields = FieldErrors::new();
    fields.set("custom_fields", message);
    AppError::validation(fields)
}

/// `field`'s value in a deal's stored custom values, as a model takes it: None when
/// missing or not usable (a number that is not finite, an empty text).
pub fn value(field: &Field, custom: &serde_json::Map<String, Value>) -> Option<CustomValue> {
    let v = custom.get(&field.key)?;
    match (field.kind.as_str(), v) {
        ("number", Value::Number(n)) => n
            .as_f64()
            .filter(|x| x.is_finite())
            .map(CustomValue::Number),
        ("number", Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(CustomValue::Number),
        ("checkbox", Value::Bool(b)) => {
            Some(CustomValue::Category(if *b { "yes" } else { "no" }.into()))
        }
        (_, Value::String(s)) if !s.trim().is_empty() => {
            Some(CustomValue::Category(s.trim().chars().take(80).collect()))
        }
        _ => None,
    }
}
