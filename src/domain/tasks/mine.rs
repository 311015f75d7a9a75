//! Reading tasks: My tasks in its groups, the overdue count in the navigation, a
//! record's open tasks, and the API's filtered list.
//!
//! Each group is one or two index ranges (timed tasks by `due_at`, dated ones by
//! `due_date`, per assignee or for everyone), read with a LIMIT and merged here: no
//! group ever reads more than a page of rows, however many tasks there are; counts are
//! only taken when a group has more than it shows.
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{Asterisk, Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
};
use serde::Deserialize;

use super::after::After;
use super::due::{self, Day, Group};
use super::reads::{name, rows};
use super::{Task, all, bare, sees_everyone, select, visible_to};
use crate::domain::activities::Subject;
use crate::domain::{Actor, Db, FieldErrorsExt, Page, paging};
use crate::entities::{change_counter, task};
use crate::error::{AppError, FieldErrors};

/// Tasks shown per open group, and per "Show more".
pub const GROUP_LIMIT: u64 = 20;
/// Done tasks per batch ("Show more" loads the next).
pub const DONE_BATCH: u64 = 20;
/// Open tasks shown on a record's page.
const RECORD_LIMIT: u64 = 50;

/// Whose tasks My tasks shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    User(i64),
    Everyone,
    /// A rep's own under "reps see only their own records": assigned to them and about
    /// records they may see (or about none).
    Visible(i64),
}

impl Scope {
    /// What `actor` asked for, as far as they may see: reps and viewers see their own.
    pub fn allowed(actor: &Actor, asked: Scope) -> Scope {
        if sees_everyone(actor) {
            asked
        } else {
            Scope::User(actor.id)
        }
    }

    /// `allowed`, and narrowed to the records `actor` may see (`access`).
    pub async fn for_actor(db: &Db, actor: &Actor, asked: Scope) -> Result<Scope, AppError> {
        let scope = Scope::allowed(actor, asked);
        Ok(match crate::domain::access::visible(db, actor).await? {
            crate::domain::access::Visible::Owner(me) => Scope::Visible(me),
            crate::domain::access::Visible::All => scope,
        })
    }

    /// Open or done tasks in scope; never those hidden with their record in the trash
    /// (the flag follows `done` in every My tasks index, so a range stays one range).
    fn condition(self, done: bool) -> Condition {
        let c = Condition::all()
            .add(task::Column::Done.eq(done))
            .add(task::Column::RecordTrashed.eq(false));
        match self {
            Scope::User(id) => c.add(task::Column::AssigneeId.eq(id)),
            Scope::Everyone => c,
            Scope::Visible(id) => {
                c.add(task::Column::AssigneeId.eq(id))
                    .add(super::visible_on_records(
                        crate::domain::access::Visible::Owner(id),
                    ))
            }
        }
    }
}

/// One group: the tasks shown, and how many there are in all when that is more.
#[derive(Debug, Clone, Default)]
pub struct GroupList {
    pub tasks: Vec<Task>,
    /// How many an open group holds, set only when that is more than `tasks`.
    pub total: Option<u64>,
    /// Whether more follow (done tasks, which are never counted: the count is not worth
    /// a scan of every task ever done).
    pub more: bool,
    /// The soonest due time among the group's timed tasks, shown or not: when today's
    /// first one passes, it moves to overdue.
    pub first_timed: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct Board {
    pub day: Day,
    pub overdue: GroupList,
    pub today: GroupList,
    pub upcoming: GroupList,
    pub done: GroupList,
    /// The time the groups were made for, and the first time after it at which a task
    /// would change group (today's first timed task falls overdue, or the day ends):
    /// between the two the board is the same, given the same tasks.
    pub built_at: DateTime<Utc>,
    pub good_until: DateTime<Utc>,
}

/// Where a task sorts among others in `tz`: a date-only task at the start of its day.
fn sort_key(tz: Tz, t: &Task) -> Option<DateTime<Utc>> {
    t.due_at
        .or_else(|| t.due_date.map(|d| due::day_start(tz, d)))
}

async fn count(conn: &impl ConnectionTrait, c: Condition) -> Result<u64, AppError> {
    let n = task::Entity::find()
        .select_only()
        .column_as(Expr::col(Asterisk).count(), "n")
        .filter(c)
        .into_tuple::<i64>()
        .one(conn)
        .await?
        .unwrap_or(0);
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The timed and the dated side of an open group, each an index range.
struct Sides {
    timed: Condition,
    dated: Condition,
}

fn sides(group: Group, day: &Day, now: DateTime<Utc>) -> Sides {
    let (at, date) = (task::Column::DueAt, task::Column::DueDate);
    match group {
        Group::Overdue => Sides {
            timed: Condition::all().add(at.lt(now)),
            dated: Condition::all().add(date.lt(day.date)),
        },
        Group::Today => Sides {
            timed: Condition::all().add(at.gte(now)).add(at.lt(day.end)),
            dated: Condition::all().add(date.eq(day.date)),
        },
        Group::Upcoming | Group::Done => Sides {
            timed: Condition::all().add(at.gte(day.end)),
            dated: Condition::all().add(date.gt(day.date)),
        },
    }
}

/// One side in its index's order (`by` its leading columns after the scope's).
fn side(scope: Scope, c: Condition, by: &[task::Column], limit: u64) -> Select<task::Entity> {
    let mut q = bare().filter(scope.condition(false)).filter(c);
    for col in by {
        q = q.order_by_asc(*col);
    }
    q.order_by_asc(task::Column::Id).limit(limit)
}

/// Whether a group's count may come from `Db::task_counts` (kept 5 s), or must be taken
/// now: a board kept under the `tasks` counter keeps its counts as long as itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counts {
    Kept,
    Fresh,
}

/// An open group, soonest first (a day's date-only tasks before its timed ones); the
/// upcoming group ends with the tasks that have no due. From the start, with its count
/// when it holds more than it shows; or, for "Show more", the next batch `after` a task.
async fn open_group(
    db: &Db,
    scope: Scope,
    group: Group,
    (tz, now): (Tz, DateTime<Utc>),
    after: Option<After>,
    counts: Counts,
) -> Result<GroupList, AppError> {
    let day = due::today(tz, now);
    let s = sides(group, &day, now);
    let ask = GROUP_LIMIT + 1;
    let more = |c: Condition, next: Option<Option<Condition>>| match next {
        None => Some(c),
        Some(None) => None,
        Some(Some(n)) => Some(c.add(n)),
    };
    let mut tasks = Vec::new();
    if let Some(c) = more(s.timed.clone(), after.map(|a| a.timed(tz))) {
        tasks.extend(rows(&db.read, side(scope, c, &[task::Column::DueAt], ask)).await?);
    }
    let first_timed = tasks.iter().filter_map(|t| t.due_at).min();
    let by_date = [task::Column::DueDate, task::Column::DueAt];
    if let Some(c) = more(s.dated.clone(), after.map(|a| a.dated(tz))) {
        tasks.extend(rows(&db.read, side(scope, c, &by_date, ask)).await?);
    }
    // A day's date-only tasks (keyed at the day's start) come before its timed ones.
    tasks.sort_by_key(|t| (sort_key(tz, t), t.due_at.is_some(), t.id));
    tasks.truncate(ask as usize);
    if group == Group::Upcoming && (tasks.len() as u64) < ask {
        let room = ask - tasks.len() as u64;
        let c = undated().add(after.map_or(Condition::all(), After::undated));
        let mut rest = rows(&db.read, side(scope, c, &by_date, room)).await?;
        rest.sort_by_key(|t| t.id);
        tasks.extend(rest);
    }
    let more = tasks.len() as u64 > GROUP_LIMIT;
    tasks.truncate(GROUP_LIMIT as usize);
    if !more || after.is_some() {
        return Ok(GroupList {
            tasks,
            total: None,
            more,
            first_timed,
        });
    }
    Ok(GroupList {
        tasks,
        total: Some(group_total(db, scope, group, (tz, now), counts).await?),
        more,
        first_timed,
    })
}

/// Open tasks with no due (the end of the upcoming group).
fn undated() -> Condition {
    Condition::all()
        .add(task::Column::DueAt.is_null())
        .add(task::Column::DueDate.is_null())
}

/// How many open tasks an open group of `scope` holds in `tz` at `now`: index-range
/// counts (which walk every task of the group: thousands, beside a page's twenty),
/// kept a few seconds in `Db::task_counts`; task writes through this process forget them.
async fn group_total(
    db: &Db,
    scope: Scope,
    group: Group,
    (tz, now): (Tz, DateTime<Utc>),
    counts: Counts,
) -> Result<u64, AppError> {
    let key = (scope, tz, group);
    if counts == Counts::Kept
        && let Some(n) = db.task_counts.get(&key)
    {
        return Ok(n);
    }
    let s = sides(group, &due::today(tz, now), now);
    let base = |c: Condition| scope.condition(false).add(c);
    let mut n = count(&db.read, base(s.timed)).await? + count(&db.read, base(s.dated)).await?;
    if group == Group::Upcoming {
        n += count(&db.read, base(undated())).await?;
    }
    db.task_counts.insert(key, n);
    Ok(n)
}

/// The next batch of an open group of My tasks, after the task `after` ("Show more").
pub async fn group_batch(
    db: &Db,
    actor: &Actor,
    scope: Scope,
    group: Group,
    tz: Tz,
    now: DateTime<Utc>,
    after: After,
) -> Result<GroupList, AppError> {
    let scope = Scope::for_actor(db, actor, scope).await?;
    let mut list = open_group(db, scope, group, (tz, now), Some(after), Counts::Kept).await?;
    name(db, &mut [&mut list.tasks]).await?;
    Ok(list)
}

/// Done tasks, most recently completed first, a batch from `offset`.
pub async fn done_batch(
    db: &Db,
    actor: &Actor,
    scope: Scope,
    offset: u64,
) -> Result<GroupList, AppError> {
    let scope = Scope::for_actor(db, actor, scope).await?;
    let mut list = done_list(db, scope, offset).await?;
    name(db, &mut [&mut list.tasks]).await?;
    Ok(list)
}

/// `done_batch` without names.
async fn done_list(db: &Db, scope: Scope, offset: u64) -> Result<GroupList, AppError> {
    let mut tasks = rows(
        &db.read,
        bare()
            .filter(scope.condition(true))
            .order_by_desc(task::Column::DoneAt)
            .order_by_desc(task::Column::Id)
            .offset(offset)
            .limit(DONE_BATCH + 1),
    )
    .await?;
    // The JSON aggregate does not promise the subquery's order.
    tasks.sort_by_key(|t| std::cmp::Reverse((t.done_at, t.id)));
    let more = tasks.len() as u64 > DONE_BATCH;
    tasks.truncate(DONE_BATCH as usize);
    Ok(GroupList {
        tasks,
        total: None,
        more,
        first_timed: None,
    })
}

/// My tasks for `actor` (or, for managers and admins, whoever `scope` names), grouped by
/// the days of `tz` at `now`.
///
/// Most opens see what the last one saw, so a built board is kept (`Db::task_boards`)
/// while the trigger-kept `tasks` counter is unchanged (any process's task write, or a
/// rename of what a task names, moves it) and until its `good_until`: a hit costs one
/// primary-key read instead of seven index ranges and the names' lookups. A rep's board
/// under "own records only" is built each time: the counter does not follow owners.
pub async fn board(
    db: &Db,
    actor: &Actor,
    scope: Scope,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Arc<Board>, AppError> {
    let scope = Scope::for_actor(db, actor, scope).await?;
    // Read the counter before the tasks: whatever is built is at least this new.
    let counter = match scope {
        Scope::Visible(_) => None,
        Scope::User(_) | Scope::Everyone => tasks_counter(db).await?,
    };
    let Some(counter) = counter else {
        return Ok(Arc::new(
            build_board(db, scope, (tz, now), Counts::Kept).await?,
        ));
    };
    let key = (scope, tz);
    let kept = db
        .task_boards
        .get_or_build(key, counter, || {
            build_board(db, scope, (tz, now), Counts::Fresh)
        })
        .await?;
    if kept.built_at <= now && now < kept.good_until {
        return Ok(kept);
    }
    // A task changed group since: built again (each request that sees this does).
    let b = Arc::new(build_board(db, scope, (tz, now), Counts::Fresh).await?);
    db.task_boards.insert(key, counter, b.clone());
    Ok(b)
}

/// The trigger-kept counter of changes to what My tasks shows (None on a database
/// without the row, a hand-edited one: then nothing is kept, since nothing would retire
/// it).
async fn tasks_counter(db: &Db) -> Result<Option<i64>, AppError> {
    Ok(change_counter::Entity::find_by_id("tasks")
        .one(&db.read)
        .await?
        .map(|r| r.n))
}

/// Seven index ranges of at most a page each (two per open group, done tasks), the
/// counts of groups holding more than they show, and the names of the whole board.
async fn build_board(
    db: &Db,
    scope: Scope,
    at: (Tz, DateTime<Utc>),
    counts: Counts,
) -> Result<Board, AppError> {
    let (tz, now) = at;
    let day = due::today(tz, now);
    let today = open_group(db, scope, Group::Today, at, None, counts).await?;
    let good_until = today.first_timed.map_or(day.end, |t| Ord::min(t, day.end));
    let mut b = Board {
        overdue: open_group(db, scope, Group::Overdue, at, None, counts).await?,
        today,
        upcoming: open_group(db, scope, Group::Upcoming, at, None, counts).await?,
        done: done_list(db, scope, 0).await?,
        day,
        built_at: now,
        good_until,
    };
    let groups = [&mut b.overdue, &mut b.today, &mut b.upcoming, &mut b.done];
    name(db, &mut groups.map(|g| &mut g.tasks)).await?;
    Ok(b)
}

/// How many open tasks of `actor` are overdue in `tz` at `now` (the navigation's
/// count; the same kept number as the total of their own My tasks' overdue group).
pub async fn overdue_count(
    db: &Db,
    actor: &Actor,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    // Under "own records only" a rep's count leaves out tasks they may not see.
    let scope = Scope::for_actor(db, actor, Scope::User(actor.id)).await?;
    group_total(db, scope, Group::Overdue, (tz, now), Counts::Kept).await
}

/// How many open tasks are overdue in `tz` at `now` among all `actor` may list: every
/// one's for managers and admins, their own for reps and viewers (narrowed to the
/// records they may see under "own records only"). Kept a few seconds, as the
/// navigation's count is.
pub async fn overdue_visible_count(
    db: &Db,
    actor: &Actor,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    let scope = Scope::for_actor(db, actor, Scope::Everyone).await?;
    group_total(db, scope, Group::Overdue, (tz, now), Counts::Kept).await
}

/// A record's open tasks, soonest due first (those with no due last).
pub async fn for_record(db: &Db, subject: Subject) -> Result<Vec<Task>, AppError> {
    let on = match subject {
        Subject::Deal(id) => task::Column::DealId.eq(id),
        Subject::Contact(id) => task::Column::ContactId.eq(id),
        Subject::Company(id) => task::Column::CompanyId.eq(id),
    };
    let mut tasks = all(
        &db.read,
        select()
            .filter(on)
            .filter(task::Column::Done.eq(false))
            .order_by_asc(task::Column::Id)
            .limit(RECORD_LIMIT),
    )
    .await?;
    tasks.sort_by_key(|t| (sort_key(Tz::UTC, t).is_none(), sort_key(Tz::UTC, t), t.id));
    Ok(tasks)
}

crate::domain::params::paged_params! {
    /// The API's list request as it arrives, as the OpenAPI document describes it.
    #[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
    #[serde(deny_unknown_fields)]
    #[into_params(parameter_in = Query)]
    pub struct ListParams {
        /// Tasks assigned to this user
        pub assignee_id: Option<i64>,
        /// Tasks about this contact
        pub contact_id: Option<i64>,
        /// Tasks about this company
        pub company_id: Option<i64>,
        /// Tasks about this deal
        pub deal_id: Option<i64>,
        /// Only done (true) or open (false) tasks
        #[param(value_type = Option<bool>)]
        pub done: Option<String>,
        /// Due before this time or date
        pub due_before: Option<String>,
        /// Due at or after this time or date
        pub due_after: Option<String>,
    }
}

/// A bound of `due_before`/`due_after`: an instant, or a date (compared with timed tasks
/// from its start, UTC).
#[derive(Debug, Clone, Copy)]
struct Bound {
    at: DateTime<Utc>,
    date: NaiveDate,
}

fn bound(s: Option<&str>, field: &str, fields: &mut FieldErrors) -> Option<Bound> {
    let s = s.map(str::trim).filter(|s| !s.is_empty())?;
    if s.len() == 10 {
        let date = due::parse_date(s, field, fields)?;
        return Some(Bound {
            at: due::day_start(Tz::UTC, date),
            date,
        });
    }
    let at = due::parse_instant(s, field, fields)?;
    Some(Bound {
        at,
        date: at.date_naive(),
    })
}

#[derive(Debug, Clone)]
pub struct ListQuery {
    filter: Condition,
    pub page: u64,
    pub per_page: u64,
}

impl ListParams {
    /// The filters as one condition. `done` is true or false; `due_before` (exclusive)
    /// and `due_after` (inclusive) take a time (RFC 3339) or a date (YYYY-MM-DD): a
    /// timed task compares its instant, a dated one its date (a time's UTC date).
    pub fn validate(&self, default_per_page: u64) -> Result<ListQuery, AppError> {
        let mut fields = FieldErrors::new();
        let mut c = Condition::all();
        let eq = |col: task::Column, v: Option<i64>| v.map(|v| col.eq(v));
        for e in [
            eq(task::Column::AssigneeId, self.assignee_id),
            eq(task::Column::ContactId, self.contact_id),
            eq(task::Column::CompanyId, self.company_id),
            eq(task::Column::DealId, self.deal_id),
        ]
        .into_iter()
        .flatten()
        {
            c = c.add(e);
        }
        match self.done.as_deref().map(str::trim) {
            None | Some("") => {}
            Some("true") => c = c.add(task::Column::Done.eq(true)),
            Some("false") => c = c.add(task::Column::Done.eq(false)),
            Some(_) => fields.set("done", "done is true or false."),
        }
        let (at, date) = (task::Column::DueAt, task::Column::DueDate);
        if let Some(b) = bound(self.due_before.as_deref(), "due_before", &mut fields) {
            c = c.add(Condition::any().add(at.lt(b.at)).add(date.lt(b.date)));
        }
        if let Some(b) = bound(self.due_after.as_deref(), "due_after", &mut fields) {
            c = c.add(Condition::any().add(at.gte(b.at)).add(date.gte(b.date)));
        }
        let (page, per_page) = paging(&self.page, &self.per_page, default_per_page, &mut fields);
        if !fields.is_empty() {
            return Err(AppError::validation(fields));
        }
        Ok(ListQuery {
            filter: c,
            page,
            per_page,
        })
    }
}

/// Tasks matching the filters that `actor` may see, oldest first (none whose record is
/// in the trash).
pub async fn list(db: &Db, actor: &Actor, q: &ListQuery) -> Result<Page<Task>, AppError> {
    let visible = crate::domain::access::visible(db, actor).await?;
    let filter = q
        .filter
        .clone()
        .add(visible_to(actor, visible))
        .add(task::Column::RecordTrashed.eq(false));
    let total = count(&db.read, filter.clone()).await?;
    let items = all(
        &db.read,
        select()
            .filter(filter)
            .order_by_asc(task::Column::Id)
            .offset((q.page - 1) * q.per_page)
            .limit(q.per_page),
    )
    .await?;
    Ok(Page {
        total,
        total_is_estimate: false,
        page: q.page,
        per_page: q.per_page,
        items,
    })
}

/// A user's overdue and today's open tasks in `tz` at `now`, for the daily digest (each
/// group capped like My tasks').
pub(super) async fn digest_groups(
    db: &Db,
    user_id: i64,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<(Vec<Task>, Vec<Task>), AppError> {
    // The digest lists what My tasks would: nothing about another rep's records.
    let scope = match crate::domain::access::visible_to_user(&db.read, user_id).await? {
        crate::domain::access::Visible::Owner(me) => Scope::Visible(me),
        crate::domain::access::Visible::All => Scope::User(user_id),
    };
    let at = (tz, now);
    let mut overdue = open_group(db, scope, Group::Overdue, at, None, Counts::Kept)
        .await?
        .tasks;
    let mut today = open_group(db, scope, Group::Today, at, None, Counts::Kept)
        .await?
        .tasks;
    name(db, &mut [&mut overdue, &mut today]).await?;
    Ok((overdue, today))
}
