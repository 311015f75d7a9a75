//! A year's activities and tasks about the seeded contacts.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{NotSet, Set};

use super::{Person, after};
use crate::domain::Db;
use crate::domain::seed::{FIRST, Rng, TASKS, insert_batched};
use crate::entities::{activity, task};
use crate::error::AppError;

/// (kind, weight in percent, what its text says).
const KINDS: &[(&str, usize, &str)] = &[
    ("note", 35, "Notes from the conversation"),
    ("email", 30, "Emailed about next steps"),
    ("call", 25, "Called to follow up"),
    ("meeting", 10, "Met to walk through the product"),
];

/// The share of contacts, in percent, with no activity at all.
const SILENT_PERCENT: usize = 20;

fn kind(rng: &mut Rng) -> (&'static str, &'static str) {
    let mut roll = rng.below(100);
    for (k, weight, text) in KINDS {
        if roll < *weight {
            return (k, text);
        }
        roll -= weight;
    }
    ("note", "Notes")
}

/// How many activities each person gets: none for about a fifth, a few (exponentially
/// fewer of many) for the rest, adjusted at random until they add up to `total`.
fn counts(people: usize, total: u64, rng: &mut Rng) -> Vec<u32> {
    // Mean per active person so that the expected total is `total`.
    let active = people as f64 * (100 - SILENT_PERCENT) as f64 / 100.0;
    let mean = if active > 0.0 {
        (total as f64 / active - 0.5).max(0.0)
    } else {
        0.0
    };
    let mut counts: Vec<u32> = (0..people)
        .map(|_| {
            if rng.below(100) < SILENT_PERCENT {
                0
            } else {
                1 + (-(1.0 - rng.unit()).ln() * mean) as u32
            }
        })
        .collect();
    let mut sum: u64 = counts.iter().map(|c| u64::from(*c)).sum();
    if people == 0 || sum == 0 {
        return counts;
    }
    // An active person keeps at least one, unless fewer are asked for than there are
    // active people (or none at all): then the loop could never come down to `total`.
    let active = counts.iter().filter(|c| **c > 0).count() as u64;
    let floor = u32::from(total >= active);
    while sum != total {
        let c = &mut counts[rng.below(people)];
        if sum > total && *c > floor {
            *c -= 1;
            sum -= 1;
        } else if sum < total && *c > 0 {
            *c += 1;
            sum += 1;
        }
    }
    counts
}

/// `total` activities about `people`, each after its contact's creation.
pub(super) async fn activities(
    db: &Db,
    people: &[Person],
    total: u64,
    end: DateTime<Utc>,
    rng: &mut Rng,
) -> Result<u64, AppError> {
    let counts = counts(people.len(), total, rng);
    let made: u64 = counts.iter().map(|c| u64::from(*c)).sum();
    let (mut who, mut left) = (0usize, 0u32);
    insert_batched(db, made, None, |_| {
        while left == 0 {
            left = counts[who];
            who += 1;
        }
        left -= 1;
        let p = people[who - 1];
        let (kind, text) = kind(rng);
        let at = after(p.created, end, rng);
        activity::ActiveModel {
            id: NotSet,
            kind: Set(kind.to_string()),
            body: Set(text.to_string()),
            occurred_at: Set(at),
            deal_id: Set(None),
            contact_id: Set(Some(p.id)),
            company_id: Set(None),
            author_id: Set(Some(p.owner)),
            created_at: Set(at),
            version: Set(1),
            edited_at: Set(None),
        }
    })
    .await?;
    Ok(made)
}

/// `total` tasks about random contacts, each created after its contact, assigned to the
/// contact's owner, due a few days later; seven in ten of those due are done.
pub(super) async fn tasks(
    db: &Db,
    people: &[Person],
    total: u64,
    end: DateTime<Utc>,
    rng: &mut Rng,
) -> Result<u64, AppError> {
    if people.is_empty() {
        return Ok(0);
    }
    insert_batched(db, total, None, |_| {
        let p = people[rng.below(people.len())];
        let created = after(p.created, end, rng);
        let due = created + Duration::hours(4 + rng.below(14 * 24) as i64);
        let finished = due < end && rng.below(10) < 7;
        let done_at = finished.then(|| {
            let by = (due + Duration::days(3)).min(end);
            created + Duration::seconds(rng.below(1 + (by - created).num_seconds() as usize) as i64)
        });
        task::ActiveModel {
            id: NotSet,
            title: Set(format!("{} {}", rng.pick(TASKS), rng.pick(FIRST))),
            notes: Set(None),
            due_at: Set(Some(due)),
            due_date: Set(None),
            priority: Set(["low", "normal", "normal", "high"][rng.below(4)].to_string()),
            assignee_id: Set(p.owner),
            created_by: Set(Some(p.owner)),
            contact_id: Set(Some(p.id)),
            company_id: Set(None),
            deal_id: Set(None),
            done: Set(finished),
            record_trashed: Set(false),
            done_at: Set(done_at),
            version: Set(1),
            created_at: Set(created),
            updated_at: Set(done_at.unwrap_or(created)),
        }
    })
    .await?;
    Ok(total)
}
