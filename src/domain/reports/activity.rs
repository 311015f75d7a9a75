//! Activity per user per week: for each user and week (Monday to Sunday in the
//! organisation's zone), the notes, calls and meetings they logged (by `occurred_at`, the
//! time the activity happened, counted for its author) and the tasks they marked done
//! (by `done_at`, counted for the assignee).
//!
//! - Activities without an author (payments and refunds written by Stripe) are left out,
//!   as are emails (not a kind this report counts). Tasks about a record in the trash are
//!   left out, as My tasks leaves them; activities are counted whatever their record's
//!   state (the call was made).
//! - Ticking a task done about a record also leaves a note on its timeline ("Completed
//!   task: …", by whoever ticked it): it counts among the notes, as the timeline shows
//!   it, besides the task done. Telling it apart would need its text (not in the index).
//! - The owner filter picks one user; a rep limited to own records sees only their own
//!   line. Pipeline and source do not apply (activities and tasks have neither).
//! - Users are listed when they have something in the range (or are the one filtered on),
//!   by name, every week of the range shown.
//!
//! Notes, calls and meetings are summed from `activity_hours` (counts per author, kind and
//! UTC hour, kept by triggers: migration 000049): at most 26 280 counters per user and
//! year (70 000 at the seeded year's two users), where weighing each of five million
//! activities into its week took 3 s on SQLite. A week that starts off the hour
//! (organisations in India, Nepal, …) splits an hour; such hours are left out of the sum
//! and their activities counted one by one through `idx_activities_occurred`. Tasks done
//! are counted by week and assignee through `idx_tasks_assignee_done_at`, which carries
//! all the count needs.
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::sea_query::{Asterisk, Condition, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{DatabaseBackend, FromQueryResult};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Filters, Week, week_of};
use crate::domain::{Action, Actor, Db, access, sql, users};
use crate::error::AppError;

/// The activity kinds counted, and the field each goes to.
pub const KINDS: [&str; 3] = ["note", "call", "meeting"];

/// One user's week (or their total).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Counts {
    /// The week's Monday (the range's first for a total).
    pub week_start: NaiveDate,
    pub notes: i64,
    pub calls: i64,
    pub meetings: i64,
    pub tasks_done: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UserActivity {
    pub user_id: i64,
    pub name: String,
    /// Every week of the range, oldest first.
    pub weeks: Vec<Counts>,
    pub total: Counts,
}

/// The report: whole weeks from `from` (a Monday) to `to` (a Sunday).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ActivityReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub time_zone: String,
    pub users: Vec<UserActivity>,
}

#[derive(FromQueryResult)]
struct Row {
    w: i64,
    user_id: i64,
    kind: String,
    n: i64,
}

/// The report `actor` may see for `f`.
pub async fn activity(db: &Db, actor: &Actor, f: &Filters) -> Result<ActivityReport, AppError> {
    actor.require(Action::ReadRecords)?;
    let weeks = f.weeks();
    let owner = f.owner_for(access::visible(db, actor).await?);
    let mut rows = Vec::new();
    if let Some(owner) = owner {
        let backend = db.backend();
        let split = split_hours(&weeks);
        let run =
            |q: SelectStatement| Row::find_by_statement(sql::build(backend, &q)).all(&db.read);
        let (counted, t) = tokio::try_join!(
            run(counted(owner, &weeks, &split)),
            run(tasks_done(owner, &weeks)),
        )?;
        rows.extend(counted);
        rows.extend(t);
        if !split.is_empty() {
            rows.extend(run(activities(owner, &weeks, &split)).await?);
        }
    }
    let blank = |monday: NaiveDate| Counts {
        week_start: monday,
        ..Counts::default()
    };
    let all_weeks = || -> Vec<Counts> { weeks.iter().map(|w| blank(w.monday)).collect() };
    let mut by_user: BTreeMap<i64, Vec<Counts>> = BTreeMap::new();
    if let Some(Some(o)) = owner {
        by_user.insert(o, all_weeks());
    }
    for r in &rows {
        let list = by_user.entry(r.user_id).or_insert_with(all_weeks);
        let Some(c) = usize::try_from(r.w).ok().and_then(|i| list.get_mut(i)) else {
            continue;
        };
        match r.kind.as_str() {
            "note" => c.notes += r.n,
            "call" => c.calls += r.n,
            "meeting" => c.meetings += r.n,
            _ => c.tasks_done += r.n,
        }
    }
    let names: BTreeMap<i64, String> = users::list_all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let first = weeks.first().map_or(f.from, |w| w.monday);
    let mut users: Vec<UserActivity> = by_user
        .into_iter()
        .map(|(id, list)| {
            let mut total = blank(first);
            for c in &list {
                total.notes += c.notes;
                total.calls += c.calls;
                total.meetings += c.meetings;
                total.tasks_done += c.tasks_done;
            }
            UserActivity {
                user_id: id,
                name: names.get(&id).cloned().unwrap_or_else(|| format!("#{id}")),
                weeks: list,
                total,
            }
        })
        .collect();
    users.sort_by(|a, b| a.name.cmp(&b.name).then(a.user_id.cmp(&b.user_id)));
    Ok(ActivityReport {
        from: first,
        to: weeks
            .last()
            .map_or(f.to, |w| w.monday + chrono::Duration::days(6)),
        time_zone: f.tz.name().to_string(),
        users,
    })
}

/// The hours that a boundary of `weeks` falls inside (not on): empty for zones on the hour.
fn split_hours(weeks: &[Week]) -> Vec<DateTime<Utc>> {
    let bounds = weeks
        .iter()
        .map(|w| w.start)
        .chain(weeks.last().map(|w| w.end));
    let mut hours: Vec<DateTime<Utc>> = bounds
        .filter_map(|b| {
            let off = b.timestamp().rem_euclid(3600);
            (off != 0 || b.timestamp_subsec_nanos() != 0).then(|| {
                b - Duration::seconds(off)
                    - Duration::nanoseconds(b.timestamp_subsec_nanos().into())
            })
        })
        .collect();
    hours.dedup();
    hours
}

/// Notes, calls and meetings per week, author and kind, summed from the hourly counts
/// (the hours in `split` left out).
fn counted(owner: Option<i64>, weeks: &[Week], split: &[DateTime<Utc>]) -> SelectStatement {
    let hour = || Expr::col(("h", "hour"));
    let mut q = Query::select();
    q.expr_as(week_of(hour(), weeks), "w")
        .expr_as(Expr::col(("h", "author_id")), "user_id")
        .expr_as(Expr::col(("h", "kind")), "kind")
        .expr_as(Expr::col(("h", "n")).sum().cast_as("BIGINT"), "n")
        .from_as("activity_hours", "h")
        .and_where(Expr::col(("h", "kind")).is_in(KINDS));
    if let (Some(first), Some(last)) = (weeks.first(), weeks.last()) {
        // From the hour holding the first instant: when that hour is split it is left
        // out below and its part in the range counted from the activities.
        let from = split.first().filter(|h| **h < first.start).copied();
        q.and_where(hour().gte(from.unwrap_or(first.start)))
            .and_where(hour().lt(last.end));
    }
    if !split.is_empty() {
        q.and_where(hour().is_not_in(split.iter().copied()));
    }
    if let Some(o) = owner {
        q.and_where(Expr::col(("h", "author_id")).eq(o));
    }
    q.group_by_col("w")
        .group_by_col(("h", "author_id"))
        .group_by_col(("h", "kind"));
    q
}

/// Notes, calls and meetings per week, author and kind, counted one by one in the hours
/// of `split` (their part within the range). A range a split hour, and no range around
/// them all, so each is read from the index by time (the year between them is not).
fn activities(owner: Option<i64>, weeks: &[Week], split: &[DateTime<Utc>]) -> SelectStatement {
    let occurred = || Expr::col(("a", "occurred_at"));
    let mut q = Query::select();
    q.expr_as(week_of(occurred(), weeks), "w")
        .expr_as(Expr::col(("a", "author_id")), "user_id")
        .expr_as(Expr::col(("a", "kind")), "kind")
        .expr_as(Expr::col(Asterisk).count(), "n")
        .from_as("activities", "a")
        .and_where(Expr::col(("a", "author_id")).is_not_null())
        .and_where(Expr::col(("a", "kind")).is_in(KINDS));
    let mut any = Condition::any();
    if let (Some(first), Some(last)) = (weeks.first(), weeks.last()) {
        for h in split {
            let from = Ord::max(*h, first.start);
            let to = Ord::min(*h + Duration::hours(1), last.end);
            any = any.add(occurred().gte(from).and(occurred().lt(to)));
        }
    }
    q.cond_where(any);
    if let Some(o) = owner {
        q.and_where(Expr::col(("a", "author_id")).eq(o));
    }
    q.group_by_col("w")
        .group_by_col(("a", "author_id"))
        .group_by_col(("a", "kind"));
    q
}

/// Tasks done per week and assignee (kind "task").
fn tasks_done(owner: Option<i64>, weeks: &[Week]) -> SelectStatement {
    let done_at = || Expr::col(("t", "done_at"));
    let mut q = Query::select();
    q.expr_as(week_of(done_at(), weeks), "w")
        .expr_as(Expr::col(("t", "assignee_id")), "user_id")
        .expr_as(Expr::val("task"), "kind")
        .expr_as(Expr::col(Asterisk).count(), "n")
        .from_as("tasks", "t")
        .and_where(Expr::col(("t", "done")).eq(true))
        .and_where(Expr::col(("t", "record_trashed")).eq(false));
    if let (Some(first), Some(last)) = (weeks.first(), weeks.last()) {
        q.and_where(done_at().gte(first.start))
            .and_where(done_at().lt(last.end));
    }
    if let Some(o) = owner {
        q.and_where(Expr::col(("t", "assignee_id")).eq(o));
    }
    // Assignee first: SQLite then reads the index that starts with it and carries the
    // rest (a year's 64 000 tasks done, 0.6 s by way of the index by time and the table).
    q.group_by_col(("t", "assignee_id")).group_by_col("w");
    q
}

/// The statements the report runs for `f` (as an admin sees it), for EXPLAIN.
pub fn statements(f: &Filters, backend: DatabaseBackend) -> Vec<sea_orm::Statement> {
    let weeks = f.weeks();
    let split = split_hours(&weeks);
    let mut all = vec![
        counted(f.owner, &weeks, &split),
        tasks_done(f.owner, &weeks),
    ];
    if !split.is_empty() {
        all.push(activities(f.owner, &weeks, &split));
    }
    all.iter().map(|q| sql::build(backend, q)).collect()
}

impl super::report::Report for ActivityReport {
    const SLUG: &'static str = "activity";

    async fn run(db: &Db, actor: &Actor, f: &Filters) -> Result<ActivityReport, AppError> {
        activity(db, actor, f).await
    }

    fn range(&self) -> (NaiveDate, NaiveDate) {
        (self.from, self.to)
    }

    fn csv(&self) -> String {
        super::format::activity_csv(self)
    }

    fn table(&self) -> String {
        super::format::activity_table(self)
    }
}
