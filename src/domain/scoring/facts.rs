//! What is known of each deal at the moment it is scored: for a closed deal, the moment
//! before it closed (so nothing the outcome caused is learned from: its stage is the one
//! it left for won or lost, its activities and tasks those before the close); for an
//! open deal, now. Read in a handful of grouped statements, whatever the number of deals.
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Order, Query, SelectStatement};
use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::Db;
use crate::domain::custom_fields::Field;
use crate::entities::{deal_stage_change, pipeline_stage, task};
use crate::error::AppError;

/// One deal as the model sees it.
#[derive(Debug, Clone)]
pub struct DealFacts {
    pub id: i64,
    /// The outcome; `None` while the deal is open.
    pub won: Option<bool>,
    /// When the facts hold: the close, or now.
    pub at: DateTime<Utc>,
    /// The open stage it was in at `at` (unknown for a deal closed without a stage
    /// history, such as an imported one).
    pub stage: Option<Stage>,
    pub amount_minor: i64,
    pub currency: String,
    pub source: String,
    pub owner: String,
    pub industry: Option<String>,
    pub size_band: Option<String>,
    pub age_days: f64,
    pub days_in_stage: Option<f64>,
    /// Activities logged on it before `at`, by kind.
    pub activities: BTreeMap<String, i64>,
    pub days_since_activity: Option<f64>,
    pub tasks_done: i64,
    pub tasks_open: i64,
    /// Stripe payments its contacts made before `at`.
    pub payments: i64,
    /// Its contacts' Stripe subscription status before `at` (the last change of any).
    pub subscription: Option<String>,
    /// The custom fields marked as features (`features`), each with its value here.
    pub custom: Vec<CustomFact>,
}

/// One marked custom field on one deal.
#[derive(Debug, Clone)]
pub struct CustomFact {
    pub key: String,
    pub label: String,
    /// A number field (else its values are categories).
    pub number: bool,
    pub value: Option<super::features::CustomValue>,
}

#[derive(Debug, Clone)]
pub struct Stage {
    pub id: i64,
    pub name: String,
    /// The stage's own win probability, 0–100.
    pub probability: i32,
}

#[derive(FromQueryResult)]
struct DealRow {
    id: i64,
    stage_id: i64,
    amount_minor: i64,
    currency: String,
    source: String,
    owner: String,
    industry: Option<String>,
    size_band: Option<String>,
    created_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    stage_entered_at: DateTime<Utc>,
    custom: String,
}

#[derive(FromQueryResult)]
struct ActivityRow {
    deal_id: i64,
    kind: String,
    n: i64,
    last: Option<DateTime<Utc>>,
}

#[derive(FromQueryResult)]
struct StatusRow {
    deal_id: i64,
    status: String,
}

#[derive(FromQueryResult)]
struct PaymentCount {
    deal_id: i64,
    n: i64,
}

#[derive(FromQueryResult)]
struct ChangeRow {
    deal_id: i64,
    from_stage_id: Option<i64>,
    to_stage_id: i64,
    created_at: DateTime<Utc>,
}

#[derive(FromQueryResult)]
struct TaskRow {
    deal_id: Option<i64>,
    created_at: DateTime<Utc>,
    done_at: Option<DateTime<Utc>>,
}

/// Which deals to read: training needs the closed ones, scoring the open ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Open,
    Closed,
}

/// The deals of `which` not in the trash, as of their own moment (`now` for the open).
/// Their rows are streamed, not gathered first: at 200 000 deals, gathering the rows
/// before making the facts took the process to 430 MB.
/// With the custom fields ticked as features now (`features::chosen`): what training
/// learns from.
pub async fn deals(db: &Db, now: DateTime<Utc>, which: Which) -> Result<Vec<DealFacts>, AppError> {
    let custom = super::features::chosen(db, super::Kind::Deal).await?;
    read(db, now, which, None, &custom).await
}

/// Every open deal now, with the custom fields `custom` (those of the model scoring).
pub async fn open(
    db: &Db,
    now: DateTime<Utc>,
    custom: &[Field],
) -> Result<Vec<DealFacts>, AppError> {
    read(db, now, Which::Open, None, custom).await
}

/// The open deals among `ids` (those since closed or deleted are left out), as of
/// `now`, with the custom fields `custom`: a few deals rescored after a change.
pub async fn open_among(
    db: &Db,
    now: DateTime<Utc>,
    ids: &[i64],
    custom: &[Field],
) -> Result<Vec<DealFacts>, AppError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    read(db, now, Which::Open, Some(ids), custom).await
}

async fn read(
    db: &Db,
    now: DateTime<Utc>,
    which: Which,
    only: Option<&[i64]>,
    marked: &[Field],
) -> Result<Vec<DealFacts>, AppError> {
    let stages: HashMap<i64, (Stage, String)> = pipeline_stage::Entity::find()
        .all(&db.read)
        .await?
        .into_iter()
        .map(|s| {
            let stage = Stage {
                id: s.id,
                name: s.name,
                probability: s.probability,
            };
            (s.id, (stage, s.kind))
        })
        .collect();
    let backend = db.backend();
    let changes = match which {
        Which::Closed => changes_by_deal(db).await?,
        Which::Open => HashMap::new(),
    };
    let mut counts = activity_counts(which);
    let mut deal_rows = deal_rows(which);
    let mut paid = payment_counts(which);
    let mut statuses = status_changes(which);
    if let Some(ids) = only {
        counts.and_where(Expr::col(("a", "deal_id")).is_in(ids.iter().copied()));
        paid.and_where(Expr::col(("dc", "deal_id")).is_in(ids.iter().copied()));
        statuses.and_where(Expr::col(("dc", "deal_id")).is_in(ids.iter().copied()));
        deal_rows.and_where(Expr::col(("d", "id")).is_in(ids.iter().copied()));
    }
    let activities = ActivityRow::find_by_statement(backend.build(&counts))
        .all(&db.read)
        .await?;
    // Oldest first: each deal keeps its last.
    let mut subscription: HashMap<i64, String> =
        StatusRow::find_by_statement(backend.build(&statuses))
            .all(&db.read)
            .await?
            .into_iter()
            .map(|s| (s.deal_id, s.status))
            .collect();
    let mut payments: HashMap<i64, i64> = PaymentCount::find_by_statement(backend.build(&paid))
        .all(&db.read)
        .await?
        .into_iter()
        .map(|p| (p.deal_id, p.n))
        .collect();
    let mut by_deal: HashMap<i64, Vec<ActivityRow>> = HashMap::new();
    for a in activities {
        by_deal.entry(a.deal_id).or_default().push(a);
    }
    let mut tasks = task::Entity::find()
        .select_only()
        .columns([
            task::Column::DealId,
            task::Column::CreatedAt,
            task::Column::DoneAt,
        ])
        .filter(task::Column::DealId.is_not_null());
    if let Some(ids) = only {
        tasks = tasks.filter(task::Column::DealId.is_in(ids.iter().copied()));
    }
    let tasks = tasks.into_model::<TaskRow>().all(&db.read).await?;
    let mut tasks_of: HashMap<i64, Vec<TaskRow>> = HashMap::new();
    for t in tasks {
        if let Some(d) = t.deal_id {
            tasks_of.entry(d).or_default().push(t);
        }
    }
    let mut out = Vec::new();
    let mut rows = DealRow::find_by_statement(backend.build(&deal_rows))
        .stream(&db.read)
        .await?;
    while let Some(r) = rows.try_next().await? {
        let kind = stages.get(&r.stage_id).map(|(_, k)| k.as_str());
        let won = match kind {
            Some("won") => Some(true),
            Some("lost") => Some(false),
            _ => None,
        };
        let at = match won {
            Some(_) => r.closed_at.unwrap_or(r.stage_entered_at),
            None => now,
        };
        let history = changes.get(&r.id).copied().unwrap_or_default();
        let (stage_id, entered) = match won {
            None => (Some(r.stage_id), Some(r.stage_entered_at)),
            Some(_) => before_close(history, r.created_at),
        };
        let stage = stage_id
            .and_then(|id| stages.get(&id))
            .map(|(s, _)| s.clone());
        let mut counts = BTreeMap::new();
        let mut last: Option<DateTime<Utc>> = None;
        for a in by_deal.remove(&r.id).unwrap_or_default() {
            last = Ord::max(last, a.last.filter(|l| *l <= at));
            *counts.entry(a.kind).or_insert(0) += a.n;
        }
        let tasks = tasks_of.remove(&r.id).unwrap_or_default();
        let (tasks_done, tasks_open) =
            tasks_at(tasks.iter().map(|t| (t.created_at, t.done_at)), at);
        let values: serde_json::Map<String, serde_json::Value> = if marked.is_empty() {
            serde_json::Map::new()
        } else {
            serde_json::from_str(&r.custom).unwrap_or_default()
        };
        let custom = marked
            .iter()
            .map(|f| CustomFact {
                key: f.key.clone(),
                label: f.label.clone(),
                number: f.kind == "number",
                value: super::features::value(f, &values),
            })
            .collect();
        out.push(DealFacts {
            custom,
            id: r.id,
            won,
            at,
            stage,
            amount_minor: r.amount_minor,
            currency: r.currency,
            source: r.source,
            owner: r.owner,
            industry: r.industry,
            size_band: r.size_band,
            age_days: days(r.created_at, at).unwrap_or(0.0),
            days_in_stage: entered.and_then(|e| days(e, at)),
            activities: counts,
            days_since_activity: last.and_then(|l| days(l, at)),
            tasks_done,
            tasks_open,
            payments: payments.remove(&r.id).unwrap_or(0),
            subscription: subscription.remove(&r.id),
        });
    }
    Ok(out)
}

/// The tasks (created, done) done and open at `at`, of those created before it.
pub(super) fn tasks_at(
    tasks: impl Iterator<Item = (DateTime<Utc>, Option<DateTime<Utc>>)>,
    at: DateTime<Utc>,
) -> (i64, i64) {
    let (mut done, mut open) = (0, 0);
    for (_, done_at) in tasks.filter(|(created, _)| *created < at) {
        match done_at {
            Some(d) if d < at => done += 1,
            _ => open += 1,
        }
    }
    (done, open)
}

/// Whole and fractional days from `from` to `to`, when `from` is not after `to`.
pub(super) fn days(from: DateTime<Utc>, to: DateTime<Utc>) -> Option<f64> {
    let ms = (to - from).num_milliseconds();
    (ms >= 0).then(|| ms as f64 / 86_400_000.0)
}

/// A deal's last two stage changes: all a closed deal's facts need of its history.
#[derive(Clone, Copy, Default)]
struct LastTwo {
    before: Option<Change>,
    last: Option<Change>,
}

#[derive(Clone, Copy)]
struct Change {
    from_stage_id: Option<i64>,
    to_stage_id: i64,
    created_at: DateTime<Utc>,
}

/// The stage a closed deal left to close, and when it had entered it: the close is its
/// last change; the one before it (or the deal's creation) is when it entered.
fn before_close(history: LastTwo, created: DateTime<Utc>) -> (Option<i64>, Option<DateTime<Utc>>) {
    let Some(close) = history.last else {
        return (None, None);
    };
    let entered = history.before.map_or(created, |c| c.created_at);
    let left = close
        .from_stage_id
        .or_else(|| history.before.map(|c| c.to_stage_id));
    (left, Some(entered))
}

/// Each deal's last two stage changes, streamed: a year of a busy team's history is a
/// million changes, which gathered at once took training to 790 MB.
async fn changes_by_deal(db: &Db) -> Result<HashMap<i64, LastTwo>, AppError> {
    let mut rows = deal_stage_change::Entity::find()
        .select_only()
        .columns([
            deal_stage_change::Column::DealId,
            deal_stage_change::Column::FromStageId,
            deal_stage_change::Column::ToStageId,
            deal_stage_change::Column::CreatedAt,
        ])
        .order_by_asc(deal_stage_change::Column::DealId)
        .order_by_asc(deal_stage_change::Column::CreatedAt)
        .order_by_asc(deal_stage_change::Column::Id)
        .into_model::<ChangeRow>()
        .stream(&db.read)
        .await?;
    let mut out: HashMap<i64, LastTwo> = HashMap::new();
    while let Some(r) = rows.try_next().await? {
        let e = out.entry(r.deal_id).or_default();
        e.before = e.last;
        e.last = Some(Change {
            from_stage_id: r.from_stage_id,
            to_stage_id: r.to_stage_id,
            created_at: r.created_at,
        });
    }
    Ok(out)
}

/// `<stage alias>.kind` is open, or is not, as `which` asks.
fn of_kind(stage: &'static str, which: Which) -> sea_orm::sea_query::Expr {
    let kind = Expr::col((stage, "kind"));
    match which {
        Which::Open => kind.eq("open"),
        Which::Closed => kind.ne("open"),
    }
}

/// The categories both scores read from a record aliased `record` (a deal, a contact):
/// its owner's name as `owner`, and its company's `industry` and `size_band` (none
/// without a company). Written once, so both models see them alike.
pub(super) fn owner_and_company(q: &mut SelectStatement, record: &str) {
    q.expr_as(Expr::col(("u", "name")), Alias::new("owner"))
        .columns([("co", "industry"), ("co", "size_band")])
        .join_as(
            sea_orm::sea_query::JoinType::InnerJoin,
            "users",
            "u",
            Expr::col(("u", "id")).equals((Alias::new(record), Alias::new("owner_id"))),
        )
        .join_as(
            sea_orm::sea_query::JoinType::LeftJoin,
            "companies",
            "co",
            Expr::col(("co", "id")).equals((Alias::new(record), Alias::new("company_id"))),
        );
}

/// Live deals of `which` with their owner's name and their company's industry and size.
fn deal_rows(which: Which) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .columns([
            ("d", "id"),
            ("d", "stage_id"),
            ("d", "amount_minor"),
            ("d", "currency"),
            ("d", "source"),
            ("d", "created_at"),
            ("d", "closed_at"),
            ("d", "stage_entered_at"),
            ("d", "custom"),
        ])
        .from_as("deals", "d")
        .apply(|q| owner_and_company(q, "d"))
        .join_as(
            sea_orm::sea_query::JoinType::InnerJoin,
            "pipeline_stages",
            "s",
            Expr::col(("s", "id")).equals(("d", "stage_id")),
        )
        .and_where(Expr::col(("d", "deleted_at")).is_null())
        .and_where(of_kind("s", which))
        .order_by(("d", "id"), Order::Asc)
        .to_owned()
}

/// Activities per deal of `which` and kind, and the last one's time: for a closed deal
/// only those before it closed.
fn activity_counts(which: Which) -> sea_orm::sea_query::SelectStatement {
    let q = Query::select()
        .column(("a", "deal_id"))
        .column(("a", "kind"))
        .expr_as(Func::count(Expr::col(("a", "id"))), Alias::new("n"))
        .expr_as(
            Func::max(Expr::col(("a", "occurred_at"))),
            Alias::new("last"),
        )
        .from_as("activities", "a")
        .group_by_columns([("a", "deal_id"), ("a", "kind")])
        .to_owned();
    of_deals(q, which, ("a", "deal_id"), ("a", "occurred_at"))
}

/// Stripe payments per deal of `which` made by its contacts: for a closed deal only
/// those before it closed.
fn payment_counts(which: Which) -> sea_orm::sea_query::SelectStatement {
    let q = Query::select()
        .column(("dc", "deal_id"))
        .expr_as(Func::count(Expr::col(("b", "id"))), Alias::new("n"))
        .from_as("billing_entries", "b")
        .join_as(
            sea_orm::sea_query::JoinType::InnerJoin,
            "deal_contacts",
            "dc",
            Expr::col(("dc", "contact_id")).equals(("b", "contact_id")),
        )
        .and_where(Expr::col(("b", "kind")).eq("payment"))
        .group_by_col(("dc", "deal_id"))
        .to_owned();
    of_deals(q, which, ("dc", "deal_id"), ("b", "occurred_at"))
}

/// The subscription changes of the contacts of each deal of `which`, oldest first: for
/// a closed deal only those before it closed.
fn status_changes(which: Which) -> sea_orm::sea_query::SelectStatement {
    let q = Query::select()
        .column(("dc", "deal_id"))
        .column(("m", "status"))
        .from_as("mrr_changes", "m")
        .join_as(
            sea_orm::sea_query::JoinType::InnerJoin,
            "deal_contacts",
            "dc",
            Expr::col(("dc", "contact_id")).equals(("m", "contact_id")),
        )
        .order_by(("m", "effective_at"), Order::Asc)
        .order_by(("m", "id"), Order::Asc)
        .to_owned();
    of_deals(q, which, ("dc", "deal_id"), ("m", "effective_at"))
}

/// `q`'s rows of the live deals of `which` (`deal` names the deal), and of a closed one
/// only those from before it closed (`at` is the row's time).
fn of_deals(
    mut q: sea_orm::sea_query::SelectStatement,
    which: Which,
    deal: (&'static str, &'static str),
    at: (&'static str, &'static str),
) -> sea_orm::sea_query::SelectStatement {
    q.inner_join(Alias::new("deals"), Expr::col(("deals", "id")).equals(deal))
        .join_as(
            sea_orm::sea_query::JoinType::InnerJoin,
            "pipeline_stages",
            "s",
            Expr::col(("s", "id")).equals(("deals", "stage_id")),
        )
        .and_where(Expr::col(("deals", "deleted_at")).is_null())
        .and_where(of_kind("s", which))
        .and_where(
            Expr::col(("deals", "closed_at"))
                .is_null()
                .or(Expr::col(at).lt(Expr::col(("deals", "closed_at")))),
        );
    q
}
