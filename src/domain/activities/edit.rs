//! Editing an activity: its author may, and so may admins and managers (the rule that
//! deleting follows). Every edit keeps the text it replaces as a revision, and marks the
//! activity edited, so a corrected note never silently rewrites what was logged.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter, QueryOrder, QuerySelect,
    RelationTrait, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Activity, check_body, check_kind, check_time, get_in};
use crate::domain::{Action, Actor, Db, FieldErrorsExt, audit, now};
use crate::entities::{activity, activity_revision, user};
use crate::error::{AppError, FieldErrors};

/// A partial edit: absent fields are kept.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityPatch {
    /// The version the edit was made from: when someone edited it since, the edit is
    /// refused with 409 instead of replacing their text.
    pub version: Option<i32>,
    /// note, call, meeting, email or payment.
    #[schema(value_type = Option<crate::domain::schema::ActivityKind>)]
    pub kind: Option<String>,
    #[schema(min_length = 1, max_length = 20000)]
    pub body: Option<String>,
    /// When it happened (RFC 3339).
    #[schema(format = DateTime)]
    pub occurred_at: Option<String>,
}

/// An activity as it was before an edit.
#[derive(Debug, Clone, Serialize, ToSchema, FromQueryResult)]
pub struct Revision {
    pub id: i64,
    pub kind: String,
    pub body: String,
    pub occurred_at: DateTime<Utc>,
    /// Who replaced this text.
    pub editor_id: Option<i64>,
    pub editor_name: Option<String>,
    /// When it was replaced.
    pub replaced_at: DateTime<Utc>,
}

fn forbidden() -> AppError {
    AppError::Forbidden("Only its author, a manager or an admin can edit an activity.".into())
}

fn stale(current: &Activity) -> AppError {
    let mut fields = FieldErrors::new();
    fields.set(
        "version",
        format!(
            "It is at version {} now; reload it and try again.",
            current.version
        ),
    );
    AppError::Conflict {
        message: format!(
            "Someone edited this {} since you opened it. Nothing was overwritten; reload to see their text.",
            current.kind_label().to_lowercase()
        ),
        fields,
    }
}

/// Edits an activity, keeping what it replaces as a revision. Long on purpose: the
/// permission and the checks, then the revision, the version-guarded update and the audit
/// line in one transaction.
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: i64,
    patch: ActivityPatch,
) -> Result<Activity, AppError> {
    actor.require(Action::WriteRecords)?;
    let tx = db.begin_write().await?;
    let current = get_in(&tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("Activity"))?;
    super::check_visible(db, &tx, actor, &current).await?;
    if !current.editable_by(actor) {
        return Err(forbidden());
    }
    if patch.version.is_some_and(|v| v != current.version) {
        return Err(stale(&current));
    }
    let mut fields = FieldErrors::new();
    let kind = match &patch.kind {
        Some(k) => check_kind(k, &mut fields),
        None => current.kind.clone(),
    };
    let body = match &patch.body {
        Some(b) => check_body(b, &mut fields).to_string(),
        None => current.body.clone(),
    };
    let occurred_at = match patch.occurred_at.as_deref().map(str::trim) {
        None | Some("") => current.occurred_at,
        at => check_time(at, &mut fields).unwrap_or(current.occurred_at),
    };
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    if kind == current.kind && body == current.body && occurred_at == current.occurred_at {
        // Nothing changed: no revision, no "edited".
        return Ok(current);
    }
    let t = now();
    activity_revision::Entity::insert(activity_revision::ActiveModel {
        activity_id: Set(id),
        kind: Set(current.kind.clone()),
        body: Set(current.body.clone()),
        occurred_at: Set(current.occurred_at),
        editor_id: Set(Some(actor.id)),
        created_at: Set(t),
        ..Default::default()
    })
    .exec_without_returning(&tx)
    .await?;
    let updated = activity::Entity::update_many()
        .set(activity::ActiveModel {
            kind: Set(kind.clone()),
            body: Set(body),
            occurred_at: Set(occurred_at),
            edited_at: Set(Some(t)),
            ..Default::default()
        })
        .col_expr(
            activity::Column::Version,
            Expr::col(activity::Column::Version).add(1),
        )
        .filter(activity::Column::Id.eq(id))
        .filter(activity::Column::Version.eq(current.version))
        .exec(&tx)
        .await?;
    if updated.rows_affected == 0 {
        return Err(stale(&current));
    }
    let activity = get_in(&tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("Activity"))?;
    let detail = audit::changes(&current, &activity);
    audit::record(&tx, Some(actor), "update", "activity", id, detail).await?;
    let deals: Vec<i64> = activity.deal_id.into_iter().collect();
    crate::domain::scoring::scores::changed(db, &tx, &deals).await?;
    let contacts: Vec<i64> = activity.contact_id.into_iter().collect();
    crate::domain::scoring::lead_scores::changed(db, &tx, &contacts).await?;
    tx.commit().await?;
    Ok(activity)
}

/// An activity and its earlier versions, newest first. Whoever can read the activity can
/// read its history.
pub async fn revisions(
    db: &Db,
    actor: &Actor,
    id: i64,
) -> Result<(Activity, Vec<Revision>), AppError> {
    use activity_revision::Column as R;
    let activity = get_in(&db.read, id)
        .await?
        .ok_or_else(|| AppError::not_found("Activity"))?;
    super::check_visible(db, &db.read, actor, &activity).await?;
    let revisions = activity_revision::Entity::find()
        .select_only()
        .columns([R::Id, R::Kind, R::Body, R::OccurredAt, R::EditorId])
        .column_as(R::CreatedAt, "replaced_at")
        .column_as(user::Column::Name, "editor_name")
        .join(
            JoinType::LeftJoin,
            activity_revision::Relation::Editor.def(),
        )
        .filter(R::ActivityId.eq(id))
        .order_by_desc(R::Id)
        .into_model::<Revision>()
        .all(&db.read)
        .await?;
    Ok((activity, revisions))
}
