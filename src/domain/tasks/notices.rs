//! The emails tasks send: "assigned to you" when someone else gives you a task, a
//! reminder when it comes due, and the daily digest for those who asked for it.
//!
//! A reminder is a `tasks.remind` job enqueued with the change that set the task's due or
//! assignee. It carries the due and assignee it was scheduled for and sends nothing
//! unless the task, when the job runs, still has them and is still open: a completed,
//! deleted, re-dated or reassigned task's old reminder ends quietly, and the change that
//! re-dated or reassigned it scheduled the new one. Its key names the task, due and
//! assignee, so a due gets one reminder however often the task is saved. The lead time
//! is the assignee's as it stood when the reminder was scheduled.
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Task, due, mine, reminder_state};
use crate::domain::{Actor, now};
use crate::entities::{notification_pref, task, user};
use crate::error::AppError;
use crate::jobs::{Ctx, JobError, NewJob, Registry, queue, schedule};
use crate::mail::content::TaskLine;
use crate::mail::{self, Notification, prefs};

/// A task's reminder.
pub const REMIND: &str = "tasks.remind";
/// The daily digest's hourly round: whoever is in their `DIGEST_HOUR` gets theirs.
pub const DIGEST: &str = "tasks.digest";
pub const DIGEST_HOUR: u32 = 8;
/// A date-only task reminds at this local time on its date.
const DATED_REMINDER_HOUR: u32 = 9;
/// A due this far past still gets its reminder (saved a moment after its time); one
/// further past gets none.
const GRACE_MINUTES: i64 = 5;

pub fn register(r: &mut Registry) {
    r.register(REMIND, remind).register(DIGEST, digest);
}

/// The zone a user reads times in.
async fn zone_of(conn: &impl ConnectionTrait, user_id: i64) -> Result<Tz, AppError> {
    let name = user::Entity::find_by_id(user_id)
        .select_only()
        .column(user::Column::TimeZone)
        .into_tuple::<String>()
        .one(conn)
        .await?;
    Ok(due::zone(name.as_deref().unwrap_or("UTC")))
}

fn describe(tz: Tz, due_at: Option<DateTime<Utc>>, due_date: Option<NaiveDate>) -> Option<String> {
    let year = chrono::Datelike::year(&now().with_timezone(&tz));
    due::describe(tz, due_at, due_date, year)
}

/// The emails and reminder a saved task calls for, in the transaction that saved it
/// (`before`: the task as it was, None for a new one). True when a job was enqueued (the
/// caller wakes the workers after its commit).
pub(super) async fn on_save(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    before: Option<&Task>,
    saved: &Task,
) -> Result<bool, AppError> {
    if saved.done {
        return Ok(false);
    }
    let reassigned = before.is_none_or(|b| b.assignee_id != saved.assignee_id);
    let redated = before.is_none_or(|b| (b.due_at, b.due_date) != (saved.due_at, saved.due_date));
    let reopened = before.is_some_and(|b| b.done);
    if !(reassigned || redated || reopened) {
        return Ok(false);
    }
    // The assignee hears nothing of a task about a record they may not see.
    if !super::seen_by(conn, saved.id, saved.assignee_id).await? {
        return Ok(false);
    }
    let tz = zone_of(conn, saved.assignee_id).await?;
    let mut enqueued = false;
    if reassigned {
        let n = Notification::TaskAssigned {
            task_id: saved.id,
            title: saved.title.clone(),
            due: describe(tz, saved.due_at, saved.due_date),
            to: saved.assignee_id,
            by: actor,
            version: saved.version,
        };
        enqueued |= mail::notify(conn, n).await?.is_some();
    }
    enqueued |= schedule_reminder(conn, saved, tz).await?;
    Ok(enqueued)
}

/// What a reminder job was scheduled for.
#[derive(Debug, Serialize, Deserialize)]
struct Remind {
    task_id: i64,
    assignee_id: i64,
    due_at: Option<DateTime<Utc>>,
    due_date: Option<NaiveDate>,
}

impl Remind {
    /// The due as the key and the email's key name it.
    fn due_key(&self) -> String {
        match (self.due_at, self.due_date) {
            (Some(at), _) => at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            (None, Some(d)) => d.format("%Y-%m-%d").to_string(),
            (None, None) => String::new(),
        }
    }
}

/// The instant a task is due for its reminder: its time, or `DATED_REMINDER_HOUR` on its
/// date in the assignee's zone.
fn due_instant(
    tz: Tz,
    due_at: Option<DateTime<Utc>>,
    due_date: Option<NaiveDate>,
) -> Option<DateTime<Utc>> {
    due_at.or_else(|| {
        let nine = NaiveTime::from_hms_opt(DATED_REMINDER_HOUR, 0, 0)?;
        due_date.map(|d| due::local_instant(tz, d, nine))
    })
}

/// Enqueues the reminder for the task's due and assignee, the assignee's lead time before
/// it (or at once when that is past but the due is not). None for a task with no due or
/// one already overdue.
async fn schedule_reminder(
    conn: &impl ConnectionTrait,
    t: &Task,
    tz: Tz,
) -> Result<bool, AppError> {
    let Some(at) = due_instant(tz, t.due_at, t.due_date) else {
        return Ok(false);
    };
    let now = now();
    if at < now - Duration::minutes(GRACE_MINUTES) {
        return Ok(false);
    }
    let lead = prefs::get(conn, t.assignee_id).await?.task_due_lead_minutes;
    let run_after = (at - Duration::minutes(i64::from(lead.max(0)))).max(now);
    let p = Remind {
        task_id: t.id,
        assignee_id: t.assignee_id,
        due_at: t.due_at,
        due_date: t.due_date,
    };
    let key = format!("task-{}:{}:{}", t.id, p.due_key(), t.assignee_id);
    let payload = serde_json::to_value(&p).map_err(|e| AppError::Internal(e.to_string()))?;
    queue::enqueue_in(conn, &NewJob::new(REMIND, payload).at(run_after).key(key)).await?;
    Ok(true)
}

/// Sends the reminder if the task is still open, still due then and still the same
/// person's; otherwise the job is done with nothing sent.
async fn remind(ctx: Ctx, p: Remind) -> Result<(), JobError> {
    let tx = ctx.db.begin_write().await?;
    // Holds the task against a completion or change committing while the email is queued.
    task::Entity::find_by_id(p.task_id)
        .select_only()
        .column(task::Column::Id)
        .lock_exclusive()
        .into_tuple::<i64>()
        .one(&tx)
        .await?;
    let Some(s) = reminder_state(&tx, p.task_id).await? else {
        return Ok(());
    };
    if s.done
        || s.assignee_id != p.assignee_id
        || (s.due_at, s.due_date) != (p.due_at, p.due_date)
        || !super::seen_by(&tx, s.id, s.assignee_id).await?
    {
        return Ok(());
    }
    let tz = zone_of(&tx, s.assignee_id).await?;
    let n = Notification::TaskDue {
        task_id: s.id,
        title: s.title,
        due: describe(tz, s.due_at, s.due_date).unwrap_or_default(),
        due_at: p.due_key(),
        to: s.assignee_id,
    };
    let queued = mail::notify(&tx, n).await?.is_some();
    tx.commit().await?;
    if queued {
        crate::jobs::wake();
    }
    Ok(())
}

#[derive(Deserialize)]
struct Digest {}

/// Active users who asked for the digest, with their zones: one query.
async fn digest_readers(conn: &impl ConnectionTrait) -> Result<Vec<(i64, String)>, AppError> {
    let rel = notification_pref::Entity::belongs_to(user::Entity)
        .from(notification_pref::Column::UserId)
        .to(user::Column::Id)
        .into();
    Ok(notification_pref::Entity::find()
        .select_only()
        .column(notification_pref::Column::UserId)
        .column(user::Column::TimeZone)
        .join(JoinType::InnerJoin, rel)
        .filter(notification_pref::Column::DailyDigest.eq(true))
        .filter(user::Column::Active.eq(true))
        .into_tuple::<(i64, String)>()
        .all(conn)
        .await?)
}

fn lines(tz: Tz, tasks: Vec<Task>) -> Vec<TaskLine> {
    tasks
        .into_iter()
        .map(|t| TaskLine {
            id: t.id,
            due: describe(tz, t.due_at, t.due_date).unwrap_or_default(),
            title: t.title,
        })
        .collect()
}

/// The hourly round: the next hour's run is enqueued first (so a failure never ends the
/// schedule); each reader whose local time is in `DIGEST_HOUR` gets their overdue and
/// today's tasks, once per local date (the email's key), and nothing when both are empty.
async fn digest(ctx: Ctx, _: Digest) -> Result<(), JobError> {
    let now = ctx.clock.now();
    schedule::hourly(&ctx.db.write, DIGEST, json!({}), now).await?;
    let mut queued = 0;
    for (user_id, zone) in digest_readers(&ctx.db.read).await? {
        let tz = due::zone(&zone);
        let local = now.with_timezone(&tz);
        if local.hour() != DIGEST_HOUR {
            continue;
        }
        let (overdue, today) = mine::digest_groups(&ctx.db, user_id, tz, now).await?;
        if overdue.is_empty() && today.is_empty() {
            continue;
        }
        let n = Notification::Digest {
            to: user_id,
            date: local.date_naive().format("%Y-%m-%d").to_string(),
            overdue: lines(tz, overdue),
            today: lines(tz, today),
        };
        let tx = ctx.db.begin_write().await?;
        if mail::notify(&tx, n).await?.is_some() {
            queued += 1;
        }
        tx.commit().await?;
    }
    if queued > 0 {
        crate::jobs::wake();
    }
    tracing::debug!(queued, "daily digests queued");
    Ok(())
}
