//! Activities: what happened with a deal, a contact or a company (a note, a call, a
//! meeting, an email, a payment), newest first on the record's page. Editing one, with
//! its earlier texts kept, is in `edit`; a record's timeline, page by page, in `timeline`.
mod edit;
mod timeline;

pub use edit::{ActivityPatch, Revision, revisions, update};
pub use timeline::{ListParams, ListQuery, list};

use chrono::{DateTime, Datelike, SubsecRound, Utc};
use sea_orm::sea_query::{Asterisk, Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, NotSet,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, RelationTrait, Select, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Db;
use crate::domain::access;
use crate::domain::{Action, Actor, FieldErrorsExt, Page, audit, now};
use crate::entities::{activity, company, contact, deal, deal_contact, user};
use crate::error::{AppError, FieldErrors};

/// Kinds and how the page names them.
pub const KINDS: &[(&str, &str)] = &[
    ("note", "Note"),
    ("call", "Call"),
    ("meeting", "Meeting"),
    ("email", "Email"),
    ("payment", "Payment"),
    ("refund", "Refund"),
];

const MAX_BODY: usize = 20_000;

/// The record an activity belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Deal(i64),
    Contact(i64),
    Company(i64),
}

impl Subject {
    fn column(self) -> (&'static str, i64) {
        match self {
            Subject::Deal(id) => ("deal_id", id),
            Subject::Contact(id) => ("contact_id", id),
            Subject::Company(id) => ("company_id", id),
        }
    }

    /// The record's table, as record-level access names it.
    fn table(self) -> (access::Table, i64) {
        match self {
            Subject::Deal(id) => (access::Table::Deals, id),
            Subject::Contact(id) => (access::Table::Contacts, id),
            Subject::Company(id) => (access::Table::Companies, id),
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Subject::Deal(_) => "deal",
            Subject::Contact(_) => "contact",
            Subject::Company(_) => "company",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityInput {
    /// note, call, meeting, email or payment.
    #[schema(value_type = crate::domain::schema::ActivityKind)]
    pub kind: String,
    #[schema(min_length = 1, max_length = 20000)]
    pub body: String,
    /// When it happened (RFC 3339); now when absent.
    #[schema(format = DateTime)]
    pub occurred_at: Option<String>,
    /// Exactly one of deal_id, contact_id and company_id.
    pub deal_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub company_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema, FromQueryResult)]
pub struct Activity {
    pub id: i64,
    pub kind: String,
    pub body: String,
    pub occurred_at: DateTime<Utc>,
    pub deal_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub company_id: Option<i64>,
    pub author_id: Option<i64>,
    pub author_name: Option<String>,
    /// The deal's title, for an activity logged on a deal.
    pub deal_title: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Raised by every edit; a PATCH may name the version it was made from.
    pub version: i32,
    /// When it was last edited; its earlier texts are its revisions.
    pub edited_at: Option<DateTime<Utc>>,
}

impl Activity {
    pub fn kind_label(&self) -> &'static str {
        KINDS
            .iter()
            .find(|(k, _)| *k == self.kind)
            .map_or("Note", |(_, label)| label)
    }

    /// Whether `actor` may edit or delete it: its author, or an admin or manager.
    pub fn deletable_by(&self, actor: &Actor) -> bool {
        actor.may_on(Action::EditEntries, self.author_id == Some(actor.id))
    }

    /// The same rule as deleting: whoever may remove an entry may correct it.
    pub fn editable_by(&self, actor: &Actor) -> bool {
        self.deletable_by(actor)
    }
}

/// Activities with their author's name and, for a deal's, the deal's title.
fn select() -> Select<activity::Entity> {
    use activity::Column as A;
    activity::Entity::find()
        .select_only()
        .columns([
            A::Id,
            A::Kind,
            A::Body,
            A::OccurredAt,
            A::DealId,
            A::ContactId,
        ])
        .columns([
            A::CompanyId,
            A::AuthorId,
            A::CreatedAt,
            A::Version,
            A::EditedAt,
        ])
        .column_as(user::Column::Name, "author_name")
        .column_as(deal::Column::Title, "deal_title")
        .join(JoinType::LeftJoin, activity::Relation::Author.def())
        .join(JoinType::LeftJoin, activity::Relation::Deal.def())
}

/// Refuses, as "not found" (`what`), a record `actor` may not see (`access`): its
/// activities are hidden with it.
async fn check_subject(
    db: &Db,
    conn: &impl ConnectionTrait,
    actor: &Actor,
    subject: Subject,
    what: &str,
) -> Result<(), AppError> {
    let (table, id) = subject.table();
    access::check(db, conn, actor, table, id, what).await
}

impl Activity {
    /// The record it is about.
    fn subject(&self) -> Option<Subject> {
        match (self.deal_id, self.contact_id, self.company_id) {
            (Some(d), _, _) => Some(Subject::Deal(d)),
            (None, Some(c), _) => Some(Subject::Contact(c)),
            (None, None, Some(c)) => Some(Subject::Company(c)),
            _ => None,
        }
    }
}

/// Refuses, as "not found", an activity about a record `actor` may not see.
pub(super) async fn check_visible(
    db: &Db,
    conn: &impl ConnectionTrait,
    actor: &Actor,
    activity: &Activity,
) -> Result<(), AppError> {
    match activity.subject() {
        Some(s) => check_subject(db, conn, actor, s, "Activity").await,
        None => Ok(()),
    }
}

/// The activities `actor` may see: those about records they may see (`access`); none
/// to add when they see everything.
fn visible_condition(visible: access::Visible) -> Option<Condition> {
    use activity::Column as A;
    (!visible.is_all()).then(|| {
        visible.linked(
            (activity::Entity, A::DealId),
            (activity::Entity, A::ContactId),
            (activity::Entity, A::CompanyId),
            &[(activity::Entity, A::AuthorId)],
        )
    })
}

async fn exists(conn: &impl ConnectionTrait, subject: Subject) -> Result<bool, AppError> {
    match subject {
        Subject::Deal(id) => {
            has_row::<deal::Entity>(conn, deal::Column::Id, deal::Column::DeletedAt, id).await
        }
        Subject::Contact(id) => {
            has_row::<contact::Entity>(conn, contact::Column::Id, contact::Column::DeletedAt, id)
                .await
        }
        Subject::Company(id) => {
            has_row::<company::Entity>(conn, company::Column::Id, company::Column::DeletedAt, id)
                .await
        }
    }
}

/// Whether the live (not trashed) record `id` exists.
async fn has_row<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    id_column: E::Column,
    deleted_at: E::Column,
    id: i64,
) -> Result<bool, AppError> {
    Ok(E::find()
        .select_only()
        .column(id_column)
        .filter(id_column.eq(id))
        .filter(deleted_at.is_null())
        .into_tuple::<i64>()
        .one(conn)
        .await?
        .is_some())
}

/// One activity; 404 when there is none with this id.
pub async fn get(db: &Db, actor: &Actor, id: i64) -> Result<Activity, AppError> {
    let found = get_in(&db.read, id)
        .await?
        .ok_or_else(|| AppError::not_found("Activity"))?;
    check_visible(db, &db.read, actor, &found).await?;
    // A trashed record's activities wait in the trash with it.
    let subject = match (found.deal_id, found.contact_id, found.company_id) {
        (Some(d), _, _) => Some(Subject::Deal(d)),
        (None, Some(c), _) => Some(Subject::Contact(c)),
        (None, None, Some(c)) => Some(Subject::Company(c)),
        _ => None,
    };
    if let Some(subject) = subject
        && !exists(&db.read, subject).await?
    {
        return Err(AppError::not_found("Activity"));
    }
    Ok(found)
}

async fn get_in(conn: &impl ConnectionTrait, id: i64) -> Result<Option<Activity>, AppError> {
    Ok(select()
        .filter(activity::Column::Id.eq(id))
        .into_model::<Activity>()
        .one(conn)
        .await?)
}

fn subject_of(input: &ActivityInput, fields: &mut FieldErrors) -> Option<Subject> {
    let given: Vec<Subject> = [
        input.deal_id.map(Subject::Deal),
        input.contact_id.map(Subject::Contact),
        input.company_id.map(Subject::Company),
    ]
    .into_iter()
    .flatten()
    .collect();
    match given.as_slice() {
        [one] => Some(*one),
        [] => {
            fields.set(
                "deal_id",
                "Say what the activity is about: a deal_id, contact_id or company_id.",
            );
            None
        }
        _ => {
            fields.set(
                "deal_id",
                "An activity belongs to one record: give only one of deal_id, contact_id and company_id.",
            );
            None
        }
    }
}

/// The kind, lower case; a message on `kind` when it is none of KINDS.
pub(crate) fn check_kind(kind: &str, fields: &mut FieldErrors) -> String {
    let kind = kind.trim().to_lowercase();
    if !KINDS.iter().any(|(k, _)| *k == kind) {
        fields.set(
            "kind",
            "Kind must be one of note, call, meeting, email or payment.",
        );
    }
    kind
}

/// The text, trimmed; a message on `body` when it is empty, too long or not text.
pub(crate) fn check_body<'a>(body: &'a str, fields: &mut FieldErrors) -> &'a str {
    let body = body.trim();
    if body.is_empty() {
        fields.set("body", "Write what happened.");
    } else if body.chars().count() > MAX_BODY {
        fields.set("body", format!("At most {MAX_BODY} characters."));
    } else if body
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        fields.set("body", "The text holds control characters.");
    }
    body
}

/// When it happened: None when not given (or not valid, with a message on `occurred_at`).
pub(crate) fn check_time(at: Option<&str>, fields: &mut FieldErrors) -> Option<DateTime<Utc>> {
    let t = now();
    match at.map(str::trim) {
        None | Some("") => None,
        Some(s) => match DateTime::parse_from_rfc3339(s) {
            // A typo of a year would sit at the top (or bottom) of the timeline for good.
            Ok(at) if !(1900..=t.year() + 10).contains(&at.year()) => {
                fields.set(
                    "occurred_at",
                    "Give a time between the year 1900 and ten years from now.",
                );
                None
            }
            // Stored at the precision both engines keep, which the cursor repeats.
            Ok(at) => Some(at.with_timezone(&Utc).trunc_subsecs(6)),
            Err(_) => {
                fields.set(
                    "occurred_at",
                    "Give the time as RFC 3339, e.g. 2026-11-26T09:30:00Z.",
                );
                None
            }
        },
    }
}

/// Logs an activity against its record, with its author and an audit line. A little over
/// the usual length: the checks, then one insert and its audit in a transaction.
pub async fn create(db: &Db, actor: &Actor, input: &ActivityInput) -> Result<Activity, AppError> {
    actor.require(Action::WriteRecords)?;
    let mut fields = FieldErrors::new();
    let kind = check_kind(&input.kind, &mut fields);
    let body = check_body(&input.body, &mut fields);
    let t = now();
    let occurred_at = check_time(input.occurred_at.as_deref(), &mut fields).unwrap_or(t);
    let subject = subject_of(input, &mut fields);
    let tx = db.begin_write().await?;
    if let Some(s) = subject {
        let noun = s.noun();
        let mut title = noun.to_string();
        title[..1].make_ascii_uppercase();
        check_subject(db, &tx, actor, s, &title).await?;
    }
    if let Some(s) = subject
        && !exists(&tx, s).await?
    {
        let (column, _) = s.column();
        let noun = s.noun();
        fields.set(column, format!("No {noun} has this id."));
    }
    let Some(subject) = subject.filter(|_| fields.is_empty()) else {
        return Err(AppError::validation(fields));
    };
    let (_, subject_id) = subject.column();
    let (deal_id, contact_id, company_id) = match subject {
        Subject::Deal(id) => (Some(id), None, None),
        Subject::Contact(id) => (None, Some(id), None),
        Subject::Company(id) => (None, None, Some(id)),
    };
    let id = activity::Entity::insert(activity::ActiveModel {
        id: NotSet,
        kind: Set(kind.clone()),
        body: Set(body.to_string()),
        occurred_at: Set(occurred_at),
        deal_id: Set(deal_id),
        contact_id: Set(contact_id),
        company_id: Set(company_id),
        author_id: Set(Some(actor.id)),
        created_at: Set(t),
        version: Set(1),
        edited_at: Set(None),
    })
    .exec(&tx)
    .await?
    .last_insert_id;
    // Recorded under the activity itself: the record's own history stays about the record.
    let noun = subject.noun();
    audit::record(
        &tx,
        Some(actor),
        "create",
        "activity",
        id,
        Some(serde_json::json!({"kind": kind, noun: subject_id})),
    )
    .await?;
    let activity = get_in(&tx, id)
        .await?
        .ok_or_else(|| AppError::Internal("the new activity vanished".into()))?;
    let deals: Vec<i64> = deal_id.into_iter().collect();
    crate::domain::scoring::scores::changed(db, &tx, &deals).await?;
    let contacts: Vec<i64> = activity.contact_id.into_iter().collect();
    crate::domain::scoring::lead_scores::changed(db, &tx, &contacts).await?;
    tx.commit().await?;
    Ok(activity)
}

/// Removes an activity: its author may, and so may admins and managers.
pub async fn delete(db: &Db, actor: &Actor, id: i64) -> Result<Activity, AppError> {
    actor.require(Action::WriteRecords)?;
    let tx = db.begin_write().await?;
    let activity = get_in(&tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("Activity"))?;
    check_visible(db, &tx, actor, &activity).await?;
    if !activity.deletable_by(actor) {
        return Err(AppError::Forbidden(
            "Only its author, a manager or an admin can delete an activity.".into(),
        ));
    }
    activity::Entity::delete_by_id(id).exec(&tx).await?;
    audit::record(
        &tx,
        Some(actor),
        "delete",
        "activity",
        id,
        Some(serde_json::json!({
            "kind": activity.kind,
            "deal_id": activity.deal_id,
            "contact_id": activity.contact_id,
            "company_id": activity.company_id,
        })),
    )
    .await?;
    let deals: Vec<i64> = activity.deal_id.into_iter().collect();
    crate::domain::scoring::scores::changed(db, &tx, &deals).await?;
    let contacts: Vec<i64> = activity.contact_id.into_iter().collect();
    crate::domain::scoring::lead_scores::changed(db, &tx, &contacts).await?;
    tx.commit().await?;
    Ok(activity)
}

/// A note on contact `contact_id` written by no user (a web form's submission), inside
/// the caller's transaction, with its audit row from `ip`. The text is cut to the
/// longest an activity holds.
pub(crate) async fn note_in(
    tx: &impl ConnectionTrait,
    contact_id: i64,
    body: &str,
    ip: Option<&str>,
) -> Result<i64, AppError> {
    let t = now();
    let body: String = body.chars().take(MAX_BODY).collect();
    let id = activity::Entity::insert(activity::ActiveModel {
        id: NotSet,
        kind: Set("note".into()),
        body: Set(body),
        occurred_at: Set(t),
        deal_id: Set(None),
        contact_id: Set(Some(contact_id)),
        company_id: Set(None),
        author_id: Set(None),
        created_at: Set(t),
        version: Set(1),
        edited_at: Set(None),
    })
    .exec(tx)
    .await?
    .last_insert_id;
    let detail = serde_json::json!({"kind": "note", "contact": contact_id});
    audit::record_as(tx, None, ip, "create", "activity", id, Some(detail)).await?;
    Ok(id)
}
