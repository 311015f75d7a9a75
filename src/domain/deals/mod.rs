//! Deals: pipelines of stages, the board, and moves that never lose an update. Every deal
//! carries a version; a change made from an older version is refused with 409 and the
//! current state, instead of overwriting a colleague's change.
//!
//! This module holds what a deal is and how one is read; the rest is split along its
//! seams: `money` (amounts and currencies), `pipelines` (pipelines and stages, admins),
//! `check` (a deal's own fields against rules read once), `write` (create, edit, delete),
//! `moves` (stage changes), `board` (the board, its filters and cache), `index` (the
//! board's deals in memory), `table` (the deal list) and `reads` (the reads that stay raw
//! SQL, each saying why). Writes go through sea-orm's entities.
mod board;
mod check;
mod index;
mod input;
mod money;
mod moves;
mod pipelines;
mod reads;
mod table;
mod write;

pub use board::*;
pub(crate) use check::{OWNER_MESSAGE, Rules, Valid, deal_owners};
pub use index::{DealIndex, MAX_DEALS as BOARD_INDEX_MAX_DEALS};
pub use input::*;
pub use money::*;
pub use moves::*;
pub use pipelines::*;
pub use table::*;
pub use write::*;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Actor;
use crate::domain::Db;
use crate::domain::access::Visible;
use crate::error::AppError;

#[derive(Debug, Clone, Serialize, Deserialize, FromQueryResult, ToSchema)]
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

impl ContactRef {
    /// Another rep's contact, named only as such (`access`): shown without a link.
    pub fn hidden(&self) -> bool {
        self.name == crate::domain::access::OTHERS_CONTACT
    }
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
    /// Values of the custom fields admins defined for deals, by key.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub custom_fields: std::collections::BTreeMap<String, serde_json::Value>,
    /// The chance an open deal ends won (0–100) from the model scoring deals now
    /// (Settings → Scoring); absent while no model scores it.
    #[serde(default)]
    pub score: Option<i32>,
    /// What moves `score` most each way.
    #[serde(default)]
    pub score_factors: Option<crate::domain::scoring::scores::Explanation>,
}

impl Deal {
    /// Another rep's company, named only as such (`access`): shown without a link.
    pub fn company_hidden(&self) -> bool {
        crate::domain::access::company_hidden(self.company.as_deref())
    }

    /// The company as the deal form's picker shows it (`access::company_in_form`).
    pub fn company_in_form(&self) -> String {
        crate::domain::access::company_in_form(self.company.as_deref(), self.company_id)
    }

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
    /// Its deal score, 0–100, while a model scores it (`scoring`).
    pub score: Option<i32>,
}

impl Card {
    pub fn days_in_stage(&self) -> i64 {
        (Utc::now() - self.stage_entered_at).num_days().max(0)
    }

    pub fn amount_text(&self) -> String {
        money(self.amount, &self.currency)
    }
}

pub(crate) async fn get_in(conn: &impl ConnectionTrait, id: i64) -> Result<Option<Deal>, AppError> {
    reads::deal_by_id(conn, id, Visible::All).await
}

fn gone() -> AppError {
    AppError::NotFound("This deal no longer exists; someone may have deleted it.".into())
}

/// A deal, if `actor` may see it (`access`); "gone" otherwise, as for a deleted one.
pub async fn get(db: &Db, actor: &Actor, id: i64) -> Result<Deal, AppError> {
    let visible = crate::domain::access::visible(db, actor).await?;
    reads::deal_by_id(&db.read, id, visible)
        .await?
        .ok_or_else(gone)
}

/// A company's deals, newest first (for its page).
pub async fn for_company(
    db: &Db,
    actor: &Actor,
    company_id: i64,
    limit: i64,
) -> Result<Vec<Deal>, AppError> {
    let visible = crate::domain::access::visible(db, actor).await?;
    reads::related_deals(db, reads::Related::Company(company_id), visible, limit).await
}

/// The deals a contact is linked to, newest first (for their page).
pub async fn for_contact(
    db: &Db,
    actor: &Actor,
    contact_id: i64,
    limit: i64,
) -> Result<Vec<Deal>, AppError> {
    let visible = crate::domain::access::visible(db, actor).await?;
    reads::related_deals(db, reads::Related::Contact(contact_id), visible, limit).await
}
