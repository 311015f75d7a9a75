//! The queue's writes: enqueue, claim, and what a run ends in. Every outcome is guarded by
//! the claim (`state = running` and `locked_by` = the claimer), so a worker whose lease ran
//! out and whose job another worker took cannot overwrite what that worker writes.
use std::sync::Mutex;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, LockBehavior, LockType, Order, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, ExprTrait, FromQueryResult, NotSet,
    QueryFilter, QueryTrait, Set, TryInsertResult,
};

use super::State;
use super::backoff::{self, DEFAULT_MAX_ATTEMPTS};
use crate::domain::{Db, now};
use crate::entities::job;
use crate::error::AppError;

/// Errors are kept to this many characters: enough to diagnose, small enough to list.
const MAX_ERROR_CHARS: usize = 2000;
/// Rows per INSERT when enqueueing many (well under PostgreSQL's bind parameter limit).
const INSERT_CHUNK: usize = 500;

/// A job to enqueue. `NewJob::new(kind, payload)` runs as soon as a worker is free;
/// `at` delays it, `key` makes it once-only per kind, `attempts` overrides the default 8.
#[derive(Clone, Debug)]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    pub run_after: Option<DateTime<Utc>>,
    pub idempotency_key: Option<String>,
    pub max_attempts: i32,
}

impl NewJob {
    pub fn new(kind: &str, payload: serde_json::Value) -> NewJob {
        NewJob {
            kind: kind.to_string(),
            payload,
            run_after: None,
            idempotency_key: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    pub fn at(mut self, run_after: DateTime<Utc>) -> NewJob {
        self.run_after = Some(run_after);
        self
    }

    pub fn key(mut self, key: impl Into<String>) -> NewJob {
        self.idempotency_key = Some(key.into());
        self
    }

    pub fn attempts(mut self, max_attempts: i32) -> NewJob {
        self.max_attempts = max_attempts;
        self
    }

    fn row(&self, t: DateTime<Utc>) -> Result<job::ActiveModel, AppError> {
        if self.kind.is_empty() || self.kind.len() > 64 {
            return Err(AppError::field(
                "kind",
                "A job's kind is 1 to 64 characters.",
            ));
        }
        if self.idempotency_key.as_ref().is_some_and(|k| k.len() > 200) {
            return Err(AppError::field(
                "idempotency_key",
                "An idempotency key is at most 200 characters.",
            ));
        }
        if !(1..=100).contains(&self.max_attempts) {
            return Err(AppError::field(
                "max_attempts",
                "A job gets 1 to 100 attempts.",
            ));
        }
        Ok(job::ActiveModel {
            id: NotSet,
            kind: Set(self.kind.clone()),
            payload: Set(self.payload.to_string()),
            state: Set(State::Queued.as_str().into()),
            attempts: Set(0),
            max_attempts: Set(self.max_attempts),
            run_after: Set(Some(self.run_after.unwrap_or(t))),
            locked_by: Set(None),
            last_error: Set(None),
            idempotency_key: Set(self.idempotency_key.clone()),
            created_at: Set(t),
            updated_at: Set(t),
        })
    }
}

/// Enqueues `new` through `conn` (pass the transaction that makes the change the job is
/// about, so both happen or neither; call `jobs::wake()` after the commit). Returns the
/// job's id; with a key that its kind already has, nothing is added and the existing
/// job's id is returned.
pub async fn enqueue_in(conn: &impl ConnectionTrait, new: &NewJob) -> Result<i64, AppError> {
    let inserted = job::Entity::insert(new.row(now())?)
        .on_conflict_do_nothing_on([job::Column::Kind, job::Column::IdempotencyKey])
        .exec(conn)
        .await?;
    match inserted {
        TryInsertResult::Inserted(r) => Ok(r.last_insert_id),
        TryInsertResult::Empty | TryInsertResult::Conflicted => {
            let existing = job::Entity::find()
                .filter(job::Column::Kind.eq(&new.kind))
                .filter(job::Column::IdempotencyKey.eq(new.idempotency_key.clone()))
                .one(conn)
                .await?;
            existing
                .map(|j| j.id)
                .ok_or_else(|| AppError::Internal("a job was neither added nor found".into()))
        }
    }
}

/// Enqueues `new` on its own and wakes this process's idle workers.
pub async fn enqueue(db: &Db, new: &NewJob) -> Result<i64, AppError> {
    let id = enqueue_in(&db.write, new).await?;
    super::wake();
    Ok(id)
}

/// Enqueues many jobs through `conn`, a few hundred rows per statement; duplicates of a
/// kind's key are skipped. Call `jobs::wake()` after the commit.
pub async fn enqueue_many(conn: &impl ConnectionTrait, jobs: &[NewJob]) -> Result<(), AppError> {
    let t = now();
    for chunk in jobs.chunks(INSERT_CHUNK) {
        let rows = chunk
            .iter()
            .map(|j| j.row(t))
            .collect::<Result<Vec<_>, _>>()?;
        job::Entity::insert_many(rows)
            .on_conflict_do_nothing_on([job::Column::Kind, job::Column::IdempotencyKey])
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// Claims up to `limit` due jobs for `by` until `now + lease`, oldest due first, and
/// counts the attempt. One statement: on PostgreSQL the inner select locks the rows it
/// picks and skips rows another worker is claiming; SQLite runs it alone on the writer.
pub async fn claim(
    conn: &impl ConnectionTrait,
    by: &str,
    limit: u64,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<Vec<job::Model>, AppError> {
    let took = Instant::now();
    let due = Query::select()
        .column(job::Column::Id)
        .from(job::Entity)
        // run_after alone: only jobs that may be claimed have one (done and dead jobs
        // have none), and a filter on state too made SQLite scan by state and sort.
        .and_where(job::Column::RunAfter.lte(now))
        .order_by(job::Column::RunAfter, Order::Asc)
        .order_by(job::Column::Id, Order::Asc)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .to_owned();
    let mut update = job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(State::Running.as_str()))
        .col_expr(
            job::Column::Attempts,
            Expr::col(job::Column::Attempts).add(1),
        )
        .col_expr(job::Column::RunAfter, Expr::value(Some(now + lease)))
        .col_expr(job::Column::LockedBy, Expr::value(Some(by.to_string())))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.in_subquery(due))
        .into_query();
    update.returning_all();
    // sea-orm's update as built, but for its LIMIT count, which PostgreSQL gets written
    // in (`sql::build`): bound, the plan it keeps for the statement cannot know the count,
    // assumes a tenth of the queue, and joins it whole (a scan of every job ever kept,
    // done ones included: 6 ms at 55 000 rows, against 0.5 with the count written in).
    let statement = crate::domain::sql::build(conn.get_database_backend(), &update);
    let mut claimed = job::Model::find_by_statement(statement).all(conn).await?;
    if took.elapsed() >= SLOW_CLAIM {
        refresh_statistics(conn).await;
    }
    claimed.sort_by_key(|j| j.id);
    Ok(claimed)
}

/// A claim this slow on PostgreSQL means its cached plan no longer fits the queue.
const SLOW_CLAIM: StdDuration = StdDuration::from_millis(3);
/// At most one refresh a minute per process.
const REFRESH_EVERY: StdDuration = StdDuration::from_secs(60);
static REFRESHED: Mutex<Option<Instant>> = Mutex::new(None);

/// PostgreSQL plans the claim once per connection from the queue's statistics, which
/// autovacuum refreshes within a minute or so of a change. A queue analysed with a
/// handful of jobs that receives thousands in a burst (a Stripe backlog) was claimed by
/// a plan that scans every row and sorts, 1-3 ms a claim, until then; ANALYZE makes the
/// cached plans be made again at once, with the queue's index. SQLite plans from its own
/// statistics (`db::optimize`), which are kept unless asked.
async fn refresh_statistics(conn: &impl ConnectionTrait) {
    if conn.get_database_backend() != DatabaseBackend::Postgres {
        return;
    }
    {
        let mut last = REFRESHED.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|t| t.elapsed() < REFRESH_EVERY) {
            return;
        }
        *last = Some(Instant::now());
    }
    // A maintenance statement of PostgreSQL's own: no builder writes it.
    if let Err(e) = conn.execute_unprepared("ANALYZE jobs").await {
        tracing::debug!(error = %e, "could not refresh the job queue's statistics");
    }
}

/// Moves the lease of every job `by` holds to `now + lease`: a live process keeps its
/// jobs however long they run, and a dead one's run again within one lease. A held job's
/// `run_after` is its lease's end, in the future: the due index's range past `now`, which
/// holds only leases and jobs scheduled for later, not the backlog.
pub async fn renew(
    conn: &impl ConnectionTrait,
    by: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<u64, AppError> {
    Ok(job::Entity::update_many()
        .col_expr(job::Column::RunAfter, Expr::value(Some(now + lease)))
        .filter(job::Column::RunAfter.gt(now))
        .filter(job::Column::State.eq(State::Running.as_str()))
        .filter(job::Column::LockedBy.eq(by))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Marks the jobs `ids` that `by` holds done. Returns how many it still held.
pub async fn complete(
    conn: &impl ConnectionTrait,
    ids: &[i64],
    by: &str,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    let mut held = 0;
    for chunk in ids.chunks(INSERT_CHUNK) {
        held += finish(State::Done, None)
            .col_expr(job::Column::UpdatedAt, Expr::value(now))
            .filter(job::Column::Id.is_in(chunk.iter().copied()))
            .filter(job::Column::State.eq(State::Running.as_str()))
            .filter(job::Column::LockedBy.eq(by))
            .exec(conn)
            .await?
            .rows_affected;
    }
    Ok(held)
}

/// Puts the jobs `ids` that `by` claimed but never started back in the queue, due now,
/// their claim not counted as an attempt.
pub async fn release(
    conn: &impl ConnectionTrait,
    ids: &[i64],
    by: &str,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    let mut held = 0;
    for chunk in ids.chunks(INSERT_CHUNK) {
        held += finish(State::Queued, Some(now))
            .col_expr(
                job::Column::Attempts,
                Expr::col(job::Column::Attempts).sub(1),
            )
            .col_expr(job::Column::UpdatedAt, Expr::value(now))
            .filter(job::Column::Id.is_in(chunk.iter().copied()))
            .filter(job::Column::State.eq(State::Running.as_str()))
            .filter(job::Column::LockedBy.eq(by))
            .exec(conn)
            .await?
            .rows_affected;
    }
    Ok(held)
}

/// A failed run of `job` (as claimed by `by`): it runs again after a backoff, or is dead
/// once its attempts are used up. Returns the state it went to, or None when `by` no
/// longer held it.
pub async fn fail(
    conn: &impl ConnectionTrait,
    job: &job::Model,
    by: &str,
    error: &str,
    now: DateTime<Utc>,
    jitter: f64,
) -> Result<Option<State>, AppError> {
    if job.attempts >= job.max_attempts {
        return bury(conn, job, by, error, now).await;
    }
    let again = now + backoff::delay(job.attempts, jitter);
    let held = guarded(job, by, State::Failed, Some(again), error, now)
        .exec(conn)
        .await?;
    Ok((held.rows_affected > 0).then_some(State::Failed))
}

/// Makes `job` dead at once, with `reason`: it can never succeed (no handler for its
/// kind, a payload it cannot read) or its attempts are used up.
pub async fn bury(
    conn: &impl ConnectionTrait,
    job: &job::Model,
    by: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Option<State>, AppError> {
    let held = guarded(job, by, State::Dead, None, reason, now)
        .exec(conn)
        .await?;
    Ok((held.rows_affected > 0).then_some(State::Dead))
}

/// Leaving the running state: the claim's lock goes.
fn finish(state: State, run_after: Option<DateTime<Utc>>) -> sea_orm::UpdateMany<job::Entity> {
    job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(state.as_str()))
        .col_expr(job::Column::RunAfter, Expr::value(run_after))
        .col_expr(job::Column::LockedBy, Expr::value(Option::<String>::None))
}

fn guarded(
    job: &job::Model,
    by: &str,
    state: State,
    run_after: Option<DateTime<Utc>>,
    error: &str,
    now: DateTime<Utc>,
) -> sea_orm::UpdateMany<job::Entity> {
    let error: String = error.chars().take(MAX_ERROR_CHARS).collect();
    finish(state, run_after)
        .col_expr(job::Column::LastError, Expr::value(Some(error)))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.eq(job.id))
        .filter(job::Column::State.eq(State::Running.as_str()))
        .filter(job::Column::LockedBy.eq(by))
        .filter(job::Column::Attempts.eq(job.attempts))
}
