//! The referential-integrity report of a finished import: every link of every record it
//! wrote points to an existing record, and the records per kind against the files' rows.
//! A link that waits for a later import is empty, so not broken: it is listed as pending.
use std::collections::{BTreeMap, HashMap, HashSet};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};

pub use super::pending::Pending;
use super::{CHUNK, Report, pending};
use crate::domain::import::ObjectKind;
use crate::entities::{
    activity, company, contact, deal, deal_contact, import_change, pipeline, pipeline_stage, task,
    user,
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
    /// Links left empty that wait for a record a later import brings (not broken: the
    /// record is not in Cairn yet); the first `PENDING_LISTED`, and how many in all.
    #[serde(default)]
    pub pending: Vec<Pending>,
    #[serde(default)]
    pub pending_total: u64,
    /// Links earlier imports left waiting that this one filled.
    #[serde(default)]
    pub completed: u64,
}

/// Pending links listed at the most; the rest are counted.
const PENDING_LISTED: u64 = 500;

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
    for kind in [
        ObjectKind::User,
        ObjectKind::Company,
        ObjectKind::Contact,
        ObjectKind::Deal,
        ObjectKind::Activity,
        ObjectKind::Task,
    ] {
        let mut after = 0;
        let (mut written, mut present, mut links) = (0, 0, 0);
        loop {
            let ids = written_ids(conn, import_id, kind, after).await?;
            let Some(&last) = ids.last() else { break };
            after = last;
            written += ids.len() as u64;
            let found = links_of(conn, kind, ids, &mut present).await?;
            let mut there: HashMap<To, HashSet<i64>> = HashMap::new();
            for to in [
                To::User,
                To::Company,
                To::Contact,
                To::Deal,
                To::Stage,
                To::Pipeline,
            ] {
                let wanted: HashSet<i64> =
                    found.iter().filter(|f| f.3 == to).map(|f| f.2).collect();
                there.insert(to, existing_of(conn, to, wanted).await?);
            }
            for (record_id, link, points_to, to) in found {
                links += 1;
                if !there.get(&to).is_some_and(|s| s.contains(&points_to)) {
                    out.broken.push(Broken {
                        kind,
                        record_id,
                        link: link.to_string(),
                        points_to,
                    });
                }
            }
        }
        let k = out.kinds.entry(kind.plural().to_string()).or_default();
        k.written = written;
        k.present = present;
        k.links = links;
    }
    deal_contacts(conn, import_id, &mut out).await?;
    (out.pending, out.pending_total) = pending::of_import(conn, import_id, PENDING_LISTED).await?;
    out.completed = pending::completed(conn, import_id).await?;
    Ok(out)
}

/// What a link points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum To {
    User,
    Company,
    Contact,
    Deal,
    Stage,
    Pipeline,
}

/// A record's link: (record, link name, target, target's table).
type Link = (i64, &'static str, i64, To);

/// The links of the records `ids` of `kind`; `present` counts those that exist.
async fn links_of(
    conn: &impl ConnectionTrait,
    kind: ObjectKind,
    ids: Vec<i64>,
    present: &mut u64,
) -> Result<Vec<Link>, AppError> {
    let mut found: Vec<Link> = Vec::new();
    let mut push = |id: i64, link: &'static str, to: Option<i64>, table: To| {
        if let Some(to) = to {
            found.push((id, link, to, table));
        }
    };
    match kind {
        // Users have no links: those created are counted.
        ObjectKind::User => {
            *present += existing::<user::Entity>(conn, user::Column::Id, ids.into_iter().collect())
                .await?
                .len() as u64;
        }
        ObjectKind::Contact => {
            for c in contact::Entity::find()
                .filter(contact::Column::Id.is_in(ids))
                .all(conn)
                .await?
            {
                *present += 1;
                push(c.id, "owner_id", Some(c.owner_id), To::User);
                push(c.id, "company_id", c.company_id, To::Company);
            }
        }
        ObjectKind::Deal => {
            for d in deal::Entity::find()
                .filter(deal::Column::Id.is_in(ids))
                .all(conn)
                .await?
            {
                *present += 1;
                push(d.id, "owner_id", Some(d.owner_id), To::User);
                push(d.id, "stage_id", Some(d.stage_id), To::Stage);
                push(d.id, "pipeline_id", Some(d.pipeline_id), To::Pipeline);
                push(d.id, "company_id", d.company_id, To::Company);
            }
        }
        ObjectKind::Activity => {
            for a in activity::Entity::find()
                .filter(activity::Column::Id.is_in(ids))
                .all(conn)
                .await?
            {
                *present += 1;
                push(a.id, "author_id", a.author_id, To::User);
                push(a.id, "contact_id", a.contact_id, To::Contact);
                push(a.id, "company_id", a.company_id, To::Company);
                push(a.id, "deal_id", a.deal_id, To::Deal);
            }
        }
        ObjectKind::Task => {
            for t in task::Entity::find()
                .filter(task::Column::Id.is_in(ids))
                .all(conn)
                .await?
            {
                *present += 1;
                push(t.id, "assignee_id", Some(t.assignee_id), To::User);
                push(t.id, "contact_id", t.contact_id, To::Contact);
                push(t.id, "company_id", t.company_id, To::Company);
                push(t.id, "deal_id", t.deal_id, To::Deal);
            }
        }
        _ => {
            for c in company::Entity::find()
                .filter(company::Column::Id.is_in(ids))
                .all(conn)
                .await?
            {
                *present += 1;
                push(c.id, "owner_id", c.owner_id, To::User);
            }
        }
    }
    Ok(found)
}

/// Which of `ids` exist in `to`'s table.
async fn existing_of(
    conn: &impl ConnectionTrait,
    to: To,
    ids: HashSet<i64>,
) -> Result<HashSet<i64>, AppError> {
    match to {
        To::User => existing::<user::Entity>(conn, user::Column::Id, ids).await,
        To::Company => existing::<company::Entity>(conn, company::Column::Id, ids).await,
        To::Contact => existing::<contact::Entity>(conn, contact::Column::Id, ids).await,
        To::Deal => existing::<deal::Entity>(conn, deal::Column::Id, ids).await,
        To::Stage => {
            existing::<pipeline_stage::Entity>(conn, pipeline_stage::Column::Id, ids).await
        }
        To::Pipeline => existing::<pipeline::Entity>(conn, pipeline::Column::Id, ids).await,
    }
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
        let pairs: Vec<(i64, i64)> = changes
            .iter()
            .filter_map(|c| Some((c.record_id, c.other_id?)))
            .collect();
        let deals: HashSet<i64> = pairs.iter().map(|p| p.0).collect();
        let contacts: HashSet<i64> = pairs.iter().map(|p| p.1).collect();
        let linked: HashSet<(i64, i64)> = deal_contact::Entity::find()
            .filter(deal_contact::Column::DealId.is_in(deals.clone()))
            .all(conn)
            .await?
            .into_iter()
            .map(|l| (l.deal_id, l.contact_id))
            .collect();
        let deals = existing_of(conn, To::Deal, deals).await?;
        let contacts = existing_of(conn, To::Contact, contacts).await?;
        for (deal, contact) in pairs {
            present += u64::from(linked.contains(&(deal, contact)));
            links += 2;
            for (link, to, there) in [
                ("deal_id", deal, &deals),
                ("contact_id", contact, &contacts),
            ] {
                if !there.contains(&to) {
                    out.broken.push(Broken {
                        kind,
                        record_id: deal,
                        link: link.to_string(),
                        points_to: to,
                    });
                }
            }
        }
    }
    let k = out.kinds.entry(kind.plural().to_string()).or_default();
    k.written = written;
    k.present = present;
    k.links = links;
    Ok(())
}
