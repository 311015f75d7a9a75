//! Writes a plan in chunked transactions. Each chunk's transaction holds its records,
//! their tags, the `import_changes` rows undo reverts them by, the source ids
//! (`import_sources`) and the import's progress, so a chunk is written whole or not at
//! all, and the server's one SQLite writer is free again between chunks.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use super::pending::{self, Waiting, Waits};
use super::plan::{Action, Plan, Planned, Ref};
use super::{company, contact, deal, deal_contact};
use crate::domain::import::{ObjectKind, System};
use crate::domain::tags::{self, Tagged};
use crate::domain::{Actor, Db, audit, companies, normalise, now};
use crate::entities::{company_tag, contact_tag, import, import_change, import_source};
use crate::error::AppError;

/// What undo needs of an updated record: its columns and (when the import set them)
/// its tags as they were.
#[derive(Serialize, Deserialize)]
pub(super) struct Before<T> {
    pub row: T,
    pub tags: Option<Vec<i64>>,
}

/// One record a chunk wrote.
pub(super) struct Change {
    pub kind: ObjectKind,
    pub id: i64,
    pub before: Option<String>,
    pub source: Option<String>,
    /// Its links that wait for a later import (`pending`).
    pub waiting: Vec<Waiting>,
}

/// Records the chunk's changes and source ids and the import's progress, in `tx`; keeps
/// the links of its records that wait for a later import, and fills those of earlier
/// imports that waited for its records.
pub(super) async fn record(
    tx: &DatabaseTransaction,
    import_id: i64,
    system: System,
    changes: Vec<Change>,
    done: u64,
) -> Result<(), AppError> {
    // A created record's source id points at it (over a mapping to a record since
    // gone); an updated record keeps the mapping it was matched by, and its import.
    for created in [true, false] {
        let rows: Vec<import_source::ActiveModel> = changes
            .iter()
            .filter(|c| c.before.is_none() == created)
            .filter_map(|c| source_row(import_id, system, c))
            .collect();
        let key = [
            import_source::Column::System,
            import_source::Column::Kind,
            import_source::Column::SourceId,
        ];
        let on_conflict = if created {
            OnConflict::columns(key)
                .update_columns([
                    import_source::Column::RecordId,
                    import_source::Column::ImportId,
                ])
                .to_owned()
        } else {
            OnConflict::columns(key).do_nothing().to_owned()
        };
        import_source::Entity::insert_many(rows)
            .on_conflict(on_conflict)
            .exec_without_returning(tx)
            .await?;
    }
    let held = changes
        .iter()
        .flat_map(|c| c.waiting.iter().map(move |w| ((c.kind, c.id), w)));
    pending::hold(tx, pending::held(import_id, system, held)).await?;
    pending::complete(tx, import_id, system, pending::sources_of(&changes)).await?;
    import_change::Entity::insert_many(changes.into_iter().map(|c| {
        import_change::ActiveModel {
            import_id: Set(import_id),
            kind: Set(c.kind.plural().to_string()),
            record_id: Set(c.id),
            change: Set(if c.before.is_some() {
                "updated"
            } else {
                "created"
            }
            .to_string()),
            before: Set(c.before),
            ..Default::default()
        }
    }))
    .exec_without_returning(tx)
    .await?;
    import::Entity::update_many()
        .col_expr(import::Column::DoneRows, Expr::value(done as i64))
        .filter(import::Column::Id.eq(import_id))
        .exec(tx)
        .await?;
    Ok(())
}

fn source_row(import_id: i64, system: System, c: &Change) -> Option<import_source::ActiveModel> {
    c.source.as_ref().map(|s| import_source::ActiveModel {
        system: Set(system.name().to_string()),
        kind: Set(c.kind.plural().to_string()),
        source_id: Set(s.clone()),
        record_id: Set(c.id),
        import_id: Set(Some(import_id)),
        ..Default::default()
    })
}

/// Puts tags on records: new records' links in one insert, updated records' replaced
/// (their earlier tag ids returned for undo, by record id).
async fn put_tags(
    tx: &DatabaseTransaction,
    kind: Tagged,
    created: &[(i64, &[String])],
    updated: &[(i64, &[String])],
) -> Result<HashMap<i64, Vec<i64>>, AppError> {
    let mut names: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    for (_, list) in created.iter().chain(updated) {
        for n in list.iter() {
            if seen.insert(normalise(n)) {
                names.push(n.clone());
            }
        }
    }
    let found: HashMap<String, i64> = tags::ensure(tx, &names)
        .await?
        .into_iter()
        .map(|t| (t.name_norm, t.id))
        .collect();
    let ids = |list: &[String]| -> Vec<i64> {
        let set: HashSet<i64> = list
            .iter()
            .filter_map(|n| found.get(&normalise(n)).copied())
            .collect();
        set.into_iter().collect()
    };
    match kind {
        Tagged::Contact => {
            let links = created.iter().flat_map(|(id, l)| {
                ids(l).into_iter().map(|t| contact_tag::ActiveModel {
                    contact_id: Set(*id),
                    tag_id: Set(t),
                    ..Default::default()
                })
            });
            contact_tag::Entity::insert_many(links)
                .exec_without_returning(tx)
                .await?;
        }
        Tagged::Company => {
            let links = created.iter().flat_map(|(id, l)| {
                ids(l).into_iter().map(|t| company_tag::ActiveModel {
                    company_id: Set(*id),
                    tag_id: Set(t),
                })
            });
            company_tag::Entity::insert_many(links)
                .exec_without_returning(tx)
                .await?;
        }
    }
    let mut before = HashMap::new();
    for (id, list) in updated {
        before.insert(*id, tag_ids(tx, kind, *id).await?);
        let models = tags::ensure(tx, list).await?;
        tags::set_links(tx, kind, *id, &models).await?;
    }
    Ok(before)
}

/// The ids of the tags on record `id`.
pub(super) async fn tag_ids(
    conn: &impl ConnectionTrait,
    kind: Tagged,
    id: i64,
) -> Result<Vec<i64>, AppError> {
    Ok(match kind {
        Tagged::Contact => contact_tag::Entity::find()
            .filter(contact_tag::Column::ContactId.eq(id))
            .all(conn)
            .await?
            .into_iter()
            .map(|l| l.tag_id)
            .collect(),
        Tagged::Company => company_tag::Entity::find()
            .filter(company_tag::Column::CompanyId.eq(id))
            .all(conn)
            .await?
            .into_iter()
            .map(|l| l.tag_id)
            .collect(),
    })
}

/// Writes the plan as import `import_id`, one audit entry for the whole import.
pub(super) async fn write(
    db: &Db,
    actor: &Actor,
    import_id: i64,
    plan: &mut Plan,
) -> Result<(), AppError> {
    let at = now();
    let tx = db.begin_write().await?;
    import::Entity::update_many()
        .col_expr(import::Column::WrittenAt, Expr::value(at))
        .col_expr(
            import::Column::TotalRows,
            Expr::value(plan.rows_to_write() as i64),
        )
        .filter(import::Column::Id.eq(import_id))
        .exec(&tx)
        .await?;
    // The users file's ids; the users, custom fields and what workspace.json made this
    // run created, so undo removes them.
    let users: Vec<Change> = plan
        .users
        .iter()
        .map(|(s, id)| Change {
            kind: ObjectKind::User,
            id: *id,
            before: None,
            source: Some(s.clone()),
            waiting: Vec::new(),
        })
        .collect();
    record_sources_only(&tx, import_id, plan.system, &users).await?;
    let created: Vec<Change> = plan
        .new_users
        .iter()
        .map(|(s, id)| Change {
            kind: ObjectKind::User,
            id: *id,
            before: None,
            source: s.clone(),
            waiting: Vec::new(),
        })
        .collect();
    record(&tx, import_id, plan.system, created, 0).await?;
    let made = super::workspace::changes(&plan.workspace);
    let made = made
        .iter()
        .flat_map(|(kind, ids)| ids.iter().map(move |id| (*kind, *id)));
    let fields = plan.new_fields.iter().map(|id| ("custom_field", *id));
    import_change::Entity::insert_many(fields.chain(made).map(|(kind, id)| {
        import_change::ActiveModel {
            import_id: Set(import_id),
            kind: Set(kind.into()),
            record_id: Set(id),
            change: Set("created".into()),
            before: Set(None),
            ..Default::default()
        }
    }))
    .exec_without_returning(&tx)
    .await?;
    tx.commit().await?;

    let mut done = 0u64;
    let system = plan.system;
    let mut rows = plan.rows.chunks::<company::Row>(ObjectKind::Company)?;
    while let Some(mut chunk) = rows.next_chunk()? {
        let tx = db.begin_write().await?;
        let changes = companies_chunk(&tx, &mut chunk, at).await?;
        done += chunk.len() as u64;
        record(&tx, import_id, system, changes, done).await?;
        tx.commit().await?;
        plan.rows
            .written(ObjectKind::Company, &chunk, &mut plan.report);
    }
    let mut new_companies: HashMap<String, i64> = HashMap::new();
    let company_ids = plan.rows.ids(ObjectKind::Company).to_vec();
    let mut rows = plan.rows.chunks::<contact::Row>(ObjectKind::Contact)?;
    while let Some(mut chunk) = rows.next_chunk()? {
        let tx = db.begin_write().await?;
        let mut changes = Vec::new();
        for p in &chunk {
            if let Some(Ref::NewCompany(name)) = &p.data.company {
                let key = normalise(name);
                if new_companies.contains_key(&key) {
                    continue;
                }
                let owner = Some(p.data.valid.owner_id());
                let (c, created) = companies::find_or_create(&tx, name, owner).await?;
                new_companies.insert(key, c.id);
                if created {
                    changes.push(Change {
                        kind: ObjectKind::Company,
                        id: c.id,
                        before: None,
                        source: None,
                        waiting: Vec::new(),
                    });
                }
            }
        }
        let resolve = |r: &Option<Ref>| -> Result<Option<i64>, AppError> {
            match r {
                None => Ok(None),
                Some(Ref::Id(id)) => Ok(Some(*id)),
                Some(Ref::Planned(i)) => company_ids
                    .get(*i)
                    .copied()
                    .flatten()
                    .map(Some)
                    .ok_or_else(|| {
                        AppError::Internal("contact import: its company was not written".into())
                    }),
                Some(Ref::NewCompany(n)) => Ok(new_companies.get(&normalise(n)).copied()),
                Some(Ref::Later(_)) => Ok(None),
            }
        };
        changes.extend(contacts_chunk(&tx, &mut chunk, &resolve, at).await?);
        done += chunk.len() as u64;
        record(&tx, import_id, system, changes, done).await?;
        tx.commit().await?;
        plan.rows
            .written(ObjectKind::Contact, &chunk, &mut plan.report);
    }
    deals(db, actor, import_id, plan, &mut done, at).await?;
    super::timeline::write(db, actor.id, import_id, plan, at, &mut done).await?;
    plan.report.linked = pending::completed(&db.write, import_id).await?;
    if plan.report.linked > 0 {
        // A task it put on a record is seen by whoever sees the record.
        db.forget_task_counts();
    }
    let counts = serde_json::to_value(plan.report.counts()).unwrap_or_default();
    let detail = serde_json::json!({ "counts": counts, "linked": plan.report.linked });
    audit::record(
        &db.write,
        Some(actor),
        "import",
        "import",
        import_id,
        Some(detail),
    )
    .await?;
    Ok(())
}

/// Source ids known without a change of their own (the users file's).
async fn record_sources_only(
    tx: &DatabaseTransaction,
    import_id: i64,
    system: System,
    sources: &[Change],
) -> Result<(), AppError> {
    let rows: Vec<import_source::ActiveModel> = sources
        .iter()
        .filter_map(|c| source_row(import_id, system, c))
        .collect();
    import_source::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                import_source::Column::System,
                import_source::Column::Kind,
                import_source::Column::SourceId,
            ])
            .update_columns([import_source::Column::RecordId])
            .to_owned(),
        )
        .exec_without_returning(tx)
        .await?;
    Ok(())
}

fn json<T: Serialize>(before: &Before<T>) -> Result<String, AppError> {
    serde_json::to_string(before).map_err(|e| AppError::Internal(e.to_string()))
}

async fn companies_chunk(
    tx: &DatabaseTransaction,
    rows: &mut [Planned<company::Row>],
    at: DateTime<Utc>,
) -> Result<Vec<Change>, AppError> {
    let new: Vec<&Planned<company::Row>> = rows
        .iter()
        .filter(|p| matches!(p.action, Action::Create))
        .collect();
    let mut ids = company::insert(tx, &new, at).await?.into_iter();
    for p in rows
        .iter_mut()
        .filter(|p| matches!(p.action, Action::Create))
    {
        p.id = ids.next();
    }
    for p in rows.iter() {
        if let Action::Update(id) = p.action {
            company::update(tx, id, &p.data, at).await?;
        }
    }
    tags_and_changes(tx, rows, Tagged::Company, ObjectKind::Company).await
}

/// What writing a chunk needs of a planned row, whatever its kind.
pub(super) trait Written: Waits {
    type Before: Serialize + Clone;
    fn tags(&self) -> Option<&[String]>;
    fn before(&self) -> Option<&Self::Before>;
}

impl Written for company::Row {
    type Before = company::Before;
    fn tags(&self) -> Option<&[String]> {
        self.valid.tags()
    }
    fn before(&self) -> Option<&company::Before> {
        self.before.as_deref()
    }
}

impl Written for deal::Row {
    type Before = deal::Before;
    fn tags(&self) -> Option<&[String]> {
        None
    }
    fn before(&self) -> Option<&deal::Before> {
        self.before.as_deref()
    }
}

impl Written for contact::Row {
    type Before = contact::Before;
    fn tags(&self) -> Option<&[String]> {
        self.valid.tags()
    }
    fn before(&self) -> Option<&contact::Before> {
        self.before.as_deref()
    }
}

/// Puts the tags of a written chunk (of a kind that has them) and lists what it wrote:
/// each record, with what an updated one was before (its columns and tags), for undo.
async fn tags_and_changes<T: Written>(
    tx: &DatabaseTransaction,
    rows: &[Planned<T>],
    tagged: Tagged,
    kind: ObjectKind,
) -> Result<Vec<Change>, AppError> {
    let with_tags = |create: bool| -> Vec<(i64, &[String])> {
        rows.iter()
            .filter(|p| matches!(p.action, Action::Create) == create)
            .filter_map(|p| Some((p.id?, p.data.tags()?)))
            .collect()
    };
    let before_tags = put_tags(tx, tagged, &with_tags(true), &with_tags(false)).await?;
    changes(rows, kind, &before_tags)
}

/// What a written chunk wrote: each record, with what an updated one was before (its
/// columns, and its tags from `before_tags`), for undo.
pub(super) fn changes<T: Written>(
    rows: &[Planned<T>],
    kind: ObjectKind,
    before_tags: &HashMap<i64, Vec<i64>>,
) -> Result<Vec<Change>, AppError> {
    let mut changes = Vec::with_capacity(rows.len());
    for p in rows {
        let Some(id) = p.id else { continue };
        let before = match p.data.before() {
            Some(b) => Some(json(&Before {
                row: b.clone(),
                tags: before_tags.get(&id).cloned(),
            })?),
            None => None,
        };
        changes.push(Change {
            kind,
            id,
            before,
            source: p.source.clone(),
            waiting: p.data.waiting(),
        });
    }
    Ok(changes)
}

/// The company id a contact's link comes to, once the companies are written.
type CompanyOf<'a> = dyn Fn(&Option<Ref>) -> Result<Option<i64>, AppError> + Sync + 'a;

async fn contacts_chunk(
    tx: &DatabaseTransaction,
    rows: &mut [Planned<contact::Row>],
    company_of: &CompanyOf<'_>,
    at: DateTime<Utc>,
) -> Result<Vec<Change>, AppError> {
    let mut new = Vec::new();
    for p in rows.iter().filter(|p| matches!(p.action, Action::Create)) {
        new.push((&p.data, company_of(&p.data.company)?));
    }
    let mut ids = contact::insert(tx, &new, at).await?.into_iter();
    for p in rows
        .iter_mut()
        .filter(|p| matches!(p.action, Action::Create))
    {
        p.id = ids.next();
    }
    for p in rows.iter() {
        if let Action::Update(id) = p.action {
            contact::update(tx, id, &p.data, company_of(&p.data.company)?, at).await?;
        }
    }
    tags_and_changes(tx, rows, Tagged::Contact, ObjectKind::Contact).await
}

/// The id a link comes to once the record it points at is written (None: it waits).
fn written(r: &Ref, ids: &[Option<i64>], what: &str) -> Result<Option<i64>, AppError> {
    match r {
        Ref::Id(id) => Ok(Some(*id)),
        Ref::Later(_) => Ok(None),
        Ref::Planned(i) => ids.get(*i).copied().flatten().map(Some).ok_or_else(|| {
            AppError::Internal(format!("import: a {what} it links to was not written"))
        }),
        Ref::NewCompany(_) => Err(AppError::Internal(format!(
            "import: a {what} link is to a company by name"
        ))),
    }
}

/// Records the deal contact links a chunk added, which undo removes.
pub(super) async fn record_links(
    tx: &DatabaseTransaction,
    import_id: i64,
    links: &[(i64, i64)],
) -> Result<(), AppError> {
    import_change::Entity::insert_many(links.iter().map(|(d, c)| import_change::ActiveModel {
        import_id: Set(import_id),
        kind: Set(ObjectKind::DealContact.plural().to_string()),
        record_id: Set(*d),
        other_id: Set(Some(*c)),
        change: Set("created".into()),
        before: Set(None),
        ..Default::default()
    }))
    .exec_without_returning(tx)
    .await?;
    Ok(())
}

/// Writes the planned deals, then the deal contacts files' links, a chunk per
/// transaction; sets their rows' record ids (a link's is its deal's).
async fn deals(
    db: &Db,
    actor: &Actor,
    import_id: i64,
    plan: &mut Plan,
    done: &mut u64,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    let companies = plan.rows.ids(ObjectKind::Company).to_vec();
    let contacts = plan.rows.ids(ObjectKind::Contact).to_vec();
    let mut chunks = plan.rows.chunks::<deal::Row>(ObjectKind::Deal)?;
    while let Some(mut chunk) = chunks.next_chunk()? {
        let rows = &mut chunk[..];
        let tx = db.begin_write().await?;
        let company_of = |p: &Planned<deal::Row>| {
            p.data
                .company
                .as_ref()
                .map(|r| written(r, &companies, "company"))
                .transpose()
                .map(Option::flatten)
        };
        let mut new = Vec::new();
        for p in rows.iter().filter(|p| matches!(p.action, Action::Create)) {
            new.push((&p.data, company_of(p)?));
        }
        let mut ids = deal::insert(&tx, &new, actor.id, at).await?.into_iter();
        for p in rows
            .iter_mut()
            .filter(|p| matches!(p.action, Action::Create))
        {
            p.id = ids.next();
        }
        let mut pairs = Vec::new();
        for p in rows.iter() {
            if let Action::Update(id) = p.action {
                deal::update(&tx, id, &p.data, company_of(p)?, actor.id, at).await?;
            }
            for c in &p.data.contacts {
                let deal =
                    p.id.ok_or_else(|| AppError::Internal("deal import: no id".into()))?;
                if let Some(c) = written(c, &contacts, "contact")? {
                    pairs.push((deal, c));
                }
            }
        }
        let added = deal::link(&tx, pairs).await?;
        record_links(&tx, import_id, &added).await?;
        let changes = self::changes(rows, ObjectKind::Deal, &HashMap::new())?;
        *done += rows.len() as u64;
        record(&tx, import_id, plan.system, changes, *done).await?;
        tx.commit().await?;
        plan.rows
            .written(ObjectKind::Deal, &chunk, &mut plan.report);
    }
    let deals = plan.rows.ids(ObjectKind::Deal).to_vec();
    let mut chunks = plan
        .rows
        .chunks::<deal_contact::Link>(ObjectKind::DealContact)?;
    while let Some(mut chunk) = chunks.next_chunk()? {
        let tx = db.begin_write().await?;
        let mut pairs = Vec::new();
        let mut held = Vec::new();
        for p in chunk.iter_mut() {
            let deal = written(&p.data.deal, &deals, "deal")?;
            let contact = written(&p.data.contact, &contacts, "contact")?;
            match (deal, contact) {
                (Some(d), Some(c)) => pairs.push((d, c)),
                (Some(d), None) => held.push(((ObjectKind::Deal, d), p.data.waiting())),
                (None, Some(c)) => held.push(((ObjectKind::Contact, c), p.data.waiting())),
                (None, None) => {}
            }
            p.id = deal;
        }
        let added = deal::link(&tx, pairs).await?;
        record_links(&tx, import_id, &added).await?;
        let held = held
            .iter()
            .flat_map(|(holder, ws)| ws.iter().map(move |w| (*holder, w)));
        pending::hold(&tx, pending::held(import_id, plan.system, held)).await?;
        *done += chunk.len() as u64;
        record(&tx, import_id, plan.system, Vec::new(), *done).await?;
        tx.commit().await?;
        plan.rows
            .written(ObjectKind::DealContact, &chunk, &mut plan.report);
    }
    Ok(())
}
