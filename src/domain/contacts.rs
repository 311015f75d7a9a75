//! Contacts: the first complete slice. Pages and the API both call these functions.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, Set,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Db;
use crate::domain::sql::{PageRow, Sql, json_array, like_contains, offset};
use crate::domain::{
    Actor, FieldErrorsExt, Page, audit, check_text, clean, companies, double_option, has_control,
    normalise, now, valid_email, valid_phone,
};
use crate::entities::{company, contact, user};
use crate::error::{AppError, FieldErrors};

pub const SOURCES: [&str; 7] = [
    "organic", "referral", "paid", "event", "import", "stripe", "other",
];
pub const NAME_MAX: usize = 120;
pub const PHONE_MAX: usize = 30;
pub const TITLE_MAX: usize = 120;

/// A contact as pages and the API show it, with its company and owner names joined in.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Contact {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company_id: Option<i64>,
    /// The company's name.
    pub company: Option<String>,
    pub title: Option<String>,
    pub source: String,
    pub owner_id: i64,
    pub owner_name: String,
    /// Tag names, alphabetical.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Values of the custom fields admins defined, by key.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub custom_fields: BTreeMap<String, serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Contact {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    pub fn initials(&self) -> String {
        self.first_name
            .chars()
            .take(1)
            .chain(self.last_name.chars().take(1))
            .collect::<String>()
            .to_uppercase()
    }
}

/// Everything a form or a POST supplies. Empty strings mean "none".
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    #[serde(default)]
    #[schema(required = true, min_length = 1, max_length = 120)]
    pub first_name: String,
    #[serde(default)]
    #[schema(required = true, min_length = 1, max_length = 120)]
    pub last_name: String,
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    #[schema(max_length = 30, pattern = "^([0-9 +().x/-]*[0-9][0-9 +().x/-]*)?$")]
    pub phone: Option<String>,
    /// Company name; found or created.
    #[schema(max_length = 200)]
    pub company: Option<String>,
    /// An existing company's id (instead of, or matching, `company`).
    pub company_id: Option<i64>,
    #[schema(max_length = 120)]
    pub title: Option<String>,
    /// One of organic, referral, paid, event, import, stripe, other (default organic).
    #[schema(value_type = Option<crate::web::api::schema::Source>)]
    pub source: Option<String>,
    /// Owner's user id (default: whoever creates the contact).
    pub owner_id: Option<i64>,
    /// Tag names; new ones are created.
    #[schema(value_type = Option<Vec<crate::web::api::schema::TagName>>, max_items = 20)]
    pub tags: Option<Vec<String>>,
    /// Custom field values by key.
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<BTreeMap<String, serde_json::Value>>,
}

/// A partial update: absent fields are kept; `null` clears an optional field.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 120)]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 120)]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Email, max_length = 254)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 30, pattern = "^([0-9 +().x/-]*[0-9][0-9 +().x/-]*)?$")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub company: Option<Option<String>>,
    /// Link to an existing company by id; `null` removes the company.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub company_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 120)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = crate::web::api::schema::Source, required = false)]
    pub source: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = i64, required = false)]
    pub owner_id: Option<Option<i64>>,
    /// The whole set of tag names (replaces the current ones; `[]` removes all).
    #[schema(value_type = Option<Vec<crate::web::api::schema::TagName>>, max_items = 20)]
    pub tags: Option<Vec<String>>,
    /// Custom field values to change, by key (`null` clears one; others are kept).
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<BTreeMap<String, serde_json::Value>>,
}

impl From<ContactInput> for ContactPatch {
    fn from(i: ContactInput) -> ContactPatch {
        ContactPatch {
            first_name: Some(Some(i.first_name)),
            last_name: Some(Some(i.last_name)),
            email: Some(i.email),
            phone: Some(i.phone),
            company: Some(i.company),
            company_id: i.company_id.map(Some),
            title: Some(i.title),
            source: Some(Some(i.source.unwrap_or_default())),
            owner_id: i.owner_id.map(Some),
            tags: i.tags,
            custom_fields: i.custom_fields,
        }
    }
}

impl From<&Contact> for ContactInput {
    fn from(c: &Contact) -> ContactInput {
        ContactInput {
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            company: c.company.clone(),
            company_id: None,
            tags: None,
            custom_fields: None,
            title: c.title.clone(),
            source: Some(c.source.clone()),
            owner_id: Some(c.owner_id),
        }
    }
}

pub(crate) mod batch;
pub mod merge;

/// Input that passed validation, ready to store.
#[derive(Clone)]
pub(crate) struct Valid {
    first_name: String,
    last_name: String,
    email: Option<String>,
    email_norm: Option<String>,
    phone: Option<String>,
    company: Option<String>,
    /// The company, when the input named it by id (already looked up).
    company_known: Option<company::Model>,
    title: Option<String>,
    source: String,
    owner_id: i64,
    owner_name: String,
    /// Cleaned tag names; None leaves the tags as they are.
    tags: Option<Vec<String>>,
    /// The custom values to store, as a JSON object.
    custom: String,
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
/// since been deactivated, but cannot be given to one.
async fn validate(
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
                company_known = Some(c);
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
    if !SOURCES.contains(&source.as_str()) {
        fields.set(
            "source",
            format!("Source must be one of: {}.", SOURCES.join(", ")),
        );
    }
    let owner_id = input.owner_id.unwrap_or(actor.id);
    let mut owner_name = actor.name.clone();
    if owner_id != actor.id {
        match user::Entity::find_by_id(owner_id).one(conn).await? {
            Some(u) if u.active || current_owner == Some(owner_id) => owner_name = u.name,
            _ => fields.set("owner_id", "Owner must be an active user."),
        }
    }
    let tags = match &input.tags {
        None => None,
        Some(raw) => match crate::domain::tags::clean_names(raw, "tags") {
            Ok(names) => Some(names),
            Err(e) => {
                fields.set("tags", e.to_string());
                None
            }
        },
    };
    let defs = crate::domain::custom_fields::defs(db, "contact").await?;
    let custom = crate::domain::custom_fields::validate(
        &defs,
        current_custom,
        input.custom_fields.as_ref(),
        &mut fields,
    );
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    Ok(Valid {
        custom: serde_json::to_string(&custom).unwrap_or_else(|_| "{}".into()),
        email_norm: email.as_deref().map(normalise),
        first_name,
        last_name,
        email,
        phone,
        company,
        company_known,
        title,
        source,
        owner_id,
        owner_name,
        tags,
    })
}

fn duplicate_email() -> AppError {
    AppError::conflict_field("email", "Another contact already has this email.")
}

async fn ensure_email_free(
    conn: &impl ConnectionTrait,
    email_norm: &Option<String>,
    except: Option<i64>,
) -> Result<(), AppError> {
    let Some(norm) = email_norm else {
        return Ok(());
    };
    let mut q = contact::Entity::find().filter(contact::Column::EmailNorm.eq(norm.as_str()));
    if let Some(id) = except {
        q = q.filter(contact::Column::Id.ne(id));
    }
    if q.count(conn).await? > 0 {
        return Err(duplicate_email());
    }
    Ok(())
}

/// A unique-index violation that slipped past the check (another process won the race).
fn map_unique(err: AppError) -> AppError {
    match err {
        AppError::Conflict { fields, .. } if fields.is_empty() => duplicate_email(),
        other => other,
    }
}

/// The company a contact names. `known` is what a lookup on the read pool found before
/// the write transaction began, so the common case (an existing company) adds nothing to
/// the transaction; a new company is created inside it.
/// A company created this way belongs to the contact's owner.
async fn company_in(
    tx: &impl ConnectionTrait,
    v: &Valid,
    known: Option<company::Model>,
) -> Result<Option<company::Model>, AppError> {
    match (&v.company, known) {
        (None, _) => Ok(None),
        (Some(_), Some(c)) => Ok(Some(c)),
        (Some(name), None) => Ok(Some(
            companies::find_or_create(tx, name, Some(v.owner_id)).await?,
        )),
    }
}

async fn lookup_company(db: &Db, v: &Valid) -> Result<Option<company::Model>, AppError> {
    match (&v.company_known, &v.company) {
        (Some(c), _) => Ok(Some(c.clone())),
        (None, Some(n)) => companies::find_by_name(&db.read, n).await,
        (None, None) => Ok(None),
    }
}

fn build(
    id: i64,
    v: Valid,
    company: Option<company::Model>,
    tags: Vec<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
) -> Contact {
    Contact {
        tags,
        custom_fields: crate::domain::custom_fields::parse(&v.custom),
        id,
        first_name: v.first_name,
        last_name: v.last_name,
        email: v.email,
        phone: v.phone,
        company_id: company.as_ref().map(|c| c.id),
        company: company.map(|c| c.name),
        title: v.title,
        source: v.source,
        owner_id: v.owner_id,
        owner_name: v.owner_name,
        created_at,
        updated_at,
    }
}

pub async fn create(db: &Db, actor: &Actor, input: &ContactInput) -> Result<Contact, AppError> {
    actor.require_write()?;
    let v = validate(db, actor, input, None, &BTreeMap::new()).await?;
    let known = lookup_company(db, &v).await?;
    // Email uniqueness is the unique index's job (no check-then-insert race); the batch
    // answers a duplicate with the same 409 as `update`.
    batch::submit(db, actor, v, known, now()).await
}

pub async fn update(
    db: &Db,
    actor: &Actor,
    id: i64,
    patch: ContactPatch,
) -> Result<Contact, AppError> {
    actor.require_write()?;
    let current = get(db, actor, id).await?;
    let mut input = ContactInput::from(&current);
    let mut changed: Vec<&str> = Vec::new();
    // Optional fields: `null` clears them.
    macro_rules! apply {
        ($field:ident) => {
            if let Some(value) = patch.$field {
                input.$field = value;
                changed.push(stringify!($field));
            }
        };
    }
    // Required fields: absent keeps them, `null` is refused.
    let mut nulls = FieldErrors::new();
    macro_rules! apply_required {
        ($field:ident) => {
            match patch.$field {
                Some(Some(value)) => {
                    input.$field = value.into();
                    changed.push(stringify!($field));
                }
                Some(None) => nulls.set(
                    stringify!($field),
                    format!("{} cannot be null.", stringify!($field)),
                ),
                None => {}
            }
        };
    }
    apply_required!(first_name);
    apply_required!(last_name);
    apply!(email);
    apply!(phone);
    apply!(company);
    match patch.company_id {
        Some(Some(id)) => {
            input.company_id = Some(id);
            if !changed.contains(&"company") {
                input.company = None;
            }
            changed.push("company_id");
        }
        Some(None) => {
            input.company = None;
            changed.push("company_id");
        }
        None => {}
    }
    apply!(title);
    apply_required!(source);
    apply_required!(owner_id);
    if let Some(tags) = patch.tags {
        input.tags = Some(tags);
        changed.push("tags");
    }
    if let Some(custom) = patch.custom_fields {
        input.custom_fields = Some(custom);
        changed.push("custom_fields");
    }
    if !nulls.is_empty() {
        return Err(AppError::validation(nulls));
    }
    let v = validate(
        db,
        actor,
        &input,
        Some(current.owner_id),
        &current.custom_fields,
    )
    .await?;
    let known = lookup_company(db, &v).await?;
    let tx = db.write.begin().await?;
    ensure_email_free(&tx, &v.email_norm, Some(id)).await?;
    write_update(&tx, id, &v, known).await?;
    audit::record(
        &tx,
        Some(actor),
        "update",
        "contact",
        id,
        Some(serde_json::json!({"fields": changed})),
    )
    .await?;
    let contact = get_in(&tx, id).await?;
    tx.commit().await?;
    Ok(contact)
}

/// Stores validated values (and tags, when given) on contact `id`, inside `tx`.
async fn write_update(
    tx: &impl ConnectionTrait,
    id: i64,
    v: &Valid,
    known: Option<company::Model>,
) -> Result<(), AppError> {
    let company = company_in(tx, v, known).await?;
    let res = contact::Entity::update_many()
        .set(contact::ActiveModel {
            first_name: Set(v.first_name.clone()),
            last_name: Set(v.last_name.clone()),
            email: Set(v.email.clone()),
            email_norm: Set(v.email_norm.clone()),
            phone: Set(v.phone.clone()),
            company_id: Set(company.as_ref().map(|c| c.id)),
            title: Set(v.title.clone()),
            source: Set(v.source.clone()),
            owner_id: Set(v.owner_id),
            custom: Set(v.custom.clone()),
            updated_at: Set(now()),
            ..Default::default()
        })
        .filter(contact::Column::Id.eq(id))
        .exec(tx)
        .await
        .map_err(|e| map_unique(e.into()))?;
    if res.rows_affected == 0 {
        return Err(AppError::not_found("Contact"));
    }
    if let Some(names) = &v.tags {
        let tags = crate::domain::tags::ensure(tx, names).await?;
        crate::domain::tags::set_for(tx, "contact_tags", "contact_id", id, &tags).await?;
    }
    Ok(())
}

pub async fn delete(db: &Db, actor: &Actor, id: i64) -> Result<(), AppError> {
    actor.require_write()?;
    let tx = db.write.begin().await?;
    let res = contact::Entity::delete_by_id(id).exec(&tx).await?;
    if res.rows_affected == 0 {
        return Err(AppError::not_found("Contact"));
    }
    audit::record(&tx, Some(actor), "delete", "contact", id, None).await?;
    tx.commit().await?;
    Ok(())
}

const JOINS: &str =
    " LEFT JOIN companies co ON co.id = c.company_id JOIN users u ON u.id = c.owner_id";

async fn get_in(conn: &impl ConnectionTrait, id: i64) -> Result<Contact, AppError> {
    let backend = conn.get_database_backend();
    let mut sql = Sql::new(backend);
    sql.push("SELECT CAST(1 AS BIGINT) AS total, (SELECT ")
        .push(&json_array(backend, &fields(backend), ""))
        .push(" FROM contacts c")
        .push(JOINS)
        .push(" WHERE c.id = ")
        .bind(id)
        .push(") AS items");
    let page: Page<Contact> = PageRow::find_by_statement(sql.build())
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("Contact"))?
        .into_page(1, 1)?;
    page.items
        .into_iter()
        .next()
        .ok_or_else(|| AppError::not_found("Contact"))
}

/// Every role may read every contact (for now; the permission matrix comes later).
pub async fn get(db: &Db, _actor: &Actor, id: i64) -> Result<Contact, AppError> {
    get_in(&db.read, id).await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    #[default]
    Newest,
    Oldest,
    Name,
    NameDesc,
}

impl Sort {
    pub const ALL: [(Sort, &'static str, &'static str); 4] = [
        (Sort::Newest, "newest", "Newest first"),
        (Sort::Oldest, "oldest", "Oldest first"),
        (Sort::Name, "name", "Name A–Z"),
        (Sort::NameDesc, "name_desc", "Name Z–A"),
    ];

    pub fn parse(s: &str) -> Option<Sort> {
        Sort::ALL
            .iter()
            .find(|(_, k, _)| *k == s)
            .map(|(v, _, _)| *v)
    }

    pub fn as_str(self) -> &'static str {
        Sort::ALL
            .iter()
            .find(|(v, _, _)| *v == self)
            .map(|(_, k, _)| *k)
            .unwrap_or("newest")
    }

    fn order_by(self) -> &'static str {
        match self {
            Sort::Newest => " ORDER BY c.created_at DESC, c.id DESC",
            Sort::Oldest => " ORDER BY c.created_at ASC, c.id ASC",
            Sort::Name => " ORDER BY c.last_name ASC, c.first_name ASC, c.id ASC",
            Sort::NameDesc => " ORDER BY c.last_name DESC, c.first_name DESC, c.id DESC",
        }
    }
}

/// What a list asks for; raw strings as they arrive, validated by `list`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ListParams {
    pub q: Option<String>,
    pub source: Option<String>,
    pub company: Option<String>,
    pub company_id: Option<String>,
    pub owner: Option<String>,
    /// Comma-separated tag names: contacts carrying all of them.
    pub tags: Option<String>,
    pub sort: Option<String>,
    /// Custom field filters, `cf.<key>=value`; see `from_query`.
    #[serde(skip)]
    pub custom: BTreeMap<String, String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub terms: Vec<String>,
    pub source: Option<String>,
    pub company: Option<String>,
    pub company_id: Option<i64>,
    pub owner: Option<i64>,
    /// Normalised tag names.
    pub tags: Vec<String>,
    /// (custom field key, value) pairs.
    pub custom: Vec<(String, String)>,
    pub sort: Sort,
    pub page: u64,
    pub per_page: u64,
}

impl ListParams {
    /// Reads a list's query string, custom field filters (`cf.<key>`) included.
    pub fn from_query(query: &str) -> Result<ListParams, AppError> {
        let bad = |e: serde_html_form::de::Error| AppError::Validation {
            message: format!("The query string is not valid: {e}"),
            fields: FieldErrors::new(),
        };
        let mut params: ListParams = serde_html_form::from_str(query).map_err(bad)?;
        let pairs: Vec<(String, String)> = serde_html_form::from_str(query).map_err(bad)?;
        params.custom = pairs
            .into_iter()
            .filter(|(k, _)| k.starts_with("cf."))
            .collect();
        Ok(params)
    }

    /// Unknown or out-of-range values are a 422 naming the parameter, never an empty list.
    pub fn validate(&self, default_per_page: u64) -> Result<ListQuery, AppError> {
        let mut fields = FieldErrors::new();
        let (page, per_page) =
            crate::domain::paging(&self.page, &self.per_page, default_per_page, &mut fields);
        let source = clean(self.source.as_deref());
        if let Some(s) = &source
            && !SOURCES.contains(&s.as_str())
        {
            fields.set(
                "source",
                format!("source must be one of: {}.", SOURCES.join(", ")),
            );
        }
        let owner = match clean(self.owner.as_deref()) {
            None => None,
            Some(o) => match o.parse::<i64>() {
                Ok(id) => Some(id),
                Err(_) => {
                    fields.set("owner", "owner must be a user id.");
                    None
                }
            },
        };
        let company_id = match clean(self.company_id.as_deref()) {
            None => None,
            Some(c) => match c.parse::<i64>() {
                Ok(id) => Some(id),
                Err(_) => {
                    fields.set("company_id", "company_id must be a company id.");
                    None
                }
            },
        };
        let sort = match clean(self.sort.as_deref()) {
            None => Sort::Newest,
            Some(s) => Sort::parse(&s).unwrap_or_else(|| {
                fields.set(
                    "sort",
                    "sort must be one of newest, oldest, name, name_desc.",
                );
                Sort::Newest
            }),
        };
        for (field, value) in [
            ("q", &self.q),
            ("company", &self.company),
            ("tags", &self.tags),
        ] {
            check_text(&mut fields, field, value.as_deref().unwrap_or(""));
        }
        let custom = crate::domain::filters::custom_pairs(&self.custom, &mut fields);
        let q = clean(self.q.as_deref()).unwrap_or_default();
        if q.chars().count() > 200 {
            fields.set("q", "Search is limited to 200 characters.");
        }
        if !fields.is_empty() {
            return Err(AppError::validation(fields));
        }
        let tags: Vec<String> = crate::domain::tags::split(self.tags.as_deref().unwrap_or(""))
            .iter()
            .map(|n| normalise(n))
            .filter(|n| !n.is_empty())
            .take(10)
            .collect();
        Ok(ListQuery {
            terms: q.split_whitespace().take(5).map(str::to_string).collect(),
            source,
            company: clean(self.company.as_deref()).map(|c| normalise(&c)),
            company_id,
            owner,
            tags,
            custom,
            sort,
            page,
            per_page,
        })
    }
}

impl ListQuery {
    fn is_filtered(&self) -> bool {
        !self.terms.is_empty()
            || self.source.is_some()
            || self.owner.is_some()
            || self.company.is_some()
            || self.company_id.is_some()
            || !self.tags.is_empty()
            || !self.custom.is_empty()
    }
}

/// `WHERE …` for the list's filters, on the contacts table aliased `t`.
pub(crate) fn push_filters(sql: &mut Sql, q: &ListQuery, t: &str) {
    sql.push(" WHERE 1 = 1");
    if let Some(s) = &q.source {
        sql.push(&format!(" AND {t}.source = ")).bind(s.clone());
    }
    if let Some(o) = q.owner {
        sql.push(&format!(" AND {t}.owner_id = ")).bind(o);
    }
    if let Some(c) = q.company_id {
        sql.push(&format!(" AND {t}.company_id = ")).bind(c);
    }
    crate::domain::custom_fields::push_filters(sql, t, &q.custom);
    for tag in &q.tags {
        sql.push(&format!(
            " AND {t}.id IN (SELECT ct.contact_id FROM contact_tags ct JOIN tags g ON g.id = ct.tag_id \
             WHERE g.name_norm = "
        ))
        .bind(tag.clone())
        .push(")");
    }
    if let Some(c) = &q.company {
        sql.push(&format!(
            " AND {t}.company_id IN (SELECT id FROM companies WHERE name_norm LIKE "
        ))
        .bind(like_contains(c))
        .push(" ESCAPE '\\')");
    }
    // Every word must match the first name, last name, email or company. The stored
    // `*_norm` columns were lowered by Rust (all of Unicode); `lower()` in SQLite lowers
    // ASCII only, so the name comparison lowers the word the same way the engine does.
    let engine_lower = |w: &str| match sql.backend() {
        sea_orm::DatabaseBackend::Sqlite => w.to_ascii_lowercase(),
        _ => w.to_lowercase(),
    };
    let terms: Vec<(String, String)> = q
        .terms
        .iter()
        .map(|w| {
            (
                like_contains(&engine_lower(w)),
                like_contains(&w.to_lowercase()),
            )
        })
        .collect();
    for (name_pattern, norm_pattern) in terms {
        sql.push(&format!(" AND (lower({t}.first_name) LIKE "))
            .bind(name_pattern.clone())
            .push(&format!(" ESCAPE '\\' OR lower({t}.last_name) LIKE "))
            .bind(name_pattern)
            .push(&format!(" ESCAPE '\\' OR {t}.email_norm LIKE "))
            .bind(norm_pattern.clone())
            .push(&format!(
                " ESCAPE '\\' OR {t}.company_id IN (SELECT id FROM companies WHERE name_norm LIKE "
            ))
            .bind(norm_pattern)
            .push(" ESCAPE '\\'))");
    }
}

/// The number of contacts matching the filters: a trigger-kept counter when there are
/// none, so the plain list costs the same at a million contacts as at ten.
fn push_count(sql: &mut Sql, q: &ListQuery) {
    if q.is_filtered() {
        sql.push("SELECT COUNT(*) FROM contacts t");
        push_filters(sql, q, "t");
    } else {
        sql.push("SELECT n FROM record_counts WHERE name = 'contacts'");
    }
}

/// The JSON object of one contact, built by the database (see `list`), tags included.
fn fields(backend: sea_orm::DatabaseBackend) -> Vec<(&'static str, &'static str)> {
    let tags = match backend {
        sea_orm::DatabaseBackend::Postgres => {
            "(SELECT COALESCE(json_agg(g.name ORDER BY g.name_norm), '[]'::json) FROM contact_tags ct \
             JOIN tags g ON g.id = ct.tag_id WHERE ct.contact_id = c.id)"
        }
        _ => {
            // Most records have no tags: a quick probe skips the aggregate for them.
            "CASE WHEN EXISTS (SELECT 1 FROM contact_tags ct WHERE ct.contact_id = c.id) THEN \
             json((SELECT json_group_array(g.name ORDER BY g.name_norm) FROM contact_tags ct \
             JOIN tags g ON g.id = ct.tag_id WHERE ct.contact_id = c.id)) ELSE json_array() END"
        }
    };
    let custom = match backend {
        sea_orm::DatabaseBackend::Postgres => "c.custom::json",
        _ => "CASE WHEN c.custom = '{}' THEN json_object() ELSE json(c.custom) END",
    };
    let mut f = JSON_FIELDS.to_vec();
    f.push(("tags", tags));
    f.push(("custom_fields", custom));
    f
}

const JSON_FIELDS: [(&str, &str); 13] = [
    ("id", "c.id"),
    ("first_name", "c.first_name"),
    ("last_name", "c.last_name"),
    ("email", "c.email"),
    ("phone", "c.phone"),
    ("company_id", "c.company_id"),
    ("company", "co.name"),
    ("title", "c.title"),
    ("source", "c.source"),
    ("owner_id", "c.owner_id"),
    ("owner_name", "u.name"),
    ("created_at", "c.created_at"),
    ("updated_at", "c.updated_at"),
];

/// One page of contacts and the total, in one statement that returns one row: the total
/// as an uncorrelated subquery (evaluated once), the page as a JSON array built by the
/// database. sqlx hands SQLite rows across a thread one at a time, so a 25-row page as
/// 25 rows costs several times what the query itself does; as one value it costs one.
pub async fn list(db: &Db, actor: &Actor, q: &ListQuery) -> Result<Page<Contact>, AppError> {
    list_row(db, actor, q).await?.into_page(q.page, q.per_page)
}

/// The page as the database built it: the total and the items as JSON text. The API
/// sends that text on as it is, saving a parse and a re-serialisation per request.
pub async fn list_json(db: &Db, actor: &Actor, q: &ListQuery) -> Result<(u64, String), AppError> {
    let row = list_row(db, actor, q).await?;
    Ok((row.total.max(0) as u64, row.items))
}

async fn list_row(db: &Db, _actor: &Actor, q: &ListQuery) -> Result<PageRow, AppError> {
    check_filters(db, q).await?;
    let backend = db.backend();
    let order = q.sort.order_by();
    let mut sql = Sql::new(backend);
    sql.push("SELECT (");
    push_count(&mut sql, q);
    sql.push(") AS total, (SELECT ")
        .push(&json_array(backend, &fields(backend), order));
    // The page's ids come from the indexes alone; only those rows are then read and joined.
    sql.push(" FROM (SELECT t.id FROM contacts t");
    push_filters(&mut sql, q, "t");
    sql.push(&order.replace("c.", "t."))
        .push(" LIMIT ")
        .bind(q.per_page as i64)
        .push(" OFFSET ")
        .bind(offset(q.page, q.per_page))
        .push(") page JOIN contacts c ON c.id = page.id")
        .push(JOINS)
        .push(") AS items");
    PageRow::find_by_statement(sql.build())
        .one(&db.read)
        .await?
        .ok_or_else(|| AppError::Internal("the list query returned no row".into()))
}

/// Refuses filters naming a tag or custom field that does not exist. Lists, exports
/// (before the first byte is sent) and bulk actions all go through it.
pub async fn check_filters(db: &Db, q: &ListQuery) -> Result<(), AppError> {
    crate::domain::filters::check_names(db, "contact", &q.tags, &q.custom).await
}

/// Rows per chunk of an export: memory stays flat however many contacts match.
pub const EXPORT_CHUNK: u64 = 1000;

/// The next chunk of an export: contacts matching the filters with an id above `after`,
/// in id order (keyset paging, so a deep chunk costs what the first one does).
pub async fn export_chunk(
    db: &Db,
    _actor: &Actor,
    q: &ListQuery,
    after: i64,
) -> Result<Vec<Contact>, AppError> {
    let backend = db.backend();
    let mut sql = Sql::new(backend);
    sql.push("SELECT CAST(0 AS BIGINT) AS total, (SELECT ")
        .push(&json_array(backend, &fields(backend), " ORDER BY c.id"))
        .push(" FROM (SELECT t.id FROM contacts t");
    push_filters(&mut sql, q, "t");
    sql.push(" AND t.id > ")
        .bind(after)
        .push(" ORDER BY t.id LIMIT ")
        .bind(EXPORT_CHUNK as i64)
        .push(") page JOIN contacts c ON c.id = page.id")
        .push(JOINS)
        .push(") AS items");
    let page: Page<Contact> = PageRow::find_by_statement(sql.build())
        .one(&db.read)
        .await?
        .ok_or_else(|| AppError::Internal("the export query returned no row".into()))?
        .into_page(1, EXPORT_CHUNK)?;
    Ok(page.items)
}
