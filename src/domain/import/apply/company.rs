//! Company rows: matched by source id, else domain, else name; checked by
//! `companies::validate`; written in bulk.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use super::cells::Cells;
use super::plan::{Action, Ctx, Plan, Planned, reasons_of};
use super::{Outcome, links, matching};
use crate::domain::companies::{self, CompanyInput, Valid, normalise_domain};
use crate::domain::custom_fields;
use crate::domain::import::{MappedRow, ObjectKind, OnMatch, values};
use crate::domain::normalise;
use crate::entities::company;
use crate::error::AppError;

pub(in crate::domain::import) struct Row {
    pub valid: Valid,
    pub before: Option<Before>,
    /// The source's creation time, for a record created.
    pub created: Option<DateTime<Utc>>,
}

/// An updated company's columns as they were, for undo.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(in crate::domain::import) struct Before {
    name: String,
    name_norm: String,
    domain: Option<String>,
    industry: Option<String>,
    size_band: Option<String>,
    website: Option<String>,
    phone: Option<String>,
    address: Option<String>,
    owner_id: Option<i64>,
    custom: String,
    updated_at: DateTime<Utc>,
}

impl Before {
    fn of(m: &company::Model) -> Before {
        Before {
            name: m.name.clone(),
            name_norm: m.name_norm.clone(),
            domain: m.domain.clone(),
            industry: m.industry.clone(),
            size_band: m.size_band.clone(),
            website: m.website.clone(),
            phone: m.phone.clone(),
            address: m.address.clone(),
            owner_id: m.owner_id,
            custom: m.custom.clone(),
            updated_at: m.updated_at,
        }
    }

    pub fn restore(self) -> company::ActiveModel {
        company::ActiveModel {
            name: Set(self.name),
            name_norm: Set(self.name_norm),
            domain: Set(self.domain),
            industry: Set(self.industry),
            size_band: Set(self.size_band),
            website: Set(self.website),
            phone: Set(self.phone),
            address: Set(self.address),
            owner_id: Set(self.owner_id),
            custom: Set(self.custom),
            updated_at: Set(self.updated_at),
            ..Default::default()
        }
    }
}

/// The input a row gives, over the current company when updating (fields the file does
/// not have are kept).
fn input(c: &Cells, current: Option<&company::Model>) -> CompanyInput {
    let mut i = current.map_or_else(CompanyInput::default, |m| CompanyInput {
        name: m.name.clone(),
        domain: m.domain.clone(),
        industry: m.industry.clone(),
        size_band: m.size_band.clone(),
        website: m.website.clone(),
        phone: m.phone.clone(),
        address: m.address.clone(),
        owner_id: m.owner_id,
        tags: None,
        custom_fields: None,
    });
    let set = |name: &str, slot: &mut Option<String>| {
        if c.has_field(name) {
            *slot = c.field(name).map(str::to_string);
        }
    };
    set("domain", &mut i.domain);
    // Other products' industry lists are not Cairn's: a value Cairn has no industry for
    // (HubSpot's COMPUTER_SOFTWARE) is "other" rather than a failed row.
    if c.has_field("industry") {
        i.industry = c.field("industry").map(|v| {
            let v = normalise(v);
            companies::INDUSTRIES
                .iter()
                .find(|(key, label)| *key == v || normalise(label) == v)
                .map_or("other", |(key, _)| key)
                .to_string()
        });
    }
    set("website", &mut i.website);
    set("phone", &mut i.phone);
    if c.has_field("address") {
        i.address = c.joined("address");
    }
    // A head count (HubSpot's "Number of Employees") becomes its band; a value that is
    // neither goes to validation as it is, which names it.
    if c.has_field("size_band") {
        i.size_band = c
            .field("size_band")
            .map(|v| values::size_band(v).unwrap_or_else(|_| v.to_string()));
    }
    if c.has_field("name") {
        i.name = c.field("name").unwrap_or_default().to_string();
    }
    i.tags = c.tags();
    i
}

/// Plans a chunk of company rows.
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
    let by_source = links::sources(conn, ctx.options.system, ObjectKind::Company, &keys).await?;
    let ids: HashSet<i64> = by_source.values().copied().collect();
    let by_id = matching::companies_by_id(conn, &ids).await?;
    let domain_of = |c: &Cells| {
        c.field("domain")
            .or(c.field("website"))
            .and_then(normalise_domain)
    };
    let domains: HashSet<String> = cells.iter().filter_map(domain_of).collect();
    let by_domain = matching::companies_by(conn, company::Column::Domain, &domains).await?;
    let names: HashSet<String> = cells
        .iter()
        .filter_map(|c| c.field("name").map(normalise))
        .collect();
    let by_name = matching::companies_by(conn, company::Column::NameNorm, &names).await?;

    for (row, c) in chunk.iter().zip(&cells) {
        if c.deleted() {
            let why = vec!["Marked deleted in the source.".to_string()];
            ctx.report(
                &mut plan.report,
                row,
                ObjectKind::Company,
                Outcome::Skipped,
                None,
                why,
            );
            continue;
        }
        let mut reasons = Vec::new();
        let source = c.source_id().map(|s| ctx.key(s));
        let name_norm = c.field("name").map(normalise);
        let domain = domain_of(c);
        // A second row for one company (same source id, domain or name) in this import.
        let dup = source
            .as_ref()
            .and_then(|s| ctx.by_source.get(&(ObjectKind::Company, s.clone())))
            .or_else(|| {
                name_norm
                    .as_ref()
                    .and_then(|n| ctx.by_name.get(&(ObjectKind::Company, n.clone())))
            })
            .or_else(|| {
                domain
                    .as_ref()
                    .and_then(|d| ctx.by_name.get(&(ObjectKind::Company, format!("@{d}"))))
            });
        if let Some(&at) = dup {
            let first = &plan.report.rows[plan.companies[at].report];
            reasons.push(format!(
                "The same company as row {} of {}.",
                first.row, first.file
            ));
            ctx.report(
                &mut plan.report,
                row,
                ObjectKind::Company,
                Outcome::Failed,
                None,
                reasons,
            );
            continue;
        }
        let matched = source
            .as_ref()
            .and_then(|s| by_source.get(s))
            .and_then(|id| by_id.get(id))
            .filter(|m| m.deleted_at.is_none())
            .or_else(|| domain.as_ref().and_then(|d| by_domain.get(d)))
            .or_else(|| name_norm.as_ref().and_then(|n| by_name.get(n)));
        if let Some(m) = matched.filter(|m| m.deleted_at.is_some()) {
            reasons.push(format!(
                "A company in the trash, {}, has this name or domain; restore it first.",
                m.name
            ));
            ctx.report(
                &mut plan.report,
                row,
                ObjectKind::Company,
                Outcome::Failed,
                None,
                reasons,
            );
            continue;
        }
        let on_match = ctx.options.on_match;
        if let (Some(m), OnMatch::Skip) = (matched, on_match) {
            let why = vec![format!("Matches the existing company “{}”.", m.name)];
            ctx.report(
                &mut plan.report,
                row,
                ObjectKind::Company,
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
            current.and_then(|m| m.owner_id),
            &mut reasons,
        );
        let created = ctx.created_at(c, &mut reasons);
        let mut custom = c.custom();
        custom.extend(ctx.new_custom("company", c, dry, &mut reasons));
        input.custom_fields = (!custom.is_empty()).then_some(custom);
        let current_custom = current
            .map(|m| custom_fields::parse(&m.custom))
            .unwrap_or_default();
        let checked = companies::validate(ctx.db, ctx.actor, &input, owner, &current_custom).await;
        let valid = match checked {
            Ok(v) => Some(v),
            Err(e) => {
                reasons_of(e, &mut reasons)?;
                None
            }
        };
        // Creating beside a match (OnMatch::Create) still cannot take its unique name.
        if current.is_none() && matched.is_some() {
            reasons.push("A company with this name or domain exists already; companies' names and domains are unique.".into());
        }
        let (Some(valid), true) = (valid, reasons.is_empty()) else {
            ctx.report(
                &mut plan.report,
                row,
                ObjectKind::Company,
                Outcome::Failed,
                None,
                reasons,
            );
            continue;
        };
        let (action, outcome, id) = match current {
            Some(m) => (Action::Update(m.id), Outcome::Updated, Some(m.id)),
            None => (Action::Create, Outcome::Created, None),
        };
        let at = ctx.report(
            &mut plan.report,
            row,
            ObjectKind::Company,
            outcome,
            id,
            Vec::new(),
        );
        let index = plan.companies.len();
        if let Some(s) = &source {
            ctx.by_source
                .insert((ObjectKind::Company, s.clone()), index);
        }
        ctx.by_name
            .insert((ObjectKind::Company, valid.name_norm()), index);
        if let Some(d) = valid.domain() {
            ctx.by_name
                .insert((ObjectKind::Company, format!("@{d}")), index);
        }
        plan.companies.push(Planned {
            report: at,
            source,
            action,
            data: Row {
                valid,
                before: current.map(Before::of),
                created,
            },
            id,
        });
    }
    Ok(())
}

/// Inserts the new companies of `rows` in one statement; their ids, in order.
pub(super) async fn insert(
    tx: &impl ConnectionTrait,
    rows: &[&Planned<Row>],
    at: DateTime<Utc>,
) -> Result<Vec<i64>, AppError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let models = rows.iter().map(|p| company::ActiveModel {
        id: NotSet,
        deleted_at: Set(None),
        deleted_by: Set(None),
        created_at: Set(p.data.created.unwrap_or(at)),
        ..companies::active_model(p.data.valid.clone(), at)
    });
    let mut inserted = company::Entity::insert_many(models)
        .exec_with_returning(tx)
        .await?;
    inserted.sort_by_key(|c| c.id);
    // Names are unique: each row's id is found by its name.
    let ids: HashMap<String, i64> = inserted.into_iter().map(|c| (c.name_norm, c.id)).collect();
    rows.iter()
        .map(|p| {
            ids.get(&p.data.valid.name_norm()).copied().ok_or_else(|| {
                AppError::Internal(
                    "company import: an inserted row came back without its id".into(),
                )
            })
        })
        .collect()
}

/// Writes an update over company `id`.
pub(super) async fn update(
    tx: &impl ConnectionTrait,
    id: i64,
    row: &Row,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    company::Entity::update_many()
        .set(companies::active_model(row.valid.clone(), at))
        .filter(company::Column::Id.eq(id))
        .exec(tx)
        .await?;
    Ok(())
}
