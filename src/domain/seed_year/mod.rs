//! `cairn seed --year`: a year of history at the size issue 15's reports are measured at
//! (1 000 000 contacts, 5 000 000 activities, 200 000 deals with their stage histories,
//! 100 000 tasks and 100 000 Stripe payments), deterministic from the seed.
//!
//! - Contacts arrive over the 365 days before today, more each week than the one before
//!   (the last week about three times the first) and fewer at weekends (`Calendar`).
//! - Activities (`history`): a fifth of the contacts have none, the rest a few (notes,
//!   emails, calls, meetings), each after its contact's creation, mostly soon after.
//! - Tasks (`history`): about contacts, created after them; most of those already due are
//!   done, at a time after the contact's creation.
//! - Deals (`deals`): created over the year, each for a contact added in the weeks before
//!   it (and from that contact's source), moved forward through the open stages, then
//!   won, lost or left open; some lost ones are reopened (and some of those won), each
//!   move a `deal_stage_changes` row, `closed_at` the last closing.
//! - Payments (`payments`): synthetic Stripe events (customer, subscription, monthly
//!   `invoice.paid`, some `charge.refunded`, some cancellations) stored as the webhook
//!   stores them and applied by the Stripe job's own code (`stripe::group::process`), so
//!   every row that path writes (billing, timeline, audit, …) is filled as in use.
//!
//! Rows go in with multi-row INSERTs in large transactions (`seed::insert_batched`).
pub mod deals;
mod history;
mod payments;

use std::time::Instant;

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::seed::{self, Rng};
use crate::domain::{Db, now};
use crate::entities::contact;
use crate::error::AppError;

/// How much of each to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Year {
    pub contacts: u64,
    pub activities: u64,
    pub deals: u64,
    pub tasks: u64,
    pub payments: u64,
}

impl Year {
    /// Issue 15's proportions for `contacts` contacts (1 000 000: its full size).
    pub fn for_contacts(contacts: u64) -> Year {
        Year {
            contacts,
            activities: contacts * 5,
            deals: contacts / 5,
            tasks: contacts / 10,
            payments: contacts / 10,
        }
    }
}

/// One kind of row made: how many, and how long it took.
#[derive(Debug, Clone, PartialEq)]
pub struct Made {
    pub what: &'static str,
    pub count: u64,
    pub seconds: f64,
}

/// A contact as the later kinds need it.
#[derive(Clone, Copy)]
pub(crate) struct Person {
    pub id: i64,
    pub created: DateTime<Utc>,
    pub owner: i64,
    /// Its source, as one of the seeder's (`seed::SOURCES`).
    pub source: &'static str,
}

/// Seeds `year` with `seed`; returns what was made, in order.
pub async fn run(db: &Db, year: &Year, seed: u64) -> Result<Vec<Made>, AppError> {
    let mut made = Vec::new();
    let end = now();
    let calendar = Calendar::new(end);
    let mut rng = Rng(seed.wrapping_mul(7919).wrapping_add(11));
    let mut times: Vec<DateTime<Utc>> = (0..year.contacts)
        .map(|_| calendar.time(&mut rng))
        .collect();
    // Oldest first, so ids and creation times rise together as they do in use.
    times.sort();
    let started = Instant::now();
    let before = max_contact_id(db).await?;
    let done = seed::run_with(db, year.contacts, seed, |i, _| times[i as usize]).await?;
    made.push(timed("contacts", done.contacts, started));
    let people = people(db, before).await?;

    let started = Instant::now();
    let n = history::activities(db, &people, year.activities, end, &mut rng).await?;
    made.push(timed("activities", n, started));
    let started = Instant::now();
    let n = history::tasks(db, &people, year.tasks, end, &mut rng).await?;
    made.push(timed("tasks", n, started));
    let started = Instant::now();
    let (n, changes) = deals::run(db, &people, year.deals, &calendar, end, &mut rng).await?;
    made.push(timed("deals", n, started));
    made.push(Made {
        what: "deal stage changes",
        count: changes,
        seconds: 0.0,
    });
    let started = Instant::now();
    let paid = payments::run(db, &people, year.payments, end, &mut rng).await?;
    made.push(timed(
        "payments (invoice.paid applied)",
        paid.invoices,
        started,
    ));
    made.push(Made {
        what: "Stripe events applied in all",
        count: paid.events,
        seconds: 0.0,
    });
    let started = Instant::now();
    seed::refresh_statistics(db).await?;
    made.push(timed("planner statistics", 0, started));
    Ok(made)
}

fn timed(what: &'static str, count: u64, started: Instant) -> Made {
    Made {
        what,
        count,
        seconds: started.elapsed().as_secs_f64(),
    }
}

async fn max_contact_id(db: &Db) -> Result<i64, AppError> {
    let id: Option<i64> = contact::Entity::find()
        .select_only()
        .column(contact::Column::Id)
        .order_by_desc(contact::Column::Id)
        .limit(1)
        .into_tuple()
        .one(&db.write)
        .await?;
    Ok(id.unwrap_or(0))
}

/// The contacts made by this run (ids above `before`), oldest first.
async fn people(db: &Db, before: i64) -> Result<Vec<Person>, AppError> {
    let rows: Vec<(i64, DateTime<Utc>, i64, String)> = contact::Entity::find()
        .select_only()
        .columns([
            contact::Column::Id,
            contact::Column::CreatedAt,
            contact::Column::OwnerId,
            contact::Column::Source,
        ])
        .filter(contact::Column::Id.gt(before))
        .order_by_asc(contact::Column::Id)
        .into_tuple()
        .all(&db.write)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, created, owner, source)| Person {
            id,
            created,
            owner,
            source: seed::SOURCES
                .iter()
                .find(|s| **s == source)
                .copied()
                .unwrap_or("organic"),
        })
        .collect())
}

/// When things happen over the 365 days before `end`: each day weighs more than the one
/// before (the last about three times the first: a growing business), weekdays more
/// than weekends, working hours more than nights.
pub(crate) struct Calendar {
    /// Midnight (UTC) of the first day.
    start: DateTime<Utc>,
    /// Each day's weight added up, day by day.
    cumulative: Vec<f64>,
    end: DateTime<Utc>,
}

impl Calendar {
    fn new(end: DateTime<Utc>) -> Calendar {
        let today = Utc.from_utc_datetime(&end.date_naive().and_time(NaiveTime::MIN));
        let start = today - Duration::days(364);
        let mut total = 0.0;
        let cumulative = (0..365)
            .map(|d| {
                let day = start + Duration::days(d);
                let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
                total += (1.0 + 2.0 * d as f64 / 364.0) * if weekend { 0.3 } else { 1.0 };
                total
            })
            .collect();
        Calendar {
            start,
            cumulative,
            end,
        }
    }

    /// A time in the year, drawn by the weights (never after `end`).
    pub(crate) fn time(&self, rng: &mut Rng) -> DateTime<Utc> {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.unit() * total;
        let day = self.cumulative.partition_point(|c| *c <= x);
        // Three in four during working hours (08:00–18:00), the rest at any time.
        let secs = if rng.below(4) < 3 {
            8 * 3600 + rng.below(10 * 3600)
        } else {
            rng.below(24 * 3600)
        };
        let t = self.start + Duration::days(day as i64) + Duration::seconds(secs as i64);
        t.min(self.end)
    }
}

/// A time after `from` and not after `end`, mostly soon after `from` (the square of a
/// uniform draw of the span between them).
pub(crate) fn after(from: DateTime<Utc>, end: DateTime<Utc>, rng: &mut Rng) -> DateTime<Utc> {
    let span = (end - from).num_seconds().max(0) as f64;
    let u = rng.unit();
    from + Duration::seconds((span * u * u) as i64)
}
