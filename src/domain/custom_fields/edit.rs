//! Editing a definition: its label, its required flag and its choices (added, renamed,
//! reordered, removed). Its key and kind stay as created: every record stores its value
//! under the key, in the kind's form. A renamed choice is renamed in every record's value
//! in the same transaction; a choice still in use cannot be removed (the message says
//! how many records use it).
use std::collections::{BTreeMap, BTreeSet};

use sea_orm::sea_query::{CaseStatement, Expr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QuerySelect, Set,
};
use serde_json::{Map, Value};

use super::{Field, LABEL_RULE, bad_option, clean_label, plural};
use crate::domain::{Action, Actor, Db, FieldErrorsExt, audit};
use crate::entities::{company, contact, custom_field, deal};
use crate::error::{AppError, FieldErrors};

/// One choice of the edited list: the name it had (None for a new one) and its name now.
#[derive(Debug, Clone)]
pub struct OptionEdit {
    pub from: Option<String>,
    pub to: String,
}

/// A definition as the edit form sends it. `options`, in their new order, are read only
/// for choice kinds; a choice of the stored list that none of them comes `from` is removed.
#[derive(Debug, Clone)]
pub struct FieldEdit {
    /// The version the edit was made from.
    pub version: i32,
    pub label: String,
    pub required: bool,
    pub options: Vec<OptionEdit>,
}

type Values = Map<String, Value>;

/// The records of `entity` whose stored values hold `key`, with those values.
pub(super) async fn holders(
    conn: &impl ConnectionTrait,
    entity: &str,
    key: &str,
) -> Result<Vec<(i64, Values)>, AppError> {
    match entity {
        "company" => {
            holders_in::<company::Entity>(conn, company::Column::Id, company::Column::Custom, key)
                .await
        }
        "deal" => {
            holders_in::<deal::Entity>(conn, deal::Column::Id, deal::Column::Custom, key).await
        }
        _ => {
            holders_in::<contact::Entity>(conn, contact::Column::Id, contact::Column::Custom, key)
                .await
        }
    }
}

/// Writes back `changed` values of records of `entity`.
pub(super) async fn store(
    conn: &impl ConnectionTrait,
    entity: &str,
    changed: Vec<(i64, Values)>,
) -> Result<(), AppError> {
    match entity {
        "company" => {
            store_in::<company::Entity>(conn, company::Column::Id, company::Column::Custom, changed)
                .await
        }
        "deal" => {
            store_in::<deal::Entity>(conn, deal::Column::Id, deal::Column::Custom, changed).await
        }
        _ => {
            store_in::<contact::Entity>(conn, contact::Column::Id, contact::Column::Custom, changed)
                .await
        }
    }
}

/// The JSON is read and edited here, not in SQL: the two engines share no JSON function
/// that finds or changes one key.
async fn holders_in<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    id: E::Column,
    custom: E::Column,
    key: &str,
) -> Result<Vec<(i64, Values)>, AppError> {
    // Keys are letters, digits and `_`; a `_` matching any character only widens this
    // pre-filter, and the parsed object decides.
    let rows: Vec<(i64, String)> = E::find()
        .select_only()
        .columns([id, custom])
        .filter(custom.like(format!("%\"{key}\"%")))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(record, stored)| {
            let values: Values = serde_json::from_str(&stored).ok()?;
            values.contains_key(key).then_some((record, values))
        })
        .collect())
}

async fn store_in<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    id: E::Column,
    custom: E::Column,
    changed: Vec<(i64, Values)>,
) -> Result<(), AppError> {
    let changed: Vec<(i64, String)> = changed
        .into_iter()
        .map(|(record, values)| (record, Value::Object(values).to_string()))
        .collect();
    for batch in changed.chunks(500) {
        let mut values = CaseStatement::new();
        for (record, stored) in batch {
            values = values.case(id.eq(*record), stored.as_str());
        }
        E::update_many()
            .col_expr(custom, values.finally(Expr::col(custom)).into())
            .filter(id.is_in(batch.iter().map(|(record, _)| *record)))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// The choices a stored value holds (one for a select, any number for a multi select).
fn chosen(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// How many records of the field's type hold each of its choices (for the edit page).
pub async fn usage(db: &Db, field: &Field) -> Result<BTreeMap<String, usize>, AppError> {
    let mut counts = BTreeMap::new();
    for (_, values) in holders(&db.read, &field.entity, &field.key).await? {
        for choice in values.get(&field.key).map(chosen).unwrap_or_default() {
            *counts.entry(choice.to_string()).or_insert(0) += 1;
        }
    }
    Ok(counts)
}

/// The new list of choices, checked: names cleaned, none empty, none twice, each renaming
/// or keeping a choice the field has. Errors go on `options`.
fn check_options(field: &Field, edits: &[OptionEdit], fields: &mut FieldErrors) -> Vec<OptionEdit> {
    let mut out: Vec<OptionEdit> = Vec::new();
    for e in edits {
        let to = e.to.trim().to_string();
        let from = e.from.clone().filter(|f| !f.is_empty());
        if to.is_empty() {
            continue;
        }
        if bad_option(&to) {
            fields.set("options", "Each choice is up to 80 characters.");
        } else if out.iter().any(|o| o.to == to) {
            fields.set("options", format!("“{to}” is listed twice."));
        }
        if from.as_ref().is_some_and(|f| !field.options.contains(f)) {
            fields.set(
                "options",
                "The choices changed since the page was opened; reload it.",
            );
        }
        out.push(OptionEdit { from, to });
    }
    if out.is_empty() {
        fields.set("options", "List at least one choice.");
    }
    out
}

/// Changes a definition (admins). Long on purpose: the checks, then one transaction that
/// refuses a removed choice still in use, applies the version-guarded change, and renames
/// choices in the stored values.
pub async fn update(db: &Db, actor: &Actor, id: i64, edit: &FieldEdit) -> Result<Field, AppError> {
    actor.require(Action::ManageFields)?;
    let tx = db.begin_write().await?;
    let field = Field::from(
        custom_field::Entity::find_by_id(id)
            .one(&tx)
            .await?
            .ok_or_else(|| AppError::not_found("Field"))?,
    );
    if field.version != edit.version {
        return Err(stale(&field));
    }
    let mut fields = FieldErrors::new();
    let label = clean_label(&edit.label).unwrap_or_else(|| {
        fields.set("label", LABEL_RULE);
        String::new()
    });
    let options = if field.has_choices() {
        check_options(&field, &edit.options, &mut fields)
    } else {
        Vec::new()
    };
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let same_label = custom_field::Entity::find()
        .filter(custom_field::Column::Entity.eq(field.entity.as_str()))
        .filter(custom_field::Column::Id.ne(id))
        .all(&tx)
        .await?
        .into_iter()
        .any(|other| other.label.to_lowercase() == label.to_lowercase());
    if same_label {
        return Err(AppError::conflict_field(
            "label",
            "Another field has this name already.",
        ));
    }
    let kept: BTreeSet<&str> = options.iter().filter_map(|o| o.from.as_deref()).collect();
    let renamed: BTreeMap<&str, &str> = options
        .iter()
        .filter_map(|o| Some((o.from.as_deref()?, o.to.as_str())))
        .filter(|(from, to)| from != to)
        .collect();
    let removed: Vec<&String> = field
        .options
        .iter()
        .filter(|o| !kept.contains(o.as_str()))
        .collect();
    let holders = if removed.is_empty() && renamed.is_empty() {
        Vec::new()
    } else {
        holders(&tx, &field.entity, &field.key).await?
    };
    refuse_removing_used(&field, &removed, &holders)?;
    let updated = custom_field::Entity::update_many()
        .set(custom_field::ActiveModel {
            label: Set(label.clone()),
            required: Set(edit.required),
            options: Set(serde_json::to_string(
                &options.iter().map(|o| o.to.as_str()).collect::<Vec<_>>(),
            )
            .unwrap_or_else(|_| "[]".into())),
            ..Default::default()
        })
        .col_expr(
            custom_field::Column::Version,
            Expr::col(custom_field::Column::Version).add(1),
        )
        .filter(custom_field::Column::Id.eq(id))
        .filter(custom_field::Column::Version.eq(edit.version))
        .exec(&tx)
        .await?;
    if updated.rows_affected == 0 {
        return Err(stale(&field));
    }
    if !renamed.is_empty() {
        let changed = rename_values(&field.key, &renamed, holders);
        store(&tx, &field.entity, changed).await?;
    }
    let saved = custom_field::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .map(Field::from)
        .ok_or_else(|| AppError::not_found("Field"))?;
    audit::record(
        &tx,
        Some(actor),
        "update",
        "custom_field",
        id,
        Some(
            serde_json::json!({"key": field.key, "label": label, "renamed": renamed,
            "changes": audit::diff(&field, &saved)}),
        ),
    )
    .await?;
    tx.commit().await?;
    db.auth_cache.forget();
    Ok(saved)
}

fn stale(field: &Field) -> AppError {
    AppError::conflict_field(
        "version",
        format!(
            "Someone changed “{}” since you opened it; reload the page and make your change again. Nothing was saved.",
            field.label
        ),
    )
}

/// A choice still held by a record stays: removing it would leave values the field no
/// longer offers.
fn refuse_removing_used(
    field: &Field,
    removed: &[&String],
    holders: &[(i64, Values)],
) -> Result<(), AppError> {
    for choice in removed {
        let n = holders
            .iter()
            .filter(|(_, values)| {
                values
                    .get(&field.key)
                    .is_some_and(|v| chosen(v).contains(&choice.as_str()))
            })
            .count();
        if n > 0 {
            let noun = if n == 1 {
                field.entity.as_str()
            } else {
                plural(&field.entity)
            };
            return Err(AppError::conflict_field(
                "options",
                format!(
                    "“{choice}” is chosen on {n} {noun}, so it was kept: give them another choice first, or rename it instead."
                ),
            ));
        }
    }
    Ok(())
}

/// The holders' values with renamed choices under their new names.
fn rename_values(
    key: &str,
    renamed: &BTreeMap<&str, &str>,
    holders: Vec<(i64, Values)>,
) -> Vec<(i64, Values)> {
    let rename = |v: &Value| match v.as_str().and_then(|s| renamed.get(s)) {
        Some(to) => Value::String(to.to_string()),
        None => v.clone(),
    };
    holders
        .into_iter()
        .filter_map(|(record, mut values)| {
            let old = values.get(key)?.clone();
            let new = match &old {
                Value::Array(a) => Value::Array(a.iter().map(rename).collect()),
                other => rename(other),
            };
            (new != old).then(|| {
                values.insert(key.to_string(), new);
                (record, values)
            })
        })
        .collect()
}
