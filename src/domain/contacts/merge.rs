//! Likely duplicates before a contact is saved, and what merging two contacts needs
//! beyond `records::merge` (which fields: the field table's): moving deals and activities.
use std::collections::BTreeMap;

use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func, Query};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::{Contact, ContactInput, Valid, get, validate, write_update};
use crate::domain::companies::matching::{self, Scope};
use crate::domain::deals::ContactRef;
use crate::domain::records::merge::{Mergeable, move_rows, relink};
use crate::domain::{Actor, Db, clean, companies, has_control, normalise};
use crate::entities::{activity, billing_entry, company, contact, deal_contact, mrr_change, task};
use crate::error::AppError;

/// Contacts that look like the one being entered: the same email, the same phone, or
/// the same name at the same company. Every test is an indexed lookup.
pub async fn likely_duplicates(
    db: &Db,
    actor: &Actor,
    input: &ContactInput,
    except: Option<i64>,
) -> Result<Vec<Contact>, AppError> {
    let mut any = Condition::any();
    if let Some(email) = clean(input.email.as_deref()) {
        any = any.add(contact::Column::EmailNorm.eq(normalise(&email)));
    }
    if let Some(phone) = clean(input.phone.as_deref()) {
        any = any.add(contact::Column::Phone.eq(phone));
    }
    let first = input.first_name.trim().to_lowercase();
    let last = input.last_name.trim().to_lowercase();
    // The company as chosen from the suggestions (by id), or any the typed name may
    // mean: Ana Silva "at northwind" is flagged beside Ana Silva at "Northwind Traders".
    let company_ids: Vec<i64> = match (input.company_id, clean(input.company.as_deref())) {
        (Some(id), _) => vec![id],
        (None, Some(typed)) => matching::matching(db, actor, &typed, Scope::Suggestions)
            .await?
            .into_iter()
            .map(|m| m.id)
            .collect(),
        (None, None) => Vec::new(),
    };
    let at_company =
        (!company_ids.is_empty()).then(|| contact::Column::CompanyId.is_in(company_ids));
    if let Some(at_company) = at_company
        && !first.is_empty()
        && !last.is_empty()
    {
        any = any.add(
            Condition::all()
                .add(at_company)
                .add(Func::lower(Expr::col(contact::Column::FirstName)).eq(first))
                .add(Func::lower(Expr::col(contact::Column::LastName)).eq(last)),
        );
    }
    if any.is_empty() {
        return Ok(Vec::new());
    }
    // Only contacts the asker may see are offered (`access`).
    let visible = crate::domain::access::visible(db, actor).await?;
    let mut q = contact::Entity::find()
        .filter(any)
        .filter(contact::Column::DeletedAt.is_null());
    if let Some(mine) = visible.owned((contact::Entity, contact::Column::OwnerId)) {
        q = q.filter(mine);
    }
    if let Some(id) = except {
        q = q.filter(contact::Column::Id.ne(id));
    }
    let ids: Vec<i64> = q
        .select_only()
        .column(contact::Column::Id)
        .order_by_asc(contact::Column::Id)
        .limit(5)
        .into_tuple()
        .all(&db.read)
        .await?;
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        found.push(get(db, actor, id).await?);
    }
    Ok(found)
}

impl Mergeable for Contact {
    type Valid = (Valid, Option<company::Model>);

    async fn check(
        db: &Db,
        actor: &Actor,
        input: &ContactInput,
        current_owner: Option<i64>,
        custom: &BTreeMap<String, serde_json::Value>,
    ) -> Result<Self::Valid, AppError> {
        let v = validate(db, actor, input, current_owner, custom).await?;
        let known = match &v.company {
            Some(n) => companies::matching::the_one(db, actor, n).await?,
            None => None,
        };
        Ok((v, known))
    }

    /// Deals, activities and tasks follow the contact.
    async fn move_links(tx: &DatabaseTransaction, keep: i64, lose: i64) -> Result<(), AppError> {
        let deals = Query::select()
            .column(deal_contact::Column::DealId)
            .expr(Expr::val(keep))
            .from(deal_contact::Entity)
            .and_where(deal_contact::Column::ContactId.eq(lose))
            .to_owned();
        move_rows(
            tx,
            deal_contact::Entity,
            [
                deal_contact::Column::DealId,
                deal_contact::Column::ContactId,
            ],
            deals,
        )
        .await?;
        relink::<activity::Entity>(tx, activity::Column::ContactId, keep, lose).await?;
        relink::<task::Entity>(tx, task::Column::ContactId, keep, lose).await?;
        // The money follows its timeline: the revenue report counts it for the kept
        // contact (its owner, its source).
        relink::<billing_entry::Entity>(tx, billing_entry::Column::ContactId, keep, lose).await?;
        relink::<mrr_change::Entity>(tx, mrr_change::Column::ContactId, keep, lose).await?;
        Ok(())
    }

    async fn write(
        tx: &DatabaseTransaction,
        keep: i64,
        valid: Self::Valid,
    ) -> Result<(), AppError> {
        let (v, known) = valid;
        // The kept company is one of the two contacts' own, so it exists: a merge
        // creates no company, and sends no `company.created`.
        write_update(tx, keep, &v, known).await.map(|_| ())
    }

    fn detail(other: &Contact) -> serde_json::Map<String, serde_json::Value> {
        let mut detail = serde_json::Map::new();
        detail.insert("merged_name".into(), other.full_name().into());
        detail
    }
}

/// The contact other than `except` whose email is `email` (any case), to link to it when
/// a second one is refused or about to be.
pub async fn with_email(
    db: &Db,
    actor: &Actor,
    email: &str,
    except: Option<i64>,
) -> Result<Option<ContactRef>, AppError> {
    let email = email.trim();
    if email.is_empty() || has_control(email) {
        return Ok(None);
    }
    let filter = Condition::all().add(contact::Column::EmailNorm.eq(normalise(email)));
    Ok(refs(db, actor, filter, except).await?.into_iter().next())
}

/// Contacts other than `except` called `first last`, as typed or with capitals
/// ("ana silva" finds "Ana Silva"): equality on the name index, no scan.
pub async fn named(
    db: &Db,
    actor: &Actor,
    first: &str,
    last: &str,
    except: Option<i64>,
) -> Result<Vec<ContactRef>, AppError> {
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() || last.is_empty() || has_control(first) || has_control(last) {
        return Ok(Vec::new());
    }
    let spellings = |s: &str| {
        let mut chars = s.chars();
        let capital: String = chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default();
        vec![s.to_string(), capital]
    };
    let filter = Condition::all()
        .add(contact::Column::LastName.is_in(spellings(last)))
        .add(contact::Column::FirstName.is_in(spellings(first)));
    refs(db, actor, filter, except).await
}

/// Only contacts `actor` may see are named (`access`).
async fn refs(
    db: &Db,
    actor: &Actor,
    filter: Condition,
    except: Option<i64>,
) -> Result<Vec<ContactRef>, AppError> {
    let visible = crate::domain::access::visible(db, actor).await?;
    let mut q = contact::Entity::find()
        .filter(filter)
        .filter(contact::Column::DeletedAt.is_null());
    if let Some(mine) = visible.owned((contact::Entity, contact::Column::OwnerId)) {
        q = q.filter(mine);
    }
    if let Some(id) = except {
        q = q.filter(contact::Column::Id.ne(id));
    }
    let rows: Vec<(i64, String, String)> = q
        .select_only()
        .columns([
            contact::Column::Id,
            contact::Column::FirstName,
            contact::Column::LastName,
        ])
        .order_by_asc(contact::Column::Id)
        .limit(3)
        .into_tuple()
        .all(&db.read)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, first, last)| ContactRef {
            id,
            name: format!("{first} {last}"),
        })
        .collect())
}

/// The contacts a name typed to pick one means (the merge page): a chosen suggestion
/// ("Ana Silva (#12)"), an email, or "Ana Silva" as typed or with capitals.
pub async fn called(db: &Db, actor: &Actor, text: &str) -> Result<Vec<Contact>, AppError> {
    let mut refs = crate::domain::pick::contacts_named(db, text).await?;
    if refs.is_empty()
        && let Some((first, last)) = text.trim().rsplit_once(char::is_whitespace)
    {
        refs = named(db, actor, first, last, None).await?;
    }
    let mut found = Vec::with_capacity(refs.len());
    for r in refs {
        // Those the asker may not see (`access`) are not offered.
        match get(db, actor, r.id).await {
            Ok(c) => found.push(c),
            Err(AppError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}
