//! Activity rows (notes, calls, meetings, emails): matched by source id only; their
//! kind from the source's type names, their time in the import's zone, their author by
//! the owner column, the one record they belong to (`about`); checked by the activities
//! domain's own rules; written in bulk.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use super::cells::Cells;
use super::plan::{Ctx, Plan, Ref};
use super::rows::{Kind, Verdict, refused};
use super::{about, insert, matching};
use crate::domain::import::{ObjectKind, presets};
use crate::domain::{Db, activities};
use crate::entities::activity;
use crate::error::{AppError, FieldErrors};

/// Activities as planning knows them (`rows::Kind`).
pub(super) struct Activity;

#[derive(Serialize, Deserialize)]
pub(in crate::domain::import) struct Row {
    pub kind: String,
    pub body: String,
    pub occurred_at: DateTime<Utc>,
    pub author_id: i64,
    /// The record it belongs to.
    pub about: (ObjectKind, Ref),
    pub created_at: Option<DateTime<Utc>>,
    /// Boxed: only an update has one, and every planned row carries the field.
    pub before: Option<Box<Before>>,
}

/// An updated activity's columns as they were, for undo.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(in crate::domain::import) struct Before {
    kind: String,
    body: String,
    occurred_at: DateTime<Utc>,
    deal_id: Option<i64>,
    contact_id: Option<i64>,
    company_id: Option<i64>,
    author_id: Option<i64>,
    version: i32,
    edited_at: Option<DateTime<Utc>>,
}

impl Before {
    fn of(m: &activity::Model) -> Before {
        Before {
            kind: m.kind.clone(),
            body: m.body.clone(),
            occurred_at: m.occurred_at,
            deal_id: m.deal_id,
            contact_id: m.contact_id,
            company_id: m.company_id,
            author_id: m.author_id,
            version: m.version,
            edited_at: m.edited_at,
        }
    }

    pub fn restore(self) -> activity::ActiveModel {
        activity::ActiveModel {
            kind: Set(self.kind),
            body: Set(self.body),
            occurred_at: Set(self.occurred_at),
            deal_id: Set(self.deal_id),
            contact_id: Set(self.contact_id),
            company_id: Set(self.company_id),
            author_id: Set(self.author_id),
            version: Set(self.version),
            edited_at: Set(self.edited_at),
            ..Default::default()
        }
    }
}

/// The source systems' type names for Cairn's kinds, normalised (`presets::norm`).
const TYPES: &[(&str, &str)] = &[
    ("note", "note"),
    ("notes", "note"),
    ("comment", "note"),
    ("call", "call"),
    ("calls", "call"),
    ("phonecall", "call"),
    ("loggedcall", "call"),
    ("meeting", "meeting"),
    ("meetings", "meeting"),
    ("event", "meeting"),
    ("appointment", "meeting"),
    ("email", "email"),
    ("emails", "email"),
    ("mail", "email"),
    ("listemail", "email"),
    ("incomingemail", "email"),
    ("forwardedemail", "email"),
    ("payment", "payment"),
    ("refund", "refund"),
];

/// The kind a file holds when its rows do not say: HubSpot and Salesforce export one
/// file per type (`hubspot-…-calls-….csv`, `Event.csv`).
fn kind_of_file(name: &str) -> &'static str {
    let n = presets::norm(name);
    if n.contains("call") {
        "call"
    } else if n.contains("meeting") || n.contains("event") {
        "meeting"
    } else if n.contains("email") {
        "email"
    } else {
        "note"
    }
}

/// The kind and text of a row: a type Cairn has no kind for makes a note with the type
/// at the start of its text (and says so).
fn kind_and_body(ctx: &Ctx, row: &Cells, notes: &mut Vec<String>) -> (String, String) {
    let body = row.lines("body").unwrap_or_default();
    let file = ctx.files.get(row.0.file).map_or("", |f| f.name.as_str());
    let Some(given) = row.field("kind") else {
        return (kind_of_file(file).to_string(), body);
    };
    let norm = presets::norm(given);
    match TYPES.iter().find(|(t, _)| *t == norm) {
        Some((_, kind)) => (kind.to_string(), body),
        None => {
            notes.push(format!(
                "Its type “{given}” is none of Cairn's (note, call, meeting, email): imported as a note, the type at the start of its text."
            ));
            let body = if body.is_empty() {
                given.to_string()
            } else {
                format!("{given}: {body}")
            };
            ("note".to_string(), body)
        }
    }
}

impl Kind for Activity {
    const KIND: ObjectKind = ObjectKind::Activity;
    type Existing = activity::Model;
    type Known = about::Known;
    type Row = Row;

    async fn by_id(db: &Db, ids: &HashSet<i64>) -> Result<HashMap<i64, activity::Model>, AppError> {
        matching::by_id::<activity::Entity>(&db.read, activity::Column::Id, |m| m.id, ids).await
    }

    async fn known(
        ctx: &Ctx<'_>,
        plan: &mut Plan,
        cells: &[Cells<'_>],
    ) -> Result<about::Known, AppError> {
        about::known(ctx, plan, cells).await
    }

    fn id(e: &activity::Model) -> i64 {
        e.id
    }

    fn noun() -> &'static str {
        "activity"
    }

    fn skipped(e: &activity::Model) -> String {
        format!(
            "Matches the activity #{} an earlier import made of it.",
            e.id
        )
    }

    async fn check(
        ctx: &Ctx<'_>,
        known: &about::Known,
        c: &Cells<'_>,
        current: Option<&activity::Model>,
        _beside: bool,
        _dry: bool,
        verdict: &mut Verdict,
    ) -> Result<Option<Row>, AppError> {
        let (mut kind, mut body) = kind_and_body(ctx, c, &mut verdict.notes);
        // An update keeps what the file has no column for.
        if let Some(m) = current {
            if !c.has_field("kind") {
                kind = m.kind.clone();
            }
            if !c.has_field("body") {
                body = m.body.clone();
            }
        }
        let mut fields = FieldErrors::new();
        let kind = activities::check_kind(&kind, &mut fields);
        let body = activities::check_body(&body, &mut fields).to_string();
        let reasons = &mut verdict.reasons;
        // Without a time of its own, it happened when the source made it.
        let created_at = ctx.time(c, "created_at", reasons);
        let at = ctx
            .time(c, "occurred_at", reasons)
            .or(created_at)
            .map(|t| t.to_rfc3339());
        let occurred_at =
            activities::check_time(at.as_deref(), &mut fields).or(current.map(|m| m.occurred_at));
        let author_id = match c.owner() {
            Some(owner) => ctx.owners.find(owner).map_err(|why| reasons.push(why)).ok(),
            None => Some(current.and_then(|m| m.author_id).unwrap_or(ctx.actor.id)),
        };
        let about = match about::about(ctx, known, c, &mut verdict.notes) {
            Ok(found) => about::one(found, &mut verdict.notes),
            Err(why) => {
                verdict.reasons.extend(why);
                return Ok(None);
            }
        };
        let about = about::or_current(
            about,
            current.and_then(|m| about::of(m.deal_id, m.contact_id, m.company_id)),
        );
        if about.is_none() {
            verdict.reasons.push(
                "An activity belongs to a record: the row names no contact, company or deal."
                    .into(),
            );
        }
        if !fields.is_empty() {
            refused(AppError::validation(fields), verdict)?;
        }
        let (Some(about), Some(author_id)) = (about, author_id) else {
            return Ok(None);
        };
        Ok(Some(Row {
            kind,
            body,
            occurred_at: occurred_at.unwrap_or_else(crate::domain::now),
            author_id,
            about,
            created_at,
            before: current.map(|m| Box::new(Before::of(m))),
        }))
    }
}

/// The activity's three links once its record has an id (none while it waits for a
/// later import: `pending`).
fn links(kind: ObjectKind, id: Option<i64>) -> (Option<i64>, Option<i64>, Option<i64>) {
    match kind {
        ObjectKind::Deal => (id, None, None),
        ObjectKind::Company => (None, None, id),
        _ => (None, id, None),
    }
}

/// Inserts new activities in one statement, each with its record's id; their ids, in
/// order (ids are assigned in VALUES order, as `stripe::timeline` relies on too). No
/// audit line or webhook per row: the import's one audit entry stands for them, and a
/// year of history arriving is not news to send anywhere.
pub(super) async fn insert(
    tx: &impl ConnectionTrait,
    rows: &[(&Row, Option<i64>)],
    at: DateTime<Utc>,
) -> Result<Vec<i64>, AppError> {
    let models: Vec<_> = rows
        .iter()
        .map(|(r, record)| activity::ActiveModel {
            id: NotSet,
            created_at: Set(r.created_at.unwrap_or(at)),
            version: Set(1),
            edited_at: Set(None),
            ..columns(r, *record)
        })
        .collect();
    insert::ids(tx, models, |a| a.id).await
}

/// The columns an activity takes from its row (and `record`, the id of what it is
/// about), whether the import creates it or writes over it.
fn columns(r: &Row, record: Option<i64>) -> activity::ActiveModel {
    let (deal_id, contact_id, company_id) = links(r.about.0, record);
    activity::ActiveModel {
        kind: Set(r.kind.clone()),
        body: Set(r.body.clone()),
        occurred_at: Set(r.occurred_at),
        deal_id: Set(deal_id),
        contact_id: Set(contact_id),
        company_id: Set(company_id),
        author_id: Set(Some(r.author_id)),
        ..Default::default()
    }
}

/// Writes an update over activity `id`: marked edited at `at` (undo knows it by that)
/// with its version raised, as an edit on its page does.
pub(super) async fn update(
    tx: &impl ConnectionTrait,
    id: i64,
    row: &Row,
    record: Option<i64>,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    activity::Entity::update_many()
        .set(activity::ActiveModel {
            edited_at: Set(Some(at)),
            ..columns(row, record)
        })
        .col_expr(
            activity::Column::Version,
            Expr::col(activity::Column::Version).add(1),
        )
        .filter(activity::Column::Id.eq(id))
        .exec(tx)
        .await?;
    Ok(())
}
