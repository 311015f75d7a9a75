//! Creating, editing and deleting deals: validation, contacts, the version check.

use super::*;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, PaginatorTrait, QueryFilter, QuerySelect,
    QueryTrait, Set,
};
use serde_json::Value;

use crate::domain::Db;
use crate::domain::{Action, Actor, FieldErrorsExt, audit, now, webhooks};
use crate::entities::{company, contact, deal, deal_contact, deal_stage_change, user};
use crate::error::{AppError, FieldErrors};

use super::check::may_own;

/// The company and contacts a deal is linked to now (none for a new deal).
#[derive(Default)]
pub(super) struct Links {
    company_id: Option<i64>,
    contact_ids: Vec<i64>,
}

impl Links {
    fn of(deal: &Deal) -> Links {
        Links {
            company_id: deal.company_id,
            contact_ids: deal.contacts.iter().map(|c| c.id).collect(),
        }
    }
}

/// `kept_owner`: the owner a deal already has. Keeping it is always allowed, so a deal
/// whose owner has since become a viewer (or left) can still be edited. `kept`: the
/// links it has, which stay whoever may see them. `current_custom`: the custom values it
/// has (an edit changes only the keys it names). A little over the usual length: one
/// short check per field, every message gathered before refusing.
pub(super) async fn validate(
    db: &Db,
    actor: &Actor,
    input: &DealInput,
    kept_owner: Option<i64>,
    kept: &Links,
    current_custom: &BTreeMap<String, Value>,
) -> Result<Valid, AppError> {
    let rules = Rules::load(db).await?;
    let mut fields = FieldErrors::new();
    let owner_id = input.owner_id.unwrap_or(actor.id);
    let Some(mut v) = rules.check(input, owner_id, current_custom, &mut fields) else {
        return Err(AppError::validation(fields));
    };
    // A new link is only to a record its maker may see (`access`); links the deal has
    // (a manager may have made them) stay when a rep edits it.
    let visible = crate::domain::access::visible(db, actor).await?;
    v.contact_ids = check_links(db, input, visible, kept, &mut fields).await?;
    if owner_id != actor.id && Some(owner_id) != kept_owner && !can_own(db, owner_id).await? {
        fields.set("owner_id", OWNER_MESSAGE);
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    Ok(v)
}

/// The company and contacts must exist, and a link the deal does not have yet must be to
/// a record the maker may see (`visible`): one they may not is named as one that does
/// not exist. Gives the contact ids, sorted and without repeats.
async fn check_links(
    db: &Db,
    input: &DealInput,
    visible: crate::domain::access::Visible,
    kept: &Links,
    fields: &mut FieldErrors,
) -> Result<Vec<i64>, AppError> {
    if let Some(c) = input.company_id {
        let seen = (kept.company_id != Some(c))
            .then(|| visible.owned(company::Column::OwnerId))
            .flatten();
        let found = company::Entity::find_by_id(c)
            .filter(company::Column::DeletedAt.is_null())
            .apply_if(seen, |q, o| q.filter(o))
            .count(&db.read)
            .await?;
        if found == 0 {
            fields.set("company_id", "No company has this id.");
        }
    }
    let mut contact_ids = input.contact_ids.clone().unwrap_or_default();
    contact_ids.sort_unstable();
    contact_ids.dedup();
    if contact_ids.len() > 50 {
        fields.set("contact_ids", "At most 50 contacts per deal.");
        return Ok(contact_ids);
    }
    let new: Vec<i64> = contact_ids
        .iter()
        .copied()
        .filter(|c| !kept.contact_ids.contains(c))
        .collect();
    let live = |ids: &[i64]| {
        contact::Entity::find()
            .filter(contact::Column::Id.is_in(ids.iter().copied()))
            .filter(contact::Column::DeletedAt.is_null())
    };
    let missing = !contact_ids.is_empty()
        && live(&contact_ids).count(&db.read).await? != contact_ids.len() as u64;
    let hidden = !missing
        && !new.is_empty()
        && visible.owner().is_some()
        && live(&new)
            .apply_if(visible.owned(contact::Column::OwnerId), |q, o| q.filter(o))
            .count(&db.read)
            .await?
            != new.len() as u64;
    if missing || hidden {
        fields.set("contact_ids", "Every contact id must exist.");
    }
    Ok(contact_ids)
}

/// Whether a user may be given deals: active, and not a viewer.
async fn can_own(db: &Db, user_id: i64) -> Result<bool, AppError> {
    Ok(user::Entity::find_by_id(user_id)
        .one(&db.read)
        .await?
        .is_some_and(|u| may_own(&u)))
}

/// Replaces a deal's contacts with `ids`. Links to trashed contacts are not shown, so
/// they stay: a restored contact is back on its deals.
pub(super) async fn set_contacts(
    conn: &impl ConnectionTrait,
    deal: i64,
    ids: &[i64],
) -> Result<(), AppError> {
    let trashed = sea_orm::sea_query::Query::select()
        .column(contact::Column::Id)
        .from(contact::Entity)
        .and_where(contact::Column::DeletedAt.is_not_null())
        .to_owned();
    deal_contact::Entity::delete_many()
        .filter(deal_contact::Column::DealId.eq(deal))
        .filter(deal_contact::Column::ContactId.not_in_subquery(trashed))
        .exec(conn)
        .await?;
    deal_contact::Entity::insert_many(ids.iter().map(|c| deal_contact::ActiveModel {
        deal_id: Set(deal),
        contact_id: Set(*c),
    }))
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Adds a move to a deal's history: from the stage it entered when (`from`; None: the
/// deal was created in `to`). The time it stayed there is kept with the move, so stage
/// velocity reads one row a stay.
pub(super) async fn record_change(
    conn: &impl ConnectionTrait,
    deal: i64,
    from: Option<(i64, DateTime<Utc>)>,
    to: i64,
    actor: &Actor,
) -> Result<(), AppError> {
    let at = now();
    deal_stage_change::Entity::insert(deal_stage_change::ActiveModel {
        deal_id: Set(deal),
        from_stage_id: Set(from.map(|(stage, _)| stage)),
        to_stage_id: Set(to),
        user_id: Set(Some(actor.id)),
        created_at: Set(at),
        stay_ms: Set(from.map(|(_, entered)| (at - entered).num_milliseconds())),
        ..Default::default()
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// The next free position at the end of a stage's column.
pub(crate) async fn end_of(conn: &impl ConnectionTrait, stage: i64) -> Result<i64, AppError> {
    let last: Option<i64> = deal::Entity::find()
        .select_only()
        .column_as(Expr::col(deal::Column::Position).max(), "n")
        .filter(deal::Column::StageId.eq(stage))
        .into_tuple()
        .one(conn)
        .await?
        .flatten();
    Ok(last.map_or(0, |p| p + 1))
}

pub(super) fn closed_at(kind: &str) -> Option<DateTime<Utc>> {
    (kind == "won" || kind == "lost").then(now)
}

/// What `create` would refuse in `input`, without writing anything: a form whose own
/// pickers failed still says every other field's problem at once.
pub async fn check_new(db: &Db, actor: &Actor, input: &DealInput) -> Result<(), AppError> {
    validate(db, actor, input, None, &Links::default(), &BTreeMap::new())
        .await
        .map(|_| ())
}

pub async fn create(db: &Db, actor: &Actor, input: &DealInput) -> Result<Deal, AppError> {
    actor.require(Action::WriteRecords)?;
    let v = validate(db, actor, input, None, &Links::default(), &BTreeMap::new()).await?;
    let t = now();
    let tx = db.begin_write().await?;
    let position = end_of(&tx, v.stage.id).await?;
    let (title, owner) = (v.title.clone(), v.owner_id);
    let id = deal::Entity::insert(v.new_model(v.company_id, position, t))
        .exec(&tx)
        .await?
        .last_insert_id;
    set_contacts(&tx, id, &v.contact_ids).await?;
    record_change(&tx, id, None, v.stage.id, actor).await?;
    audit::record(&tx, Some(actor), "create", "deal", id, None).await?;
    let mailed = tell_owner(&tx, actor, id, title, owner, 1).await?;
    let deal = get_in(&tx, id).await?.ok_or_else(gone)?;
    let hooked = webhooks::emit_about(db, &tx, "deal", "created", &deal).await?;
    crate::domain::scoring::scores::changed(db, &tx, &[id]).await?;
    tx.commit().await?;
    if mailed || hooked > 0 {
        crate::jobs::wake();
    }
    Ok(deal)
}

/// Emails the deal's new owner when someone else made them its owner (and they want
/// to hear of it); once per change, by the deal's version. True when an email was queued.
async fn tell_owner(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    deal_id: i64,
    title: String,
    owner: i64,
    version: i32,
) -> Result<bool, AppError> {
    let n = crate::mail::Notification::DealAssigned {
        deal_id,
        title,
        to: owner,
        by: actor,
        version,
    };
    Ok(crate::mail::notify(conn, n).await?.is_some())
}

pub(super) fn stale(current: Deal) -> AppError {
    let mut fields = FieldErrors::new();
    fields.set(
        "version",
        format!(
            "The deal is at version {} now; reload it and try again.",
            current.version
        ),
    );
    AppError::Conflict {
        message: format!(
            "Someone changed “{}” since you opened it (it is in {} now). Nothing was overwritten.",
            current.title, current.stage
        ),
        fields,
    }
}

/// Writes checked values on deal `id` if it is still at `version`, which it then moves
/// on; false when it was not. The version check is in the statement itself: a change that
/// raced ours since we read the deal makes this touch no row.
async fn write_guarded(
    tx: &impl ConnectionTrait,
    id: i64,
    version: i32,
    v: Valid,
) -> Result<bool, AppError> {
    let updated = deal::Entity::update_many()
        .set(v.edit_model(v.company_id, now()))
        .col_expr(
            deal::Column::Version,
            Expr::col(deal::Column::Version).add(1),
        )
        .filter(deal::Column::Id.eq(id))
        .filter(deal::Column::DeletedAt.is_null())
        .filter(deal::Column::Version.eq(version))
        .exec(tx)
        .await?;
    Ok(updated.rows_affected > 0)
}

/// How many times a change sent without a version is read and written: each miss means
/// another change committed in between, so three changes at one moment all apply.
const UNVERSIONED_TRIES: usize = 3;

pub async fn update(db: &Db, actor: &Actor, id: i64, patch: DealPatch) -> Result<Deal, AppError> {
    actor.require(Action::WriteRecords)?;
    // Seen by the actor, then read whole: the names a rep is not shown must not read as
    // changed in the audit row's diff.
    get(db, actor, id).await?;
    // A change sent with a version is refused once the deal has moved on from it. One
    // sent without asks for its fields over whatever is there: the fields it leaves out
    // are the deal's as read, so a change racing it is read again and this one applied
    // on top, rather than refused as if the sender had seen an older deal (up to 1 % of
    // the PATCHes of bench cases (j2) and (dash2) were).
    for _ in 0..UNVERSIONED_TRIES {
        if let Some(deal) = update_from_read(db, actor, id, patch.clone()).await? {
            return Ok(deal);
        }
    }
    Err(match get_in(&db.read, id).await? {
        Some(now) => stale(now),
        None => gone(),
    })
}

/// `patch` applied to the deal as read now; None when it was sent without a version and
/// another change landed between the read and the write (nothing written).
async fn update_from_read(
    db: &Db,
    actor: &Actor,
    id: i64,
    patch: DealPatch,
) -> Result<Option<Deal>, AppError> {
    let current = get_in(&db.read, id).await?.ok_or_else(gone)?;
    if patch.version.is_some_and(|v| v != current.version) {
        return Err(stale(current));
    }
    let versioned = patch.version.is_some();
    let mut input = DealInput {
        title: patch.title.unwrap_or(current.title.clone()),
        pipeline_id: Some(current.pipeline_id),
        stage_id: Some(current.stage_id),
        amount: Some(patch.amount.unwrap_or(Value::from(current.amount))),
        currency: Some(patch.currency.unwrap_or(current.currency.clone())),
        company_id: patch.company_id.unwrap_or(current.company_id),
        contact_ids: Some(
            patch
                .contact_ids
                .unwrap_or(current.contacts.iter().map(|c| c.id).collect()),
        ),
        owner_id: Some(patch.owner_id.unwrap_or(current.owner_id)),
        expected_close: patch
            .expected_close
            .unwrap_or(current.expected_close.clone()),
        probability: patch
            .probability
            .or(current.probability_override.map(Value::from)),
        source: Some(patch.source.unwrap_or(current.source.clone())),
        lost_reason: patch.lost_reason.or(current.lost_reason.clone()),
        custom_fields: patch.custom_fields,
    };
    if input.probability == Some(Value::Null) {
        input.probability = None;
    }
    let v = validate(
        db,
        actor,
        &input,
        Some(current.owner_id),
        &Links::of(&current),
        &current.custom_fields,
    )
    .await?;
    let tx = db.begin_write().await?;
    let (title, new_owner, contact_ids) = (v.title.clone(), v.owner_id, v.contact_ids.clone());
    if !write_guarded(&tx, id, current.version, v).await? {
        drop(tx);
        return match (versioned, get_in(&db.read, id).await?) {
            (true, Some(now)) => Err(stale(now)),
            (false, Some(_)) => Ok(None),
            (_, None) => Err(gone()),
        };
    }
    // Its contacts before the write: one taken off a won deal may be a lead again.
    crate::domain::scoring::lead_scores::deals_changed(db, &tx, &[id]).await?;
    set_contacts(&tx, id, &contact_ids).await?;
    let mailed = new_owner != current.owner_id
        && tell_owner(&tx, actor, id, title, new_owner, current.version + 1).await?;
    let deal = get_in(&tx, id).await?.ok_or_else(gone)?;
    let detail = audit::changes(&current, &deal);
    audit::record(&tx, Some(actor), "update", "deal", id, detail).await?;
    let hooked = webhooks::emit_about(db, &tx, "deal", "updated", &deal).await?;
    crate::domain::scoring::scores::changed(db, &tx, &[id]).await?;
    tx.commit().await?;
    if mailed || hooked > 0 {
        crate::jobs::wake();
    }
    Ok(Some(deal))
}

/// Moves the deal to the trash (see `trash`).
pub async fn delete(db: &Db, actor: &Actor, id: i64) -> Result<(), AppError> {
    crate::domain::trash::trash::<crate::domain::trash::Deals>(db, actor, id).await
}
