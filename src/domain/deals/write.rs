//! Creating, editing and deleting deals: validation, contacts, the version check.

use super::*;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult, TransactionTrait};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::Db;
use crate::domain::sql::Sql;
use crate::domain::{Actor, FieldErrorsExt, audit, clean, has_control, now};
use crate::error::{AppError, FieldErrors};

/// What a form or a POST supplies.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealInput {
    #[serde(default)]
    #[schema(required = true, min_length = 1, max_length = 200)]
    pub title: String,
    /// Default: the pipeline of `stage_id`, or the first pipeline.
    pub pipeline_id: Option<i64>,
    /// Default: the pipeline's first stage.
    pub stage_id: Option<i64>,
    /// In minor units (cents): a whole number, 0 or more.
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10000000000000.0)]
    pub amount: Option<Value>,
    /// ISO 4217; default the organisation's currency.
    #[schema(value_type = Option<crate::web::api::schema::Currency>)]
    pub currency: Option<String>,
    pub company_id: Option<i64>,
    #[schema(max_items = 50)]
    pub contact_ids: Option<Vec<i64>>,
    pub owner_id: Option<i64>,
    /// YYYY-MM-DD.
    #[schema(format = Date)]
    pub expected_close: Option<String>,
    /// 0–100, overriding the stage's.
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 100)]
    pub probability: Option<Value>,
    #[schema(value_type = Option<crate::web::api::schema::Source>)]
    pub source: Option<String>,
    /// Required when the stage is a lost one.
    #[schema(max_length = 500)]
    pub lost_reason: Option<String>,
}

pub(super) struct Valid {
    title: String,
    pipeline_id: i64,
    stage: Stage,
    amount: i64,
    currency: String,
    company_id: Option<i64>,
    contact_ids: Vec<i64>,
    owner_id: i64,
    expected_close: Option<NaiveDate>,
    probability: Option<i32>,
    source: String,
    lost_reason: Option<String>,
}

#[derive(FromQueryResult)]
pub(super) struct Exists {
    pub(super) n: i64,
}

pub(super) async fn count(conn: &impl ConnectionTrait, sql: Sql) -> Result<i64, AppError> {
    Ok(Exists::find_by_statement(sql.build())
        .one(conn)
        .await?
        .map(|r| r.n)
        .unwrap_or(0))
}

/// `kept_owner`: the owner a deal already has. Keeping it is always allowed, so a deal
/// whose owner has since become a viewer (or left) can still be edited.
pub(super) async fn validate(
    db: &Db,
    actor: &Actor,
    input: &DealInput,
    kept_owner: Option<i64>,
) -> Result<Valid, AppError> {
    let mut fields = FieldErrors::new();
    let backend = db.backend();
    let title = input.title.split_whitespace().collect::<Vec<_>>().join(" ");
    if title.is_empty() {
        fields.set("title", "Title is required.");
    } else if title.chars().count() > 200 || has_control(&title) {
        fields.set("title", "Title is at most 200 characters of text.");
    }
    let all = pipelines(&db.read).await?;
    let pipeline = match (input.pipeline_id, input.stage_id) {
        (Some(id), _) => all.iter().find(|p| p.id == id),
        // A stage alone says which pipeline.
        (None, Some(stage)) => all
            .iter()
            .find(|p| p.stages.iter().any(|s| s.id == stage))
            .or(all.first()),
        (None, None) => all.first(),
    };
    let Some(pipeline) = pipeline else {
        fields.set("pipeline_id", "No pipeline has this id.");
        return Err(AppError::validation(fields));
    };
    let stage = match input.stage_id {
        // Stages can be dragged into any order: a new deal starts in the first open one.
        None => pipeline
            .stages
            .iter()
            .find(|s| s.kind == "open")
            .or(pipeline.stages.first())
            .cloned(),
        Some(id) => pipeline.stages.iter().find(|s| s.id == id).cloned(),
    };
    let Some(stage) = stage else {
        fields.set(
            "stage_id",
            format!("The stage must be one of the {} pipeline's.", pipeline.name),
        );
        return Err(AppError::validation(fields));
    };
    let amount = match &input.amount {
        None | Some(Value::Null) => Some(0),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        Some(_) => None,
    };
    let amount = match amount {
        Some(a) if (0..=MAX_AMOUNT).contains(&a) => a,
        _ => {
            fields.set(
                "amount",
                "Amount is a whole number of minor units (cents) from 0 to 10 000 000 000 000.",
            );
            0
        }
    };
    let currency = match clean(input.currency.as_deref()) {
        None => org_currency(db).await?,
        Some(c) => c.to_uppercase(),
    };
    if !CURRENCIES.contains(&currency.as_str()) {
        fields.set(
            "currency",
            "Currency must be an ISO code such as USD or EUR.",
        );
    }
    if let Some(c) = input.company_id {
        let mut sql = Sql::new(backend);
        sql.push("SELECT COUNT(*) AS n FROM companies WHERE id = ")
            .bind(c);
        if count(&db.read, sql).await? == 0 {
            fields.set("company_id", "No company has this id.");
        }
    }
    let mut contact_ids = input.contact_ids.clone().unwrap_or_default();
    contact_ids.sort_unstable();
    contact_ids.dedup();
    if contact_ids.len() > 50 {
        fields.set("contact_ids", "At most 50 contacts per deal.");
    } else if !contact_ids.is_empty() {
        let mut sql = Sql::new(backend);
        sql.push("SELECT COUNT(*) AS n FROM contacts WHERE id IN (");
        for (i, id) in contact_ids.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(*id);
        }
        sql.push(")");
        if count(&db.read, sql).await? != contact_ids.len() as i64 {
            fields.set("contact_ids", "Every contact id must exist.");
        }
    }
    let owner_id = input.owner_id.unwrap_or(actor.id);
    if owner_id != actor.id && Some(owner_id) != kept_owner {
        let mut sql = Sql::new(backend);
        sql.push("SELECT COUNT(*) AS n FROM users WHERE active = ")
            .bind(true)
            .push(" AND role <> 'viewer' AND id = ")
            .bind(owner_id);
        if count(&db.read, sql).await? == 0 {
            fields.set(
                "owner_id",
                "Owner must be an active user who can work deals (not a viewer).",
            );
        }
    }
    let expected_close = match clean(input.expected_close.as_deref()) {
        None => None,
        Some(d) => match NaiveDate::parse_from_str(&d, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                fields.set(
                    "expected_close",
                    "Expected close must be a date like 2026-12-31.",
                );
                None
            }
        },
    };
    let probability = match &input.probability {
        None | Some(Value::Null) => None,
        Some(v) => match v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        {
            Some(p) if (0..=100).contains(&p) => Some(p as i32),
            _ => {
                fields.set(
                    "probability",
                    "Probability is a whole number from 0 to 100.",
                );
                None
            }
        },
    };
    let source = clean(input.source.as_deref()).unwrap_or_else(|| "organic".into());
    if !crate::domain::contacts::SOURCES.contains(&source.as_str()) {
        fields.set(
            "source",
            format!(
                "Source must be one of: {}.",
                crate::domain::contacts::SOURCES.join(", ")
            ),
        );
    }
    let lost_reason = clean(input.lost_reason.as_deref());
    if stage.kind == "lost" && lost_reason.is_none() {
        fields.set("lost_reason", "Say why the deal was lost.");
    }
    if lost_reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > 500 || has_control(r))
    {
        fields.set(
            "lost_reason",
            "The reason is at most 500 characters of text.",
        );
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    Ok(Valid {
        title,
        pipeline_id: pipeline.id,
        stage,
        amount,
        currency,
        company_id: input.company_id,
        contact_ids,
        owner_id,
        expected_close,
        probability,
        source,
        lost_reason,
    })
}

pub(super) async fn set_contacts(
    conn: &impl ConnectionTrait,
    deal: i64,
    ids: &[i64],
) -> Result<(), AppError> {
    let backend = conn.get_database_backend();
    let mut del = Sql::new(backend);
    del.push("DELETE FROM deal_contacts WHERE deal_id = ")
        .bind(deal);
    conn.execute_raw(del.build()).await?;
    if ids.is_empty() {
        return Ok(());
    }
    let mut ins = Sql::new(backend);
    ins.push("INSERT INTO deal_contacts (deal_id, contact_id) VALUES ");
    for (i, c) in ids.iter().enumerate() {
        if i > 0 {
            ins.push(", ");
        }
        ins.push("(").bind(deal).push(", ").bind(*c).push(")");
    }
    conn.execute_raw(ins.build()).await?;
    Ok(())
}

pub(super) async fn record_change(
    conn: &impl ConnectionTrait,
    deal: i64,
    from: Option<i64>,
    to: i64,
    actor: &Actor,
) -> Result<(), AppError> {
    let mut sql = Sql::new(conn.get_database_backend());
    sql.push("INSERT INTO deal_stage_changes (deal_id, from_stage_id, to_stage_id, user_id, created_at) VALUES (")
        .bind(deal)
        .push(", ")
        .bind(from)
        .push(", ")
        .bind(to)
        .push(", ")
        .bind(actor.id)
        .push(", ")
        .bind(now())
        .push(")");
    conn.execute_raw(sql.build()).await?;
    Ok(())
}

/// The next free position at the end of a stage's column.
pub(super) async fn end_of(conn: &impl ConnectionTrait, stage: i64) -> Result<i64, AppError> {
    let mut sql = Sql::new(conn.get_database_backend());
    sql.push("SELECT COALESCE(MAX(position) + 1, 0) AS n FROM deals WHERE stage_id = ")
        .bind(stage);
    count(conn, sql).await
}

pub(super) fn closed_at(kind: &str) -> Option<DateTime<Utc>> {
    (kind == "won" || kind == "lost").then(now)
}

pub async fn create(db: &Db, actor: &Actor, input: &DealInput) -> Result<Deal, AppError> {
    actor.require_write()?;
    let v = validate(db, actor, input, None).await?;
    let t = now();
    let tx = db.write.begin().await?;
    let position = end_of(&tx, v.stage.id).await?;
    let mut sql = Sql::new(db.backend());
    sql.push(
        "INSERT INTO deals (title, pipeline_id, stage_id, position, amount_minor, currency, company_id, owner_id, \
         expected_close, probability, source, closed_at, lost_reason, version, stage_entered_at, created_at, updated_at) VALUES (",
    )
    .bind(v.title)
    .push(", ")
    .bind(v.pipeline_id)
    .push(", ")
    .bind(v.stage.id)
    .push(", ")
    .bind(position)
    .push(", ")
    .bind(v.amount)
    .push(", ")
    .bind(v.currency)
    .push(", ")
    .bind(v.company_id)
    .push(", ")
    .bind(v.owner_id)
    .push(", ")
    .bind(v.expected_close)
    .push(", ")
    .bind(v.probability)
    .push(", ")
    .bind(v.source)
    .push(", ")
    .bind(closed_at(&v.stage.kind))
    .push(", ")
    .bind(if v.stage.kind == "lost" { v.lost_reason } else { None })
    .push(", 1, ")
    .bind(t)
    .push(", ")
    .bind(t)
    .push(", ")
    .bind(t)
    .push(") RETURNING id");
    let row = tx
        .query_one_raw(sql.build())
        .await?
        .ok_or_else(|| AppError::Internal("no id for the new deal".into()))?;
    let id: i64 = row.try_get("", "id")?;
    set_contacts(&tx, id, &v.contact_ids).await?;
    record_change(&tx, id, None, v.stage.id, actor).await?;
    audit::record(&tx, Some(actor), "create", "deal", id, None).await?;
    let deal = get_in(&tx, id).await?.ok_or_else(gone)?;
    tx.commit().await?;
    Ok(deal)
}

pub(super) fn stale(current: Deal) -> AppError {
    let mut fields = FieldErrors::new();
    fields.set(
        "version",
        format!(
            "The deal is at version {} now; reload it and try again.",
            current.version
        ),
    );
    AppError::Conflict {
        message: format!(
            "Someone changed “{}” since you opened it (it is in {} now). Nothing was overwritten.",
            current.title, current.stage
        ),
        fields,
    }
}

/// A partial update. `version` is the version the change was made from.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealPatch {
    pub version: Option<i32>,
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10000000000000.0)]
    pub amount: Option<Value>,
    #[schema(value_type = Option<crate::web::api::schema::Currency>)]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::double_option")]
    #[schema(value_type = Option<i64>)]
    pub company_id: Option<Option<i64>>,
    #[schema(max_items = 50)]
    pub contact_ids: Option<Vec<i64>>,
    pub owner_id: Option<i64>,
    #[serde(default, deserialize_with = "crate::domain::double_option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub expected_close: Option<Option<String>>,
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 100)]
    pub probability: Option<Value>,
    #[schema(value_type = Option<crate::web::api::schema::Source>)]
    pub source: Option<String>,
    #[schema(max_length = 500)]
    pub lost_reason: Option<String>,
}

pub async fn update(db: &Db, actor: &Actor, id: i64, patch: DealPatch) -> Result<Deal, AppError> {
    actor.require_write()?;
    let current = get(db, actor, id).await?;
    if patch.version.is_some_and(|v| v != current.version) {
        return Err(stale(current));
    }
    let mut input = DealInput {
        title: patch.title.unwrap_or(current.title.clone()),
        pipeline_id: Some(current.pipeline_id),
        stage_id: Some(current.stage_id),
        amount: Some(patch.amount.unwrap_or(Value::from(current.amount))),
        currency: Some(patch.currency.unwrap_or(current.currency.clone())),
        company_id: patch.company_id.unwrap_or(current.company_id),
        contact_ids: Some(
            patch
                .contact_ids
                .unwrap_or(current.contacts.iter().map(|c| c.id).collect()),
        ),
        owner_id: Some(patch.owner_id.unwrap_or(current.owner_id)),
        expected_close: patch
            .expected_close
            .unwrap_or(current.expected_close.clone()),
        probability: patch
            .probability
            .or(current.probability_override.map(Value::from)),
        source: Some(patch.source.unwrap_or(current.source.clone())),
        lost_reason: patch.lost_reason.or(current.lost_reason.clone()),
    };
    if input.probability == Some(Value::Null) {
        input.probability = None;
    }
    let v = validate(db, actor, &input, Some(current.owner_id)).await?;
    let tx = db.write.begin().await?;
    let mut sql = Sql::new(db.backend());
    sql.push("UPDATE deals SET title = ")
        .bind(v.title)
        .push(", amount_minor = ")
        .bind(v.amount)
        .push(", currency = ")
        .bind(v.currency)
        .push(", company_id = ")
        .bind(v.company_id)
        .push(", owner_id = ")
        .bind(v.owner_id)
        .push(", expected_close = ")
        .bind(v.expected_close)
        .push(", probability = ")
        .bind(v.probability)
        .push(", source = ")
        .bind(v.source)
        .push(", lost_reason = ")
        .bind(if v.stage.kind == "lost" {
            v.lost_reason
        } else {
            None
        })
        .push(", version = version + 1, updated_at = ")
        .bind(now())
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND version = ")
        .bind(current.version);
    // The version check is in the statement itself: a change that raced ours since we
    // read the deal makes this touch no row.
    if tx.execute_raw(sql.build()).await?.rows_affected() == 0 {
        drop(tx);
        return Err(match get_in(&db.read, id).await? {
            Some(now) => stale(now),
            None => gone(),
        });
    }
    set_contacts(&tx, id, &v.contact_ids).await?;
    audit::record(&tx, Some(actor), "update", "deal", id, None).await?;
    let deal = get_in(&tx, id).await?.ok_or_else(gone)?;
    tx.commit().await?;
    Ok(deal)
}

pub async fn delete(db: &Db, actor: &Actor, id: i64) -> Result<(), AppError> {
    actor.require_write()?;
    let tx = db.write.begin().await?;
    let mut sql = Sql::new(db.backend());
    sql.push("DELETE FROM deals WHERE id = ").bind(id);
    if tx.execute_raw(sql.build()).await?.rows_affected() == 0 {
        return Err(gone());
    }
    audit::record(&tx, Some(actor), "delete", "deal", id, None).await?;
    tx.commit().await?;
    Ok(())
}
