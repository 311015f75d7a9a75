//! A list's total past the exact limit, estimated from a sample and kept a minute, and
//! the estimated size of a tag's fellow filters.
use std::sync::Arc;
use std::time::Duration;

use sea_orm::FromQueryResult;
use sea_orm::sea_query::{
    Asterisk, Condition, Expr, ExprTrait, JoinType, Order, Query, SelectStatement, UnionType,
};

use super::filters::{self, Shape};
use super::reads::{self, sub, tags_as};
use super::{EXACT_COUNT, Kind, ListQuery};
use crate::domain::access::Visible;
use crate::domain::{Db, sql};
use crate::error::AppError;

/// How long an estimated total is kept (`estimate`).
pub const ESTIMATE_TTL: Duration = Duration::from_secs(60);

/// What an estimated total is kept by (`Db::estimates`): the list's record type and
/// filters, written out, and whose records the asker sees. Sort and page leave the
/// total as it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Estimated {
    filters: String,
    visible: Visible,
}

impl Estimated {
    pub(super) fn of(q: &ListQuery) -> Self {
        Estimated {
            filters: format!(
                "{} {:?} {:?} {:?} {:?}",
                q.kind.table, q.own, q.owner, q.tags, q.custom
            ),
            visible: q.visible,
        }
    }
}

/// The estimated number of records matching `q`, past the exact limit (`sample`),
/// kept `ESTIMATE_TTL` per filters and scope (`Estimated`): the sample reads 4 000 rows,
/// 2–5 ms at a million contacts, where the rest of such a page costs about one. So an
/// "about" total may lag writes by up to a minute; exact counts are never kept.
pub(super) async fn estimate(db: &Db, q: &ListQuery) -> Result<u64, AppError> {
    let condition = filters::condition_as(db.backend(), q, Shape::Test, &tags_as(q, None, None));
    kept(db, Estimated::of(q), q.kind, condition).await
}

/// The estimate kept for `q`'s filters, when it is so far past the exact limit that
/// counting again could not bring the total under it: the list then counts nothing.
/// Counting a source's 14 000 or 140 000 contacts up to the limit read 10 001 index
/// entries at every request (1–1.5 ms, half the request). The sample's error on such a
/// share is a few percent, so a quarter past the limit is a real total past it, unless
/// a fifth of the records went within the estimate's minute (an "about" total already
/// lags writes by that minute; a list emptied is caught by its short page).
pub(super) fn kept_far_past(db: &Db, q: &ListQuery) -> Option<u64> {
    db.estimates
        .get(&Estimated::of(q))
        .filter(|n| *n >= EXACT_COUNT + EXACT_COUNT / 4)
}

/// How many live records carry the tag at `driver` in `q`, a tag with more links than
/// `counts::tag_links` counts (the exact limit and its slack): estimated as the list of
/// that tag alone is, and kept as it is. Counting `vip`'s 100 000 links up to 200 000 to
/// choose how the tag is read (`reads::tags_tested`) cost 5 ms on SQLite and 8 on
/// PostgreSQL at a million contacts, at every request.
pub(super) async fn tag_size(db: &Db, q: &ListQuery, driver: usize) -> Result<i64, AppError> {
    let Some(tag) = q.tags.get(driver) else {
        return Ok(0);
    };
    let key = Estimated {
        filters: format!("{} tagged {tag:?}", q.kind.table),
        visible: Visible::All,
    };
    let condition = Condition::all()
        .add(filters::live("t"))
        .add(filters::tagged(q, tag, Shape::Test));
    Ok(kept(db, key, q.kind, condition).await? as i64)
}

/// The estimate kept at `key`, or the sample of `condition` (on the records aliased `t`)
/// taken and kept there: once for all the requests that find it missing at the same
/// moment (a page of a large list opened by many, or its minute just ended).
async fn kept(db: &Db, key: Estimated, kind: &Kind, condition: Condition) -> Result<u64, AppError> {
    db.estimates
        .get_or_build(key, || async {
            let statement = sql::build(db.backend(), &sample(kind, condition));
            let sample = Sample::find_by_statement(statement)
                .one(&db.read)
                .await?
                .ok_or_else(|| AppError::Internal("the sample query returned no row".into()))?;
            Ok(sample.estimate())
        })
        .await
}

/// How many records `q`'s filters other than its tags match, to choose how the tags are
/// read (`reads::tags_tested`, up to `limit`): counted up to the exact limit, and past
/// it estimated as a list of those filters alone is (`estimate`, kept as theirs is).
/// Counting owner 2's 500 000 contacts up to 200 000 took 15–20 ms on SQLite at a
/// million contacts. An estimate off the mark costs time, never a wrong answer: the
/// count and the page are exact in either shape.
pub(super) async fn others_size(db: &Db, q: &ListQuery, limit: u64) -> Result<i64, AppError> {
    let backend = db.backend();
    let bound = Ord::min(limit, EXACT_COUNT + 1);
    let others = reads::others_count(backend, q, bound);
    let n = super::counts::Count::find_by_statement(sql::build(backend, &others))
        .one(&db.read)
        .await?
        .map_or(0, |c| c.n);
    if n < bound as i64 {
        return Ok(n);
    }
    let alone = ListQuery {
        tags: Vec::new(),
        tag_ids: Arc::default(),
        ..q.clone()
    };
    Ok(estimate(db, &alone).await? as i64)
}

/// Live records sampled to estimate a large total, read in `RUNS` runs of consecutive ids
/// spread evenly over the table: a run reads a few table pages in order, where as many
/// scattered records would read a page each (20 ms against 1 at a million contacts).
const SAMPLED: u64 = 4000;
const RUNS: u64 = 20;

/// How many of the sampled records match, how many were sampled, and how many are live.
#[derive(sea_orm::FromQueryResult)]
pub struct Sample {
    pub hits: i64,
    pub sampled: i64,
    pub live: i64,
}

impl Sample {
    /// The live count times the share of matches in the sample, to two significant
    /// digits, and above the exact limit (the count already found more than that).
    pub fn estimate(&self) -> u64 {
        let live = Ord::max(self.live, 0) as u64;
        let share = Ord::max(self.hits, 0) as f64 / Ord::max(self.sampled, 1) as f64;
        let raw = (live as f64 * share).round() as u64;
        round2(raw).clamp(EXACT_COUNT, Ord::max(live, EXACT_COUNT))
    }
}

/// `n` to two significant digits: 93 412 is 93 000.
pub fn round2(n: u64) -> u64 {
    let mut unit = 1u64;
    while n / unit >= 100 {
        unit *= 10;
    }
    (n + unit / 2) / unit * unit
}

/// `SELECT hits, sampled, live` for `condition` over the sample runs (see `SAMPLED`),
/// its filters on linked rows written as tests (`Shape::Test`): `IN` would have the
/// engine read every match.
fn sample(kind: &Kind, condition: Condition) -> SelectStatement {
    let table = kind.table;
    let per_run = SAMPLED / RUNS;
    let mut runs: Option<SelectStatement> = None;
    for k in 0..RUNS {
        let start = Expr::cust(format!(
            "(SELECT MIN(id) FROM {table}) + ((SELECT MAX(id) FROM {table}) - \
             (SELECT MIN(id) FROM {table})) * {k} / {RUNS}"
        ));
        let run = Query::select()
            .column("id")
            .from(table)
            .and_where(Expr::col("deleted_at").is_null())
            .and_where(Expr::col("id").gte(start))
            .order_by("id", Order::Asc)
            .limit(per_run)
            .to_owned();
        // Wrapped, so that the run's ORDER BY and LIMIT are its own inside UNION ALL.
        let run = Query::select()
            .column(Asterisk)
            .from_subquery(run, format!("r{k}"))
            .to_owned();
        runs = Some(match runs {
            None => run,
            Some(mut all) => all.union(UnionType::All, run).to_owned(),
        });
    }
    let mut select = Query::select();
    select
        .expr_as(Expr::col(("t", "id")).count(), "hits")
        .expr_as(Expr::col(Asterisk).count(), "sampled")
        .expr_as(
            sub(Query::select()
                .column("n")
                .from("record_counts")
                .and_where(Expr::col("name").eq(table))
                .to_owned()),
            "live",
        );
    if let Some(runs) = runs {
        select.from_subquery(runs, "s").join_as(
            JoinType::LeftJoin,
            table,
            "t",
            condition.add(Expr::col(("t", "id")).equals(("s", "id"))),
        );
    }
    select
}

#[cfg(test)]
mod tests {
    use super::Estimated;
    use crate::domain::access::Visible;
    use crate::domain::contacts::ListParams;
    use crate::domain::records::ListQuery;

    fn key(query: &str, visible: Visible) -> Result<Estimated, String> {
        ListParams::from_query(query)
            .and_then(|p| p.validate(25))
            .map(|q| Estimated::of(&ListQuery { visible, ..q }))
            .map_err(|e| format!("?{query}: {e:?}"))
    }

    /// Sort and page share a list's kept estimate; other filters or another asker's
    /// scope have their own.
    #[test]
    fn an_estimate_is_kept_per_filters_and_scope_not_per_sort_or_page() {
        let all = Visible::All;
        let ours = key("source=paid&tags=vip", all);
        assert!(ours.is_ok(), "a valid list: {ours:?}");
        let same = ["sort=name&page=3&per_page=50", "after=7", "sort=oldest"];
        for extra in same {
            let theirs = key(&format!("source=paid&tags=vip&{extra}"), all);
            assert_eq!(theirs, ours, "&{extra} shares the estimate");
        }
        let other = [
            key("source=event&tags=vip", all),
            key("source=paid", all),
            key("source=paid&tags=vip&owner=2", all),
            key("source=paid&tags=vip", Visible::Owner(2)),
        ];
        for theirs in other {
            assert_ne!(theirs, ours, "{theirs:?} has its own");
        }
    }
}
