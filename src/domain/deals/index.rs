//! The board's deals in memory. After any change every board is built again, and a build
//! by statements walks every deal of the pipeline in the database for its sums (about
//! two thirds of a rebuild's cost) and builds its cards as JSON to parse again (most of
//! the rest). Instead, the few fields a board needs of every live deal are read at most
//! once per change (under the same `board` counter as the boards; `board::deal_index`
//! says when) and each board, whatever its filters, is counted, summed and cut from them
//! in memory.
//!
//! Kept only up to `MAX_DEALS` live deals, so its memory (about 200 bytes a deal) and the
//! read after each change stay small; a larger database builds boards by statements
//! (`reads`), which give the same board (tests compare the two after every kind of write).

use super::*;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::domain::Db;
use crate::domain::access::{self, Visible};
use crate::entities::deal;
use crate::error::AppError;

/// Live deals up to which boards are built from memory.
pub const MAX_DEALS: u64 = 20_000;

/// Every live deal as boards need it, by stage, each stage's in its column's order.
pub struct DealIndex {
    pipelines: Vec<Pipeline>,
    by_stage: HashMap<i64, Vec<Row>>,
}

/// What a board filters, sums and shows of a deal. Names are shared between the deals
/// that carry them.
struct Row {
    id: i64,
    title: Box<str>,
    position: i64,
    amount: i64,
    currency: Arc<str>,
    /// Whether the currency has no minor unit (`WHOLE_CURRENCIES`), for amount filters.
    whole: bool,
    probability: Option<i32>,
    owner_id: i64,
    owner_name: Arc<str>,
    company_id: Option<i64>,
    /// None when the deal has no company or its company is in the trash.
    company: Option<Arc<str>>,
    /// Who owns the company: a rep limited to their own records sees only the name of
    /// theirs (`Visible::name_sql`).
    company_owner: Option<i64>,
    expected_close: Option<NaiveDate>,
    stage_entered_at: DateTime<Utc>,
    version: i32,
    score: Option<i32>,
}

/// Reads the index, or None when there are more than `MAX_DEALS` live deals.
pub(super) async fn load(db: &Db) -> Result<Option<DealIndex>, AppError> {
    let live = deal::Entity::find().filter(deal::Column::DeletedAt.is_null());
    if live.count(&db.read).await? > MAX_DEALS {
        return Ok(None);
    }
    let pipelines = pipelines(&db.read).await?;
    let rows = reads::index_rows(db).await?;
    Ok(Some(DealIndex::new(pipelines, rows)))
}

impl DealIndex {
    fn new(pipelines: Vec<Pipeline>, rows: Vec<reads::IndexRow>) -> DealIndex {
        // Each name once, however many deals carry it.
        let mut names: HashMap<String, Arc<str>> = HashMap::new();
        let mut name = |s: String| -> Arc<str> {
            names
                .entry(s)
                .or_insert_with_key(|s| Arc::from(s.as_str()))
                .clone()
        };
        let mut by_stage: HashMap<i64, Vec<Row>> = HashMap::new();
        for row in rows {
            let (
                id,
                stage_id,
                position,
                amount,
                currency,
                probability,
                owner_id,
                owner,
                company_id,
                company,
                company_owner,
                expected_close,
                stage_entered_at,
                version,
                title,
                score,
            ) = row;
            by_stage.entry(stage_id).or_default().push(Row {
                id,
                title: title.into_boxed_str(),
                position,
                amount,
                whole: WHOLE_CURRENCIES.contains(&currency.as_str()),
                currency: name(currency),
                probability,
                owner_id,
                owner_name: name(owner),
                company_id,
                company: company.map(&mut name),
                company_owner,
                expected_close,
                stage_entered_at,
                version,
                score,
            });
        }
        let open: HashMap<i64, bool> = pipelines
            .iter()
            .flat_map(|p| p.stages.iter().map(|s| (s.id, s.kind == "open")))
            .collect();
        for (stage, rows) in by_stage.iter_mut() {
            // The orders the statements use (`reads::Shown`).
            if open.get(stage).copied().unwrap_or(true) {
                rows.sort_by_key(|r| (r.position, r.id));
            } else {
                rows.sort_by_key(|r| std::cmp::Reverse((r.stage_entered_at, r.id)));
            }
        }
        DealIndex {
            pipelines,
            by_stage,
        }
    }

    pub(super) fn pipelines(&self) -> &[Pipeline] {
        &self.pipelines
    }

    /// Per stage and currency the totals, and each column's first cards: what
    /// `reads::board_totals` and `reads::board_cards` answer, from memory.
    pub(super) fn totals_and_cards(
        &self,
        q: &BoardQuery,
        stages: &[Stage],
        since: DateTime<Utc>,
    ) -> (Vec<reads::Totals>, Vec<Card>) {
        let mut totals = Vec::new();
        let mut cards = Vec::new();
        for stage in stages {
            let rows = self
                .by_stage
                .get(&stage.id)
                .map_or(&[][..], |r| r.as_slice());
            let open = stage.kind == "open";
            let first = totals.len();
            let mut shown = 0;
            for r in rows.iter().filter(|r| matches(r, q)) {
                let recent = open || r.stage_entered_at >= since;
                let t = match totals[first..]
                    .iter()
                    .position(|t: &reads::Totals| *t.currency == *r.currency)
                {
                    Some(i) => &mut totals[first + i],
                    None => {
                        totals.push(reads::Totals::empty(stage.id, &r.currency));
                        let last = totals.len() - 1;
                        &mut totals[last]
                    }
                };
                if !recent {
                    t.older += 1;
                    continue;
                }
                t.n += 1;
                t.total = t.total.saturating_add(r.amount);
                if open {
                    match r.probability {
                        None => t.plain = t.plain.saturating_add(r.amount),
                        // Per deal, as the statement's integer division does.
                        Some(p) => {
                            let weighted = i128::from(r.amount) * i128::from(p) / 100;
                            t.overridden = t.overridden.saturating_add(weighted as i64);
                        }
                    }
                }
                if shown < COLUMN_PAGE {
                    shown += 1;
                    cards.push(r.card(stage.id, q.visible));
                }
            }
        }
        (totals, cards)
    }
}

impl Row {
    fn card(&self, stage_id: i64, visible: Visible) -> Card {
        let company = match (visible, &self.company) {
            (Visible::Owner(me), Some(_)) if self.company_owner != Some(me) => {
                Some(access::OTHERS_COMPANY.to_string())
            }
            (_, c) => c.as_deref().map(String::from),
        };
        Card {
            id: self.id,
            // `String::from`, not `to_string`, which goes through `Display`: three
            // times the cost, a tenth of a build's.
            title: String::from(&*self.title),
            stage_id,
            position: self.position,
            amount: self.amount,
            currency: String::from(&*self.currency),
            company,
            owner_name: String::from(&*self.owner_name),
            version: self.version,
            stage_entered_at: self.stage_entered_at,
            score: self.score,
        }
    }
}

/// Whether a deal passes the board's filters: `reads::push_board_filters`, in memory.
fn matches(r: &Row, q: &BoardQuery) -> bool {
    if let Visible::Owner(id) = q.visible
        && r.owner_id != id
    {
        return false;
    }
    if q.owner.is_some_and(|o| r.owner_id != o)
        || q.company.is_some_and(|c| r.company_id != Some(c))
    {
        return false;
    }
    if q.min_score.is_some_and(|s| r.score.is_none_or(|x| x < s)) {
        return false;
    }
    if let Some((from, to)) = q.close_month
        && !r.expected_close.is_some_and(|d| d >= from && d < to)
    {
        return false;
    }
    if let Some(a) = q.min_major
        && !(r.amount >= a.saturating_mul(100) || (r.amount >= a && r.whole))
    {
        return false;
    }
    if let Some(a) = q.max_major
        && !(r.amount <= a || (r.amount <= a.saturating_mul(100) && !r.whole))
    {
        return false;
    }
    true
}
