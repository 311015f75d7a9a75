//! Contact rows: matched by source id, else email; linked to their company by its
//! source id, else its name; checked by `contacts::validate`; written in bulk.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use super::cells::Cells;
use super::plan::{Action, Ctx, Plan, Planned, Ref, reasons_of};
use super::{Outcome, links, matching};
use crate::domain::contacts::{self, ContactInput, Valid};
use crate::domain::custom_fields;
use crate::domain::import::{MappedRow, ObjectKind, OnMatch};
use crate::domain::normalise;
use crate::entities::{company, contact};
use crate::error::AppError;

pub(in crate::domain::import) struct Row {
    pub valid: Valid,
    pub company: Option<Ref>,
    pub before: Option<Before>,
    /// The source's creation time, for a record created.
    pub created: Option<DateTime<Utc>>,
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

/// Existing companies a chunk's rows name by source id or by name.
struct Companies {
    by_source: HashMap<String, i64>,
    by_name: HashMap<String, company::Model>,
}

async fn companies(ctx: &Ctx<'_>, cells: &[Cells<'_>]) -> Result<Companies, AppError> {
    let conn = &ctx.db.read;
    let keys: HashSet<String> = cells
        .iter()
        .filter_map(|c| c.link_id(ObjectKind::Company).map(|s| ctx.key(s)))
        .filter(|k| {
            !ctx.by_source
                .contains_key(&(ObjectKind::Company, k.clone()))
        })
        .collect();
    let mapped = links::sources(conn, ctx.options.system, ObjectKind::Company, &keys).await?;
    let ids: HashSet<i64> = mapped.values().copied().collect();
    let live = matching::companies_by_id(conn, &ids).await?;
    let by_source = mapped
        .into_iter()
        .filter(|(_, id)| live.get(id).is_some_and(|c| c.deleted_at.is_none()))
        .collect();
    let names: HashSet<String> = cells
        .iter()
        .filter_map(|c| c.link_name(ObjectKind::Company).or(c.field("company")))
        .map(normalise)
        .collect();
    let by_name = matching::companies_by(conn, company::Column::NameNorm, &names).await?;
    Ok(Companies { by_source, by_name })
}

/// The company a row links to: by source id, else by name; a name in a `company`
/// column that nothing has yet is a new company, as typing it on a contact makes one.
fn company_of(ctx: &Ctx, known: &Companies, c: &Cells) -> Result<Option<Ref>, String> {
    if let Some(raw) = c.link_id(ObjectKind::Company) {
        let key = ctx.key(raw);
        if let Some(&i) = ctx.by_source.get(&(ObjectKind::Company, key.clone())) {
            return Ok(Some(Ref::Planned(i)));
        }
        return known
            .by_source
            .get(&key)
            .map(|&id| Some(Ref::Id(id)))
            .ok_or_else(|| {
                format!(
                    "Company with source id {raw} is in no file of this import and not in Cairn."
                )
            });
    }
    let (name, create) = match (c.link_name(ObjectKind::Company), c.field("company")) {
        (Some(n), _) => (n, false),
        (None, Some(n)) => (n, true),
        (None, None) => return Ok(None),
    };
    let norm = normalise(name);
    if let Some(&i) = ctx.by_name.get(&(ObjectKind::Company, norm.clone())) {
        return Ok(Some(Ref::Planned(i)));
    }
    match known.by_name.get(&norm) {
        Some(m) if m.deleted_at.is_some() => Err(format!(
            "Company “{name}” is in the trash; restore it first."
        )),
        Some(m) => Ok(Some(Ref::Id(m.id))),
        None if create => Ok(Some(Ref::NewCompany(name.to_string()))),
        None => Err(format!(
            "Company “{name}” is in no file of this import and not in Cairn."
        )),
    }
}

/// Plans a chunk of contact rows.
pub(super) async fn plan(
    ctx: &mut Ctx<'_>,
    plan: &mut Plan,
    chunk: &[MappedRow],
    dry: bool,
) -> Result<(), AppError> {
    let conn = &ctx.db.read;
    let cells: Vec<Cells> = chunk.iter().map(Cells).collect();
    let keys: HashSet<String> = cells
        .iter()
        .filter_map(|c| c.source_id().map(|s| ctx.key(s)))
        .collect();
    let by_source = links::sources(conn, ctx.options.system, ObjectKind::Contact, &keys).await?;
    let ids: HashSet<i64> = by_source.values().copied().collect();
    let by_id = matching::contacts_by_id(conn, &ids).await?;
    let emails: HashSet<String> = cells
        .iter()
        .filter_map(|c| c.field("email").map(normalise))
        .collect();
    let by_email = matching::contacts_by_email(conn, &emails).await?;
    let known = companies(ctx, &cells).await?;

    for (row, c) in chunk.iter().zip(&cells) {
        let kind = ObjectKind::Contact;
        if c.deleted() {
            let why = vec!["Marked deleted in the source.".to_string()];
            ctx.report(&mut plan.report, row, kind, Outcome::Skipped, None, why);
            continue;
        }
        let mut reasons = Vec::new();
        let source = c.source_id().map(|s| ctx.key(s));
        let email = c.field("email").map(normalise);
        let dup = source
            .as_ref()
            .and_then(|s| ctx.by_source.get(&(kind, s.clone())))
            .or_else(|| {
                email
                    .as_ref()
                    .and_then(|e| ctx.by_name.get(&(kind, e.clone())))
            });
        if let Some(&at) = dup {
            let first = &plan.report.rows[plan.contacts[at].report];
            reasons.push(format!(
                "The same contact as row {} of {} (same source id or email).",
                first.row, first.file
            ));
            ctx.report(&mut plan.report, row, kind, Outcome::Failed, None, reasons);
            continue;
        }
        let matched = source
            .as_ref()
            .and_then(|s| by_source.get(s))
            .and_then(|id| by_id.get(id))
            .filter(|m| m.deleted_at.is_none())
            .or_else(|| email.as_ref().and_then(|e| by_email.get(e)));
        if matched.is_some_and(|m| m.deleted_at.is_some()) {
            reasons.push("A contact in the trash has this email; restore it first.".into());
            ctx.report(&mut plan.report, row, kind, Outcome::Failed, None, reasons);
            continue;
        }
        let on_match = ctx.options.on_match;
        if let (Some(m), OnMatch::Skip) = (matched, on_match) {
            let why = vec![format!(
                "Matches the existing contact {} {}.",
                m.first_name, m.last_name
            )];
            ctx.report(
                &mut plan.report,
                row,
                kind,
                Outcome::Skipped,
                Some(m.id),
                why,
            );
            continue;
        }
        let current = matched.filter(|_| on_match == OnMatch::Update);
        let mut input = input(c, current);
        let owner = ctx.owner(
            c,
            &mut input.owner_id,
            current.map(|m| m.owner_id),
            &mut reasons,
        );
        let company = match company_of(ctx, &known, c) {
            Ok(None) => current.and_then(|m| m.company_id).map(Ref::Id),
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
        let created = ctx.created_at(c, &mut reasons);
        let mut custom = c.custom();
        custom.extend(ctx.new_custom("contact", c, dry, &mut reasons));
        input.custom_fields = (!custom.is_empty()).then_some(custom);
        let current_custom = current
            .map(|m| custom_fields::parse(&m.custom))
            .unwrap_or_default();
        let checked = contacts::validate(ctx.db, ctx.actor, &input, owner, &current_custom).await;
        let valid = match checked {
            Ok(v) => Some(v),
            Err(e) => {
                reasons_of(e, &mut reasons)?;
                None
            }
        };
        if current.is_none() && matched.is_some() && email.is_some() {
            reasons.push("Another contact already has this email.".into());
        }
        let (Some(valid), true) = (valid, reasons.is_empty()) else {
            ctx.report(&mut plan.report, row, kind, Outcome::Failed, None, reasons);
            continue;
        };
        let (action, outcome, id) = match current {
            Some(m) => (Action::Update(m.id), Outcome::Updated, Some(m.id)),
            None => (Action::Create, Outcome::Created, None),
        };
        let at = ctx.report(&mut plan.report, row, kind, outcome, id, Vec::new());
        let index = plan.contacts.len();
        if let Some(s) = &source {
            ctx.by_source.insert((kind, s.clone()), index);
        }
        if let Some(e) = valid.email_norm() {
            ctx.by_name.insert((kind, e.to_string()), index);
        }
        plan.contacts.push(Planned {
            report: at,
            source,
            action,
            data: Row {
                valid,
                company,
                before: current.map(Before::of),
                created,
            },
            id,
        });
    }
    Ok(())
}

/// Inserts new contacts in one statement, each with its company's id; their ids, in
/// order (ids are assigned in VALUES order, as `contacts::batch` relies on too).
pub(super) async fn insert(
    tx: &impl ConnectionTrait,
    rows: &[(&Row, Option<i64>)],
    at: DateTime<Utc>,
) -> Result<Vec<i64>, AppError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let models = rows.iter().map(|(r, company)| contact::ActiveModel {
        id: NotSet,
        deleted_at: Set(None),
        deleted_by: Set(None),
        created_at: Set(r.created.unwrap_or(at)),
        ..contacts::active_model(&r.valid, *company, at)
    });
    let mut inserted = contact::Entity::insert_many(models)
        .exec_with_returning(tx)
        .await?;
    inserted.sort_by_key(|c| c.id);
    if inserted.len() != rows.len() {
        return Err(AppError::Internal(
            "contact import: ids do not match the rows".into(),
        ));
    }
    Ok(inserted.into_iter().map(|c| c.id).collect())
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
