//! The live companies, contacts and deals: their own fields, their tags (one column,
//! joined by `;`) and their custom fields (a `custom.<key>` column each). A chunk's
//! companies come joined to its rows; its tags take one more statement.
use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect,
    RelationTrait,
};
use serde_json::{Map, Value};

use super::CHUNK;
use super::tables::{Page, Table, date, header, id, text, time};
use super::workspace::{FieldDef, Workspace};
use crate::domain::csv;
use crate::entities::{company, company_tag, contact, contact_tag, deal, tag};
use crate::error::AppError;

/// A record's custom values in its columns' order: text as it is, numbers and
/// checkboxes (`true`/`false`) as JSON writes them, a multiselect's choices joined by `;`.
fn custom_cells(json: &str, defs: &[FieldDef]) -> Vec<String> {
    let values: Map<String, Value> = serde_json::from_str(json).unwrap_or_default();
    defs.iter()
        .map(|d| match values.get(&d.key) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect::<Vec<_>>()
                .join(";"),
            Some(other) => other.to_string(),
        })
        .collect()
}

/// A company link as written: empty when the company is in the trash.
fn live_link(link: Option<i64>, company: &Option<company::Model>) -> String {
    let live = company.as_ref().is_some_and(|c| c.deleted_at.is_none());
    id(link.filter(|_| live))
}

/// The tags of the records with ids in `after..=last`, by record id, joined by `;` in
/// name order: `E` is the link table (contact_tags or company_tags), `record` its record
/// column and `tag_rel` its relation to `tags`. A range rather than a list of ids: one
/// statement text for every chunk (each list length would be another prepared statement
/// in the connection's cache, with a thousand parameters each).
async fn tags_of<E, C, R>(
    conn: &impl ConnectionTrait,
    record: C,
    tag_rel: R,
    (after, last): (i64, Option<i64>),
) -> Result<HashMap<i64, String>, AppError>
where
    E: EntityTrait,
    C: ColumnTrait,
    R: RelationTrait,
{
    let Some(last) = last else {
        return Ok(HashMap::new());
    };
    let rows: Vec<(i64, String)> = E::find()
        .select_only()
        .column(record)
        .column(tag::Column::Name)
        .join(JoinType::InnerJoin, tag_rel.def())
        .filter(record.gt(after))
        .filter(record.lte(last))
        .order_by_asc(record)
        .order_by_asc(tag::Column::NameNorm)
        .into_tuple()
        .all(conn)
        .await?;
    let mut tags: HashMap<i64, String> = HashMap::new();
    for (id, name) in rows {
        let joined = tags.entry(id).or_default();
        if !joined.is_empty() {
            joined.push(';');
        }
        joined.push_str(&name);
    }
    Ok(tags)
}

fn write_row(out: &mut String, mut cells: Vec<String>, custom: Vec<String>) {
    cells.extend(custom);
    csv::row(out, cells.iter().map(String::as_str));
}

pub struct Companies {
    custom: Vec<FieldDef>,
}

impl Companies {
    pub fn new(info: &Workspace) -> Companies {
        Companies {
            custom: info.fields("company").to_vec(),
        }
    }
}

impl Table for Companies {
    type Key = i64;
    const FILE: &'static str = "companies.csv";

    fn header(&self) -> Vec<String> {
        let own = [
            "id",
            "name",
            "domain",
            "industry",
            "size_band",
            "website",
            "phone",
            "address",
            "owner_id",
            "created_at",
            "updated_at",
            "tags",
        ];
        header(&own, &self.custom)
    }

    async fn page(&self, conn: &impl ConnectionTrait, after: i64) -> Result<Page<i64>, AppError> {
        let rows = company::Entity::find()
            .filter(company::Column::Id.gt(after))
            .filter(company::Column::DeletedAt.is_null())
            .order_by_asc(company::Column::Id)
            .limit(CHUNK)
            .all(conn)
            .await?;
        let span = (after, rows.last().map(|c| c.id));
        let rel = company_tag::Relation::Tag;
        let mut tags =
            tags_of::<company_tag::Entity, _, _>(conn, company_tag::Column::CompanyId, rel, span)
                .await?;
        let mut out = String::new();
        for c in &rows {
            let cells = vec![
                c.id.to_string(),
                c.name.clone(),
                text(&c.domain),
                text(&c.industry),
                text(&c.size_band),
                text(&c.website),
                text(&c.phone),
                text(&c.address),
                id(c.owner_id),
                time(&c.created_at),
                time(&c.updated_at),
                tags.remove(&c.id).unwrap_or_default(),
            ];
            write_row(&mut out, cells, custom_cells(&c.custom, &self.custom));
        }
        let last = rows.last().map(|c| c.id);
        Ok(Page::new(out, rows.len(), last))
    }
}

pub struct Contacts {
    custom: Vec<FieldDef>,
}

impl Contacts {
    pub fn new(info: &Workspace) -> Contacts {
        Contacts {
            custom: info.fields("contact").to_vec(),
        }
    }
}

impl Table for Contacts {
    type Key = i64;
    const FILE: &'static str = "contacts.csv";

    fn header(&self) -> Vec<String> {
        let own = [
            "id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "company_id",
            "title",
            "source",
            "owner_id",
            "created_at",
            "updated_at",
            "tags",
        ];
        header(&own, &self.custom)
    }

    async fn page(&self, conn: &impl ConnectionTrait, after: i64) -> Result<Page<i64>, AppError> {
        // The company joined, to write a link to a trashed one empty (a join, not a list of
        // ids: see `tags_of`).
        let to_company: sea_orm::RelationDef = contact::Entity::belongs_to(company::Entity)
            .from(contact::Column::CompanyId)
            .to(company::Column::Id)
            .into();
        let rows = contact::Entity::find()
            .select_also(company::Entity)
            .join(JoinType::LeftJoin, to_company)
            .filter(contact::Column::Id.gt(after))
            .filter(contact::Column::DeletedAt.is_null())
            .order_by_asc(contact::Column::Id)
            .limit(CHUNK)
            .all(conn)
            .await?;
        let span = (after, rows.last().map(|(c, _)| c.id));
        let rel = contact_tag::Relation::Tag;
        let mut tags =
            tags_of::<contact_tag::Entity, _, _>(conn, contact_tag::Column::ContactId, rel, span)
                .await?;
        let mut out = String::new();
        for (c, company) in &rows {
            let cells = vec![
                c.id.to_string(),
                c.first_name.clone(),
                c.last_name.clone(),
                text(&c.email),
                text(&c.phone),
                live_link(c.company_id, company),
                text(&c.title),
                c.source.clone(),
                c.owner_id.to_string(),
                time(&c.created_at),
                time(&c.updated_at),
                tags.remove(&c.id).unwrap_or_default(),
            ];
            write_row(&mut out, cells, custom_cells(&c.custom, &self.custom));
        }
        Ok(Page::new(out, rows.len(), span.1))
    }
}

pub struct Deals {
    custom: Vec<FieldDef>,
    /// Stage id → (pipeline name, stage name).
    stages: HashMap<i64, (String, String)>,
}

impl Deals {
    pub fn new(info: &Workspace) -> Deals {
        let stages = info
            .pipelines
            .iter()
            .flat_map(|p| {
                p.stages
                    .iter()
                    .map(|s| (s.id, (p.name.clone(), s.name.clone())))
            })
            .collect();
        Deals {
            custom: info.fields("deal").to_vec(),
            stages,
        }
    }
}

impl Table for Deals {
    type Key = i64;
    const FILE: &'static str = "deals.csv";

    fn header(&self) -> Vec<String> {
        let own = [
            "id",
            "title",
            "pipeline",
            "stage",
            "amount",
            "currency",
            "company_id",
            "owner_id",
            "expected_close",
            "probability",
            "source",
            "closed_at",
            "lost_reason",
            "stage_entered_at",
            "created_at",
            "updated_at",
        ];
        header(&own, &self.custom)
    }

    async fn page(&self, conn: &impl ConnectionTrait, after: i64) -> Result<Page<i64>, AppError> {
        let rows = deal::Entity::find()
            .select_also(company::Entity)
            .join(JoinType::LeftJoin, deal::Relation::Company.def())
            .filter(deal::Column::Id.gt(after))
            .filter(deal::Column::DeletedAt.is_null())
            .order_by_asc(deal::Column::Id)
            .limit(CHUNK)
            .all(conn)
            .await?;
        let mut out = String::new();
        for (d, company) in &rows {
            let (pipeline, stage) = self.stages.get(&d.stage_id).cloned().unwrap_or_default();
            let cells = vec![
                d.id.to_string(),
                d.title.clone(),
                pipeline,
                stage,
                d.amount_minor.to_string(),
                d.currency.clone(),
                live_link(d.company_id, company),
                d.owner_id.to_string(),
                date(&d.expected_close),
                d.probability.map(|p| p.to_string()).unwrap_or_default(),
                d.source.clone(),
                super::tables::opt_time(&d.closed_at),
                text(&d.lost_reason),
                time(&d.stage_entered_at),
                time(&d.created_at),
                time(&d.updated_at),
            ];
            write_row(&mut out, cells, custom_cells(&d.custom, &self.custom));
        }
        let last = rows.last().map(|(d, _)| d.id);
        Ok(Page::new(out, rows.len(), last))
    }
}
