//! The board: per stage the count, sums and first cards of its deals, and the weighted
//! forecast, kept until the change counter moves. Reads only; the statements that build
//! the columns are in `reads` (raw SQL, each saying why).

use super::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::EntityTrait;
use serde::{Deserialize, Serialize};

use crate::domain::Db;
use crate::domain::{Actor, FieldErrorsExt, check_text, clean};
use crate::entities::change_counter;
use crate::error::{AppError, FieldErrors};

/// Cards a board column shows at first; more load as the column scrolls.
pub const COLUMN_PAGE: i64 = 50;

/// A won or lost column shows the deals closed in the last this many days; the rest are a
/// link to the deal list away. Pipedrive takes closed deals off the board altogether and
/// its users review them as "won this month"; a rolling month keeps a fresh win in sight
/// for the team's next meetings, makes the column's count and sum a meaningful number
/// ("won in the last 30 days", where "the last 20 won" would always say 20), and keeps
/// the column short in a busy month and a quiet one alike.
pub const RECENT_DAYS: i64 = 30;

/// The start of the recent window: midnight (UTC) `RECENT_DAYS` ago. Whole days, so the
/// board cache can key on it and a cached board changes at most once a day by itself.
pub fn recent_since(now: DateTime<Utc>) -> DateTime<Utc> {
    let day = (now - chrono::Duration::days(RECENT_DAYS)).date_naive();
    day.and_time(chrono::NaiveTime::MIN).and_utc()
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
    /// At least this deal score, 0–100.
    pub min_score: Option<String>,
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
    /// Only deals scored at least this (0–100; `scoring`).
    pub min_score: Option<i32>,
    /// Whose deals the asker may see (`access`), set by the domain from the actor, never
    /// from the request. Part of the board cache's key: a rep's board is never another's.
    pub visible: crate::domain::access::Visible,
}

impl BoardQuery {
    /// `self` as `actor` may see it.
    pub async fn scoped(&self, db: &Db, actor: &Actor) -> Result<BoardQuery, AppError> {
        Ok(BoardQuery {
            visible: crate::domain::access::visible(db, actor).await?,
            ..self.clone()
        })
    }
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
        let min_score = match clean(self.min_score.as_deref()) {
            None => None,
            Some(v) => match v.parse::<i32>() {
                Ok(n) if (0..=100).contains(&n) => Some(n),
                _ => {
                    fields.set("min_score", "The score is a whole number from 0 to 100.");
                    None
                }
            },
        };
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
            min_score,
            visible: Default::default(),
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub stage: Stage,
    pub count: i64,
    /// Sum of amounts per currency, in minor units.
    pub sums: BTreeMap<String, i64>,
    pub cards: Vec<Card>,
    /// A won or lost column's deals closed before the recent window (not shown).
    pub older: i64,
}

impl Column {
    /// Whether the column holds closed deals (won or lost), and so shows the recent ones.
    pub fn closed(&self) -> bool {
        self.stage.kind != "open"
    }
    /// "1 older won deal", "12 older lost deals".
    pub fn older_text(&self) -> String {
        let s = if self.older == 1 { "" } else { "s" };
        format!("{} older {} deal{s}", self.older, self.stage.kind)
    }
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
    /// How far back won and lost columns reach.
    pub fn recent_days(&self) -> i64 {
        RECENT_DAYS
    }
}

/// The asked-for pipeline, or the first one.
pub(super) fn pick_pipeline(all: &[Pipeline], id: Option<i64>) -> Result<Pipeline, AppError> {
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
/// The recent window's start is part of the key: a board built yesterday may show a deal
/// that has since aged out of it. A miss builds from the deals kept in memory under the
/// same counter (`index`), read once per change whatever the filters asked for.
pub async fn board(db: &Db, actor: &Actor, q: &BoardQuery) -> Result<Arc<Board>, AppError> {
    let q = &q.scoped(db, actor).await?;
    let since = recent_since(Utc::now());
    // Read the counter before the data: whatever is built is at least this new.
    let Some(counter) = board_counter(db).await? else {
        return Ok(Arc::new(build_board(db, q, since).await?));
    };
    // After a change everyone with the board open asks for it again at once: one build.
    let built = std::sync::atomic::AtomicBool::new(false);
    let board = db
        .board_cache
        .get_or_build((q.clone(), since), counter, || async {
            built.store(true, Ordering::Relaxed);
            match deal_index(db, counter).await?.as_deref() {
                Some(Some(index)) => board_from_index(index, q, since),
                _ => build_board(db, q, since).await,
            }
        })
        .await;
    crate::telemetry::board_cache(!built.load(Ordering::Relaxed));
    board
}

/// The deals boards are built from, when current or worth reading: from the second board
/// built since the counter last moved (the requests that miss at once wait for one read).
/// Reading every live deal costs a few boards' builds, so while changes come faster than
/// boards are asked for (one board rebuilt after each write), the first board built after
/// each change is built by statements instead. None inside: too many deals to keep.
async fn deal_index(db: &Db, counter: i64) -> Result<Option<Arc<Option<DealIndex>>>, AppError> {
    if let Some(index) = db.deal_index.get(&(), counter) {
        return Ok(Some(index));
    }
    let first = db.board_built_at.swap(counter, Ordering::Relaxed) != counter;
    if first {
        return Ok(None);
    }
    Ok(Some(
        db.deal_index
            .get_or_build((), counter, || index::load(db))
            .await?,
    ))
}

/// For tests: `q`'s board as `actor` sees it, built from the deals in memory (freshly
/// read) and by statements. The two must be equal.
pub async fn board_both_ways(
    db: &Db,
    actor: &Actor,
    q: &BoardQuery,
) -> Result<(Board, Board), AppError> {
    let q = &q.scoped(db, actor).await?;
    let since = recent_since(Utc::now());
    let index = index::load(db)
        .await?
        .ok_or_else(|| AppError::Internal("too many deals to keep in memory".into()))?;
    Ok((
        board_from_index(&index, q, since)?,
        build_board(db, q, since).await?,
    ))
}

/// The trigger-kept counter of changes to what boards and deal lists show.
/// None when the row is missing (a hand-edited database): then nothing is cached, since
/// nothing would ever retire it.
pub(crate) async fn board_counter(db: &Db) -> Result<Option<i64>, AppError> {
    Ok(change_counter::Entity::find_by_id("board")
        .one(&db.read)
        .await?
        .map(|r| r.n))
}

/// A board from the deals in memory: no statement at all.
fn board_from_index(
    index: &DealIndex,
    q: &BoardQuery,
    since: DateTime<Utc>,
) -> Result<Board, AppError> {
    let all = index.pipelines().to_vec();
    let pipeline = pick_pipeline(&all, q.pipeline)?;
    let (totals, cards) = index.totals_and_cards(q, &pipeline.stages, since);
    let (columns, forecast) = columns(&pipeline, &totals, cards);
    Ok(Board {
        pipeline,
        pipelines: all,
        columns,
        forecast,
    })
}

/// Three statements whatever the number of deals. Won and lost columns show the deals
/// that entered them since `since`.
pub(super) async fn build_board(
    db: &Db,
    q: &BoardQuery,
    since: DateTime<Utc>,
) -> Result<Board, AppError> {
    let all = pipelines(&db.read).await?;
    let pipeline = pick_pipeline(&all, q.pipeline)?;
    let totals = reads::board_totals(db, q, &pipeline.stages, since).await?;
    let cards = reads::board_cards(db, q, &pipeline.stages, since).await?;
    let (columns, forecast) = columns(&pipeline, &totals, cards);
    Ok(Board {
        pipeline,
        pipelines: all,
        columns,
        forecast,
    })
}

/// Each stage's column (count, sums per currency, first cards) and the weighted forecast
/// of the open stages, from the per-stage totals.
fn columns(
    pipeline: &Pipeline,
    totals: &[reads::Totals],
    cards: Vec<Card>,
) -> (Vec<Column>, BTreeMap<String, i64>) {
    let mut forecast = BTreeMap::new();
    let mut by_stage: BTreeMap<i64, Vec<Card>> = BTreeMap::new();
    for card in cards {
        by_stage.entry(card.stage_id).or_default().push(card);
    }
    let columns = pipeline
        .stages
        .iter()
        .map(|s| {
            let mut sums = BTreeMap::new();
            let (mut count, mut older) = (0, 0);
            for t in totals.iter().filter(|t| t.stage_id == s.id) {
                count += t.n;
                older += t.older;
                // A currency only the older deals of a closed column have is not shown.
                if t.n == 0 {
                    continue;
                }
                let sum = sums.entry(t.currency.clone()).or_insert(0i64);
                *sum = sum.saturating_add(t.total);
                if s.kind == "open" {
                    let weighted = (i128::from(t.plain) * i128::from(s.probability) / 100) as i64;
                    let f = forecast.entry(t.currency.clone()).or_insert(0i64);
                    *f = f.saturating_add(weighted.saturating_add(t.overridden));
                }
            }
            let mut cards = by_stage.remove(&s.id).unwrap_or_default();
            if s.kind == "open" {
                cards.sort_by_key(|d| (d.position, d.id));
            } else {
                // Newest first, as `reads` chose them (a deal just won is on top).
                cards.sort_by_key(|d| std::cmp::Reverse((d.stage_entered_at, d.id)));
            }
            Column {
                stage: s.clone(),
                count,
                sums,
                cards,
                older,
            }
        })
        .collect();
    (columns, forecast)
}

/// More cards of one column, after the first `offset` (none for a stage that is gone).
pub async fn column_cards(
    db: &Db,
    actor: &Actor,
    stage_id: i64,
    offset: i64,
    q: &BoardQuery,
) -> Result<Vec<Card>, AppError> {
    let q = &q.scoped(db, actor).await?;
    let stage = match pipelines::stage_by_id(&db.read, stage_id).await {
        Ok(stage) => stage,
        Err(AppError::NotFound(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    reads::column_cards_after(db, q, &stage, recent_since(Utc::now()), offset).await
}
