//! A form's submission log (Settings → Forms → a form's log): newest first, a page at a
//! time, each with what was sent, what came of it and why.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::{Action, Actor, Db};
use crate::entities::form_submission;
use crate::error::AppError;

pub const PAGE: u64 = 50;

#[derive(Clone, Debug)]
pub struct Submission {
    pub id: i64,
    pub contact_id: Option<i64>,
    /// created, updated or rejected.
    pub status: String,
    pub reason: Option<String>,
    pub ip: Option<String>,
    pub received_at: DateTime<Utc>,
    /// What was sent, field by field.
    pub data: BTreeMap<String, String>,
}

impl From<form_submission::Model> for Submission {
    fn from(m: form_submission::Model) -> Submission {
        Submission {
            id: m.id,
            contact_id: m.contact_id,
            status: m.status,
            reason: m.reason,
            ip: m.ip,
            received_at: m.received_at,
            data: serde_json::from_str(&m.data).unwrap_or_default(),
        }
    }
}

/// Up to `PAGE` submissions of form `form_id` older than `before` (an id; None: the
/// newest), and whether there are more.
pub async fn page(
    db: &Db,
    actor: &Actor,
    form_id: i64,
    before: Option<i64>,
) -> Result<(Vec<Submission>, bool), AppError> {
    actor.require(Action::ManageForms)?;
    let mut q = form_submission::Entity::find()
        .filter(form_submission::Column::FormId.eq(form_id))
        .order_by_desc(form_submission::Column::Id)
        .limit(PAGE + 1);
    if let Some(b) = before {
        q = q.filter(form_submission::Column::Id.lt(b));
    }
    let mut rows: Vec<Submission> = q
        .all(&db.read)
        .await?
        .into_iter()
        .map(Submission::from)
        .collect();
    let more = rows.len() as u64 > PAGE;
    rows.truncate(PAGE as usize);
    Ok((rows, more))
}
