//! Likely duplicates before a contact is saved, and merging two contacts into one.
use sea_orm::{ConnectionTrait, FromQueryResult, TransactionTrait};

use super::{Contact, ContactInput, get, get_in, validate};
use crate::domain::Db;
use crate::domain::sql::Sql;
use crate::domain::{Actor, audit, clean, companies, normalise};
use crate::error::AppError;

/// The fields whose value can be taken from either contact.
pub const FIELDS: [&str; 8] = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "title",
    "source",
    "owner_id",
];

#[derive(FromQueryResult)]
struct IdRow {
    id: i64,
}

/// Contacts that look like the one being entered: the same email, the same phone, or
/// the same name at the same company. Every test is an indexed lookup.
pub async fn likely_duplicates(
    db: &Db,
    actor: &Actor,
    input: &ContactInput,
    except: Option<i64>,
) -> Result<Vec<Contact>, AppError> {
    let mut sql = Sql::new(db.backend());
    sql.push("SELECT c.id FROM contacts c WHERE (1 = 0");
    if let Some(email) = clean(input.email.as_deref()) {
        sql.push(" OR c.email_norm = ").bind(normalise(&email));
    }
    if let Some(phone) = clean(input.phone.as_deref()) {
        sql.push(" OR c.phone = ").bind(phone);
    }
    let first = input.first_name.trim().to_lowercase();
    let last = input.last_name.trim().to_lowercase();
    if let Some(company) = clean(input.company.as_deref())
        && !first.is_empty()
        && !last.is_empty()
    {
        sql.push(" OR (c.company_id = (SELECT id FROM companies WHERE name_norm = ")
            .bind(normalise(&company))
            .push(") AND lower(c.first_name) = ")
            .bind(first)
            .push(" AND lower(c.last_name) = ")
            .bind(last)
            .push(")");
    }
    sql.push(")");
    if let Some(id) = except {
        sql.push(" AND c.id <> ").bind(id);
    }
    sql.push(" ORDER BY c.id LIMIT 5");
    let ids = IdRow::find_by_statement(sql.build()).all(&db.read).await?;
    let mut found = Vec::with_capacity(ids.len());
    for row in ids {
        found.push(get(db, actor, row.id).await?);
    }
    Ok(found)
}

/// Merges `lose` into `keep`: `take` names the fields whose value comes from `lose`;
/// tags are combined; everything linked to `lose` moves to `keep`; `lose` is deleted;
/// the merge is recorded. One transaction.
pub async fn merge(
    db: &Db,
    actor: &Actor,
    keep: i64,
    lose: i64,
    take: &[String],
) -> Result<Contact, AppError> {
    actor.require_write()?;
    if keep == lose {
        return Err(AppError::field(
            "merge_id",
            "A contact cannot be merged with itself.",
        ));
    }
    if let Some(unknown) = take.iter().find(|f| !FIELDS.contains(&f.as_str())) {
        return Err(AppError::field(
            "take",
            format!("Unknown field {unknown}; fields are {}.", FIELDS.join(", ")),
        ));
    }
    let survivor = get(db, actor, keep).await?;
    let other = get(db, actor, lose)
        .await
        .map_err(|_| AppError::field("merge_id", "No contact has this id."))?;
    let mut input = ContactInput::from(&survivor);
    let from = ContactInput::from(&other);
    for field in take {
        match field.as_str() {
            "first_name" => input.first_name = from.first_name.clone(),
            "last_name" => input.last_name = from.last_name.clone(),
            "email" => input.email = from.email.clone(),
            "phone" => input.phone = from.phone.clone(),
            "company" => input.company = from.company.clone(),
            "title" => input.title = from.title.clone(),
            "source" => input.source = from.source.clone(),
            _ => input.owner_id = from.owner_id,
        }
    }
    let mut tags = survivor.tags.clone();
    tags.extend(other.tags.iter().cloned());
    input.tags = Some(tags);
    // The survivor keeps its owner even if deactivated; the other one's counts as kept too.
    let current_owner = if take.iter().any(|f| f == "owner_id") {
        other.owner_id
    } else {
        survivor.owner_id
    };
    // Custom values: the survivor's, with the other's filling the gaps.
    let mut custom = other.custom_fields.clone();
    custom.extend(survivor.custom_fields.clone());
    let v = validate(db, actor, &input, Some(current_owner), &custom).await?;
    let known = match &v.company {
        Some(n) => companies::find_by_name(&db.read, n).await?,
        None => None,
    };
    let backend = db.backend();
    let tx = db.write.begin().await?;
    // Linked records move first (tags, deals and activities; tasks join them later),
    // then the other contact goes, which frees its email for the survivor.
    let mut move_tags = Sql::new(backend);
    move_tags
        .push("INSERT INTO contact_tags (contact_id, tag_id) SELECT ")
        .bind(keep)
        .push(", tag_id FROM contact_tags WHERE contact_id = ")
        .bind(lose)
        .push(" ON CONFLICT DO NOTHING");
    tx.execute_raw(move_tags.build()).await?;
    let mut move_deals = Sql::new(backend);
    move_deals
        .push("INSERT INTO deal_contacts (deal_id, contact_id) SELECT deal_id, ")
        .bind(keep)
        .push(" FROM deal_contacts WHERE contact_id = ")
        .bind(lose)
        .push(" ON CONFLICT DO NOTHING");
    tx.execute_raw(move_deals.build()).await?;
    let mut move_activities = Sql::new(backend);
    move_activities
        .push("UPDATE activities SET contact_id = ")
        .bind(keep)
        .push(" WHERE contact_id = ")
        .bind(lose);
    tx.execute_raw(move_activities.build()).await?;
    let mut delete = Sql::new(backend);
    delete.push("DELETE FROM contacts WHERE id = ").bind(lose);
    tx.execute_raw(delete.build()).await?;
    super::write_update(&tx, keep, &v, known).await?;
    audit::record(
        &tx,
        Some(actor),
        "merge",
        "contact",
        keep,
        Some(
            serde_json::json!({"merged_id": lose, "merged_name": other.full_name(), "took": take}),
        ),
    )
    .await?;
    let merged = get_in(&tx, keep).await?;
    tx.commit().await?;
    Ok(merged)
}
