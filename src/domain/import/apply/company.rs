//! Company rows: matched by source id, else domain, else name; checked by
//! `companies::validate`; written in bulk.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use super::cells::Cells;
use super::matching;
use super::plan::{Ctx, Plan, Planned};
use super::rows::{Kind, Verdict, refused};
use crate::domain::companies::{self, CompanyInput, Valid, normalise_domain};
use crate::domain::custom_fields;
use crate::domain::import::{ObjectKind, values};
use crate::domain::{Db, normalise};
use crate::entities::company;
use crate::error::AppError;

/// Companies as planning knows them (`rows::Kind`).
pub(super) struct Company;

#[derive(Serialize, Deserialize)]
pub(in crate::domain::import) struct Row {
    pub valid: Valid,
    /// When the source made it (kept on create; an update leaves Cairn's).
    pub created_at: Option<DateTime<Utc>>,
    /// Boxed: only an update has one, and every planned row carries the field.
    pub before: Option<Box<Before>>,
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
    if c.has_field("industry") {
        i.industry = c.field("industry").map(|v| industry(v).to_string());
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

/// Words of other products' industries (HubSpot's `COMPUTER_SOFTWARE`, Salesforce's
/// "Banking", LinkedIn's "Hospital & Health Care") and Cairn's industry they fall in.
const INDUSTRY_WORDS: [(&str, &str); 10] = [
    (
        "software",
        "software internet computer saas information technology",
    ),
    (
        "fintech",
        "financial finance banking fintech insurance investment capital",
    ),
    (
        "healthcare",
        "health hospital medical pharmaceutical pharma biotech",
    ),
    ("ecommerce", "retail commerce consumer wholesale"),
    (
        "manufacturing",
        "manufacturing industrial automotive machinery electronics",
    ),
    ("education", "education learning school university"),
    (
        "media",
        "media entertainment publishing broadcast marketing advertising",
    ),
    (
        "consulting",
        "consulting professional services legal accounting",
    ),
    (
        "logistics",
        "logistics transportation shipping supply warehousing",
    ),
    ("energy", "energy utilities oil renewables solar"),
];

/// Cairn's industry for a value another product wrote: by Cairn's key or label, else by
/// the words it holds; "other" rather than a failed row when none fits.
fn industry(value: &str) -> &'static str {
    let v = normalise(&value.replace('_', " "));
    if let Some((key, _)) = companies::INDUSTRIES
        .iter()
        .find(|(key, label)| *key == v || normalise(label) == v)
    {
        return key;
    }
    if v.contains("non-profit") || v.contains("nonprofit") || v.contains("philanthrop") {
        return "nonprofit";
    }
    INDUSTRY_WORDS
        .iter()
        .find(|(_, words)| words.split(' ').any(|w| v.contains(w)))
        .map_or("other", |(key, _)| key)
}

/// A chunk's companies by domain and by name.
pub(super) struct Known {
    by_domain: HashMap<String, company::Model>,
    by_name: HashMap<String, company::Model>,
}

fn domain_of(c: &Cells) -> Option<String> {
    c.field("domain")
        .or(c.field("website"))
        .and_then(normalise_domain)
}

impl Kind for Company {
    const KIND: ObjectKind = ObjectKind::Company;
    type Existing = company::Model;
    type Known = Known;
    type Row = Row;

    async fn by_id(db: &Db, ids: &HashSet<i64>) -> Result<HashMap<i64, company::Model>, AppError> {
        matching::companies_by_id(&db.read, ids).await
    }

    async fn known(
        ctx: &Ctx<'_>,
        _plan: &mut Plan,
        cells: &[Cells<'_>],
    ) -> Result<Known, AppError> {
        let conn = &ctx.db.read;
        let domains: HashSet<String> = cells.iter().filter_map(domain_of).collect();
        let names: HashSet<String> = cells
            .iter()
            .filter_map(|c| c.field("name").map(normalise))
            .collect();
        Ok(Known {
            by_domain: matching::companies_by(conn, company::Column::Domain, &domains).await?,
            by_name: matching::companies_by(conn, company::Column::NameNorm, &names).await?,
        })
    }

    fn id(e: &company::Model) -> i64 {
        e.id
    }

    fn noun() -> &'static str {
        "company"
    }

    /// Its name, and its domain after an `@`.
    fn keys(c: &Cells) -> Vec<String> {
        let name = c.field("name").map(normalise);
        let domain = domain_of(c).map(|d| format!("@{d}"));
        name.into_iter().chain(domain).collect()
    }

    fn keys_of(row: &Row) -> Vec<String> {
        let domain = row.valid.domain().map(|d| format!("@{d}"));
        std::iter::once(row.valid.name_norm())
            .chain(domain)
            .collect()
    }

    fn match_by_keys<'k>(known: &'k Known, c: &Cells) -> Option<&'k company::Model> {
        domain_of(c)
            .and_then(|d| known.by_domain.get(&d))
            .or_else(|| {
                c.field("name")
                    .and_then(|n| known.by_name.get(&normalise(n)))
            })
    }

    fn trashed(e: &company::Model) -> Option<String> {
        e.deleted_at.map(|_| {
            format!(
                "A company in the trash, {}, has this name or domain; restore it first.",
                e.name
            )
        })
    }

    fn skipped(e: &company::Model) -> String {
        format!("Matches the existing company “{}”.", e.name)
    }

    async fn check(
        ctx: &Ctx<'_>,
        _known: &Known,
        c: &Cells<'_>,
        current: Option<&company::Model>,
        beside: bool,
        dry: bool,
        verdict: &mut Verdict,
    ) -> Result<Option<Row>, AppError> {
        let reasons = &mut verdict.reasons;
        let mut input = input(c, current);
        let created_at = ctx.time(c, "created_at", reasons);
        let owner = ctx.owner(
            c,
            &mut input.owner_id,
            current.and_then(|m| m.owner_id),
            reasons,
        );
        let mut custom = c.custom();
        custom.extend(ctx.new_custom("company", c, dry, reasons));
        input.custom_fields = (!custom.is_empty()).then_some(custom);
        let current_custom = current
            .map(|m| custom_fields::parse(&m.custom))
            .unwrap_or_default();
        let checked = companies::validate(ctx.db, ctx.actor, &input, owner, &current_custom).await;
        let valid = match checked {
            Ok(v) => Some(v),
            Err(e) => {
                refused(e, verdict)?;
                None
            }
        };
        // Creating beside a match (OnMatch::Create) still cannot take its unique name.
        if beside {
            verdict.reasons.push("A company with this name or domain exists already; companies' names and domains are unique.".into());
        }
        Ok(valid.map(|valid| Row {
            valid,
            created_at,
            before: current.map(|m| Box::new(Before::of(m))),
        }))
    }
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
        created_at: Set(p.data.created_at.unwrap_or(at)),
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

#[cfg(test)]
mod tests {
    use super::industry;

    #[test]
    fn other_products_industries_fall_in_cairns() {
        let got = [
            "COMPUTER_SOFTWARE",
            "Banking",
            "Hospital & Health Care",
            "RETAIL",
            "Non-Profit Organization Management",
            "Fintech",
            "Farming",
        ]
        .map(industry);
        let want = [
            "software",
            "fintech",
            "healthcare",
            "ecommerce",
            "nonprofit",
            "fintech",
            "other",
        ];
        assert_eq!(got, want);
    }
}
