//! Deal rows: matched by source id only (deals have no natural key); linked to their
//! company (source id, else name) and contacts (source ids), placed in a pipeline and
//! stage by name; checked by the deals' own `Rules`; written in bulk, each new deal at
//! the end of its stage's column with its first stage change. No owner email or webhook
//! goes out per row: an import is not N assignments (its one audit entry says what it
//! did), and the board's cache retires itself through the deals' change-counter trigger.
use std::collections::{BTreeMap, HashMap, HashSet};

use crate::domain::import::values::Dates;
use chrono::{DateTime, NaiveTime, Utc};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, NotSet, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::cells::Cells;
use super::deal_input::{input, stage_of, time};
use super::plan::{Ctx, Plan, Ref};
use super::rows::{Kind, Verdict};
use super::{about, insert, links, matching};
use crate::domain::Db;
use crate::domain::custom_fields;
use crate::domain::deals::{self, OWNER_MESSAGE, Rules, Valid};
use crate::domain::import::ObjectKind;
use crate::entities::{deal, deal_contact, deal_stage_change, import_change};
use crate::error::{AppError, FieldErrors};

/// The reason a lost deal gets when its file gives none (Cairn requires one).
pub(super) const LOST_WITHOUT_REASON: &str = "Imported";

#[derive(Serialize, Deserialize)]
pub(in crate::domain::import) struct Row {
    pub valid: Valid,
    pub company: Option<Ref>,
    pub contacts: Vec<Ref>,
    /// The source's creation time, else the import's.
    pub created_at: Option<DateTime<Utc>>,
    /// When a closed deal closed: the file's, else its close date, else the import's.
    pub closed_at: Option<DateTime<Utc>>,
    /// Boxed: only an update has one, and every planned row carries the field.
    pub before: Option<Box<Before>>,
}

/// An updated deal's columns as they were, for undo.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(in crate::domain::import) struct Before {
    title: String,
    pipeline_id: i64,
    stage_id: i64,
    position: i64,
    amount_minor: i64,
    currency: String,
    company_id: Option<i64>,
    owner_id: i64,
    expected_close: Option<chrono::NaiveDate>,
    probability: Option<i32>,
    source: String,
    closed_at: Option<DateTime<Utc>>,
    lost_reason: Option<String>,
    custom: String,
    stage_entered_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Before {
    fn of(m: &deal::Model) -> Before {
        Before {
            title: m.title.clone(),
            pipeline_id: m.pipeline_id,
            stage_id: m.stage_id,
            position: m.position,
            amount_minor: m.amount_minor,
            currency: m.currency.clone(),
            company_id: m.company_id,
            owner_id: m.owner_id,
            expected_close: m.expected_close,
            probability: m.probability,
            source: m.source.clone(),
            closed_at: m.closed_at,
            lost_reason: m.lost_reason.clone(),
            custom: m.custom.clone(),
            stage_entered_at: m.stage_entered_at,
            updated_at: m.updated_at,
        }
    }

    pub fn restore(self) -> deal::ActiveModel {
        deal::ActiveModel {
            title: Set(self.title),
            pipeline_id: Set(self.pipeline_id),
            stage_id: Set(self.stage_id),
            position: Set(self.position),
            amount_minor: Set(self.amount_minor),
            currency: Set(self.currency),
            company_id: Set(self.company_id),
            owner_id: Set(self.owner_id),
            expected_close: Set(self.expected_close),
            probability: Set(self.probability),
            source: Set(self.source),
            closed_at: Set(self.closed_at),
            lost_reason: Set(self.lost_reason),
            custom: Set(self.custom),
            stage_entered_at: Set(self.stage_entered_at),
            updated_at: Set(self.updated_at),
            ..Default::default()
        }
    }
}

/// The contacts a row names by source id (planned in this import, live in Cairn, or
/// waiting for a later import), else the one it names by name.
fn contacts_of(ctx: &Ctx, known: &Known, c: &Cells) -> Result<Vec<Ref>, String> {
    let mut out = Vec::new();
    for raw in c.link_ids(ObjectKind::Contact) {
        let key = ctx.key(raw);
        let r = match ctx.by_source.get(&(ObjectKind::Contact, key.clone())) {
            Some(&i) => Ref::Planned(i),
            None => match known.contacts.get(&key) {
                Some(&id) => Ref::Id(id),
                None => ctx.later(ObjectKind::Contact, "Contact", raw)?,
            },
        };
        if !out.contains(&r) {
            out.push(r);
        }
    }
    if let (true, Some(name)) = (out.is_empty(), c.link_name(ObjectKind::Contact)) {
        out.push(about::named_one(
            ctx,
            &known.named,
            ObjectKind::Contact,
            name,
        )?);
    }
    Ok(out)
}

/// Live records of `kind` earlier imports made of the source ids `raw` (those this
/// import plans are left to `ctx.by_source`), by source key.
pub(super) async fn live_sources(
    ctx: &Ctx<'_>,
    kind: ObjectKind,
    raw: impl Iterator<Item = &str>,
) -> Result<HashMap<String, i64>, AppError> {
    let conn = &ctx.db.read;
    let keys: HashSet<String> = raw
        .map(|s| ctx.key(s))
        .filter(|k| !ctx.by_source.contains_key(&(kind, k.clone())))
        .collect();
    let mapped = links::sources(conn, ctx.options.system, kind, &keys).await?;
    let ids: HashSet<i64> = mapped.values().copied().collect();
    let live: HashSet<i64> = match kind {
        ObjectKind::Deal => matching::deals_by_id(conn, &ids)
            .await?
            .into_values()
            .filter(|d| d.deleted_at.is_none())
            .map(|d| d.id)
            .collect(),
        _ => matching::contacts_by_id(conn, &ids)
            .await?
            .into_values()
            .filter(|c| c.deleted_at.is_none())
            .map(|c| c.id)
            .collect(),
    };
    Ok(mapped
        .into_iter()
        .filter(|(_, id)| live.contains(id))
        .collect())
}

/// Deals as planning knows them (`rows::Kind`): matched by source id only.
pub(super) struct Deal;

/// What a chunk of deals looks up at once.
pub(super) struct Known {
    companies: links::Companies,
    contacts: HashMap<String, i64>,
    /// Contacts by name (Pipedrive's "Contact person").
    named: about::Known,
    rules: Rules,
    /// The users who may own deals.
    owners: HashSet<i64>,
    dates: Dates,
}

impl Kind for Deal {
    const KIND: ObjectKind = ObjectKind::Deal;
    type Existing = deal::Model;
    type Known = Known;
    type Row = Row;

    async fn by_id(db: &Db, ids: &HashSet<i64>) -> Result<HashMap<i64, deal::Model>, AppError> {
        matching::deals_by_id(&db.read, ids).await
    }

    async fn known(ctx: &Ctx<'_>, plan: &mut Plan, cells: &[Cells<'_>]) -> Result<Known, AppError> {
        let contacts = cells.iter().flat_map(|c| c.link_ids(ObjectKind::Contact));
        let mut rules = Rules::load(ctx.db).await?;
        rules.pipelines = super::workspace::with_planned(rules.pipelines, plan);
        Ok(Known {
            named: about::known(ctx, plan, cells).await?,
            companies: links::companies(ctx, cells).await?,
            contacts: live_sources(ctx, ObjectKind::Contact, contacts).await?,
            rules,
            owners: deals::deal_owners(&ctx.db.read).await?,
            dates: ctx.dates(),
        })
    }

    fn id(e: &deal::Model) -> i64 {
        e.id
    }

    fn noun() -> &'static str {
        "deal"
    }

    fn trashed(e: &deal::Model) -> Option<String> {
        e.deleted_at
            .map(|_| format!("The deal “{}” is in the trash; restore it first.", e.title))
    }

    fn skipped(e: &deal::Model) -> String {
        format!("Matches the existing deal “{}”.", e.title)
    }

    async fn check(
        ctx: &Ctx<'_>,
        known: &Known,
        c: &Cells<'_>,
        current: Option<&deal::Model>,
        _matched: bool,
        dry: bool,
        verdict: &mut Verdict,
    ) -> Result<Option<Row>, AppError> {
        if c.tags().is_some_and(|t| !t.is_empty()) {
            let why = "Cairn's deals have no tags; its labels are left out.";
            verdict.notes.push(why.into());
        }
        Ok(check(ctx, known, c, current, dry, &mut verdict.reasons))
    }
}

/// A row's deal over `current` when updating, or None with the reasons.
fn check(
    ctx: &Ctx<'_>,
    known: &Known,
    c: &Cells<'_>,
    current: Option<&deal::Model>,
    dry: bool,
    reasons: &mut Vec<String>,
) -> Option<Row> {
    let rules = &known.rules;
    let mut input = input(
        c,
        current,
        rules,
        (known.dates, ctx.options.system),
        reasons,
    );
    match stage_of(&rules.pipelines, c, current) {
        Ok((p, s)) => (input.pipeline_id, input.stage_id) = (p, s),
        Err(why) => reasons.push(why),
    }
    let stage = input.stage_id.and_then(|id| {
        rules
            .pipelines
            .iter()
            .flat_map(|p| &p.stages)
            .find(|s| s.id == id)
    });
    if stage.is_some_and(|s| s.kind == "lost") && input.lost_reason.is_none() {
        input.lost_reason = Some(LOST_WITHOUT_REASON.into());
    }
    if let Some(owner) = c.owner() {
        match ctx.owners.find(owner) {
            // A user this import creates (deactivated until an admin takes them up; in a
            // dry run a stand-in below zero) owns what the source says they own.
            Ok(id)
                if known.owners.contains(&id)
                    || ctx.owners.created(id)
                    || current.is_some_and(|m| m.owner_id == id) =>
            {
                input.owner_id = Some(id)
            }
            Ok(_) => reasons.push(format!("Owner “{owner}”: {OWNER_MESSAGE}")),
            Err(why) => reasons.push(why),
        }
    }
    let kept = current.and_then(|m| m.company_id).map(Ref::Id);
    let company = match links::company_of(ctx, &known.companies, c) {
        // An update keeps the company it has over one not in Cairn yet.
        Ok(None) => kept,
        Ok(Some(Ref::Later(_))) if kept.is_some() => kept,
        Ok(Some(r)) => Some(r),
        Err(why) => {
            reasons.push(why);
            None
        }
    };
    let contacts = contacts_of(ctx, known, c).unwrap_or_else(|why| {
        reasons.push(why);
        Vec::new()
    });
    let mut custom = c.custom();
    custom.extend(ctx.new_custom("deal", c, dry, reasons));
    input.custom_fields = (!custom.is_empty()).then_some(custom);
    let current_custom: BTreeMap<String, Value> = current
        .map(|m| custom_fields::parse(&m.custom))
        .unwrap_or_default();
    let created_at = time(c, "created_at", known.dates, reasons);
    // A closed deal closed when the file says, else on its close date.
    let closed_at = time(c, "closed_at", known.dates, reasons).or_else(|| {
        input
            .expected_close
            .as_deref()
            .and_then(|d| d.parse::<chrono::NaiveDate>().ok())
            .map(|d| d.and_time(NaiveTime::MIN).and_utc())
    });
    let mut fields = FieldErrors::new();
    let owner = input.owner_id.unwrap_or(ctx.actor.id);
    let valid = rules.check(&input, owner, &current_custom, &mut fields);
    reasons.extend(fields.into_values());
    Some(Row {
        valid: valid?,
        company,
        contacts,
        created_at,
        closed_at,
        before: current.map(|m| Box::new(Before::of(m))),
    })
}

/// Inserts new deals in one statement, each at the end of its stage's column (after
/// the deals there and the chunk's earlier ones), with its first stage change; their
/// ids, in order (ids are assigned in VALUES order).
pub(super) async fn insert(
    tx: &impl ConnectionTrait,
    rows: &[(&Row, Option<i64>)],
    user: i64,
    at: DateTime<Utc>,
) -> Result<Vec<i64>, AppError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut next: HashMap<i64, i64> = HashMap::new();
    let stages: HashSet<i64> = rows.iter().map(|(r, _)| r.valid.stage().id).collect();
    for stage in stages {
        next.insert(stage, deals::end_of(tx, stage).await?);
    }
    let mut models = Vec::with_capacity(rows.len());
    for (r, company) in rows {
        let slot = next.entry(r.valid.stage().id).or_default();
        let created = r.created_at.unwrap_or(at);
        let closed = r.closed_at.unwrap_or(at);
        let mut m = r.valid.new_model(*company, *slot, created);
        *slot += 1;
        m.id = NotSet;
        m.updated_at = Set(at);
        if matches!(r.valid.stage().kind.as_str(), "won" | "lost") {
            m.closed_at = Set(Some(closed));
        }
        models.push(m);
    }
    let inserted = insert::in_order(tx, models, |d| d.id).await?;
    deal_stage_change::Entity::insert_many(inserted.iter().map(|d| {
        deal_stage_change::ActiveModel {
            deal_id: Set(d.id),
            from_stage_id: Set(None),
            to_stage_id: Set(d.stage_id),
            user_id: Set(Some(user)),
            created_at: Set(d.created_at),
            stay_ms: Set(None),
            ..Default::default()
        }
    }))
    .exec_without_returning(tx)
    .await?;
    Ok(inserted.into_iter().map(|d| d.id).collect())
}

/// Writes an update over deal `id`; a new stage is a move, kept in its history.
pub(super) async fn update(
    tx: &impl ConnectionTrait,
    id: i64,
    row: &Row,
    company: Option<i64>,
    user: i64,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    let mut m = row.valid.edit_model(company, at);
    let stage = row.valid.stage();
    if let Some(b) = row.before.as_ref().filter(|b| b.stage_id != stage.id) {
        m.pipeline_id = Set(row.valid.pipeline_id());
        m.stage_id = Set(stage.id);
        m.position = Set(deals::end_of(tx, stage.id).await?);
        m.stage_entered_at = Set(at);
        let closed = stage.kind == "won" || stage.kind == "lost";
        m.closed_at = Set(closed.then(|| row.closed_at.unwrap_or(at)));
        deal_stage_change::Entity::insert(deal_stage_change::ActiveModel {
            deal_id: Set(id),
            from_stage_id: Set(Some(b.stage_id)),
            to_stage_id: Set(stage.id),
            user_id: Set(Some(user)),
            created_at: Set(at),
            stay_ms: Set(Some((at - b.stage_entered_at).num_milliseconds())),
            ..Default::default()
        })
        .exec_without_returning(tx)
        .await?;
    }
    deal::Entity::update_many()
        .set(m)
        .filter(deal::Column::Id.eq(id))
        .exec(tx)
        .await?;
    Ok(())
}

/// Adds the links of `pairs` (deal, contact) that do not exist yet; the ones added.
pub(super) async fn link(
    tx: &impl ConnectionTrait,
    pairs: Vec<(i64, i64)>,
) -> Result<Vec<(i64, i64)>, AppError> {
    let deals: HashSet<i64> = pairs.iter().map(|p| p.0).collect();
    let mut there: HashSet<(i64, i64)> = HashSet::new();
    let deals: Vec<i64> = deals.into_iter().collect();
    for part in deals.chunks(500) {
        let found = deal_contact::Entity::find()
            .filter(deal_contact::Column::DealId.is_in(part.iter().copied()))
            .all(tx)
            .await?;
        there.extend(found.into_iter().map(|l| (l.deal_id, l.contact_id)));
    }
    let new: Vec<(i64, i64)> = pairs.into_iter().filter(|p| there.insert(*p)).collect();
    deal_contact::Entity::insert_many(new.iter().map(|(d, c)| deal_contact::ActiveModel {
        deal_id: Set(*d),
        contact_id: Set(*c),
    }))
    .exec_without_returning(tx)
    .await?;
    Ok(new)
}

/// Undo: removes the links of `changes` (deal, contact) an import added.
pub(super) async fn unlink(
    tx: &impl ConnectionTrait,
    changes: &[import_change::Model],
) -> Result<(), AppError> {
    let pairs = changes.iter().filter_map(|c| {
        c.other_id.map(|contact| {
            Condition::all()
                .add(deal_contact::Column::DealId.eq(c.record_id))
                .add(deal_contact::Column::ContactId.eq(contact))
        })
    });
    let any = pairs.fold(Condition::any(), Condition::add);
    if any.is_empty() {
        return Ok(());
    }
    deal_contact::Entity::delete_many()
        .filter(any)
        .exec(tx)
        .await?;
    Ok(())
}

/// Undo: removes the deals an import created (their stage changes and links go with
/// them) and the moves it made on the deals it updated (those are put back by the
/// caller), which carry the import's time.
pub(super) async fn remove(
    tx: &impl ConnectionTrait,
    created: Vec<i64>,
    changes: &[import_change::Model],
    written_at: Option<DateTime<Utc>>,
) -> Result<(), AppError> {
    deal::Entity::delete_many()
        .filter(deal::Column::Id.is_in(created))
        .exec(tx)
        .await?;
    let updated = changes
        .iter()
        .filter(|c| c.before.is_some())
        .map(|c| c.record_id);
    if let Some(at) = written_at {
        deal_stage_change::Entity::delete_many()
            .filter(deal_stage_change::Column::DealId.is_in(updated))
            .filter(deal_stage_change::Column::CreatedAt.eq(at))
            .exec(tx)
            .await?;
    }
    Ok(())
}
