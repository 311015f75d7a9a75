//! The referential-integrity report of a finished import: every link of every record it
//! wrote points to an existing record, and the records per kind against the files' rows.
use std::collections::{BTreeMap, HashMap, HashSet};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};

use super::{CHUNK, Report};
use crate::domain::import::ObjectKind;
use crate::entities::{
    company, contact, deal, deal_contact, import_change, pipeline, pipeline_stage, user,
};
use crate::error::AppError;

/// A link that points nowhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Broken {
    pub kind: ObjectKind,
    pub record_id: i64,
    /// The link (`company_id`, `owner_id`).
    pub link: String,
    pub points_to: i64,
}

/// One kind's figures: rows in the files, what they became, and how many of the
/// records the import wrote exist now.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCount {
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub failed: u64,
    /// Records the import wrote (created or updated; with companies a contact's company
    /// name created) and how many of them exist.
    pub written: u64,
    pub present: u64,
    /// Links checked.
    pub links: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Integrity {
    pub kinds: BTreeMap<String, KindCount>,
    pub broken: Vec<Broken>,
}

impl Integrity {
    /// Every link holds and every row is accounted for.
    pub fn ok(&self) -> bool {
        self.broken.is_empty()
            && self.kinds.values().all(|k| {
                k.rows == k.created + k.updated + k.skipped + k.failed
                    && k.present == k.written
                    && k.written >= k.created + k.updated
            })
    }
}

/// The ids of records of `kind` import `import_id` wrote, in chunks.
async fn written_ids(
    conn: &impl ConnectionTrait,
    import_id: i64,
    kind: ObjectKind,
    after: i64,
) -> Result<Vec<i64>, AppError> {
    Ok(import_change::Entity::find()
        .select_only()
        .column(import_change::Column::RecordId)
        .filter(import_change::Column::ImportId.eq(import_id))
        .filter(import_change::Column::Kind.eq(kind.plural()))
        .filter(import_change::Column::RecordId.gt(after))
        .order_by_asc(import_change::Column::RecordId)
        .limit(CHUNK as u64)
        .into_tuple()
        .all(conn)
        .await?)
}

/// Which of `ids` exist in the table of `E` (its `id` column).
async fn existing<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    id: E::Column,
    ids: HashSet<i64>,
) -> Result<HashSet<i64>, AppError> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let found: Vec<i64> = E::find()
        .select_only()
        .column(id)
        .filter(id.is_in(ids))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(found.into_iter().collect())
}

/// Checks every link of the records the import wrote; counts from `report`.
pub async fn check(
    conn: &impl ConnectionTrait,
    import_id: i64,
    report: &Report,
) -> Result<Integrity, AppError> {
    let mut out = Integrity::default();
    for (kind, c) in report.counts() {
        out.kinds.insert(
            kind,
            KindCount {
                rows: c.rows,
                created: c.created,
                updated: c.updated,
                skipped: c.skipped,
                failed: c.failed,
                ..KindCount::default()
            },
        );
    }
    for kind in [ObjectKind::Company, ObjectKind::Contact, ObjectKind::Deal] {
        let mut after = 0;
        let (mut written, mut present, mut links) = (0, 0, 0);
        loop {
            let ids = written_ids(conn, import_id, kind, after).await?;
            let Some(&last) = ids.last() else { break };
            after = last;
            written += ids.len() as u64;
            let (found, there) = links_of(conn, kind, ids).await?;
            present += there;
            links += found.len() as u64;
            out.broken.extend(broken(conn, kind, found).await?);
        }
        let k = out.kinds.entry(kind.plural().to_string()).or_default();
        k.written = written;
        k.present = present;
        k.links = links;
    }
    deal_contacts(conn, import_id, &mut out).await?;
    Ok(out)
}

/// What a link points at.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum To {
    User,
    Company,
    Contact,
    Deal,
    Stage,
    Pipeline,
}

/// One link of a written record: (record, link name, target id, target table).
type Found = (i64, &'static str, i64, To);

/// The links of the records `ids` of `kind`, and how many of them exist.
async fn links_of(
    conn: &impl ConnectionTrait,
    kind: ObjectKind,
    ids: Vec<i64>,
) -> Result<(Vec<Found>, u64), AppError> {
    let mut found: Vec<Found> = Vec::new();
    let mut present = 0;
    match kind {
        ObjectKind::Contact => {
            for c in contact::Entity::find()
                .filter(contact::Column::Id.is_in(ids))
                .all(conn)
                .await?
            {
                present += 1;
                found.push((c.id, "owner_id", c.owner_id, To::User));
                if let Some(co) = c.company_id {
                    found.push((c.id, "company_id", co, To::Company));
                }
            }
        }
        ObjectKind::Deal => {
            for d in deal::Entity::find()
                .filter(deal::Column::Id.is_in(ids))
                .all(conn)
                .await?
            {
                present += 1;
                found.push((d.id, "owner_id", d.owner_id, To::User));
                found.push((d.id, "stage_id", d.stage_id, To::Stage));
                found.push((d.id, "pipeline_id", d.pipeline_id, To::Pipeline));
                if let Some(co) = d.company_id {
                    found.push((d.id, "company_id", co, To::Company));
                }
            }
        }
        _ => {
            for c in company::Entity::find()
                .filter(company::Column::Id.is_in(ids))
                .all(conn)
                .await?
            {
                present += 1;
                if let Some(o) = c.owner_id {
                    found.push((c.id, "owner_id", o, To::User));
                }
            }
        }
    }
    Ok((found, present))
}

/// The links of `found` whose target does not exist.
async fn broken(
    conn: &impl ConnectionTrait,
    kind: ObjectKind,
    found: Vec<Found>,
) -> Result<Vec<Broken>, AppError> {
    let mut there: HashMap<To, HashSet<i64>> = HashMap::new();
    for to in [
        To::User,
        To::Company,
        To::Contact,
        To::Deal,
        To::Stage,
        To::Pipeline,
    ] {
        let ids: HashSet<i64> = found.iter().filter(|f| f.3 == to).map(|f| f.2).collect();
        if ids.is_empty() {
            continue;
        }
        let ids = match to {
            To::User => existing::<user::Entity>(conn, user::Column::Id, ids).await?,
            To::Company => existing::<company::Entity>(conn, company::Column::Id, ids).await?,
            To::Contact => existing::<contact::Entity>(conn, contact::Column::Id, ids).await?,
            To::Deal => existing::<deal::Entity>(conn, deal::Column::Id, ids).await?,
            To::Stage => {
                existing::<pipeline_stage::Entity>(conn, pipeline_stage::Column::Id, ids).await?
            }
            To::Pipeline => existing::<pipeline::Entity>(conn, pipeline::Column::Id, ids).await?,
        };
        there.insert(to, ids);
    }
    Ok(found
        .into_iter()
        .filter(|(_, _, id, to)| !there.get(to).is_some_and(|s| s.contains(id)))
        .map(|(record_id, link, points_to, _)| Broken {
            kind,
            record_id,
            link: link.to_string(),
            points_to,
        })
        .collect())
}

/// The deal contact links the import added: how many exist, and both ends of each.
async fn deal_contacts(
    conn: &impl ConnectionTrait,
    import_id: i64,
    out: &mut Integrity,
) -> Result<(), AppError> {
    let kind = ObjectKind::DealContact;
    let (mut after, mut written, mut present, mut links) = (0, 0, 0, 0);
    loop {
        let changes = import_change::Entity::find()
            .filter(import_change::Column::ImportId.eq(import_id))
            .filter(import_change::Column::Kind.eq(kind.plural()))
            .filter(import_change::Column::Id.gt(after))
            .order_by_asc(import_change::Column::Id)
            .limit(CHUNK as u64)
            .all(conn)
            .await?;
        let Some(last) = changes.last() else { break };
        after = last.id;
        written += changes.len() as u64;
        let deals: HashSet<i64> = changes.iter().map(|c| c.record_id).collect();
        let linked: HashSet<(i64, i64)> = deal_contact::Entity::find()
            .filter(deal_contact::Column::DealId.is_in(deals))
            .all(conn)
            .await?
            .into_iter()
            .map(|l| (l.deal_id, l.contact_id))
            .collect();
        let mut found: Vec<Found> = Vec::new();
        for c in &changes {
            let Some(contact) = c.other_id else { continue };
            if linked.contains(&(c.record_id, contact)) {
                present += 1;
            }
            found.push((c.record_id, "deal_id", c.record_id, To::Deal));
            found.push((c.record_id, "contact_id", contact, To::Contact));
        }
        links += found.len() as u64;
        out.broken.extend(broken(conn, kind, found).await?);
    }
    let k = out.kinds.entry(kind.plural().to_string()).or_default();
    k.written = written;
    k.present = present;
    k.links = links;
    Ok(())
}
