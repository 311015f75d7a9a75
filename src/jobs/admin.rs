//! What admins see and do with jobs, in Settings → Jobs and `cairn jobs`: lists, counts,
//! retrying failed and dead jobs, and removing old done ones.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::State;
use crate::domain::{Action, Actor, Db, Page, audit};
use crate::entities::job;
use crate::error::AppError;

/// Which jobs a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    /// Everything but done jobs: what may need attention.
    Open,
    Only(State),
    All,
}

impl Show {
    /// `state` from a query string or the command line: a state's name, `all`, or
    /// nothing (open jobs).
    pub fn parse(state: Option<&str>) -> Result<Show, AppError> {
        match state.map(str::trim).filter(|s| !s.is_empty()) {
            None | Some("open") => Ok(Show::Open),
            Some("all") => Ok(Show::All),
            Some(s) => State::parse(s).map(Show::Only).ok_or_else(|| {
                AppError::field(
                    "state",
                    "state must be queued, running, failed, done, dead, open or all.",
                )
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Show::Open => "open",
            Show::Only(s) => s.as_str(),
            Show::All => "all",
        }
    }
}

/// Page `page` of the jobs `show` picks, newest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    show: Show,
    page: u64,
    per_page: u64,
) -> Result<Page<job::Model>, AppError> {
    let mut q = job::Entity::find().order_by_desc(job::Column::Id);
    q = match show {
        Show::Open => q.filter(job::Column::State.ne(State::Done.as_str())),
        Show::Only(s) => q.filter(job::Column::State.eq(s.as_str())),
        Show::All => q,
    };
    let pages = q.paginate(conn, per_page);
    let total = pages.num_items().await?;
    let items = pages.fetch_page(page.saturating_sub(1)).await?;
    Ok(Page {
        total,
        total_is_estimate: false,
        page,
        per_page,
        items,
    })
}

#[derive(FromQueryResult)]
struct StateCount {
    state: String,
    n: i64,
}

/// How many jobs are in each state, every state listed.
pub async fn counts(conn: &impl ConnectionTrait) -> Result<Vec<(State, u64)>, AppError> {
    let rows = job::Entity::find()
        .select_only()
        .column(job::Column::State)
        .column_as(Expr::col(job::Column::Id).count(), "n")
        .group_by(job::Column::State)
        .into_model::<StateCount>()
        .all(conn)
        .await?;
    Ok(State::ALL
        .into_iter()
        .map(|s| {
            let n = rows
                .iter()
                .find(|r| r.state == s.as_str())
                .map_or(0, |r| u64::try_from(r.n).unwrap_or(0));
            (s, n)
        })
        .collect())
}

/// Runs a failed or dead job again now, with a fresh set of attempts (its last error is
/// kept until the next run ends). `actor`, when given, must be an admin and is audited.
pub async fn retry(
    db: &Db,
    actor: Option<&Actor>,
    id: i64,
    now: DateTime<Utc>,
) -> Result<job::Model, AppError> {
    if let Some(a) = actor {
        a.require(Action::Jobs)?;
    }
    let tx = db.begin_write().await?;
    let revived = requeue()
        .col_expr(job::Column::RunAfter, Expr::value(Some(now)))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.eq(id))
        .exec_with_returning(&tx)
        .await?;
    let Some(job) = revived.into_iter().next() else {
        let exists = job::Entity::find_by_id(id).one(&tx).await?;
        return Err(match exists {
            None => AppError::not_found("Job"),
            Some(j) => AppError::Conflict {
                message: format!(
                    "Job {id} is {}: only failed and dead jobs can be retried.",
                    j.state
                ),
                fields: Default::default(),
            },
        });
    };
    audit::record(&tx, actor, "retry", "job", id, None).await?;
    tx.commit().await?;
    super::wake();
    Ok(job)
}

/// Runs every dead job again now, with a fresh set of attempts; returns how many.
pub async fn retry_dead(
    db: &Db,
    actor: Option<&Actor>,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    if let Some(a) = actor {
        a.require(Action::Jobs)?;
    }
    let tx = db.begin_write().await?;
    let n = requeue()
        .col_expr(job::Column::RunAfter, Expr::value(Some(now)))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::State.eq(State::Dead.as_str()))
        .exec(&tx)
        .await?
        .rows_affected;
    if n > 0 {
        let detail = serde_json::json!({ "jobs": n });
        audit::record(&tx, actor, "retry_dead", "job", 0, Some(detail)).await?;
    }
    tx.commit().await?;
    super::wake();
    Ok(n)
}

/// Back to the queue, attempts counted from zero: only from failed or dead.
fn requeue() -> sea_orm::UpdateMany<job::Entity> {
    job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(State::Queued.as_str()))
        .col_expr(job::Column::Attempts, Expr::value(0))
        .col_expr(job::Column::LockedBy, Expr::value(Option::<String>::None))
        .filter(job::Column::State.is_in([State::Failed.as_str(), State::Dead.as_str()]))
}

/// Removes done jobs last touched before `cutoff`; returns how many.
pub async fn delete_done_before(
    conn: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
) -> Result<u64, AppError> {
    Ok(job::Entity::delete_many()
        .filter(job::Column::State.eq(State::Done.as_str()))
        .filter(job::Column::UpdatedAt.lt(cutoff))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Jobs of `kind` after id `after` that have not finished (done or dead).
pub async fn unfinished(
    conn: &impl ConnectionTrait,
    kind: &str,
    after: i64,
) -> Result<u64, AppError> {
    Ok(job::Entity::find()
        .filter(job::Column::Kind.eq(kind))
        .filter(job::Column::Id.gt(after))
        // Queued, running and failed jobs are those with a run_after (its index).
        .filter(job::Column::RunAfter.is_not_null())
        .count(conn)
        .await?)
}

/// The highest job id so far (0 when there is none).
pub async fn last_id(conn: &impl ConnectionTrait) -> Result<i64, AppError> {
    let last = job::Entity::find()
        .order_by_desc(job::Column::Id)
        .one(conn)
        .await?;
    Ok(last.map_or(0, |j| j.id))
}
