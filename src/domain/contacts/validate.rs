//! A contact's input checked: lengths, formats, the company it names, the owner, tags
//! and custom fields. Every write goes through `validate`.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::{
    Actor, Db, FieldErrorsExt, check_one_of, clean, companies, has_control, normalise, valid_email,
    valid_phone,
};
use crate::domain::{access, records};
use crate::entities::company;
use crate::error::{AppError, FieldErrors};

use super::{ContactInput, NAME_MAX, PHONE_MAX, SOURCES, TITLE_MAX};

/// Input that passed validation, ready to store.
/// Serde: an import keeps its planned rows in a file until it writes them
/// (`import::apply::spill`), and reads back only what it wrote there.
#[derive(Clone, Serialize, Deserialize)]
pub struct Valid {
    pub(super) first_name: String,
    pub(super) last_name: String,
    pub(super) email: Option<String>,
    pub(super) email_norm: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) company: Option<String>,
    /// The company, when the input named it by id (already looked up).
    /// Not kept by an import, which names companies by its own links, never by id.
    #[serde(skip)]
    pub(super) company_known: Option<Box<company::Model>>,
    pub(super) title: Option<String>,
    pub(super) source: String,
    pub(super) owner_id: i64,
    pub(super) owner_name: String,
    /// Cleaned tag names; None leaves the tags as they are.
    pub(super) tags: Option<Vec<String>>,
    /// The custom values to store, as a JSON object.
    pub(super) custom: String,
}

/// What an import compares and links by (`domain::import::apply`).
impl Valid {
    pub(crate) fn email_norm(&self) -> Option<&str> {
        self.email_norm.as_deref()
    }

    pub(crate) fn tags(&self) -> Option<&[String]> {
        self.tags.as_deref()
    }

    pub(crate) fn owner_id(&self) -> i64 {
        self.owner_id
    }

    /// The full name, normalised: activities and tasks name their contact so.
    pub(crate) fn name_norm(&self) -> String {
        normalise(&format!("{} {}", self.first_name, self.last_name))
    }
}

fn check_len(
    fields: &mut FieldErrors,
    field: &str,
    label: &str,
    value: &Option<String>,
    max: usize,
) {
    if let Some(v) = value
        && v.chars().count() > max
    {
        fields.set(field, format!("{label} must be at most {max} characters."));
    }
}

/// `current_owner` is the stored owner when editing: a contact may keep an owner who has
/// since been deactivated, but cannot be given to one. Long on purpose: one short check
/// per field, in the form's order, every message gathered before refusing.
pub(crate) async fn validate(
    db: &Db,
    actor: &Actor,
    input: &ContactInput,
    current_owner: Option<i64>,
    current_custom: &BTreeMap<String, serde_json::Value>,
) -> Result<Valid, AppError> {
    let conn = &db.read;
    let mut fields = FieldErrors::new();
    for (field, label, value) in [
        ("first_name", "First name", Some(input.first_name.as_str())),
        ("last_name", "Last name", Some(input.last_name.as_str())),
        ("email", "Email", input.email.as_deref()),
        ("phone", "Phone", input.phone.as_deref()),
        ("company", "Company", input.company.as_deref()),
        ("title", "Title", input.title.as_deref()),
        ("source", "Source", input.source.as_deref()),
    ] {
        if value.is_some_and(has_control) {
            fields.set(field, format!("{label} cannot contain control characters."));
        }
    }
    let first_name = input.first_name.trim().to_string();
    let last_name = input.last_name.trim().to_string();
    for (field, label, value) in [
        ("first_name", "First name", &first_name),
        ("last_name", "Last name", &last_name),
    ] {
        if value.is_empty() {
            fields.set(field, format!("{label} is required."));
        } else if value.chars().count() > NAME_MAX {
            fields.set(
                field,
                format!("{label} must be at most {NAME_MAX} characters."),
            );
        }
    }
    let email = clean(input.email.as_deref());
    if let Some(e) = &email
        && (!valid_email(e) || normalise(e).chars().count() > 254)
    {
        fields.set(
            "email",
            "Enter a valid email address, like ana@example.com.",
        );
    }
    let phone = clean(input.phone.as_deref());
    check_len(&mut fields, "phone", "Phone", &phone, PHONE_MAX);
    if let Some(p) = &phone
        && !valid_phone(p)
    {
        fields.set(
            "phone",
            "Phone may hold digits, spaces and + - ( ) . x / only.",
        );
    }
    let mut company = clean(input.company.as_deref());
    let mut company_known = None;
    if let Some(company_id) = input.company_id {
        match companies::find_by_id(conn, company_id).await? {
            None => fields.set("company_id", "No company has this id."),
            Some(c) => {
                if company
                    .as_deref()
                    .is_some_and(|n| normalise(n) != c.name_norm)
                {
                    fields.set("company", "The company name does not match company_id.");
                }
                company = Some(c.name.clone());
                company_known = Some(Box::new(c));
            }
        }
    }
    check_len(
        &mut fields,
        "company",
        "Company",
        &company,
        companies::NAME_MAX,
    );
    // Lower case can be longer than what was typed ("İ" is two characters lowered).
    if company
        .as_deref()
        .is_some_and(|c| normalise(c).chars().count() > companies::NAME_MAX)
    {
        fields.set(
            "company",
            format!(
                "Company must be at most {} characters.",
                companies::NAME_MAX
            ),
        );
    }
    let title = clean(input.title.as_deref());
    check_len(&mut fields, "title", "Title", &title, TITLE_MAX);
    let source = clean(input.source.as_deref()).unwrap_or_else(|| "organic".to_string());
    check_one_of(&mut fields, "source", "Source", Some(&source), &SOURCES);
    let own = records::check_owned(db, actor, input, current_owner, current_custom, fields).await?;
    Ok(Valid {
        custom: own.custom,
        email_norm: email.as_deref().map(normalise),
        first_name,
        last_name,
        email,
        phone,
        company,
        company_known,
        title,
        source,
        owner_id: own.owner_id,
        owner_name: own.owner_name,
        tags: own.tags,
    })
}

/// Under "reps see only their own records", another rep's company is as good as missing
/// to a rep: linking a contact to it, by id or by its exact name, would show its name on
/// the contact. Checked when the link is made or changed, so a rep can still edit a
/// contact a manager linked.
pub(super) async fn company_visible(db: &Db, actor: &Actor, v: &Valid) -> Result<(), AppError> {
    let access::Visible::Owner(me) = access::visible(db, actor).await? else {
        return Ok(());
    };
    let theirs = |c: &company::Model| c.owner_id != Some(me);
    if let Some(c) = &v.company_known {
        if theirs(c) {
            return Err(AppError::field("company_id", "No company has this id."));
        }
    } else if let Some(name) = &v.company
        && let Some(c) = companies::find_by_name(&db.read, name).await?
        && theirs(&c)
    {
        return Err(AppError::field("company", access::OTHERS_COMPANY_NAMED));
    }
    Ok(())
}
