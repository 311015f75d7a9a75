//! Notification emails: whom each goes to, whether they want it, and the key that sends
//! it at most once. Call `notify` inside the transaction of the change it reports (so the
//! email exists exactly when the change does), then `jobs::wake()` after the commit.
//!
//! For tasks (wired by the tasks work): `TaskAssigned` when an assignee is set by someone
//! else; `TaskDue` from the task's own reminder job, which first checks that the task is
//! still open, still due then and still theirs (its `key` names the due time, so a
//! re-dated task gets a new reminder and never the old one); `Digest` from a daily job.
use sea_orm::{ConnectionTrait, EntityTrait};

use super::content::{Content, Letter, TaskLine};
use super::outbox::{self, NewEmail};
use super::{prefs, settings};
use crate::domain::Actor;
use crate::entities::user;
use crate::error::AppError;

pub enum Notification<'a> {
    /// `to` became the owner of a deal, by `by`'s change; `version` is the deal's version
    /// after it.
    DealAssigned {
        deal_id: i64,
        title: String,
        to: i64,
        by: &'a Actor,
        version: i32,
    },
    TaskAssigned {
        task_id: i64,
        title: String,
        due: Option<String>,
        to: i64,
        by: &'a Actor,
        version: i32,
    },
    /// `due`: as the assignee reads it; `due_at`: the instant (RFC 3339), for the key.
    TaskDue {
        task_id: i64,
        title: String,
        due: String,
        due_at: String,
        to: i64,
    },
    /// A web form's submission made or updated a contact `to` owns; sent when the
    /// form says so (its own setting, not the owner's notification choices).
    FormSubmitted {
        submission_id: i64,
        form: String,
        contact_id: i64,
        contact_name: String,
        created: bool,
        to: i64,
    },
    /// `date`: the recipient's day (YYYY-MM-DD), for the text and the key.
    Digest {
        to: i64,
        date: String,
        overdue: Vec<TaskLine>,
        today: Vec<TaskLine>,
    },
}

impl Notification<'_> {
    fn recipient(&self) -> i64 {
        match self {
            Notification::DealAssigned { to, .. }
            | Notification::TaskAssigned { to, .. }
            | Notification::TaskDue { to, .. }
            | Notification::FormSubmitted { to, .. }
            | Notification::Digest { to, .. } => *to,
        }
    }

    /// Who caused it, for the changes someone makes (nobody is told of their own).
    fn by(&self) -> Option<&Actor> {
        match self {
            Notification::DealAssigned { by, .. } | Notification::TaskAssigned { by, .. } => {
                Some(by)
            }
            _ => None,
        }
    }

    fn wanted(&self, p: &prefs::Prefs) -> bool {
        match self {
            Notification::DealAssigned { .. } => p.deal_assigned,
            Notification::TaskAssigned { .. } => p.task_assigned,
            Notification::TaskDue { .. } => p.task_due,
            Notification::Digest { .. } => p.daily_digest,
            Notification::FormSubmitted { .. } => true,
        }
    }

    fn key(&self) -> String {
        match self {
            Notification::DealAssigned {
                deal_id,
                to,
                version,
                ..
            } => {
                format!("deal-assigned:{deal_id}:{to}:v{version}")
            }
            Notification::TaskAssigned {
                task_id,
                to,
                version,
                ..
            } => {
                format!("task-assigned:{task_id}:{to}:v{version}")
            }
            Notification::TaskDue {
                task_id,
                to,
                due_at,
                ..
            } => {
                format!("task-due:{task_id}:{to}:{due_at}")
            }
            Notification::Digest { to, date, .. } => format!("digest:{to}:{date}"),
            Notification::FormSubmitted {
                submission_id, to, ..
            } => format!("form-submitted:{submission_id}:{to}"),
        }
    }

    fn content(self) -> Content {
        match self {
            Notification::DealAssigned {
                deal_id, title, by, ..
            } => Content::DealAssigned {
                deal_id,
                title,
                by: by.name.clone(),
            },
            Notification::TaskAssigned {
                task_id,
                title,
                due,
                by,
                ..
            } => Content::TaskAssigned {
                task_id,
                title,
                by: by.name.clone(),
                due,
            },
            Notification::TaskDue {
                task_id,
                title,
                due,
                ..
            } => Content::TaskDue {
                task_id,
                title,
                due,
            },
            Notification::FormSubmitted {
                form,
                contact_id,
                contact_name,
                created,
                ..
            } => Content::FormSubmitted {
                form,
                contact_id,
                contact_name,
                created,
            },
            Notification::Digest {
                date,
                overdue,
                today,
                ..
            } => Content::Digest {
                date,
                overdue,
                today,
            },
        }
    }
}

/// Enqueues the email for `n` unless its recipient caused it, is inactive or gone, or does
/// not want this kind; and never twice for the same event. Returns the outbox id when
/// one was added.
pub async fn notify(
    conn: &impl ConnectionTrait,
    n: Notification<'_>,
) -> Result<Option<i64>, AppError> {
    let to = n.recipient();
    if n.by().is_some_and(|by| by.id == to) {
        return Ok(None);
    }
    let Some(user) = user::Entity::find_by_id(to).one(conn).await? else {
        return Ok(None);
    };
    if !user.active || !n.wanted(&prefs::get(conn, to).await?) {
        return Ok(None);
    }
    let org = settings::org_name(conn).await?;
    let key = n.key();
    let content = n.content();
    let email = NewEmail {
        user_id: Some(user.id),
        to: user.email,
        subject: content.subject(&org),
        letter: Letter {
            to_name: user.name,
            content,
        },
        key,
    };
    outbox::enqueue(conn, &email).await
}
