//! A year's deals in the first pipeline, each with the stage history that led to where it
//! is: created in the first open stage, moved forward a stage at a time, then won, lost
//! or still open; one lost deal in eight is reopened later (and half of those won).
//! Moves that would fall after today never happened: the deal stays where it was.
//!
//! Whether a deal that closes is won is drawn from a hidden logistic rule
//! (`hidden_log_odds`) of what was known before the close, so a deal score trained on
//! the seeded year has something real to find, and its hold-out AUC can be set against
//! the rule's own. Each deal is for a contact added up to `CONTACT_WINDOW_DAYS` before
//! it, with that contact's source: so whether a lead gets a won deal follows the same
//! rule, and a lead score has its history to learn from too.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, NotSet, QueryFilter, QueryOrder, QuerySelect, Set};

use super::{Calendar, Person};
use crate::domain::Db;
use crate::domain::deals::{Pipeline, pipelines};
use crate::domain::seed::{COMPANY_A, PRODUCTS, Rng, SOURCES, insert_batched};
use crate::entities::{company, deal, deal_contact, deal_stage_change};
use crate::error::AppError;

/// Currencies and their weight: mostly dollars, some euros and pounds.
const CURRENCIES: &[&str] = &[
    "USD", "USD", "USD", "USD", "USD", "USD", "EUR", "EUR", "GBP",
];

/// How long before a deal its contact was added, at most.
const CONTACT_WINDOW_DAYS: i64 = 45;

/// One planned deal: its moves (from, to, when), oldest first; the first is its creation.
struct Plan {
    /// Its contact (an index into the people), if one was added in the window before it.
    contact: Option<usize>,
    moves: Moves,
    owner: i64,
    source: &'static str,
    amount_minor: i64,
    currency: &'static str,
}

/// The seeder's hidden rule: the log-odds that a deal closing from the open stage
/// `advanced` stages past the first (0 for the first) is won, by its source and amount.
/// Referrals and events win more, paid and imported leads less; larger deals less; each
/// stage further on more.
pub fn hidden_log_odds(source: &str, amount_minor: i64, advanced: usize) -> f64 {
    let source = match source {
        "referral" => 1.2,
        "event" => 0.5,
        "paid" => -0.9,
        "import" => -0.6,
        _ => 0.0,
    };
    let size = -1.5 * (amount_minor as f64 / 100.0) / 50_000.0;
    -0.9 + source + size + 0.8 * advanced as f64
}

/// The ids of the pipeline's open, won and lost stages.
struct Stages {
    open: Vec<i64>,
    won: i64,
    lost: i64,
}

fn stages(p: &Pipeline) -> Result<Stages, AppError> {
    let of = |kind: &'static str| {
        p.stages
            .iter()
            .filter(move |s| s.kind == kind)
            .map(|s| s.id)
    };
    let open: Vec<i64> = of("open").collect();
    match (open.is_empty(), of("won").next(), of("lost").next()) {
        (false, Some(won), Some(lost)) => Ok(Stages { open, won, lost }),
        _ => Err(AppError::BadRequest(
            "seeding a year needs a first pipeline with open, won and lost stages".into(),
        )),
    }
}

/// Each move waits a few days to a few weeks after the one before.
fn gap(rng: &mut Rng) -> Duration {
    Duration::hours(12 + rng.below(21 * 24) as i64)
}

/// A move: from a stage (None: created), to a stage, when.
type Move = (Option<i64>, i64, DateTime<Utc>);
type Moves = Vec<Move>;

/// Moves to `to` a gap after the last move, unless that falls after `end`.
fn push(moves: &mut Moves, to: i64, end: DateTime<Utc>, rng: &mut Rng) -> bool {
    let Some(&(_, from, at)) = moves.last() else {
        return false;
    };
    let at = at + gap(rng);
    if at > end {
        return false;
    }
    moves.push((Some(from), to, at));
    true
}

/// A deal's moves: it closes six times in ten, won as the hidden rule draws it.
fn plan(
    s: &Stages,
    created: DateTime<Utc>,
    end: DateTime<Utc>,
    (source, amount_minor): (&str, i64),
    rng: &mut Rng,
) -> Moves {
    let mut moves = vec![(None, s.open[0], created)];
    let advances = rng.below(s.open.len());
    for i in 1..=advances {
        if !push(&mut moves, s.open[i], end, rng) {
            return moves;
        }
    }
    if rng.below(100) < 60 {
        let p = 1.0 / (1.0 + (-hidden_log_odds(source, amount_minor, advances)).exp());
        if rng.unit() < p {
            push(&mut moves, s.won, end, rng);
        } else {
            lost(&mut moves, s, end, rng);
        }
    }
    moves
}

/// Lost; one in eight reopened later, and half of those won.
fn lost(moves: &mut Moves, s: &Stages, end: DateTime<Utc>, rng: &mut Rng) {
    if !push(moves, s.lost, end, rng) || rng.below(8) != 0 {
        return;
    }
    let again = s.open[rng.below(s.open.len())];
    if push(moves, again, end, rng) && rng.below(2) == 0 {
        push(moves, s.won, end, rng);
    }
}

/// `count` deals created over the year by the contacts' owners; returns the deals and
/// stage changes made.
pub(super) async fn run(
    db: &Db,
    people: &[Person],
    count: u64,
    calendar: &Calendar,
    end: DateTime<Utc>,
    rng: &mut Rng,
) -> Result<(u64, u64), AppError> {
    if count == 0 || people.is_empty() {
        return Ok((0, 0));
    }
    let pipeline = pipelines(&db.read)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::Internal("no pipeline to seed deals into".into()))?;
    let s = stages(&pipeline)?;
    let companies: Vec<i64> = company::Entity::find()
        .select_only()
        .column(company::Column::Id)
        .order_by_asc(company::Column::Id)
        .limit(20_000)
        .into_tuple()
        .all(&db.write)
        .await?;
    let mut created: Vec<DateTime<Utc>> = (0..count).map(|_| calendar.time(rng)).collect();
    created.sort();
    let plans: Vec<Plan> = created
        .iter()
        .map(|c| {
            // The people are oldest first: those added in the window before the deal.
            let to = people.partition_point(|p| p.created <= *c);
            let from =
                people.partition_point(|p| p.created < *c - Duration::days(CONTACT_WINDOW_DAYS));
            let contact = (from < to).then(|| from + rng.below(to - from));
            let (owner, source) = match contact {
                Some(i) => (people[i].owner, people[i].source),
                None => (people[rng.below(people.len())].owner, rng.pick(SOURCES)),
            };
            let amount_minor = (rng.below(500) as i64 + 1) * 10_000;
            let currency = rng.pick(CURRENCIES);
            Plan {
                contact,
                moves: plan(&s, *c, end, (source, amount_minor), rng),
                owner,
                source,
                amount_minor,
                currency,
            }
        })
        .collect();
    let before: Option<i64> = deal::Entity::find()
        .select_only()
        .column(deal::Column::Id)
        .order_by_desc(deal::Column::Id)
        .limit(1)
        .into_tuple()
        .one(&db.write)
        .await?;
    let mut position = 0i64;
    insert_batched(db, count, None, |i| {
        let p = &plans[i as usize];
        let (_, stage, entered) = p.moves[p.moves.len() - 1];
        let created = p.moves[0].2;
        position += 1;
        let closed = (stage == s.won || stage == s.lost).then_some(entered);
        deal::ActiveModel {
            id: NotSet,
            title: Set(format!("{} {}", rng.pick(COMPANY_A), rng.pick(PRODUCTS))),
            pipeline_id: Set(pipeline.id),
            stage_id: Set(stage),
            position: Set(position),
            amount_minor: Set(p.amount_minor),
            currency: Set(p.currency.to_string()),
            company_id: Set((!companies.is_empty()).then(|| companies[rng.below(companies.len())])),
            owner_id: Set(p.owner),
            expected_close: Set(Some(
                (created + Duration::days(30 + rng.below(90) as i64)).date_naive(),
            )),
            probability: NotSet,
            source: Set(p.source.to_string()),
            closed_at: Set(closed),
            lost_reason: Set((stage == s.lost).then(|| "Chose a competitor".to_string())),
            custom: Set("{}".to_string()),
            version: Set(p.moves.len() as i32),
            stage_entered_at: Set(entered),
            deleted_at: Set(None),
            deleted_by: Set(None),
            created_at: Set(created),
            updated_at: Set(entered),
        }
    })
    .await?;
    let ids: Vec<i64> = deal::Entity::find()
        .select_only()
        .column(deal::Column::Id)
        .filter(deal::Column::Id.gt(before.unwrap_or(0)))
        .order_by_asc(deal::Column::Id)
        .into_tuple()
        .all(&db.write)
        .await?;
    // Each move with the time the deal entered the stage it leaves (the move before it).
    let moves: Vec<(i64, i64, &Move, Option<DateTime<Utc>>)> = ids
        .iter()
        .zip(&plans)
        .flat_map(|(id, p)| {
            let entered = std::iter::once(None).chain(p.moves.iter().map(|m| Some(m.2)));
            p.moves
                .iter()
                .zip(entered)
                .map(move |(m, e)| (*id, p.owner, m, e))
        })
        .collect();
    insert_batched(db, moves.len() as u64, None, |i| {
        let (deal, user, (from, to, at), entered) = moves[i as usize];
        deal_stage_change::ActiveModel {
            id: NotSet,
            deal_id: Set(deal),
            from_stage_id: Set(*from),
            to_stage_id: Set(*to),
            user_id: Set(Some(user)),
            created_at: Set(*at),
            from_stage_name: Set(None),
            to_stage_name: Set(None),
            stay_ms: Set(from.and(entered).map(|e| (*at - e).num_milliseconds())),
        }
    })
    .await?;
    let links: Vec<(i64, i64)> = ids
        .iter()
        .zip(&plans)
        .filter_map(|(id, p)| p.contact.map(|i| (*id, people[i].id)))
        .collect();
    insert_batched(db, links.len() as u64, None, |i| {
        let (deal_id, contact_id) = links[i as usize];
        deal_contact::ActiveModel {
            deal_id: Set(deal_id),
            contact_id: Set(contact_id),
        }
    })
    .await?;
    Ok((ids.len() as u64, moves.len() as u64))
}
