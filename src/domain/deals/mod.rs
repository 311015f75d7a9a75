//! Deals: pipelines of stages, the board, and moves that never lose an update. Every deal
//! carries a version; a change made from an older version is refused with 409 and the
//! current state, instead of overwriting a colleague's change.
//!
//! This module holds what a deal is and how one is read; the rest is split along its
//! seams: `money` (amounts and currencies), `pipelines` (pipelines and stages, admins),
//! `write` (create, edit, delete), `moves` (stage changes), `board` (the board, its
//! filters and cache) and `table` (the deal list).
mod board;
mod money;
mod moves;
mod pipelines;
mod table;
mod write;

pub use board::*;
pub use money::*;
pub use moves::*;
pub use pipelines::*;
pub use table::*;
pub use write::*;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Db;
use crate::domain::sql::{PageRow, Sql, json_array};
use crate::domain::{Actor, Page};
use crate::error::AppError;

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
