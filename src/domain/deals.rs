//! Deals: pipelines of stages, the board, and moves that never lose an update. Every deal
//! carries a version; a change made from an older version is refused with 409 and the
//! current state, instead of overwriting a colleague's change.
use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult, TransactionTrait};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::db::Db;
use crate::domain::sql::{PageRow, Sql, json_array};
use crate::domain::{
    Actor, FieldErrorsExt, Page, audit, check_text, clean, has_control, now, settings,
};
use crate::error::{AppError, FieldErrors};

/// Cards a board column shows at first; more load as the column scrolls.
pub const COLUMN_PAGE: i64 = 50;

/// ISO 4217 codes in use.
pub const CURRENCIES: [&str; 40] = [
    "USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "PLN", "CZK",
    "HUF", "RON", "BGN", "ISK", "TRY", "ILS", "AED", "SAR", "INR", "CNY", "HKD", "SGD", "KRW",
    "TWD", "THB", "MYR", "IDR", "PHP", "VND", "BRL", "MXN", "ARS", "CLP", "COP", "ZAR", "NGN",
    "KES",
];

#[derive(Debug, Clone, Serialize, FromQueryResult, ToSchema)]
pub struct Stage {
    pub id: i64,
    pub pipeline_id: i64,
    pub name: String,
    pub position: i32,
    /// Win probability in percent.
    pub probability: i32,
    /// open, won or lost.
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Pipeline {
    pub id: i64,
    pub name: String,
    pub stages: Vec<Stage>,
}

#[derive(FromQueryResult)]
struct PipelineRow {
    id: i64,
    name: String,
}

pub async fn pipelines(conn: &impl ConnectionTrait) -> Result<Vec<Pipeline>, AppError> {
    let backend = conn.get_database_backend();
    let mut sql = Sql::new(backend);
    sql.push("SELECT id, name FROM pipelines ORDER BY position, id");
    let rows = PipelineRow::find_by_statement(sql.build())
        .all(conn)
        .await?;
    let mut sql = Sql::new(backend);
    sql.push("SELECT id, pipeline_id, name, position, probability, kind FROM pipeline_stages ORDER BY pipeline_id, position, id");
    let stages = Stage::find_by_statement(sql.build()).all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|p| Pipeline {
            stages: stages
                .iter()
                .filter(|s| s.pipeline_id == p.id)
                .cloned()
                .collect(),
            id: p.id,
            name: p.name,
        })
        .collect())
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContactRef {
    pub id: i64,
    pub name: String,
}

/// A deal as pages and the API show it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Deal {
    pub id: i64,
    pub title: String,
    pub pipeline_id: i64,
    pub stage_id: i64,
    pub stage: String,
    /// open, won or lost.
    pub stage_kind: String,
    pub position: i64,
    /// In minor units (cents).
    pub amount: i64,
    pub currency: String,
    pub company_id: Option<i64>,
    pub company: Option<String>,
    pub contacts: Vec<ContactRef>,
    pub owner_id: i64,
    pub owner_name: String,
    pub expected_close: Option<String>,
    /// The deal's own probability, or its stage's.
    pub probability: i32,
    /// Set when the deal overrides its stage's probability.
    pub probability_override: Option<i32>,
    pub source: String,
    pub closed_at: Option<DateTime<Utc>>,
    pub lost_reason: Option<String>,
    pub version: i32,
    pub stage_entered_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Deal {
    pub fn days_in_stage(&self) -> i64 {
        (Utc::now() - self.stage_entered_at).num_days().max(0)
    }

    pub fn amount_text(&self) -> String {
        money(self.amount, &self.currency)
    }
}

/// `123456, "EUR"` → "EUR 1,234.56".
/// What a board card shows: a deal without what only its page needs (contacts, dates,
/// bookkeeping), so a board of hundreds of cards is built and kept cheaply.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Card {
    pub id: i64,
    pub title: String,
    pub stage_id: i64,
    pub position: i64,
    pub amount: i64,
    pub currency: String,
    pub company: Option<String>,
    pub owner_name: String,
    pub version: i32,
    pub stage_entered_at: DateTime<Utc>,
}

impl Card {
    pub fn days_in_stage(&self) -> i64 {
        (Utc::now() - self.stage_entered_at).num_days().max(0)
    }

    pub fn amount_text(&self) -> String {
        money(self.amount, &self.currency)
    }
}

const CARD_FIELDS: [(&str, &str); 10] = [
    ("id", "d.id"),
    ("title", "d.title"),
    ("stage_id", "d.stage_id"),
    ("position", "d.position"),
    ("amount", "d.amount_minor"),
    ("currency", "d.currency"),
    ("company", "co.name"),
    ("owner_name", "u.name"),
    ("version", "d.version"),
    ("stage_entered_at", "d.stage_entered_at"),
];

pub fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    let scale = 10u64.pow(decimals(currency));
    let (units, fraction) = (m / scale, m % scale);
    let digits = units.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match decimals(currency) {
        0 => format!("{currency} {sign}{grouped}"),
        _ => format!("{currency} {sign}{grouped}.{fraction:02}"),
    }
}

/// Currencies whose minor unit is the unit itself (ISO 4217 exponent 0).
pub const WHOLE_CURRENCIES: [&str; 5] = ["JPY", "KRW", "VND", "CLP", "ISK"];

/// Digits after the decimal point in `currency` (an amount's minor units per unit is
/// 10 to this).
pub fn decimals(currency: &str) -> u32 {
    if WHOLE_CURRENCIES.contains(&currency) {
        0
    } else {
        2
    }
}

/// Amounts in several currencies, e.g. "EUR 1,540.00 + USD 9.99".
pub fn sums_text(sums: &BTreeMap<String, i64>) -> String {
    if sums.is_empty() {
        return money(0, "");
    }
    sums.iter()
        .map(|(c, a)| money(*a, c))
        .collect::<Vec<_>>()
        .join(" + ")
}

fn fields(backend: sea_orm::DatabaseBackend) -> Vec<(&'static str, &'static str)> {
    let contacts = match backend {
        sea_orm::DatabaseBackend::Postgres => {
            "(SELECT COALESCE(json_agg(json_build_object('id', x.id, 'name', x.first_name || ' ' || x.last_name) \
             ORDER BY x.last_name, x.first_name), '[]'::json) FROM deal_contacts dc JOIN contacts x ON x.id = dc.contact_id \
             WHERE dc.deal_id = d.id)"
        }
        _ => {
            "json((SELECT json_group_array(json_object('id', x.id, 'name', x.first_name || ' ' || x.last_name) \
             ORDER BY x.last_name, x.first_name) FROM deal_contacts dc JOIN contacts x ON x.id = dc.contact_id \
             WHERE dc.deal_id = d.id))"
        }
    };
    vec![
        ("id", "d.id"),
        ("title", "d.title"),
        ("pipeline_id", "d.pipeline_id"),
        ("stage_id", "d.stage_id"),
        ("stage", "s.name"),
        ("stage_kind", "s.kind"),
        ("position", "d.position"),
        ("amount", "d.amount_minor"),
        ("currency", "d.currency"),
        ("company_id", "d.company_id"),
        ("company", "co.name"),
        ("contacts", contacts),
        ("owner_id", "d.owner_id"),
        ("owner_name", "u.name"),
        ("expected_close", "d.expected_close"),
        ("probability", "COALESCE(d.probability, s.probability)"),
        ("probability_override", "d.probability"),
        ("source", "d.source"),
        ("closed_at", "d.closed_at"),
        ("lost_reason", "d.lost_reason"),
        ("version", "d.version"),
        ("stage_entered_at", "d.stage_entered_at"),
        ("created_at", "d.created_at"),
        ("updated_at", "d.updated_at"),
    ]
}

const JOINS: &str = " JOIN pipeline_stages s ON s.id = d.stage_id LEFT JOIN companies co ON co.id = d.company_id \
     JOIN users u ON u.id = d.owner_id";

async fn get_in(conn: &impl ConnectionTrait, id: i64) -> Result<Option<Deal>, AppError> {
    let backend = conn.get_database_backend();
    let mut sql = Sql::new(backend);
    sql.push("SELECT CAST(1 AS BIGINT) AS total, (SELECT ")
        .push(&json_array(backend, &fields(backend), ""))
        .push(" FROM deals d")
        .push(JOINS)
        .push(" WHERE d.id = ")
        .bind(id)
        .push(") AS items");
    let page: Page<Deal> = PageRow::find_by_statement(sql.build())
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("Deal"))?
        .into_page(1, 1)?;
    Ok(page.items.into_iter().next())
}

fn gone() -> AppError {
    AppError::NotFound("This deal no longer exists; someone may have deleted it.".into())
}

pub async fn get(db: &Db, _actor: &Actor, id: i64) -> Result<Deal, AppError> {
    get_in(&db.read, id).await?.ok_or_else(gone)
}

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

struct Valid {
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

/// The currency new deals get when none is given (Settings → Pipelines).
pub async fn org_currency(db: &Db) -> Result<String, AppError> {
    Ok(settings::get(&db.read, "currency")
        .await?
        .unwrap_or_else(|| "USD".to_string()))
}

pub async fn set_org_currency(db: &Db, actor: &Actor, code: &str) -> Result<String, AppError> {
    actor.require_admin()?;
    let code = code.trim().to_uppercase();
    if !CURRENCIES.contains(&code.as_str()) {
        return Err(AppError::field(
            "currency",
            "Currency must be an ISO code such as USD or EUR.",
        ));
    }
    let tx = db.write.begin().await?;
    settings::set(&tx, "currency", &code).await?;
    audit::record(
        &tx,
        Some(actor),
        "set_currency",
        "settings",
        0,
        Some(serde_json::json!({"currency": code})),
    )
    .await?;
    tx.commit().await?;
    Ok(code)
}

fn pipeline_name(name: &str) -> Result<String, AppError> {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > 80 || has_control(&name) {
        return Err(AppError::field(
            "name",
            "Give the pipeline a name of up to 80 characters.",
        ));
    }
    Ok(name)
}

/// Renames a pipeline (admins).
pub async fn rename_pipeline(
    db: &Db,
    actor: &Actor,
    id: i64,
    name: &str,
) -> Result<Pipeline, AppError> {
    actor.require_admin()?;
    let name = pipeline_name(name)?;
    let tx = db.write.begin().await?;
    if let Some(e) = name_taken(&tx, "pipelines", &name, None, Some(id)).await? {
        return Err(e);
    }
    let mut sql = Sql::new(db.backend());
    sql.push("UPDATE pipelines SET name = ")
        .bind(name.clone())
        .push(" WHERE id = ")
        .bind(id);
    if tx.execute_raw(sql.build()).await?.rows_affected() == 0 {
        return Err(AppError::not_found("Pipeline"));
    }
    audit::record(
        &tx,
        Some(actor),
        "rename",
        "pipeline",
        id,
        Some(serde_json::json!({"name": name})),
    )
    .await?;
    tx.commit().await?;
    pipeline_by_id(db, id).await
}

/// One pipeline with its stages.
async fn pipeline_by_id(db: &Db, id: i64) -> Result<Pipeline, AppError> {
    pipelines(&db.read)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| AppError::not_found("Pipeline"))
}

#[derive(FromQueryResult)]
struct Exists {
    n: i64,
}

async fn count(conn: &impl ConnectionTrait, sql: Sql) -> Result<i64, AppError> {
    Ok(Exists::find_by_statement(sql.build())
        .one(conn)
        .await?
        .map(|r| r.n)
        .unwrap_or(0))
}

/// `kept_owner`: the owner a deal already has. Keeping it is always allowed, so a deal
/// whose owner has since become a viewer (or left) can still be edited.
async fn validate(
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

async fn set_contacts(conn: &impl ConnectionTrait, deal: i64, ids: &[i64]) -> Result<(), AppError> {
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

async fn record_change(
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
async fn end_of(conn: &impl ConnectionTrait, stage: i64) -> Result<i64, AppError> {
    let mut sql = Sql::new(conn.get_database_backend());
    sql.push("SELECT COALESCE(MAX(position) + 1, 0) AS n FROM deals WHERE stage_id = ")
        .bind(stage);
    count(conn, sql).await
}

fn closed_at(kind: &str) -> Option<DateTime<Utc>> {
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

fn stale(current: Deal) -> AppError {
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

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Move {
    pub stage_id: i64,
    /// Place in the column, 0 first (past the end means last); default the end.
    #[schema(minimum = 0)]
    pub position: Option<i64>,
    /// Or right after this deal of the target stage: what a board shows may be filtered,
    /// so its drop places are said by neighbour, not by count.
    #[serde(default)]
    pub after_id: Option<i64>,
    /// The version the move was made from.
    pub version: i32,
    /// Required when moving to a lost stage.
    #[schema(max_length = 500)]
    pub lost_reason: Option<String>,
}

/// Moves a deal to a stage (and a place in its column). Moving into a won or lost stage
/// closes it (a lost one needs the reason); moving back out reopens it. Every change of
/// stage is kept.
pub async fn move_deal(db: &Db, actor: &Actor, id: i64, m: &Move) -> Result<Deal, AppError> {
    actor.require_write()?;
    let current = get(db, actor, id).await?;
    if m.version != current.version {
        return Err(stale(current));
    }
    let all = pipelines(&db.read).await?;
    let stage = all
        .iter()
        .find(|p| p.id == current.pipeline_id)
        .and_then(|p| p.stages.iter().find(|s| s.id == m.stage_id))
        .cloned()
        .ok_or_else(|| {
            AppError::field(
                "stage_id",
                "The stage must be one of this deal's pipeline's.",
            )
        })?;
    let reason = clean(m.lost_reason.as_deref());
    if stage.kind == "lost" && reason.is_none() && current.stage_kind != "lost" {
        return Err(AppError::field("lost_reason", "Say why the deal was lost."));
    }
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > 500 || has_control(r))
    {
        return Err(AppError::field(
            "lost_reason",
            "The reason is at most 500 characters of text.",
        ));
    }
    if m.position.is_some_and(|p| p < 0) {
        return Err(AppError::field("position", "Position is 0 or more."));
    }
    let backend = db.backend();
    let t = now();
    let tx = db.write.begin().await?;
    let changed_stage = stage.id != current.stage_id;
    // Where the deal goes: right after a neighbour, or before the deal now at an index of
    // the column (not counting the one moving); None for the end. Positions may have gaps
    // and ties (two creates at once), so the place is a row (position, id) in the
    // column's order, not a bare number.
    enum Place {
        Keep,
        End,
        After(i64, i64),
        Before(i64, i64),
    }
    #[derive(FromQueryResult)]
    struct At {
        position: i64,
        id: i64,
    }
    let place = match (m.after_id, m.position) {
        (Some(after), _) if after == id => {
            return Err(AppError::field(
                "after_id",
                "A deal cannot go after itself.",
            ));
        }
        (Some(after), _) => {
            let mut sql = Sql::new(backend);
            sql.push("SELECT position, id FROM deals WHERE id = ")
                .bind(after)
                .push(" AND stage_id = ")
                .bind(stage.id);
            let Some(at) = At::find_by_statement(sql.build()).one(&tx).await? else {
                return Err(AppError::field(
                    "after_id",
                    "That deal is not in the stage (it may have just moved); reload the board.",
                ));
            };
            Place::After(at.position, at.id)
        }
        (None, Some(index)) => {
            let mut sql = Sql::new(backend);
            sql.push("SELECT position, id FROM deals WHERE stage_id = ")
                .bind(stage.id)
                .push(" AND id <> ")
                .bind(id)
                .push(" ORDER BY position, id LIMIT 1 OFFSET ")
                .bind(index);
            match At::find_by_statement(sql.build()).one(&tx).await? {
                Some(at) => Place::Before(at.position, at.id),
                None => Place::End,
            }
        }
        (None, None) if !changed_stage => Place::Keep,
        (None, None) => Place::End,
    };
    let position = match place {
        Place::Keep => current.position,
        Place::End => end_of(&tx, stage.id).await?,
        Place::After(p, at) | Place::Before(p, at) => {
            // Make room: the rows that come after the place (after the neighbour, or from
            // the row it goes before) move down two, so the deal alone takes p + 1 and rows
            // tied at p keep their order around it.
            let first_after = if matches!(place, Place::After(..)) {
                " > "
            } else {
                " >= "
            };
            let mut shift = Sql::new(backend);
            shift
                .push("UPDATE deals SET position = position + 2 WHERE stage_id = ")
                .bind(stage.id)
                .push(" AND id <> ")
                .bind(id)
                .push(" AND (position > ")
                .bind(p)
                .push(" OR (position = ")
                .bind(p)
                .push(" AND id")
                .push(first_after)
                .bind(at)
                .push("))");
            tx.execute_raw(shift.build()).await?;
            p + 1
        }
    };
    let (closed, lost_reason) = if changed_stage {
        (
            closed_at(&stage.kind),
            if stage.kind == "lost" { reason } else { None },
        )
    } else {
        (
            current.closed_at,
            if stage.kind == "lost" {
                reason.or(current.lost_reason.clone())
            } else {
                None
            },
        )
    };
    let mut sql = Sql::new(backend);
    sql.push("UPDATE deals SET stage_id = ")
        .bind(stage.id)
        .push(", position = ")
        .bind(position)
        .push(", closed_at = ")
        .bind(closed)
        .push(", lost_reason = ")
        .bind(lost_reason)
        .push(", stage_entered_at = ")
        .bind(if changed_stage {
            t
        } else {
            current.stage_entered_at
        })
        .push(", version = version + 1, updated_at = ")
        .bind(t)
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND version = ")
        .bind(m.version);
    if tx.execute_raw(sql.build()).await?.rows_affected() == 0 {
        drop(tx);
        return Err(match get_in(&db.read, id).await? {
            Some(now) => stale(now),
            None => gone(),
        });
    }
    if changed_stage {
        record_change(&tx, id, Some(current.stage_id), stage.id, actor).await?;
    }
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

#[derive(Debug, Clone, Serialize, FromQueryResult, ToSchema)]
pub struct StageChange {
    pub id: i64,
    pub from_stage: Option<String>,
    pub to_stage: String,
    pub user_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub async fn stage_changes(db: &Db, actor: &Actor, id: i64) -> Result<Vec<StageChange>, AppError> {
    get(db, actor, id).await?;
    let mut sql = Sql::new(db.backend());
    sql.push(
        "SELECT c.id, CASE WHEN c.from_stage_id IS NULL THEN NULL \
         ELSE COALESCE(f.name, c.from_stage_name, 'Deleted stage') END AS from_stage, \
         COALESCE(t.name, c.to_stage_name, 'Deleted stage') AS to_stage, u.name AS user_name, c.created_at \
         FROM deal_stage_changes c LEFT JOIN pipeline_stages f ON f.id = c.from_stage_id \
         LEFT JOIN pipeline_stages t ON t.id = c.to_stage_id LEFT JOIN users u ON u.id = c.user_id \
         WHERE c.deal_id = ",
    )
    .bind(id)
    .push(" ORDER BY c.id");
    Ok(StageChange::find_by_statement(sql.build())
        .all(&db.read)
        .await?)
}

/// Board filters, as they arrive.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct BoardParams {
    pub pipeline: Option<String>,
    pub owner: Option<String>,
    /// YYYY-MM.
    pub close_month: Option<String>,
    /// In major units (whole currency units).
    pub min_amount: Option<String>,
    pub max_amount: Option<String>,
    pub company: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct BoardQuery {
    pub pipeline: Option<i64>,
    pub owner: Option<i64>,
    pub close_month: Option<(NaiveDate, NaiveDate)>,
    /// In major units; each deal is compared in its own currency's minor units.
    pub min_major: Option<i64>,
    pub max_major: Option<i64>,
    pub company: Option<i64>,
}

impl BoardParams {
    pub fn validate(&self) -> Result<BoardQuery, AppError> {
        let mut fields = FieldErrors::new();
        let mut id = |name: &str, v: &Option<String>| -> Option<i64> {
            let v = clean(v.as_deref())?;
            match v.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    fields.set(name, format!("{name} must be a number."));
                    None
                }
            }
        };
        let pipeline = id("pipeline", &self.pipeline);
        let owner = id("owner", &self.owner);
        let min_major = id("min_amount", &self.min_amount).map(|a| a.clamp(0, MAX_AMOUNT));
        let max_major = id("max_amount", &self.max_amount).map(|a| a.clamp(0, MAX_AMOUNT));
        // The board's company filter takes an id or a chosen suggestion ("Acme (#12)").
        let company = match clean(self.company.as_deref()) {
            None => None,
            Some(v) if !check_text(&mut fields, "company", &v) => None,
            Some(v) => match v
                .parse::<i64>()
                .ok()
                .or_else(|| crate::domain::pick::trailing_id(&v))
            {
                Some(n) => Some(n),
                None => {
                    fields.set("company", "Pick a company from the suggestions.");
                    None
                }
            },
        };
        let close_month = match clean(self.close_month.as_deref()) {
            None => None,
            Some(m) => match NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d") {
                Ok(first) => {
                    let next = first
                        .checked_add_months(chrono::Months::new(1))
                        .unwrap_or(first);
                    Some((first, next))
                }
                Err(_) => {
                    fields.set("close_month", "Close month looks like 2026-12.");
                    None
                }
            },
        };
        if !fields.is_empty() {
            return Err(AppError::validation(fields));
        }
        Ok(BoardQuery {
            pipeline,
            owner,
            close_month,
            min_major,
            max_major,
            company,
        })
    }
}

/// Which deals a board or table query starts from. Naming the stages (rather than the
/// pipeline) lets every filter be answered from the (stage, …) index without reading a
/// deal's row.
enum Scope<'a> {
    Stage(i64),
    Stages(&'a [i64]),
}

fn push_board_filters(sql: &mut Sql, q: &BoardQuery, scope: Scope) {
    match scope {
        Scope::Stage(id) => {
            sql.push(" WHERE d.stage_id = ").bind(id);
        }
        Scope::Stages([]) => {
            sql.push(" WHERE 1 = 0");
        }
        Scope::Stages(ids) => {
            sql.push(" WHERE d.stage_id IN (");
            for (i, id) in ids.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(*id);
            }
            sql.push(")");
        }
    }
    if let Some(o) = q.owner {
        sql.push(" AND d.owner_id = ").bind(o);
    }
    if let Some(c) = q.company {
        sql.push(" AND d.company_id = ").bind(c);
    }
    if let Some((from, to)) = q.close_month {
        sql.push(" AND d.expected_close >= ")
            .bind(from)
            .push(" AND d.expected_close < ")
            .bind(to);
    }
    let scale = format!(
        " * (CASE WHEN d.currency IN ('{}') THEN 1 ELSE 100 END)",
        WHOLE_CURRENCIES.join("', '")
    );
    if let Some(a) = q.min_major {
        sql.push(" AND d.amount_minor >= ").bind(a).push(&scale);
    }
    if let Some(a) = q.max_major {
        sql.push(" AND d.amount_minor <= ").bind(a).push(&scale);
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub stage: Stage,
    pub count: i64,
    /// Sum of amounts per currency, in minor units.
    pub sums: BTreeMap<String, i64>,
    pub cards: Vec<Card>,
}

impl Column {
    pub fn sum_text(&self) -> String {
        sums_text(&self.sums)
    }
    pub fn more(&self) -> bool {
        (self.cards.len() as i64) < self.count
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Board {
    pub pipeline: Pipeline,
    pub pipelines: Vec<Pipeline>,
    pub columns: Vec<Column>,
    /// Weighted forecast of open deals (amount × probability) per currency.
    pub forecast: BTreeMap<String, i64>,
}

impl Board {
    pub fn forecast_text(&self) -> String {
        sums_text(&self.forecast)
    }
}

#[derive(FromQueryResult)]
struct Totals {
    stage_id: i64,
    currency: String,
    n: i64,
    total: i64,
    /// The amounts of deals that follow their stage's probability.
    plain: i64,
    /// Amount × probability ÷ 100 of the deals with their own.
    overridden: i64,
}

/// The asked-for pipeline, or the first one.
fn pick_pipeline(all: &[Pipeline], id: Option<i64>) -> Result<Pipeline, AppError> {
    match id {
        None => all.first().cloned(),
        Some(id) => all.iter().find(|p| p.id == id).cloned(),
    }
    .ok_or_else(|| AppError::field("pipeline", "No pipeline has this id."))
}

/// The board: per stage, the count and sums of every deal and the first cards; and the
/// weighted forecast. Everyone opens it first thing and most opens see what the last one
/// saw, so a built board is kept until the trigger-kept `board` counter moves: a hit costs
/// one primary-key read, and a change from any process is seen by the next request.
pub async fn board(db: &Db, actor: &Actor, q: &BoardQuery) -> Result<Arc<Board>, AppError> {
    // Read the counter before the data: whatever is built is at least this new.
    let Some(counter) = board_counter(db).await? else {
        return Ok(Arc::new(build_board(db, actor, q).await?));
    };
    if let Some(b) = db.board_cache.get(q, counter) {
        return Ok(b);
    }
    let b = Arc::new(build_board(db, actor, q).await?);
    db.board_cache.insert(q.clone(), counter, b.clone());
    Ok(b)
}

/// The trigger-kept counter of changes to what boards and deal lists show.
/// None when the row is missing (a hand-edited database): then nothing is cached, since
/// nothing would ever retire it.
async fn board_counter(db: &Db) -> Result<Option<i64>, AppError> {
    let mut sql = Sql::new(db.backend());
    sql.push("SELECT n FROM change_counters WHERE name = 'board'");
    Ok(Exists::find_by_statement(sql.build())
        .one(&db.read)
        .await?
        .map(|r| r.n))
}

/// Three statements whatever the number of deals.
async fn build_board(db: &Db, actor: &Actor, q: &BoardQuery) -> Result<Board, AppError> {
    let all = pipelines(&db.read).await?;
    let pipeline = pick_pipeline(&all, q.pipeline)?;
    let backend = db.backend();
    let mut sql = Sql::new(backend);
    sql.push(
        // The stage's probability is applied per stage below, so every sum comes from the
        // (stage, …) index alone, with no join per deal.
        "SELECT d.stage_id, d.currency, COUNT(*) AS n, CAST(COALESCE(SUM(d.amount_minor), 0) AS BIGINT) AS total, \
         CAST(COALESCE(SUM(CASE WHEN d.probability IS NULL THEN d.amount_minor ELSE 0 END), 0) AS BIGINT) AS plain, \
         CAST(COALESCE(SUM(d.amount_minor * d.probability / 100), 0) AS BIGINT) AS overridden \
         FROM deals d",
    );
    let stage_ids: Vec<i64> = pipeline.stages.iter().map(|s| s.id).collect();
    push_board_filters(&mut sql, q, Scope::Stages(&stage_ids));
    sql.push(" GROUP BY d.stage_id, d.currency");
    let totals = Totals::find_by_statement(sql.build()).all(&db.read).await?;

    // Each column's first cards straight from the (stage, position) index: one small
    // range per stage instead of numbering every deal of the pipeline.
    let mut cards = Sql::new(backend);
    cards
        .push("SELECT CAST(0 AS BIGINT) AS total, (SELECT ")
        .push(&json_array(
            backend,
            &CARD_FIELDS,
            " ORDER BY d.stage_id, d.position, d.id",
        ))
        .push(" FROM (");
    for (i, stage) in pipeline.stages.iter().enumerate() {
        if i > 0 {
            cards.push(" UNION ALL ");
        }
        cards.push("SELECT * FROM (SELECT d.id FROM deals d");
        push_board_filters(&mut cards, q, Scope::Stage(stage.id));
        cards
            .push(" ORDER BY d.position, d.id LIMIT ")
            .bind(COLUMN_PAGE)
            .push(") s")
            .push(&i.to_string());
    }
    if pipeline.stages.is_empty() {
        cards.push("SELECT id FROM deals WHERE 1 = 0");
    }
    cards
        .push(") page JOIN deals d ON d.id = page.id")
        .push(JOINS)
        .push(") AS items");
    let page: Page<Card> = PageRow::find_by_statement(cards.build())
        .one(&db.read)
        .await?
        .ok_or_else(|| AppError::Internal("the board query returned no row".into()))?
        .into_page(1, 1)?;
    let _ = actor;
    let mut forecast = BTreeMap::new();
    let columns = pipeline
        .stages
        .iter()
        .map(|s| {
            let mut sums = BTreeMap::new();
            let mut count = 0;
            for t in totals.iter().filter(|t| t.stage_id == s.id) {
                count += t.n;
                let sum = sums.entry(t.currency.clone()).or_insert(0i64);
                *sum = sum.saturating_add(t.total);
                if s.kind == "open" {
                    let weighted = (i128::from(t.plain) * i128::from(s.probability) / 100) as i64;
                    let f = forecast.entry(t.currency.clone()).or_insert(0i64);
                    *f = f.saturating_add(weighted.saturating_add(t.overridden));
                }
            }
            Column {
                stage: s.clone(),
                count,
                sums,
                cards: page
                    .items
                    .iter()
                    .filter(|d| d.stage_id == s.id)
                    .cloned()
                    .collect(),
            }
        })
        .collect();
    Ok(Board {
        pipeline,
        pipelines: all,
        columns,
        forecast,
    })
}

/// More cards of one column, after the first `offset`.
pub async fn column_cards(
    db: &Db,
    _actor: &Actor,
    stage_id: i64,
    offset: i64,
    q: &BoardQuery,
) -> Result<Vec<Card>, AppError> {
    let backend = db.backend();
    let mut sql = Sql::new(backend);
    sql.push("SELECT CAST(0 AS BIGINT) AS total, (SELECT ")
        .push(&json_array(
            backend,
            &CARD_FIELDS,
            " ORDER BY d.position, d.id",
        ))
        .push(" FROM (SELECT d.id FROM deals d");
    push_board_filters(&mut sql, q, Scope::Stage(stage_id));
    sql.push(" ORDER BY d.position, d.id LIMIT ")
        .bind(COLUMN_PAGE)
        .push(" OFFSET ")
        .bind(offset.max(0))
        .push(") page JOIN deals d ON d.id = page.id")
        .push(JOINS)
        .push(") AS items");
    let page: Page<Card> = PageRow::find_by_statement(sql.build())
        .one(&db.read)
        .await?
        .ok_or_else(|| AppError::Internal("the column query returned no row".into()))?
        .into_page(1, 1)?;
    Ok(page.items)
}

/// A company's deals, newest first (for its page).
pub async fn for_company(
    db: &Db,
    _actor: &Actor,
    company_id: i64,
    limit: i64,
) -> Result<Vec<Deal>, AppError> {
    let backend = db.backend();
    let mut sql = Sql::new(backend);
    sql.push("SELECT CAST(0 AS BIGINT) AS total, (SELECT ")
        .push(&json_array(
            backend,
            &fields(backend),
            " ORDER BY d.created_at DESC, d.id DESC",
        ))
        .push(" FROM (SELECT d.id FROM deals d WHERE d.company_id = ")
        .bind(company_id)
        .push(" ORDER BY d.created_at DESC, d.id DESC LIMIT ")
        .bind(limit)
        .push(") page JOIN deals d ON d.id = page.id")
        .push(JOINS)
        .push(") AS items");
    let page: Page<Deal> = PageRow::find_by_statement(sql.build())
        .one(&db.read)
        .await?
        .ok_or_else(|| AppError::Internal("the deals query returned no row".into()))?
        .into_page(1, 1)?;
    Ok(page.items)
}

/// Creates a pipeline (admins) with the usual open stages plus Won and Lost.
pub async fn create_pipeline(db: &Db, actor: &Actor, name: &str) -> Result<Pipeline, AppError> {
    actor.require_admin()?;
    let name = pipeline_name(name)?;
    let backend = db.backend();
    let tx = db.write.begin().await?;
    if let Some(e) = name_taken(&tx, "pipelines", &name, None, None).await? {
        return Err(e);
    }
    let mut sql = Sql::new(backend);
    sql.push("INSERT INTO pipelines (name, position, created_at) VALUES (")
        .bind(name.clone())
        .push(", (SELECT COALESCE(MAX(position) + 1, 0) FROM pipelines), ")
        .bind(now())
        .push(") RETURNING id");
    let row = tx
        .query_one_raw(sql.build())
        .await?
        .ok_or_else(|| AppError::Internal("no id for the new pipeline".into()))?;
    let id: i64 = row.try_get("", "id")?;
    for (i, (stage, probability, kind)) in [
        ("New", 10, "open"),
        ("In progress", 50, "open"),
        ("Won", 100, "won"),
        ("Lost", 0, "lost"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut s = Sql::new(backend);
        s.push(
            "INSERT INTO pipeline_stages (pipeline_id, name, position, probability, kind) VALUES (",
        )
        .bind(id)
        .push(", ")
        .bind(stage)
        .push(", ")
        .bind(i as i32)
        .push(", ")
        .bind(probability)
        .push(", ")
        .bind(kind)
        .push(")");
        tx.execute_raw(s.build()).await?;
    }
    audit::record(
        &tx,
        Some(actor),
        "create",
        "pipeline",
        id,
        Some(serde_json::json!({"name": name})),
    )
    .await?;
    tx.commit().await?;
    pipeline_by_id(db, id).await
}

/// A stage's settings as admins edit them.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageInput {
    #[schema(min_length = 1, max_length = 80)]
    pub name: String,
    /// 0–100.
    #[schema(minimum = 0, maximum = 100)]
    pub probability: i32,
    /// open, won or lost.
    #[schema(value_type = crate::web::api::schema::StageKind)]
    pub kind: String,
}

/// Names tell pipelines apart, and stages within a pipeline (the pickers show names).
async fn name_taken(
    conn: &impl ConnectionTrait,
    table: &str,
    name: &str,
    pipeline_id: Option<i64>,
    except: Option<i64>,
) -> Result<Option<AppError>, AppError> {
    let mut sql = Sql::new(conn.get_database_backend());
    sql.push(&format!(
        "SELECT COUNT(*) AS n FROM {table} WHERE lower(name) = lower("
    ))
    .bind(name.to_string())
    .push(")");
    if let Some(p) = pipeline_id {
        sql.push(" AND pipeline_id = ").bind(p);
    }
    if let Some(id) = except {
        sql.push(" AND id <> ").bind(id);
    }
    if count(conn, sql).await? == 0 {
        return Ok(None);
    }
    let what = if table == "pipelines" {
        "A pipeline"
    } else {
        "A stage of this pipeline"
    };
    Ok(Some(AppError::conflict_field(
        "name",
        format!("{what} is already called “{name}”."),
    )))
}

fn check_stage(input: &StageInput) -> Result<(String, i32, String), AppError> {
    let mut fields = FieldErrors::new();
    let name = input.name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > 80 || has_control(&name) {
        fields.set("name", "Give the stage a name of up to 80 characters.");
    }
    if !(0..=100).contains(&input.probability) {
        fields.set(
            "probability",
            "Probability is a whole number from 0 to 100.",
        );
    }
    if !["open", "won", "lost"].contains(&input.kind.as_str()) {
        fields.set("kind", "A stage is open, won or lost.");
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    Ok((name, input.probability, input.kind.clone()))
}

/// Adds a stage at the end of a pipeline (admins).
pub async fn add_stage(
    db: &Db,
    actor: &Actor,
    pipeline_id: i64,
    input: &StageInput,
) -> Result<Stage, AppError> {
    actor.require_admin()?;
    let (name, probability, kind) = check_stage(input)?;
    let backend = db.backend();
    let tx = db.write.begin().await?;
    let mut exists = Sql::new(backend);
    exists
        .push("SELECT COUNT(*) AS n FROM pipelines WHERE id = ")
        .bind(pipeline_id);
    if count(&tx, exists).await? == 0 {
        return Err(AppError::not_found("Pipeline"));
    }
    if let Some(e) = name_taken(&tx, "pipeline_stages", &name, Some(pipeline_id), None).await? {
        return Err(e);
    }
    let mut sql = Sql::new(backend);
    sql.push(
        "INSERT INTO pipeline_stages (pipeline_id, name, position, probability, kind) VALUES (",
    )
    .bind(pipeline_id)
    .push(", ")
    .bind(name)
    .push(", (SELECT COALESCE(MAX(position) + 1, 0) FROM pipeline_stages WHERE pipeline_id = ")
    .bind(pipeline_id)
    .push("), ")
    .bind(probability)
    .push(", ")
    .bind(kind)
    .push(") RETURNING id");
    let row = tx
        .query_one_raw(sql.build())
        .await?
        .ok_or_else(|| AppError::Internal("no id for the new stage".into()))?;
    let id: i64 = row.try_get("", "id")?;
    audit::record(&tx, Some(actor), "create", "stage", id, None).await?;
    tx.commit().await?;
    stage_by_id(&db.read, id).await
}

async fn stage_by_id(conn: &impl ConnectionTrait, id: i64) -> Result<Stage, AppError> {
    let mut sql = Sql::new(conn.get_database_backend());
    sql.push("SELECT id, pipeline_id, name, position, probability, kind FROM pipeline_stages WHERE id = ").bind(id);
    Stage::find_by_statement(sql.build())
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("Stage"))
}

/// Renames a stage and sets its probability (admins). Its kind (open, won, lost) may
/// change only while it holds no deals, so closed deals always sit in closed stages.
pub async fn update_stage(
    db: &Db,
    actor: &Actor,
    id: i64,
    input: &StageInput,
) -> Result<Stage, AppError> {
    actor.require_admin()?;
    let (name, probability, kind) = check_stage(input)?;
    let backend = db.backend();
    let tx = db.write.begin().await?;
    let stage = stage_by_id(&tx, id).await?;
    if let Some(e) = name_taken(
        &tx,
        "pipeline_stages",
        &name,
        Some(stage.pipeline_id),
        Some(id),
    )
    .await?
    {
        return Err(e);
    }
    if stage.kind != kind {
        let mut n = Sql::new(backend);
        n.push("SELECT COUNT(*) AS n FROM deals WHERE stage_id = ")
            .bind(id);
        if count(&tx, n).await? > 0 {
            return Err(AppError::field(
                "kind",
                "Move this stage's deals elsewhere before changing whether it is open, won or lost.",
            ));
        }
        if stage.kind == "open" {
            keep_an_open_stage(&tx, stage.pipeline_id, id).await?;
        }
    }
    let mut sql = Sql::new(backend);
    sql.push("UPDATE pipeline_stages SET name = ")
        .bind(name)
        .push(", probability = ")
        .bind(probability)
        .push(", kind = ")
        .bind(kind)
        .push(" WHERE id = ")
        .bind(id);
    tx.execute_raw(sql.build()).await?;
    audit::record(&tx, Some(actor), "update", "stage", id, None).await?;
    tx.commit().await?;
    stage_by_id(&db.read, id).await
}

/// A pipeline needs an open stage for new deals to land in.
async fn keep_an_open_stage(
    conn: &impl ConnectionTrait,
    pipeline_id: i64,
    except: i64,
) -> Result<(), AppError> {
    let mut n = Sql::new(conn.get_database_backend());
    n.push("SELECT COUNT(*) AS n FROM pipeline_stages WHERE kind = 'open' AND pipeline_id = ")
        .bind(pipeline_id)
        .push(" AND id <> ")
        .bind(except);
    if count(conn, n).await? == 0 {
        return Err(AppError::Conflict {
            message: "A pipeline keeps at least one open stage.".into(),
            fields: FieldErrors::new(),
        });
    }
    Ok(())
}

/// Moves a stage one place earlier (`direction` up), later (down), or to `position`
/// (0 is first) in its pipeline: dragging on the settings page sends the position, the
/// arrow buttons and older API clients the direction.
pub async fn reorder_stage(
    db: &Db,
    actor: &Actor,
    id: i64,
    direction: Option<&str>,
    position: Option<i64>,
) -> Result<(), AppError> {
    actor.require_admin()?;
    enum Place {
        Up,
        Down,
        At(usize),
    }
    let place = match (direction.map(str::trim).filter(|d| !d.is_empty()), position) {
        (Some("up"), None) => Place::Up,
        (Some("down"), None) => Place::Down,
        (None, Some(p)) if p >= 0 => Place::At(p as usize),
        (None, Some(_)) => {
            return Err(AppError::field("position", "position is 0 or more."));
        }
        (None, None) | (Some(_), Some(_)) => {
            return Err(AppError::field(
                "direction",
                "Give a direction (up or down) or a position, not both.",
            ));
        }
        (Some(_), None) => return Err(AppError::field("direction", "direction is up or down.")),
    };
    // Read and rewrite the order in one transaction, so two admins reordering at once
    // cannot interleave into duplicate positions (SQLite's single writer serialises
    // them; on PostgreSQL the pipeline row is locked first).
    let tx = db.write.begin().await?;
    let stage = stage_by_id(&tx, id).await?;
    if db.backend() == sea_orm::DatabaseBackend::Postgres {
        let mut lock = Sql::new(db.backend());
        lock.push("SELECT id FROM pipelines WHERE id = ")
            .bind(stage.pipeline_id)
            .push(" FOR UPDATE");
        tx.execute_raw(lock.build()).await?;
    }
    let all = pipelines(&tx).await?;
    let mut order: Vec<i64> = all
        .iter()
        .find(|p| p.id == stage.pipeline_id)
        .map(|p| p.stages.iter().map(|s| s.id).collect())
        .unwrap_or_default();
    let Some(at) = order.iter().position(|s| *s == id) else {
        return Err(AppError::not_found("Stage"));
    };
    let to = match place {
        Place::Up => at.saturating_sub(1),
        Place::Down => (at + 1).min(order.len() - 1),
        Place::At(p) => p.min(order.len() - 1),
    };
    if to == at {
        return Ok(());
    }
    let moved = order.remove(at);
    order.insert(to, moved);
    for (pos, sid) in order.iter().enumerate() {
        let mut sql = Sql::new(db.backend());
        sql.push("UPDATE pipeline_stages SET position = ")
            .bind(pos as i32)
            .push(" WHERE id = ")
            .bind(*sid);
        tx.execute_raw(sql.build()).await?;
    }
    audit::record(
        &tx,
        Some(actor),
        "reorder",
        "stage",
        id,
        Some(serde_json::json!({"position": to})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a stage. While deals sit in it, `move_to` (another stage of the same pipeline
/// and kind, so won and lost bookkeeping stays true) must say where they go; otherwise
/// nothing happens and the answer is 409. Each moved deal's history records the move.
pub async fn delete_stage(
    db: &Db,
    actor: &Actor,
    id: i64,
    move_to: Option<i64>,
) -> Result<u64, AppError> {
    actor.require_admin()?;
    let backend = db.backend();
    let tx = db.write.begin().await?;
    let stage = stage_by_id(&tx, id).await?;
    if stage.kind == "open" {
        keep_an_open_stage(&tx, stage.pipeline_id, id).await?;
    }
    let mut n = Sql::new(backend);
    n.push("SELECT COUNT(*) AS n FROM deals WHERE stage_id = ")
        .bind(id);
    let held = count(&tx, n).await?;
    if held > 0 {
        let Some(target) = move_to.filter(|t| *t != id) else {
            // Deals go only to a stage of the same kind, so that won stays won: say so
            // when this pipeline has no other.
            let mut others = Sql::new(backend);
            others
                .push("SELECT COUNT(*) AS n FROM pipeline_stages WHERE pipeline_id = ")
                .bind(stage.pipeline_id)
                .push(" AND kind = ")
                .bind(stage.kind.clone())
                .push(" AND id <> ")
                .bind(id);
            let message = if count(&tx, others).await? == 0 {
                format!(
                    "{} still holds {held} deal(s), and it is the pipeline's only {} stage: add another {} stage to move them to, or move the deals on the board first.",
                    stage.name, stage.kind, stage.kind
                )
            } else {
                format!(
                    "{} still holds {held} deal(s); choose a stage to move them to first.",
                    stage.name
                )
            };
            return Err(AppError::Conflict {
                message,
                fields: FieldErrors::new(),
            });
        };
        let target_stage = stage_by_id(&tx, target)
            .await
            .map_err(|_| AppError::field("move_to", "That stage does not exist."))?;
        if target_stage.pipeline_id != stage.pipeline_id || target_stage.kind != stage.kind {
            return Err(AppError::field(
                "move_to",
                "Move the deals to another stage of the same pipeline and kind.",
            ));
        }
        let at = now();
        let mut hist = Sql::new(backend);
        hist.push("INSERT INTO deal_stage_changes (deal_id, from_stage_id, to_stage_id, user_id, created_at) SELECT id, ")
            .bind(id)
            .push(", ")
            .bind(target)
            .push(", ")
            .bind(actor.id)
            .push(", ")
            .bind(at)
            .push(" FROM deals WHERE stage_id = ")
            .bind(id);
        tx.execute_raw(hist.build()).await?;
        let mut mv = Sql::new(backend);
        mv.push("UPDATE deals SET position = position + (SELECT COALESCE(MAX(position) + 1, 0) FROM deals WHERE stage_id = ")
            .bind(target)
            .push("), stage_id = ")
            .bind(target)
            .push(", stage_entered_at = ")
            .bind(at)
            .push(", version = version + 1 WHERE stage_id = ")
            .bind(id);
        tx.execute_raw(mv.build()).await?;
    }
    // The histories keep saying where the deals were.
    for (name_col, id_col) in [
        ("from_stage_name", "from_stage_id"),
        ("to_stage_name", "to_stage_id"),
    ] {
        let mut keep = Sql::new(backend);
        keep.push(&format!("UPDATE deal_stage_changes SET {name_col} = "))
            .bind(stage.name.clone())
            .push(&format!(" WHERE {id_col} = "))
            .bind(id);
        tx.execute_raw(keep.build()).await?;
    }
    let mut del = Sql::new(backend);
    del.push("DELETE FROM pipeline_stages WHERE id = ").bind(id);
    tx.execute_raw(del.build()).await?;
    audit::record(
        &tx,
        Some(actor),
        "delete",
        "stage",
        id,
        Some(serde_json::json!({"name": stage.name, "moved_deals": held})),
    )
    .await?;
    tx.commit().await?;
    Ok(held as u64)
}

/// The deal table's sort keys and the SQL each sorts by.
/// The deal table's query as it arrives (page and API alike): the board's filters, a
/// status, a sort and a page.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListParams {
    pub pipeline: Option<String>,
    pub owner: Option<String>,
    pub close_month: Option<String>,
    pub min_amount: Option<String>,
    pub max_amount: Option<String>,
    pub company: Option<String>,
    pub status: Option<String>,
    pub sort: Option<String>,
    pub dir: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
}

impl ListParams {
    pub fn board(&self) -> BoardParams {
        BoardParams {
            pipeline: self.pipeline.clone(),
            owner: self.owner.clone(),
            close_month: self.close_month.clone(),
            min_amount: self.min_amount.clone(),
            max_amount: self.max_amount.clone(),
            company: self.company.clone(),
        }
    }

    pub fn validate(&self) -> Result<ListQuery, AppError> {
        ListQuery::new(
            self.board().validate()?,
            self.status.as_deref(),
            self.sort.as_deref(),
            self.dir.as_deref(),
            self.page.as_deref(),
        )?
        .per_page(self.per_page.as_deref())
    }
}

/// Sort keys and their columns; `stage` is the board's order (stage, then the card's
/// place in its column).
const LIST_SORTS: [(&str, &[&str]); 7] = [
    ("title", &["lower(d.title)"]),
    ("stage", &["s.position", "d.position"]),
    ("amount", &["d.amount_minor"]),
    ("owner", &["lower(u.name)"]),
    ("close", &["d.expected_close"]),
    ("updated", &["d.updated_at"]),
    ("created", &["d.created_at"]),
];
/// The largest amount a deal may have, in minor units (a hundred billion in major units):
/// far beyond any deal. A sum in SQL overflows only past some 900 000 deals at this cap,
/// and the sums added up here saturate.
pub const MAX_AMOUNT: i64 = 10_000_000_000_000;

/// Rows per page of the deal table (the API may ask for 1 to 100).
pub const LIST_PAGE: i64 = 50;

/// The deal table: the board's filters plus a status, a sort and a page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ListQuery {
    pub filters: BoardQuery,
    /// open, won or lost; none for every deal.
    pub status: Option<String>,
    pub sort: &'static str,
    pub desc: bool,
    pub page: u64,
    pub per_page: i64,
}

impl ListQuery {
    /// Another page size (the API's `per_page`): 1 to 100.
    pub fn per_page(mut self, per_page: Option<&str>) -> Result<ListQuery, AppError> {
        let mut fields = FieldErrors::new();
        let (_, n) = crate::domain::paging(
            &None,
            &per_page.map(str::to_string),
            self.per_page as u64,
            &mut fields,
        );
        if !fields.is_empty() {
            return Err(AppError::validation(fields));
        }
        self.per_page = n as i64;
        Ok(self)
    }

    pub fn new(
        filters: BoardQuery,
        status: Option<&str>,
        sort: Option<&str>,
        dir: Option<&str>,
        page: Option<&str>,
    ) -> Result<ListQuery, AppError> {
        let mut fields = FieldErrors::new();
        let status = match clean(status) {
            None => None,
            Some(s) if ["open", "won", "lost"].contains(&s.as_str()) => Some(s),
            Some(_) => {
                fields.set("status", "Status is open, won or lost.");
                None
            }
        };
        let sort = match clean(sort) {
            None => "updated",
            Some(s) => match LIST_SORTS.iter().find(|(k, _)| *k == s) {
                Some((k, _)) => k,
                None => {
                    fields.set(
                        "sort",
                        "Sort by title, stage, amount, owner, close, updated or created.",
                    );
                    "updated"
                }
            },
        };
        let desc = match clean(dir).as_deref() {
            None => sort == "updated" || sort == "created" || sort == "amount",
            Some("desc") => true,
            Some("asc") => false,
            Some(_) => {
                fields.set("dir", "Direction is asc or desc.");
                false
            }
        };
        let (page, _) = crate::domain::paging(
            &page.map(str::to_string),
            &None,
            LIST_PAGE as u64,
            &mut fields,
        );
        if !fields.is_empty() {
            return Err(AppError::validation(fields));
        }
        Ok(ListQuery {
            filters,
            status,
            sort,
            desc,
            page,
            per_page: LIST_PAGE,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DealTable {
    pub pipeline: Pipeline,
    pub pipelines: Vec<Pipeline>,
    pub total: i64,
    /// Sum of the matching deals' amounts per currency, in minor units.
    pub sums: BTreeMap<String, i64>,
    pub items: Vec<Deal>,
    pub page: u64,
    pub per_page: i64,
}

impl DealTable {
    pub fn sum_text(&self) -> String {
        sums_text(&self.sums)
    }
    pub fn pages(&self) -> u64 {
        ((self.total.max(0) as u64).div_ceil(self.per_page.max(1) as u64)).max(1)
    }
}

#[derive(FromQueryResult)]
struct CurrencyTotal {
    currency: String,
    n: i64,
    total: i64,
}

/// One page of a pipeline's deals as a table, with the count and sums of every match.
/// Two statements whatever the number of deals.
/// A page of the deal table. Like the board, a built page is kept until the change
/// counter moves (its totals cover every matching deal, which is the costly part).
pub async fn list(db: &Db, actor: &Actor, q: &ListQuery) -> Result<Arc<DealTable>, AppError> {
    let Some(counter) = board_counter(db).await? else {
        return Ok(Arc::new(build_list(db, actor, q).await?));
    };
    if let Some(t) = db.deal_list_cache.get(q, counter) {
        return Ok(t);
    }
    let t = Arc::new(build_list(db, actor, q).await?);
    db.deal_list_cache.insert(q.clone(), counter, t.clone());
    Ok(t)
}

async fn build_list(db: &Db, _actor: &Actor, q: &ListQuery) -> Result<DealTable, AppError> {
    let all = pipelines(&db.read).await?;
    let pipeline = pick_pipeline(&all, q.filters.pipeline)?;
    let backend = db.backend();
    // The status picks stages: the filter becomes a set of index ranges.
    let stage_ids: Vec<i64> = pipeline
        .stages
        .iter()
        .filter(|s| q.status.as_ref().is_none_or(|k| *k == s.kind))
        .map(|s| s.id)
        .collect();
    let filters = |sql: &mut Sql| push_board_filters(sql, &q.filters, Scope::Stages(&stage_ids));
    let mut sums = Sql::new(backend);
    sums.push(
        "SELECT d.currency, COUNT(*) AS n, CAST(COALESCE(SUM(d.amount_minor), 0) AS BIGINT) AS total \
         FROM deals d JOIN pipeline_stages s ON s.id = d.stage_id",
    );
    filters(&mut sums);
    sums.push(" GROUP BY d.currency");
    let totals = CurrencyTotal::find_by_statement(sums.build())
        .all(&db.read)
        .await?;

    let keys: &[&str] = LIST_SORTS
        .iter()
        .find(|(k, _)| *k == q.sort)
        .map_or(&["d.updated_at"], |(_, e)| e);
    let dir = if q.desc { "DESC" } else { "ASC" };
    let order = format!(
        " ORDER BY {}, d.id {dir}",
        keys.iter()
            .map(|k| format!("{k} {dir} NULLS LAST"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut sql = Sql::new(backend);
    sql.push("SELECT CAST(0 AS BIGINT) AS total, (SELECT ")
        .push(&json_array(backend, &fields(backend), &order))
        .push(
            " FROM (SELECT d.id FROM deals d JOIN pipeline_stages s ON s.id = d.stage_id \
             JOIN users u ON u.id = d.owner_id",
        );
    filters(&mut sql);
    sql.push(&order)
        .push(" LIMIT ")
        .bind(q.per_page)
        .push(" OFFSET ")
        .bind(((q.page - 1) as i64).saturating_mul(q.per_page))
        .push(") page JOIN deals d ON d.id = page.id")
        .push(JOINS)
        .push(") AS items");
    let page: Page<Deal> = PageRow::find_by_statement(sql.build())
        .one(&db.read)
        .await?
        .ok_or_else(|| AppError::Internal("the deal list query returned no row".into()))?
        .into_page(1, 1)?;
    Ok(DealTable {
        pipeline,
        pipelines: all,
        total: totals.iter().map(|t| t.n).sum(),
        sums: totals.into_iter().map(|t| (t.currency, t.total)).collect(),
        items: page.items,
        page: q.page,
        per_page: q.per_page,
    })
}
