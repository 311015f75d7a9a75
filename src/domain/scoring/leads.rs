//! What the lead score knows of a contact at a moment: for training, at each monthly
//! snapshot of the history (a contact without a won deal then, and whether one of its
//! deals was won within the horizon after it); for scoring, now. Everything time-stamped
//! is counted as of the moment (activities, deals, tasks, Stripe payments before it, its
//! subscription's status then). Its source, owner and company are today's, as the deal
//! score's are: an owner handed over after a win would be learned from (the audit log
//! could restore the owner of the day, were that seen to matter). Contacts are read a chunk at a time, keyed by id, with
//! their activities, deals and tasks: memory stays flat however many contacts there are.
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter};

use super::facts::CustomFact;
use super::model::{Features, activity_numbers, custom_categories, custom_numbers, ln};
use super::train::Example;
use crate::domain::custom_fields::Field;
use crate::domain::{Db, settings};
use crate::entities::contact;
use crate::error::AppError;

/// The horizon's setting (days) and its default (the issue's).
pub const HORIZON_KEY: &str = "scoring.lead_horizon_days";
pub const HORIZON_DEFAULT: i64 = 90;
pub const HORIZON_MAX: i64 = 730;

/// Snapshots of the history trained on, a month apart, the newest a horizon ago (the
/// last whose outcome is known).
const SNAPSHOTS: i32 = 12;
const MONTH_DAYS: i64 = 30;

/// Contacts sampled for training at most (every k-th by id): twelve snapshots of each
/// is as many rows as a year of a busy team's closed deals.
const SAMPLED: u64 = 25_000;

/// Contacts read per chunk.
const CHUNK: u64 = 2_000;

/// One contact at one moment, as the lead score sees it.
#[derive(Debug, Clone)]
pub struct LeadFacts {
    pub id: i64,
    /// Whether one of its deals was won within the horizon after `at`; `None` when
    /// scoring (not known yet).
    pub won: Option<bool>,
    pub at: DateTime<Utc>,
    /// When `won` was settled: the horizon after `at` (`at` when scoring).
    pub known_at: DateTime<Utc>,
    pub source: String,
    pub owner: String,
    pub industry: Option<String>,
    pub size_band: Option<String>,
    pub age_days: f64,
    /// Activities logged on it before `at`, by kind.
    pub activities: BTreeMap<String, i64>,
    pub days_since_activity: Option<f64>,
    /// Its deals open at `at`, and those lost before it.
    pub deals_open: i64,
    pub deals_lost: i64,
    pub tasks_done: i64,
    pub tasks_open: i64,
    /// Stripe payments received before `at`.
    pub payments: i64,
    /// Its Stripe subscription's status at `at` (active, trialing, canceled, …).
    pub subscription: Option<String>,
    /// The contact custom fields marked as features (`features`), each with its value
    /// (today's: custom values keep no history).
    pub custom: Vec<CustomFact>,
}

impl Features for LeadFacts {
    fn numbers(&self) -> Vec<(String, String, Option<f64>)> {
        let mut out = vec![
            (
                "age".to_string(),
                "Days since the contact was added".to_string(),
                Some(ln(self.age_days)),
            ),
            (
                "days_since_activity".into(),
                "Days since the last activity".into(),
                self.days_since_activity.map(ln),
            ),
            (
                "deals_open".into(),
                "Deals open".into(),
                Some(ln(self.deals_open as f64)),
            ),
            (
                "deals_lost".into(),
                "Deals lost".into(),
                Some(ln(self.deals_lost as f64)),
            ),
            (
                "tasks_done".into(),
                "Tasks done".into(),
                Some(ln(self.tasks_done as f64)),
            ),
            (
                "tasks_open".into(),
                "Tasks open".into(),
                Some(ln(self.tasks_open as f64)),
            ),
            (
                "payments".into(),
                "Payments received".into(),
                Some(ln(self.payments as f64)),
            ),
        ];
        activity_numbers(&self.activities, &mut out);
        custom_numbers(&self.custom, &mut out);
        out
    }

    fn categories(&self) -> Vec<(String, String, Option<String>)> {
        let mut out: Vec<(String, String, Option<String>)> = [
            ("source", "Source", Some(self.source.clone())),
            ("owner", "Owner", Some(self.owner.clone())),
            ("industry", "Industry", self.industry.clone()),
            ("size", "Company size", self.size_band.clone()),
            ("subscription", "Subscription", self.subscription.clone()),
        ]
        .into_iter()
        .map(|(k, l, v)| (k.to_string(), l.to_string(), v))
        .collect();
        custom_categories(&self.custom, &mut out);
        out
    }
}

impl Example for LeadFacts {
    fn outcome(&self) -> Option<bool> {
        self.won
    }

    fn at(&self) -> DateTime<Utc> {
        self.at
    }

    fn known_at(&self) -> DateTime<Utc> {
        self.known_at
    }

    fn id(&self) -> i64 {
        self.id
    }

    fn baseline(&self, base_rate: f64) -> f64 {
        base_rate
    }
}

/// The horizon in days (Settings → Scoring).
pub async fn horizon_days(conn: &impl ConnectionTrait) -> Result<i64, AppError> {
    Ok(settings::get(conn, HORIZON_KEY)
        .await?
        .and_then(|v| v.parse().ok())
        .filter(|d| (1..=HORIZON_MAX).contains(d))
        .unwrap_or(HORIZON_DEFAULT))
}

/// The horizon of the lead model scoring now, which its scores are the chance of a won
/// deal within; the setting's while none scores.
pub async fn scored_horizon_days(db: &Db) -> Result<i64, AppError> {
    let scoring = super::train::active(db, super::Kind::Lead).await?;
    match scoring.and_then(|(_, m)| m.horizon_days) {
        Some(days) => Ok(days),
        None => horizon_days(&db.read).await,
    }
}

/// Sets the horizon, for `actor` (Settings → Scoring); audited. From the next training.
pub async fn set_horizon(
    db: &Db,
    actor: &crate::domain::Actor,
    days: &str,
) -> Result<i64, AppError> {
    actor.require(crate::domain::Action::Scoring)?;
    let days: i64 = days
        .trim()
        .parse()
        .ok()
        .filter(|d| (1..=HORIZON_MAX).contains(d))
        .ok_or_else(|| {
            AppError::field(
                "horizon_days",
                format!("The horizon is a whole number of days from 1 to {HORIZON_MAX}."),
            )
        })?;
    let tx = db.begin_write().await?;
    settings::set(&tx, HORIZON_KEY, &days.to_string()).await?;
    let detail = serde_json::json!({ "lead_horizon_days": days });
    crate::domain::audit::record(&tx, Some(actor), "update", "settings", 0, Some(detail)).await?;
    tx.commit().await?;
    Ok(days)
}

/// The training rows: every sampled contact at each snapshot where it was a lead
/// (added, no won deal yet), labelled by whether a deal of it was won within the horizon.
pub async fn snapshots(
    db: &Db,
    now: DateTime<Utc>,
    horizon_days: i64,
) -> Result<Vec<LeadFacts>, AppError> {
    let horizon = Duration::days(horizon_days);
    let newest = now - horizon;
    let moments: Vec<DateTime<Utc>> = (0..SNAPSHOTS)
        .rev()
        .map(|i| newest - Duration::days(MONTH_DAYS * i64::from(i)))
        .collect();
    let live = contact::Entity::find()
        .filter(sea_orm::ColumnTrait::is_null(&contact::Column::DeletedAt))
        .count(&db.read)
        .await?;
    let mut reader = Reader {
        after: 0,
        moments,
        horizon: Some(horizon),
        every: std::cmp::max(live.div_ceil(SAMPLED), 1) as i64,
        only: None,
        marked: super::features::chosen(db, super::Kind::Lead).await?,
    };
    let mut out = Vec::new();
    while let Some(chunk) = reader.next(db).await? {
        out.extend(chunk);
    }
    Ok(out)
}

/// The contacts that are leads now (live, no won deal), a chunk at a time, with the
/// custom fields `marked` (those of the model scoring); with `only`, just those among
/// those ids.
pub fn now_reader(now: DateTime<Utc>, only: Option<Vec<i64>>, marked: Vec<Field>) -> Reader {
    Reader {
        after: 0,
        moments: vec![now],
        horizon: None,
        every: 1,
        only,
        marked,
    }
}

/// Reads contacts a chunk at a time (`next`), keyed by id.
pub struct Reader {
    after: i64,
    moments: Vec<DateTime<Utc>>,
    /// Training: how far after each moment a won deal counts.
    horizon: Option<Duration>,
    /// Every k-th contact by id (training's sample).
    every: i64,
    only: Option<Vec<i64>>,
    /// The contact custom fields read as features.
    marked: Vec<Field>,
}

#[derive(FromQueryResult)]
struct ContactRow {
    id: i64,
    created_at: DateTime<Utc>,
    source: String,
    owner: String,
    industry: Option<String>,
    size_band: Option<String>,
    custom: String,
}

#[derive(FromQueryResult)]
struct ActivityRow {
    contact_id: i64,
    kind: String,
    occurred_at: DateTime<Utc>,
}

#[derive(FromQueryResult)]
struct DealRow {
    contact_id: i64,
    created_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    kind: String,
}

#[derive(FromQueryResult)]
struct TaskRow {
    contact_id: i64,
    created_at: DateTime<Utc>,
    done_at: Option<DateTime<Utc>>,
}

#[derive(FromQueryResult)]
struct PaymentRow {
    contact_id: i64,
    at: DateTime<Utc>,
}

#[derive(FromQueryResult)]
struct StatusRow {
    contact_id: i64,
    at: DateTime<Utc>,
    status: String,
}

/// A contact's history, as its chunk's reads found it.
#[derive(Default)]
struct History {
    activities: Vec<ActivityRow>,
    deals: Vec<DealRow>,
    tasks: Vec<TaskRow>,
    payments: Vec<DateTime<Utc>>,
    /// Oldest first.
    statuses: Vec<(DateTime<Utc>, String)>,
}

impl Reader {
    /// The next chunk's facts (one per contact and moment it was a lead at); `None`
    /// once every contact was read.
    pub async fn next(&mut self, db: &Db) -> Result<Option<Vec<LeadFacts>>, AppError> {
        let backend = db.backend();
        let mut contacts = contact_rows(self.after, self.every);
        if let Some(only) = &self.only {
            contacts.and_where(Expr::col(("c", "id")).is_in(only.iter().copied()));
        }
        let contacts = ContactRow::find_by_statement(backend.build(&contacts))
            .all(&db.read)
            .await?;
        let Some(last) = contacts.last() else {
            return Ok(None);
        };
        self.after = last.id;
        let ids: Vec<i64> = contacts.iter().map(|c| c.id).collect();
        let mut history: HashMap<i64, History> = HashMap::new();
        let until = self.moments.iter().max().copied().unwrap_or_else(Utc::now);
        for a in ActivityRow::find_by_statement(backend.build(&activities(&ids, until)))
            .all(&db.read)
            .await?
        {
            history.entry(a.contact_id).or_default().activities.push(a);
        }
        for d in DealRow::find_by_statement(backend.build(&deals(&ids)))
            .all(&db.read)
            .await?
        {
            history.entry(d.contact_id).or_default().deals.push(d);
        }
        for t in TaskRow::find_by_statement(backend.build(&tasks(&ids, until)))
            .all(&db.read)
            .await?
        {
            history.entry(t.contact_id).or_default().tasks.push(t);
        }
        for b in PaymentRow::find_by_statement(backend.build(&payments(&ids, until)))
            .all(&db.read)
            .await?
        {
            history.entry(b.contact_id).or_default().payments.push(b.at);
        }
        for b in StatusRow::find_by_statement(backend.build(&statuses(&ids, until)))
            .all(&db.read)
            .await?
        {
            history
                .entry(b.contact_id)
                .or_default()
                .statuses
                .push((b.at, b.status));
        }
        let mut out = Vec::new();
        for c in contacts {
            let h = history.remove(&c.id).unwrap_or_default();
            let custom = self.custom(&c.custom);
            for at in &self.moments {
                if let Some(f) = self.at(&c, &h, *at, &custom) {
                    out.push(f);
                }
            }
        }
        Ok(Some(out))
    }

    /// The marked fields' values in a contact's stored custom values.
    fn custom(&self, stored: &str) -> Vec<CustomFact> {
        if self.marked.is_empty() {
            return Vec::new();
        }
        let values: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(stored).unwrap_or_default();
        self.marked
            .iter()
            .map(|f| CustomFact {
                key: f.key.clone(),
                label: f.label.clone(),
                number: f.kind == "number",
                value: super::features::value(f, &values),
            })
            .collect()
    }

    /// Contact `c` at `at`, if it was a lead then.
    fn at(
        &self,
        c: &ContactRow,
        h: &History,
        at: DateTime<Utc>,
        custom: &[CustomFact],
    ) -> Option<LeadFacts> {
        if c.created_at > at {
            return None;
        }
        let first_won = h
            .deals
            .iter()
            .filter(|d| d.kind == "won")
            .map(|d| d.closed_at.unwrap_or(d.created_at))
            .min();
        if first_won.is_some_and(|w| w <= at) {
            return None;
        }
        let won = self.horizon.map(|h| first_won.is_some_and(|w| w <= at + h));
        let mut activities = BTreeMap::new();
        let mut last = None;
        for a in h.activities.iter().filter(|a| a.occurred_at < at) {
            *activities.entry(a.kind.clone()).or_insert(0) += 1;
            last = Ord::max(last, Some(a.occurred_at));
        }
        let mut f = LeadFacts {
            id: c.id,
            won,
            at,
            known_at: at + self.horizon.unwrap_or_default(),
            source: c.source.clone(),
            owner: c.owner.clone(),
            industry: c.industry.clone(),
            size_band: c.size_band.clone(),
            age_days: days(c.created_at, at),
            activities,
            days_since_activity: last.map(|l| days(l, at)),
            deals_open: 0,
            deals_lost: 0,
            tasks_done: 0,
            tasks_open: 0,
            payments: h.payments.iter().filter(|p| **p < at).count() as i64,
            subscription: h
                .statuses
                .iter()
                .rev()
                .find(|(t, _)| *t < at)
                .map(|(_, s)| s.clone()),
            custom: custom.to_vec(),
        };
        for d in h.deals.iter().filter(|d| d.created_at < at) {
            match d.closed_at.filter(|c| *c < at) {
                None => f.deals_open += 1,
                Some(_) if d.kind == "lost" => f.deals_lost += 1,
                Some(_) => {}
            }
        }
        (f.tasks_done, f.tasks_open) =
            super::facts::tasks_at(h.tasks.iter().map(|t| (t.created_at, t.done_at)), at);
        Some(f)
    }
}

fn days(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    super::facts::days(from, to).unwrap_or(0.0)
}

/// The next chunk of live contacts after id `after` (every `every`-th by id), with their
/// owner's name and their company's industry and size.
fn contact_rows(after: i64, every: i64) -> SelectStatement {
    let mut q = Query::select();
    q.columns([
        ("c", "id"),
        ("c", "created_at"),
        ("c", "source"),
        ("c", "custom"),
    ])
    .from_as("contacts", "c");
    super::facts::owner_and_company(&mut q, "c");
    q.and_where(Expr::col(("c", "deleted_at")).is_null())
        .and_where(Expr::col(("c", "id")).gt(after))
        .order_by(("c", "id"), Order::Asc)
        .limit(CHUNK);
    if every > 1 {
        q.and_where(Expr::col(("c", "id")).modulo(every).eq(0));
    }
    q
}

fn activities(ids: &[i64], until: DateTime<Utc>) -> SelectStatement {
    Query::select()
        .columns([("a", "contact_id"), ("a", "kind"), ("a", "occurred_at")])
        .from_as("activities", "a")
        .and_where(Expr::col(("a", "contact_id")).is_in(ids.iter().copied()))
        .and_where(Expr::col(("a", "occurred_at")).lt(until))
        .to_owned()
}

/// The contacts' live deals, with their stage's kind (open, won, lost).
fn deals(ids: &[i64]) -> SelectStatement {
    Query::select()
        .column(("dc", "contact_id"))
        .columns([("d", "created_at"), ("d", "closed_at")])
        .column(("s", "kind"))
        .from_as("deal_contacts", "dc")
        .join_as(
            JoinType::InnerJoin,
            "deals",
            "d",
            Expr::col(("d", "id")).equals(("dc", "deal_id")),
        )
        .join_as(
            JoinType::InnerJoin,
            "pipeline_stages",
            "s",
            Expr::col(("s", "id")).equals(("d", "stage_id")),
        )
        .and_where(Expr::col(("dc", "contact_id")).is_in(ids.iter().copied()))
        .and_where(Expr::col(("d", "deleted_at")).is_null())
        .to_owned()
}

fn tasks(ids: &[i64], until: DateTime<Utc>) -> SelectStatement {
    Query::select()
        .columns([("t", "contact_id"), ("t", "created_at"), ("t", "done_at")])
        .from_as("tasks", "t")
        .and_where(Expr::col(("t", "contact_id")).is_in(ids.iter().copied()))
        .and_where(Expr::col(("t", "created_at")).lt(until))
        .to_owned()
}

/// The contacts' Stripe payments (refunds aside) before `until`.
fn payments(ids: &[i64], until: DateTime<Utc>) -> SelectStatement {
    Query::select()
        .column(("b", "contact_id"))
        .expr_as(Expr::col(("b", "occurred_at")), Alias::new("at"))
        .from_as("billing_entries", "b")
        .and_where(Expr::col(("b", "contact_id")).is_in(ids.iter().copied()))
        .and_where(Expr::col(("b", "kind")).eq("payment"))
        .and_where(Expr::col(("b", "occurred_at")).lt(until))
        .to_owned()
}

/// The contacts' subscription changes before `until`, oldest first.
fn statuses(ids: &[i64], until: DateTime<Utc>) -> SelectStatement {
    Query::select()
        .column(("m", "contact_id"))
        .expr_as(Expr::col(("m", "effective_at")), Alias::new("at"))
        .column(("m", "status"))
        .from_as("mrr_changes", "m")
        .and_where(Expr::col(("m", "contact_id")).is_in(ids.iter().copied()))
        .and_where(Expr::col(("m", "effective_at")).lt(until))
        .order_by(("m", "effective_at"), Order::Asc)
        .order_by(("m", "id"), Order::Asc)
        .to_owned()
}
