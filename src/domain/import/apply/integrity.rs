//! The referential-integrity report of a finished import: every link of every record it
//! wrote points to an existing record, and the records per kind against the files' rows.
use std::collections::{BTreeMap, HashSet};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};

use super::{CHUNK, Report};
use crate::domain::import::ObjectKind;
use crate::entities::{company, contact, import_change, user};
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
    for kind in [ObjectKind::Company, ObjectKind::Contact, ObjectKind::User] {
        let mut after = 0;
        let (mut written, mut present, mut links) = (0, 0, 0);
        loop {
            let ids = written_ids(conn, import_id, kind, after).await?;
            let Some(&last) = ids.last() else { break };
            after = last;
            written += ids.len() as u64;
            // Each record's links: (record, link name, target, target kind).
            let mut found: Vec<(i64, &str, i64, bool)> = Vec::new();
            match kind {
                ObjectKind::Contact => {
                    for c in contact::Entity::find()
                        .filter(contact::Column::Id.is_in(ids))
                        .all(conn)
                        .await?
                    {
                        present += 1;
                        found.push((c.id, "owner_id", c.owner_id, false));
                        if let Some(co) = c.company_id {
                            found.push((c.id, "company_id", co, true));
                        }
                    }
                }
                // Users have no links: those created are counted.
                ObjectKind::User => {
                    present +=
                        existing::<user::Entity>(conn, user::Column::Id, ids.into_iter().collect())
                            .await?
                            .len() as u64;
                }
                _ => {
                    for c in company::Entity::find()
                        .filter(company::Column::Id.is_in(ids))
                        .all(conn)
                        .await?
                    {
                        present += 1;
                        if let Some(o) = c.owner_id {
                            found.push((c.id, "owner_id", o, false));
                        }
                    }
                }
            }
            let users: HashSet<i64> = found.iter().filter(|f| !f.3).map(|f| f.2).collect();
            let companies: HashSet<i64> = found.iter().filter(|f| f.3).map(|f| f.2).collect();
            let users = existing::<user::Entity>(conn, user::Column::Id, users).await?;
            let companies =
                existing::<company::Entity>(conn, company::Column::Id, companies).await?;
            for (record_id, link, to, is_company) in found {
                links += 1;
                let there = if is_company { &companies } else { &users };
                if !there.contains(&to) {
                    out.broken.push(Broken {
                        kind,
                        record_id,
                        link: link.to_string(),
                        points_to: to,
                    });
                }
            }
        }
        let k = out.kinds.entry(kind.plural().to_string()).or_default();
        k.written = written;
        k.present = present;
        k.links = links;
    }
    Ok(out)
}
