//! Record pickers in forms: what a person typed or chose from the suggestions ("Acme",
//! "Ann Lee <ann@acme.com>", "Ann Lee (#42)") turned into the record it names, by
//! indexed lookups only.
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::Db;
use crate::domain::access;
use crate::domain::companies::matching;
use crate::domain::deals::ContactRef;
use crate::domain::{Actor, FieldErrorsExt, has_control, normalise, search};
use crate::entities::{company, contact};
use crate::error::{AppError, FieldErrors};

/// A form's pickers resolved: the company id and the contact ids.
pub struct Picked {
    pub company_id: Option<i64>,
    pub contact_ids: Vec<i64>,
}

/// The company `company` means (empty: none) as `companies::matching` reads it (any case,
/// punctuation or legal form, a domain, a chosen suggestion), and the contacts `keep` plus
/// the one `add_contact` names. Text that names nothing, or several contacts, is a 422 on
/// its field (`company`, `add_contact`).
pub async fn resolve(
    db: &Db,
    actor: &Actor,
    company: &str,
    keep: &[i64],
    add_contact: &str,
) -> Result<Picked, AppError> {
    let mut fields = FieldErrors::new();
    let visible = access::visible(db, actor).await?;
    let company = company.trim();
    let company_id = if company.is_empty() {
        None
    } else {
        match matching::the_one(db, actor, company).await? {
            None => {
                fields.set(
                    "company",
                    format!("No company is called “{company}”. Pick one from the suggestions, or add it on the Companies page first."),
                );
                None
            }
            // Chosen by its id, it is the domain's to refuse as one that does not exist
            // (unless the deal has it already); named, it is said to be someone else's.
            Some(c) if trailing_id(company).is_none() && access::hides(visible, c.owner_id) => {
                fields.set("company", access::OTHERS_COMPANY_NAMED);
                None
            }
            Some(c) => Some(c.id),
        }
    };
    let mut contact_ids = keep.to_vec();
    let add = add_contact.trim();
    if !add.is_empty() {
        let found = contacts_named(db, add).await?;
        // Another rep's contacts are no match when named (by id they are the domain's to
        // refuse): the rep never learns how many, or who.
        let mine: Vec<&ContactRef> = match visible.owner() {
            Some(me) if trailing_id(add).is_none() => {
                let ids: Vec<i64> = found.iter().map(|c| c.id).collect();
                let owned = owned_contacts(db, &ids, me).await?;
                found.iter().filter(|c| owned.contains(&c.id)).collect()
            }
            _ => found.iter().collect(),
        };
        match mine.as_slice() {
            [one] => contact_ids.push(one.id),
            [] if !found.is_empty() => fields.set("add_contact", access::OTHERS_CONTACT_NAMED),
            [] => fields.set(
                "add_contact",
                format!("No contact matches “{add}”. Pick one from the suggestions."),
            ),
            _ => fields.set(
                "add_contact",
                format!("Several contacts match “{add}”. Pick one from the suggestions."),
            ),
        }
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    Ok(Picked {
        company_id,
        contact_ids,
    })
}

/// Which of the contacts `ids` `me` owns.
async fn owned_contacts(db: &Db, ids: &[i64], me: i64) -> Result<Vec<i64>, AppError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(contact::Entity::find()
        .select_only()
        .column(contact::Column::Id)
        .filter(contact::Column::Id.is_in(ids.iter().copied()))
        .filter(contact::Column::OwnerId.eq(me))
        .into_tuple()
        .all(&db.read)
        .await?)
}

/// A suggestion for a picker: what goes in the input, and a hint shown beside it.
pub struct Suggestion {
    pub value: String,
    pub hint: String,
    /// The typed text already means this record (a company saved under that text links it).
    pub same: bool,
}
/// Contacts selected by `filter`, in `order`, as references.
async fn contact_rows(
    db: &Db,
    filter: Condition,
    order: &[contact::Column],
    limit: u64,
) -> Result<Vec<ContactRef>, AppError> {
    let mut q = contact::Entity::find()
        .select_only()
        .columns([
            contact::Column::Id,
            contact::Column::FirstName,
            contact::Column::LastName,
        ])
        .filter(filter)
        .filter(contact::Column::DeletedAt.is_null());
    for column in order {
        q = q.order_by_asc(*column);
    }
    let rows: Vec<(i64, String, String)> = q.limit(limit).into_tuple().all(&db.read).await?;
    Ok(rows
        .into_iter()
        .map(|(id, first, last)| ContactRef {
            id,
            name: format!("{first} {last}"),
        })
        .collect())
}

/// "… (#42)" → 42.
pub fn trailing_id(text: &str) -> Option<i64> {
    let rest = text.trim().strip_suffix(')')?;
    let (_, id) = rest.rsplit_once("(#")?;
    id.trim().parse().ok()
}

/// The company `text` names among those `visible` sees: a chosen suggestion ("Acme
/// (#12)"), or its name (company names are unique once normalised).
pub async fn company_named(
    db: &Db,
    visible: access::Visible,
    text: &str,
) -> Result<Option<i64>, AppError> {
    // No name holds a control character; the caller's validation says so.
    if has_control(text) {
        return Ok(None);
    }
    let mut found = company::Entity::find()
        .filter(match trailing_id(text) {
            Some(id) => company::Column::Id.eq(id),
            None => company::Column::NameNorm.eq(normalise(text)),
        })
        .filter(company::Column::DeletedAt.is_null());
    if let Some(me) = visible.owner() {
        found = found.filter(company::Column::OwnerId.eq(me));
    }
    Ok(found.one(&db.read).await?.map(|c| c.id))
}

/// A company filter as typed (board, deal list, API): an id and a chosen suggestion
/// ("Acme (#12)") stand; a name is looked up, so "acme" and Enter filters like choosing
/// it. A name of no company is left for the filter's validation to refuse, and so is the
/// name of a company `actor` may not see: answered as a name of none, the filter tells
/// nothing of what another rep's companies are called.
pub async fn company_filter(
    db: &Db,
    actor: &Actor,
    company: &mut Option<String>,
) -> Result<(), AppError> {
    let Some(text) = company.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(());
    };
    if text.parse::<i64>().is_ok() || trailing_id(text).is_some() {
        return Ok(());
    }
    let visible = access::visible(db, actor).await?;
    if let Some(id) = company_named(db, visible, text).await? {
        *company = Some(id.to_string());
    }
    Ok(())
}

/// The contacts `text` names: by `(#id)`, by an email (alone or in `<…>`), or by exact
/// full name. Several matches mean the text is ambiguous.
pub async fn contacts_named(db: &Db, text: &str) -> Result<Vec<ContactRef>, AppError> {
    let text = text.trim();
    if has_control(text) {
        return Ok(Vec::new());
    }
    let filter = if let Some(id) = trailing_id(text) {
        Condition::all().add(contact::Column::Id.eq(id))
    } else {
        let email = text
            .rsplit_once('<')
            .and_then(|(_, e)| e.strip_suffix('>'))
            .or_else(|| text.contains('@').then_some(text));
        if let Some(email) = email {
            Condition::all().add(contact::Column::EmailNorm.eq(normalise(email)))
        } else {
            let words: Vec<&str> = text.split_whitespace().collect();
            let Some((last, first)) = words.split_last() else {
                return Ok(Vec::new());
            };
            // The name index is (last_name, first_name): try "First Last" as written.
            Condition::all()
                .add(contact::Column::LastName.eq(*last))
                .add(contact::Column::FirstName.eq(first.join(" ")))
        }
    };
    contact_rows(db, filter, &[contact::Column::Id], 5).await
}

/// Names for contact ids (a form re-shown after an error lists what was linked); one
/// `actor` may not see is named only as another rep's contact.
pub async fn contact_refs(
    db: &Db,
    actor: &Actor,
    ids: &[i64],
) -> Result<Vec<ContactRef>, AppError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = ids.iter().take(50).copied().collect();
    let mut refs = contact_rows(
        db,
        Condition::all().add(contact::Column::Id.is_in(ids.clone())),
        &[contact::Column::LastName, contact::Column::FirstName],
        50,
    )
    .await?;
    if let Some(me) = access::visible(db, actor).await?.owner() {
        let owned = owned_contacts(db, &ids, me).await?;
        for r in refs.iter_mut().filter(|r| !owned.contains(&r.id)) {
            r.name = access::OTHERS_CONTACT.into();
        }
    }
    Ok(refs)
}

/// Suggestions as someone types in a company or contact picker: companies as
/// `companies::matching` finds them (the one the text means first), contacts from the
/// global search.
pub async fn suggest(
    db: &Db,
    actor: &Actor,
    kind: &str,
    text: &str,
) -> Result<Vec<Suggestion>, AppError> {
    if kind == "company" {
        let found = matching::matching(db, actor, text, matching::Scope::Suggestions).await?;
        return Ok(found
            .into_iter()
            .map(|m| Suggestion {
                value: format!("{} (#{})", m.name, m.id),
                hint: m.hint,
                same: m.same,
            })
            .collect());
    }
    let hits = search::search(db, actor, text).await?.contacts;
    Ok(hits
        .into_iter()
        .map(|h| Suggestion {
            value: format!("{} (#{})", h.title, h.id),
            hint: h.subtitle,
            same: false,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::trailing_id;

    #[test]
    fn a_chosen_suggestion_carries_its_id() {
        assert_eq!(trailing_id("Ann Lee (#42)"), Some(42));
        assert_eq!(trailing_id("  Ann (Annie) Lee (# 7) "), Some(7));
        assert_eq!(trailing_id("Ann Lee"), None);
        assert_eq!(trailing_id("Ann (#x)"), None);
    }
}
