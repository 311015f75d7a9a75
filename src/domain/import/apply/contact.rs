//! Contact rows: matched by source id, else email; linked to their company by its
//! source id, else its name; checked by `contacts::validate`; written in bulk.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use super::cells::Cells;
use super::plan::{Ctx, Plan, Ref};
use super::rows::{Kind, Verdict, refused};
use super::{insert, links, matching};
use crate::domain::contacts::{self, ContactInput, Valid};
use crate::domain::custom_fields;
use crate::domain::import::ObjectKind;
use crate::domain::{Db, normalise};
use crate::entities::contact;
use crate::error::AppError;

/// Contacts as planning knows them (`rows::Kind`).
pub(super) struct Contact;

#[derive(Serialize, Deserialize)]
pub(in crate::domain::import) struct Row {
    pub valid: Valid,
    /// When the source made it (kept on create; an update leaves Cairn's).
    pub created_at: Option<DateTime<Utc>>,
    pub company: Option<Ref>,
    /// Boxed: only an update has one, and every planned row carries the field.
    pub before: Option<Box<Before>>,
}

/// An updated contact's columns as they were, for undo.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(in crate::domain::import) struct Before {
    first_name: String,
    last_name: String,
    email: Option<String>,
    email_norm: Option<String>,
    phone: Option<String>,
    company_id: Option<i64>,
    title: Option<String>,
    source: String,
    owner_id: i64,
    custom: String,
    updated_at: DateTime<Utc>,
}

impl Before {
    fn of(m: &contact::Model) -> Before {
        Before {
            first_name: m.first_name.clone(),
            last_name: m.last_name.clone(),
            email: m.email.clone(),
            email_norm: m.email_norm.clone(),
            phone: m.phone.clone(),
            company_id: m.company_id,
            title: m.title.clone(),
            source: m.source.clone(),
            owner_id: m.owner_id,
            custom: m.custom.clone(),
            updated_at: m.updated_at,
        }
    }

    pub fn restore(self) -> contact::ActiveModel {
        contact::ActiveModel {
            first_name: Set(self.first_name),
            last_name: Set(self.last_name),
            email: Set(self.email),
            email_norm: Set(self.email_norm),
            phone: Set(self.phone),
            company_id: Set(self.company_id),
            title: Set(self.title),
            source: Set(self.source),
            owner_id: Set(self.owner_id),
            custom: Set(self.custom),
            updated_at: Set(self.updated_at),
            ..Default::default()
        }
    }
}

/// The input a row gives, over the current contact when updating (fields the file does
/// not have are kept). Imported contacts' source is "import" unless the file says.
fn input(c: &Cells, current: Option<&contact::Model>) -> ContactInput {
    let mut i = current.map_or_else(
        || ContactInput {
            source: Some("import".into()),
            ..ContactInput::default()
        },
        |m| ContactInput {
            first_name: m.first_name.clone(),
            last_name: m.last_name.clone(),
            email: m.email.clone(),
            phone: m.phone.clone(),
            title: m.title.clone(),
            source: Some(m.source.clone()),
            owner_id: Some(m.owner_id),
            ..ContactInput::default()
        },
    );
    let set = |name: &str, slot: &mut Option<String>| {
        if c.has_field(name) {
            *slot = c.field(name).map(str::to_string);
        }
    };
    set("email", &mut i.email);
    set("phone", &mut i.phone);
    set("title", &mut i.title);
    if c.field("source").is_some() {
        set("source", &mut i.source);
    }
    for (name, slot) in [
        ("first_name", &mut i.first_name),
        ("last_name", &mut i.last_name),
    ] {
        if c.has_field(name) {
            *slot = c.field(name).unwrap_or_default().to_string();
        }
    }
    i.tags = c.tags();
    i
}

/// What a chunk of contacts looks up: existing contacts by email, companies named.
pub(super) struct Known {
    by_email: HashMap<String, contact::Model>,
    companies: links::Companies,
}

impl Kind for Contact {
    const KIND: ObjectKind = ObjectKind::Contact;
    type Existing = contact::Model;
    type Known = Known;
    type Row = Row;

    async fn by_id(db: &Db, ids: &HashSet<i64>) -> Result<HashMap<i64, contact::Model>, AppError> {
        matching::contacts_by_id(&db.read, ids).await
    }

    async fn known(
        ctx: &Ctx<'_>,
        _plan: &mut Plan,
        cells: &[Cells<'_>],
    ) -> Result<Known, AppError> {
        let emails: HashSet<String> = cells
            .iter()
            .filter_map(|c| c.field("email").map(normalise))
            .collect();
        Ok(Known {
            by_email: matching::contacts_by_email(&ctx.db.read, &emails).await?,
            companies: links::companies(ctx, cells).await?,
        })
    }

    fn id(e: &contact::Model) -> i64 {
        e.id
    }

    fn noun() -> &'static str {
        "contact"
    }

    fn same_as(row: u64, file: &str) -> String {
        format!("The same contact as row {row} of {file} (same source id or email).")
    }

    fn keys(c: &Cells) -> Vec<String> {
        c.field("email").map(normalise).into_iter().collect()
    }

    fn keys_of(row: &Row) -> Vec<String> {
        row.valid
            .email_norm()
            .map(str::to_string)
            .into_iter()
            .collect()
    }

    fn match_by_keys<'k>(known: &'k Known, c: &Cells) -> Option<&'k contact::Model> {
        c.field("email")
            .and_then(|e| known.by_email.get(&normalise(e)))
    }

    fn trashed(e: &contact::Model) -> Option<String> {
        e.deleted_at
            .map(|_| "A contact in the trash has this email; restore it first.".to_string())
    }

    fn skipped(m: &contact::Model) -> String {
        format!(
            "Matches the existing contact {} {}.",
            m.first_name, m.last_name
        )
    }

    async fn check(
        ctx: &Ctx<'_>,
        known: &Known,
        c: &Cells<'_>,
        current: Option<&contact::Model>,
        beside: bool,
        dry: bool,
        verdict: &mut Verdict,
    ) -> Result<Option<Row>, AppError> {
        let reasons = &mut verdict.reasons;
        let mut input = input(c, current);
        let created_at = ctx.time(c, "created_at", reasons);
        let owner = ctx.owner(c, &mut input.owner_id, current.map(|m| m.owner_id), reasons);
        let kept = current.and_then(|m| m.company_id).map(Ref::Id);
        let company = match links::company_of(ctx, &known.companies, c) {
            Ok(None) => kept,
            // An update keeps the company it has over one not in Cairn yet (which may
            // well be that company, made by hand).
            Ok(Some(Ref::Later(_))) if kept.is_some() => kept,
            Ok(Some(r)) => {
                // Its name goes through the contact's own checks (length, characters).
                if let Ref::NewCompany(name) = &r {
                    input.company = Some(name.clone());
                }
                Some(r)
            }
            Err(why) => {
                reasons.push(why);
                None
            }
        };
        let mut custom = c.custom();
        custom.extend(ctx.new_custom("contact", c, dry, reasons));
        input.custom_fields = (!custom.is_empty()).then_some(custom);
        let current_custom = current
            .map(|m| custom_fields::parse(&m.custom))
            .unwrap_or_default();
        let checked = contacts::validate(ctx.db, ctx.actor, &input, owner, &current_custom).await;
        let valid = match checked {
            Ok(v) => Some(v),
            Err(e) => {
                refused(e, verdict)?;
                None
            }
        };
        if let Some(note) = other_companies(c) {
            verdict.notes.push(note);
        }
        if beside && c.field("email").is_some() {
            verdict
                .reasons
                .push("Another contact already has this email.".into());
        }
        Ok(valid.map(|valid| Row {
            valid,
            created_at,
            company,
            before: current.map(|m| Box::new(Before::of(m))),
        }))
    }
}

/// The note on a row that names more companies than the one its contact links to
/// (HubSpot's "Associated Company IDs" lists every company a contact is associated with):
/// a Cairn contact has one company, so the rest are named in the report, not dropped
/// unsaid.
fn other_companies(c: &Cells) -> Option<String> {
    let first = c.link_id(ObjectKind::Company)?;
    let mut others: Vec<&str> = Vec::new();
    for id in c.link_ids(ObjectKind::Company) {
        if id != first && !others.contains(&id) {
            others.push(id);
        }
    }
    let (n, s) = match others.len() {
        0 => return None,
        1 => ("one more company", ""),
        _ => ("more companies", "s"),
    };
    Some(format!(
        "The file associates this contact with {n} (source id{s} {}); a Cairn contact has one company, so it is linked to {first} only.",
        others.join(", ")
    ))
}

/// Inserts new contacts in one statement, each with its company's id; their ids, in
/// order (ids are assigned in VALUES order, as `contacts::batch` relies on too).
pub(super) async fn insert(
    tx: &impl ConnectionTrait,
    rows: &[(&Row, Option<i64>)],
    at: DateTime<Utc>,
) -> Result<Vec<i64>, AppError> {
    let models: Vec<_> = rows
        .iter()
        .map(|(r, company)| contact::ActiveModel {
            id: NotSet,
            deleted_at: Set(None),
            deleted_by: Set(None),
            created_at: Set(r.created_at.unwrap_or(at)),
            ..contacts::active_model(&r.valid, *company, at)
        })
        .collect();
    insert::ids(tx, models, |c| c.id).await
}

/// Writes an update over contact `id`.
pub(super) async fn update(
    tx: &impl ConnectionTrait,
    id: i64,
    row: &Row,
    company: Option<i64>,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    contact::Entity::update_many()
        .set(contacts::active_model(&row.valid, company, at))
        .filter(contact::Column::Id.eq(id))
        .exec(tx)
        .await?;
    Ok(())
}
