//! `cairn seed --audit N`: N deterministic audit log rows, so Settings → Audit log can be
//! measured at a realistic size. Rows are spread evenly over the year before seeding
//! (oldest first, so ids and times rise together as they do in use), by the install's
//! users in turn, over a realistic mix of actions; updates carry a field diff. The oldest
//! rows are an import, as an install's first weeks are: a filter whose rows are all far
//! back in time, which a planner that takes rows to be spread evenly over time misjudges
//! (case (z7) of the bench).
use chrono::Duration;
use sea_orm::{ColumnTrait, EntityTrait, NotSet, QueryFilter, QueryOrder, QuerySelect, Set};
use serde_json::json;

use crate::domain::{Db, now};
use crate::entities::{audit_log, user};
use crate::error::AppError;

/// Rows per statement (9 values each, well under both engines' parameter limits), and
/// statements per transaction.
const ROWS: u64 = 1_000;
const STATEMENTS: u64 = 10;

/// (action, entity, weight): mostly record edits, then sign-ins, rarely the rest.
const MIX: &[(&str, &str, u64)] = &[
    ("update", "contact", 30),
    ("create", "contact", 12),
    ("update", "deal", 12),
    ("move", "deal", 10),
    ("create", "activity", 10),
    ("sign_in", "user", 8),
    ("update", "task", 6),
    ("create", "deal", 4),
    ("update", "company", 3),
    ("delete", "contact", 2),
    ("sign_out", "user", 1),
    ("sign_in_failed", "user", 1),
    ("change_role", "user", 1),
];

/// The share of the rows, in percent, that are the import at the start.
const IMPORT_PERCENT: u64 = 6;

/// splitmix64, as in `seed`: the same rows for the same seed on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn pick(rng: &mut Rng) -> (&'static str, &'static str) {
    let total: u64 = MIX.iter().map(|m| m.2).sum();
    let mut roll = rng.below(total);
    for (action, entity, weight) in MIX {
        if roll < *weight {
            return (action, entity);
        }
        roll -= weight;
    }
    ("update", "contact")
}

/// Inserts `count` audit rows; returns how many.
pub async fn run(db: &Db, count: u64, seed: u64) -> Result<u64, AppError> {
    if count == 0 {
        return Ok(0);
    }
    let users: Vec<i64> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Active.eq(true))
        .order_by_asc(user::Column::Id)
        .into_tuple()
        .all(&db.read)
        .await?;
    let mut rng = Rng(seed.wrapping_mul(977).wrapping_add(3));
    let end = now();
    let span = Duration::days(365).num_microseconds().unwrap_or(0);
    let step = (span / count as i64).max(1);
    let start = end - Duration::microseconds(step * count as i64);
    let mut made = 0u64;
    while made < count {
        let tx = db.begin_write().await?;
        for _ in 0..STATEMENTS {
            let n = ROWS.min(count - made);
            if n == 0 {
                break;
            }
            let rows = (made..made + n).map(|i| {
                let (action, entity) = match pick(&mut rng) {
                    _ if i * 100 < count * IMPORT_PERCENT => ("import", "contact"),
                    picked => picked,
                };
                let actor = (!users.is_empty())
                    .then(|| users[rng.below(users.len() as u64) as usize]);
                let entity_id = match entity {
                    "user" => actor.unwrap_or(0),
                    _ => 1 + rng.below(50_000) as i64,
                };
                let detail = match action {
                    "update" | "move" => Some(
                        json!({"changes": {"title": {"old": format!("v{}", i), "new": format!("v{}", i + 1)}}})
                            .to_string(),
                    ),
                    _ => None,
                };
                audit_log::ActiveModel {
                    id: NotSet,
                    actor_id: Set(actor),
                    action: Set(action.to_string()),
                    entity: Set(entity.to_string()),
                    entity_id: Set(entity_id),
                    detail: Set(detail),
                    created_at: Set(start + Duration::microseconds(step * i as i64)),
                    ip: Set(Some(format!("10.0.{}.{}", rng.below(4), 1 + rng.below(250)))),
                }
            });
            audit_log::Entity::insert_many(rows.collect::<Vec<_>>())
                .exec_without_returning(&tx)
                .await?;
            made += n;
        }
        tx.commit().await?;
    }
    // `cairn seed` refreshes the statistics once everything is in.
    Ok(count)
}
