//! Which notification emails each user wants (their account page). A user without a
//! stored row has the defaults: everything but the daily digest, reminders at the due
//! time.
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use serde::Deserialize;

use crate::domain::{Actor, Db, now};
use crate::entities::notification_pref;
use crate::error::AppError;

/// At most a week's warning before a task is due.
pub const MAX_LEAD_MINUTES: i32 = 7 * 24 * 60;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prefs {
    /// A task assigned to you by someone else.
    pub task_assigned: bool,
    /// A task of yours coming due, `task_due_lead_minutes` before its time.
    pub task_due: bool,
    pub task_due_lead_minutes: i32,
    /// A deal assigned to you by someone else.
    pub deal_assigned: bool,
    /// Each morning: your overdue tasks and today's.
    pub daily_digest: bool,
}

impl Default for Prefs {
    fn default() -> Prefs {
        Prefs {
            task_assigned: true,
            task_due: true,
            task_due_lead_minutes: 0,
            deal_assigned: true,
            daily_digest: false,
        }
    }
}

impl From<notification_pref::Model> for Prefs {
    fn from(m: notification_pref::Model) -> Prefs {
        Prefs {
            task_assigned: m.task_assigned,
            task_due: m.task_due,
            task_due_lead_minutes: m.task_due_lead_minutes,
            deal_assigned: m.deal_assigned,
            daily_digest: m.daily_digest,
        }
    }
}

pub async fn get(conn: &impl ConnectionTrait, user_id: i64) -> Result<Prefs, AppError> {
    Ok(notification_pref::Entity::find_by_id(user_id)
        .one(conn)
        .await?
        .map(Prefs::from)
        .unwrap_or_default())
}

/// The account page's form: a ticked box is present, an unticked one absent.
#[derive(Debug, Default, Deserialize)]
pub struct Form {
    pub task_assigned: Option<String>,
    pub task_due: Option<String>,
    #[serde(default)]
    pub task_due_lead_minutes: String,
    pub deal_assigned: Option<String>,
    pub daily_digest: Option<String>,
}

impl Form {
    pub fn read(&self) -> Result<Prefs, AppError> {
        let lead = self.task_due_lead_minutes.trim();
        let lead = if lead.is_empty() {
            Ok(0)
        } else {
            lead.parse::<i32>()
        };
        let task_due_lead_minutes = match lead {
            Ok(n) if (0..=MAX_LEAD_MINUTES).contains(&n) => n,
            _ => {
                return Err(AppError::field(
                    "task_due_lead_minutes",
                    format!(
                        "The warning is a whole number of minutes from 0 to {MAX_LEAD_MINUTES}."
                    ),
                ));
            }
        };
        Ok(Prefs {
            task_assigned: self.task_assigned.is_some(),
            task_due: self.task_due.is_some(),
            task_due_lead_minutes,
            deal_assigned: self.deal_assigned.is_some(),
            daily_digest: self.daily_digest.is_some(),
        })
    }
}

/// Saves the actor's own preferences.
pub async fn save(db: &Db, actor: &Actor, p: &Prefs) -> Result<(), AppError> {
    notification_pref::Entity::insert(notification_pref::ActiveModel {
        user_id: Set(actor.id),
        task_assigned: Set(p.task_assigned),
        task_due: Set(p.task_due),
        task_due_lead_minutes: Set(p.task_due_lead_minutes),
        deal_assigned: Set(p.deal_assigned),
        daily_digest: Set(p.daily_digest),
        updated_at: Set(now()),
    })
    .on_conflict(
        OnConflict::column(notification_pref::Column::UserId)
            .update_columns([
                notification_pref::Column::TaskAssigned,
                notification_pref::Column::TaskDue,
                notification_pref::Column::TaskDueLeadMinutes,
                notification_pref::Column::DealAssigned,
                notification_pref::Column::DailyDigest,
                notification_pref::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec(&db.write)
    .await?;
    Ok(())
}
