//! Companies: records of their own (domain, industry, size, owner …) that contacts link to.
//! A contact may also just name its company, which is then found or created here.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, NotSet, PaginatorTrait,
    QueryFilter, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Db;
use crate::domain::sql::{PageRow, Sql, json_array, like_contains, offset};
use crate::domain::{
    Actor, FieldErrorsExt, Page, audit, check_text, clean, has_control, normalise, now, valid_phone,
};
use crate::entities::{company, contact, user};
use crate::error::{AppError, FieldErrors};

pub const NAME_MAX: usize = 200;
pub const ADDRESS_MAX: usize = 500;
pub const WEBSITE_MAX: usize = 300;

/// (key, label) of the industries a company can be filed under.
pub const INDUSTRIES: [(&str, &str); 12] = [
    ("software", "Software"),
    ("fintech", "Fintech"),
    ("healthcare", "Healthcare"),
    ("ecommerce", "E-commerce"),
    ("manufacturing", "Manufacturing"),
    ("education", "Education"),
    ("media", "Media"),
    ("consulting", "Consulting"),
    ("logistics", "Logistics"),
    ("energy", "Energy"),
    ("nonprofit", "Non-profit"),
    ("other", "Other"),
];

/// Head-count bands.
pub const SIZE_BANDS: [&str; 6] = ["1-10", "11-50", "51-200", "201-1000", "1001-5000", "5001+"];

pub fn industry_label(key: &str) -> &str {
    INDUSTRIES
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, l)| *l)
        .unwrap_or(key)
}

/// A company as pages and the API show it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Company {
    pub id: i64,
    pub name: String,
    /// Normalised: `https://www.Acme.com/` is stored as `acme.com`.
    pub domain: Option<String>,
    pub industry: Option<String>,
    pub size_band: Option<String>,
    pub website: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub owner_id: Option<i64>,
    pub owner_name: Option<String>,
    /// How many contacts work here.
    pub contact_count: i64,
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

/// What a form or a POST supplies. Empty strings mean "none".
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyInput {
    #[serde(default)]
    #[schema(required = true, min_length = 1, max_length = 200)]
    pub name: String,
    /// A domain or URL; stored normalised (`acme.com`).
    pub domain: Option<String>,
    /// One of software, fintech, healthcare, ecommerce, manufacturing, education, media,
    /// consulting, logistics, energy, nonprofit, other.
    #[schema(value_type = Option<crate::web::api::schema::Industry>)]
    pub industry: Option<String>,
    /// One of 1-10, 11-50, 51-200, 201-1000, 1001-5000, 5001+.
    #[schema(value_type = Option<crate::web::api::schema::SizeBand>)]
    pub size_band: Option<String>,
    #[schema(format = "uri", max_length = 300)]
    pub website: Option<String>,
    #[schema(max_length = 30, pattern = "^([0-9 +().x/-]*[0-9][0-9 +().x/-]*)?$")]
    pub phone: Option<String>,
    #[schema(max_length = 500)]
    pub address: Option<String>,
    /// Owner's user id (default: whoever creates the company).
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
pub struct CompanyPatch {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::double_option")]
    #[schema(value_type = Option<String>)]
    pub domain: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::double_option")]
    #[schema(value_type = Option<crate::web::api::schema::Industry>)]
    pub industry: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::double_option")]
    #[schema(value_type = Option<crate::web::api::schema::SizeBand>)]
    pub size_band: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::double_option")]
    #[schema(value_type = Option<String>, format = "uri", max_length = 300)]
    pub website: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::double_option")]
    #[schema(value_type = Option<String>, max_length = 30, pattern = "^([0-9 +().x/-]*[0-9][0-9 +().x/-]*)?$")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::double_option")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub address: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::double_option")]
    #[schema(value_type = i64, required = false)]
    pub owner_id: Option<Option<i64>>,
    /// The whole set of tag names (replaces the current ones; `[]` removes all).
    #[schema(value_type = Option<Vec<crate::web::api::schema::TagName>>, max_items = 20)]
    pub tags: Option<Vec<String>>,
    /// Custom field values to change, by key (`null` clears one; others are kept).
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<BTreeMap<String, serde_json::Value>>,
}

impl From<&Company> for CompanyInput {
    fn from(c: &Company) -> CompanyInput {
        CompanyInput {
            name: c.name.clone(),
            domain: c.domain.clone(),
            industry: c.industry.clone(),
            size_band: c.size_band.clone(),
            website: c.website.clone(),
            phone: c.phone.clone(),
            address: c.address.clone(),
            owner_id: c.owner_id,
            tags: None,
            custom_fields: None,
        }
    }
}

/// `https://www.Acme.com/pricing` → `acme.com`. None when it is not a host name.
pub fn normalise_domain(raw: &str) -> Option<String> {
    let mut s = raw.trim().to_lowercase();
    for scheme in ["https://", "http://"] {
        if let Some(rest) = s.strip_prefix(scheme) {
            s = rest.to_string();
        }
    }
    let host = s.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or("");
    let host = host.split(':').next().unwrap_or("");
    let host = host
        .strip_prefix("www.")
        .unwrap_or(host)
        .trim_end_matches('.');
    let labels: Vec<&str> = host.split('.').collect();
    let valid = host.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    valid.then(|| host.to_string())
}

struct Valid {
    name: String,
    domain: Option<String>,
    industry: Option<String>,
    size_band: Option<String>,
    website: Option<String>,
    phone: Option<String>,
    address: Option<String>,
    owner_id: Option<i64>,
    tags: Option<Vec<String>>,
    custom: String,
}

async fn validate(
    db: &Db,
    actor: &Actor,
    input: &CompanyInput,
    current_owner: Option<i64>,
    current_custom: &BTreeMap<String, serde_json::Value>,
) -> Result<Valid, AppError> {
    let conn = &db.read;
    let mut fields = FieldErrors::new();
    for (field, value) in [
        ("name", Some(input.name.as_str())),
        ("domain", input.domain.as_deref()),
        ("industry", input.industry.as_deref()),
        ("size_band", input.size_band.as_deref()),
        ("website", input.website.as_deref()),
        ("phone", input.phone.as_deref()),
    ] {
        if value.is_some_and(has_control) {
            fields.set(field, format!("{field} cannot contain control characters."));
        }
    }
    // Addresses span lines; other control characters are still refused.
    if input.address.as_deref().is_some_and(|a| {
        a.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    }) {
        fields.set("address", "address cannot contain control characters.");
    }
    let name = input.name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        fields.set("name", "Name is required.");
    } else if normalise(&name).chars().count() > NAME_MAX || name.chars().count() > NAME_MAX {
        fields.set(
            "name",
            format!("Name must be at most {NAME_MAX} characters."),
        );
    }
    let website = clean(input.website.as_deref());
    if let Some(w) = &website {
        let ok = w.chars().count() <= WEBSITE_MAX
            && url::Url::parse(w)
                .ok()
                .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
        if !ok {
            fields.set(
                "website",
                "Enter a full web address, like https://acme.com.",
            );
        }
    }
    // The domain, or else the website's, so companies are found by domain either way.
    let domain = match clean(input.domain.as_deref()) {
        Some(d) => match normalise_domain(&d) {
            Some(n) => Some(n),
            None => {
                fields.set("domain", "Enter a domain like acme.com.");
                None
            }
        },
        None => website.as_deref().and_then(normalise_domain),
    };
    let industry = clean(input.industry.as_deref()).map(|i| i.to_lowercase());
    if let Some(i) = &industry
        && !INDUSTRIES.iter().any(|(k, _)| k == i)
    {
        fields.set(
            "industry",
            format!("Industry must be one of: {}.", industry_keys()),
        );
    }
    let size_band = clean(input.size_band.as_deref());
    if let Some(s) = &size_band
        && !SIZE_BANDS.contains(&s.as_str())
    {
        fields.set(
            "size_band",
            format!("Size must be one of: {}.", SIZE_BANDS.join(", ")),
        );
    }
    let phone = clean(input.phone.as_deref());
    if let Some(p) = &phone
        && !valid_phone(p)
    {
        fields.set(
            "phone",
            "Phone may hold up to 30 digits, spaces and + - ( ) . x / only.",
        );
    }
    let address = clean(input.address.as_deref());
    if address
        .as_ref()
        .is_some_and(|a| a.chars().count() > ADDRESS_MAX)
    {
        fields.set(
            "address",
            format!("Address must be at most {ADDRESS_MAX} characters."),
        );
    }
    let owner_id = input.owner_id.or(Some(actor.id));
    if let Some(id) = owner_id
        && id != actor.id
    {
        match user::Entity::find_by_id(id).one(conn).await? {
            Some(u) if u.active || current_owner == Some(id) => {}
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
    let defs = crate::domain::custom_fields::defs(db, "company").await?;
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
        name,
        domain,
        industry,
        size_band,
        website,
        phone,
        address,
        owner_id,
        tags,
    })
}

fn industry_keys() -> String {
    INDUSTRIES
        .iter()
        .map(|(k, _)| *k)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Turns a unique-index violation into the field it concerns.
async fn conflict(
    conn: &impl ConnectionTrait,
    v: &Valid,
    except: Option<i64>,
) -> Result<(), AppError> {
    let mut q = company::Entity::find().filter(company::Column::NameNorm.eq(normalise(&v.name)));
    if let Some(id) = except {
        q = q.filter(company::Column::Id.ne(id));
    }
    if q.count(conn).await? > 0 {
        return Err(AppError::conflict_field(
            "name",
            "A company with this name already exists.",
        ));
    }
    if let Some(d) = &v.domain {
        let mut q = company::Entity::find().filter(company::Column::Domain.eq(d.as_str()));
        if let Some(id) = except {
            q = q.filter(company::Column::Id.ne(id));
        }
        if q.count(conn).await? > 0 {
            return Err(AppError::conflict_field(
                "domain",
                "Another company already has this domain.",
            ));
        }
    }
    Ok(())
}

fn active_model(v: Valid, t: DateTime<Utc>) -> company::ActiveModel {
    company::ActiveModel {
        id: NotSet,
        name_norm: Set(normalise(&v.name)),
        name: Set(v.name),
        domain: Set(v.domain),
        industry: Set(v.industry),
        size_band: Set(v.size_band),
        website: Set(v.website),
        phone: Set(v.phone),
        address: Set(v.address),
        owner_id: Set(v.owner_id),
        custom: Set(v.custom),
        created_at: NotSet,
        updated_at: Set(t),
    }
}

pub async fn create(db: &Db, actor: &Actor, input: &CompanyInput) -> Result<Company, AppError> {
    actor.require_write()?;
    let v = validate(db, actor, input, None, &BTreeMap::new()).await?;
    let tx = db.write.begin().await?;
    conflict(&tx, &v, None).await?;
    let t = now();
    let tag_names = v.tags.clone();
    let mut am = active_model(v, t);
    am.created_at = Set(t);
    let id = company::Entity::insert(am).exec(&tx).await?.last_insert_id;
    if let Some(names) = &tag_names {
        let tags = crate::domain::tags::ensure(&tx, names).await?;
        crate::domain::tags::set_for(&tx, "company_tags", "company_id", id, &tags).await?;
    }
    audit::record(&tx, Some(actor), "create", "company", id, None).await?;
    let company = get_in(&tx, id).await?;
    tx.commit().await?;
    Ok(company)
}

pub async fn update(
    db: &Db,
    actor: &Actor,
    id: i64,
    patch: CompanyPatch,
) -> Result<Company, AppError> {
    actor.require_write()?;
    let current = get(db, actor, id).await?;
    let mut input = CompanyInput::from(&current);
    let mut changed: Vec<&str> = Vec::new();
    let mut nulls = FieldErrors::new();
    if let Some(name) = patch.name {
        input.name = name;
        changed.push("name");
    }
    macro_rules! apply {
        ($field:ident) => {
            if let Some(value) = patch.$field {
                input.$field = value;
                changed.push(stringify!($field));
            }
        };
    }
    apply!(domain);
    apply!(industry);
    apply!(size_band);
    apply!(website);
    apply!(phone);
    apply!(address);
    if let Some(tags) = patch.tags {
        input.tags = Some(tags);
        changed.push("tags");
    }
    if let Some(custom) = patch.custom_fields {
        input.custom_fields = Some(custom);
        changed.push("custom_fields");
    }
    match patch.owner_id {
        Some(Some(o)) => {
            input.owner_id = Some(o);
            changed.push("owner_id");
        }
        Some(None) => nulls.set("owner_id", "owner_id cannot be null."),
        None => {}
    }
    if !nulls.is_empty() {
        return Err(AppError::validation(nulls));
    }
    // A domain that only came from the website follows the website.
    if patch_touches_website_only(&changed)
        && current.domain == current.website.as_deref().and_then(normalise_domain)
    {
        input.domain = None;
    }
    let v = validate(db, actor, &input, current.owner_id, &current.custom_fields).await?;
    let tx = db.write.begin().await?;
    conflict(&tx, &v, Some(id)).await?;
    let tag_names = v.tags.clone();
    let res = company::Entity::update_many()
        .set(active_model(v, now()))
        .filter(company::Column::Id.eq(id))
        .exec(&tx)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::not_found("Company"));
    }
    if let Some(names) = &tag_names {
        let tags = crate::domain::tags::ensure(&tx, names).await?;
        crate::domain::tags::set_for(&tx, "company_tags", "company_id", id, &tags).await?;
    }
    audit::record(
        &tx,
        Some(actor),
        "update",
        "company",
        id,
        Some(serde_json::json!({"fields": changed})),
    )
    .await?;
    let company = get_in(&tx, id).await?;
    tx.commit().await?;
    Ok(company)
}

fn patch_touches_website_only(changed: &[&str]) -> bool {
    changed.contains(&"website") && !changed.contains(&"domain")
}

/// How many contacts still link to the company.
pub async fn contact_count(conn: &impl ConnectionTrait, id: i64) -> Result<u64, AppError> {
    Ok(contact::Entity::find()
        .filter(contact::Column::CompanyId.eq(id))
        .count(conn)
        .await?)
}

/// Deletes a company. While contacts still link to it, the caller must choose to detach
/// them (they stay, without a company); otherwise nothing happens and the answer is 409.
pub async fn delete(db: &Db, actor: &Actor, id: i64, detach: bool) -> Result<u64, AppError> {
    actor.require_write()?;
    let tx = db.write.begin().await?;
    let company = company::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or_else(|| AppError::not_found("Company"))?;
    let linked = contact_count(&tx, id).await?;
    if linked > 0 && !detach {
        return Err(AppError::Conflict {
            message: format!(
                "{} still has {linked} contact{}. Detach them to delete the company.",
                company.name,
                if linked == 1 { "" } else { "s" }
            ),
            fields: FieldErrors::new(),
        });
    }
    if linked > 0 {
        contact::Entity::update_many()
            .col_expr(contact::Column::CompanyId, Expr::value(Option::<i64>::None))
            .col_expr(contact::Column::UpdatedAt, Expr::value(now()))
            .filter(contact::Column::CompanyId.eq(id))
            .exec(&tx)
            .await?;
    }
    company::Entity::delete_by_id(id).exec(&tx).await?;
    audit::record(
        &tx,
        Some(actor),
        "delete",
        "company",
        id,
        Some(serde_json::json!({"name": company.name, "detached_contacts": linked})),
    )
    .await?;
    tx.commit().await?;
    Ok(linked)
}

const JSON_FIELDS: [(&str, &str); 13] = [
    ("id", "c.id"),
    ("name", "c.name"),
    ("domain", "c.domain"),
    ("industry", "c.industry"),
    ("size_band", "c.size_band"),
    ("website", "c.website"),
    ("phone", "c.phone"),
    ("address", "c.address"),
    ("owner_id", "c.owner_id"),
    ("owner_name", "u.name"),
    (
        "contact_count",
        "(SELECT COUNT(*) FROM contacts x WHERE x.company_id = c.id)",
    ),
    ("created_at", "c.created_at"),
    ("updated_at", "c.updated_at"),
];

/// The JSON object of one company, tags included.
fn fields(backend: sea_orm::DatabaseBackend) -> Vec<(&'static str, &'static str)> {
    let tags = match backend {
        sea_orm::DatabaseBackend::Postgres => {
            "(SELECT COALESCE(json_agg(g.name ORDER BY g.name_norm), '[]'::json) FROM company_tags ct \
             JOIN tags g ON g.id = ct.tag_id WHERE ct.company_id = c.id)"
        }
        _ => {
            // Most records have no tags: a quick probe skips the aggregate for them.
            "CASE WHEN EXISTS (SELECT 1 FROM company_tags ct WHERE ct.company_id = c.id) THEN \
             json((SELECT json_group_array(g.name ORDER BY g.name_norm) FROM company_tags ct \
             JOIN tags g ON g.id = ct.tag_id WHERE ct.company_id = c.id)) ELSE json_array() END"
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

async fn get_in(conn: &impl ConnectionTrait, id: i64) -> Result<Company, AppError> {
    let backend = conn.get_database_backend();
    let mut sql = Sql::new(backend);
    sql.push("SELECT CAST(1 AS BIGINT) AS total, (SELECT ")
        .push(&json_array(backend, &fields(backend), ""))
        .push(" FROM companies c LEFT JOIN users u ON u.id = c.owner_id WHERE c.id = ")
        .bind(id)
        .push(") AS items");
    let page: Page<Company> = PageRow::find_by_statement(sql.build())
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("Company"))?
        .into_page(1, 1)?;
    page.items
        .into_iter()
        .next()
        .ok_or_else(|| AppError::not_found("Company"))
}

pub async fn get(db: &Db, _actor: &Actor, id: i64) -> Result<Company, AppError> {
    get_in(&db.read, id).await
}

/// The company called `name`, compared without regard to case or spacing.
pub async fn find_by_name(
    conn: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<company::Model>, AppError> {
    find_by_norm(conn, &normalise(name)).await
}

pub async fn find_by_id(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<company::Model>, AppError> {
    Ok(company::Entity::find_by_id(id).one(conn).await?)
}

/// The company called `name` (compared without regard to case or spacing), created when
/// missing, owned by `owner`. Safe against a concurrent insert of the same name.
pub async fn find_or_create(
    conn: &impl ConnectionTrait,
    name: &str,
    owner: Option<i64>,
) -> Result<company::Model, AppError> {
    let name_norm = normalise(name);
    if let Some(c) = find_by_norm(conn, &name_norm).await? {
        return Ok(c);
    }
    let t = now();
    company::Entity::insert(company::ActiveModel {
        id: NotSet,
        name: Set(name.split_whitespace().collect::<Vec<_>>().join(" ")),
        name_norm: Set(name_norm.clone()),
        domain: Set(None),
        industry: Set(None),
        size_band: Set(None),
        website: Set(None),
        phone: Set(None),
        address: Set(None),
        owner_id: Set(owner),
        custom: NotSet,
        created_at: Set(t),
        updated_at: Set(t),
    })
    .on_conflict_do_nothing_on([company::Column::NameNorm])
    .exec(conn)
    .await?;
    find_by_norm(conn, &name_norm)
        .await?
        .ok_or_else(|| AppError::Internal(format!("company {name_norm} not found after insert")))
}

async fn find_by_norm(
    conn: &impl ConnectionTrait,
    name_norm: &str,
) -> Result<Option<company::Model>, AppError> {
    Ok(company::Entity::find()
        .filter(company::Column::NameNorm.eq(name_norm))
        .one(conn)
        .await?)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Name,
    NameDesc,
    Newest,
    Oldest,
}

impl Sort {
    pub const ALL: [(Sort, &'static str, &'static str); 4] = [
        (Sort::Name, "name", "Name A–Z"),
        (Sort::NameDesc, "name_desc", "Name Z–A"),
        (Sort::Newest, "newest", "Newest first"),
        (Sort::Oldest, "oldest", "Oldest first"),
    ];

    fn order_by(self, t: &str) -> String {
        match self {
            Sort::Name => format!(" ORDER BY {t}.name_norm ASC, {t}.id ASC"),
            Sort::NameDesc => format!(" ORDER BY {t}.name_norm DESC, {t}.id DESC"),
            Sort::Newest => format!(" ORDER BY {t}.created_at DESC, {t}.id DESC"),
            Sort::Oldest => format!(" ORDER BY {t}.created_at ASC, {t}.id ASC"),
        }
    }
}

/// What a company list asks for, as it arrives; `validate` checks it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ListParams {
    pub q: Option<String>,
    pub industry: Option<String>,
    pub size: Option<String>,
    pub owner: Option<String>,
    /// Comma-separated tag names: companies carrying all of them.
    pub tags: Option<String>,
    pub sort: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
    /// Custom field filters, `cf.<key>=value`; see `from_query`.
    #[serde(skip)]
    pub custom: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// (custom field key, value) pairs.
    pub custom: Vec<(String, String)>,
    pub q: Option<String>,
    pub industry: Option<String>,
    pub size: Option<String>,
    pub owner: Option<i64>,
    pub tags: Vec<String>,
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

    pub fn validate(&self, default_per_page: u64) -> Result<ListQuery, AppError> {
        let mut fields = FieldErrors::new();
        let (page, per_page) =
            crate::domain::paging(&self.page, &self.per_page, default_per_page, &mut fields);
        let industry = clean(self.industry.as_deref()).map(|i| i.to_lowercase());
        if let Some(i) = &industry
            && !INDUSTRIES.iter().any(|(k, _)| k == i)
        {
            fields.set(
                "industry",
                format!("industry must be one of: {}.", industry_keys()),
            );
        }
        let size = clean(self.size.as_deref());
        if let Some(s) = &size
            && !SIZE_BANDS.contains(&s.as_str())
        {
            fields.set(
                "size",
                format!("size must be one of: {}.", SIZE_BANDS.join(", ")),
            );
        }
        let owner = match clean(self.owner.as_deref()) {
            None => None,
            Some(o) => o.parse::<i64>().map(Some).unwrap_or_else(|_| {
                fields.set("owner", "owner must be a user id.");
                None
            }),
        };
        let sort = match clean(self.sort.as_deref()) {
            None => Sort::Name,
            Some(s) => Sort::ALL
                .iter()
                .find(|(_, k, _)| *k == s)
                .map(|(v, _, _)| *v)
                .unwrap_or_else(|| {
                    fields.set(
                        "sort",
                        "sort must be one of name, name_desc, newest, oldest.",
                    );
                    Sort::Name
                }),
        };
        let q = clean(self.q.as_deref());
        if check_text(&mut fields, "q", q.as_deref().unwrap_or(""))
            && q.as_ref().is_some_and(|q| q.chars().count() > 200)
        {
            fields.set("q", "Search is limited to 200 characters.");
        }
        check_text(&mut fields, "tags", self.tags.as_deref().unwrap_or(""));
        let custom = crate::domain::filters::custom_pairs(&self.custom, &mut fields);
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
            tags,
            custom,
            q: q.map(|q| normalise(&q)),
            industry,
            size,
            owner,
            sort,
            page,
            per_page,
        })
    }
}

pub(crate) fn push_filters(sql: &mut Sql, q: &ListQuery, t: &str) {
    sql.push(" WHERE 1 = 1");
    if let Some(i) = &q.industry {
        sql.push(&format!(" AND {t}.industry = ")).bind(i.clone());
    }
    if let Some(s) = &q.size {
        sql.push(&format!(" AND {t}.size_band = ")).bind(s.clone());
    }
    if let Some(o) = q.owner {
        sql.push(&format!(" AND {t}.owner_id = ")).bind(o);
    }
    crate::domain::custom_fields::push_filters(sql, t, &q.custom);
    for tag in &q.tags {
        sql.push(&format!(
            " AND {t}.id IN (SELECT ct.company_id FROM company_tags ct JOIN tags g ON g.id = ct.tag_id \
             WHERE g.name_norm = "
        ))
        .bind(tag.clone())
        .push(")");
    }
    if let Some(term) = &q.q {
        let pattern = like_contains(term);
        sql.push(&format!(" AND ({t}.name_norm LIKE "))
            .bind(pattern.clone())
            .push(&format!(" ESCAPE '\\' OR {t}.domain LIKE "))
            .bind(pattern)
            .push(" ESCAPE '\\')");
    }
}

impl ListQuery {
    fn is_filtered(&self) -> bool {
        self.q.is_some()
            || self.industry.is_some()
            || self.size.is_some()
            || self.owner.is_some()
            || !self.tags.is_empty()
            || !self.custom.is_empty()
    }
}

pub async fn list(db: &Db, _actor: &Actor, q: &ListQuery) -> Result<Page<Company>, AppError> {
    check_filters(db, q).await?;
    let backend = db.backend();
    let mut sql = Sql::new(backend);
    sql.push("SELECT (");
    if q.is_filtered() {
        sql.push("SELECT COUNT(*) FROM companies t");
        push_filters(&mut sql, q, "t");
    } else {
        sql.push("SELECT n FROM record_counts WHERE name = 'companies'");
    }
    sql.push(") AS total, (SELECT ")
        .push(&json_array(
            backend,
            &fields(backend),
            &q.sort.order_by("c"),
        ))
        .push(" FROM (SELECT t.id FROM companies t");
    push_filters(&mut sql, q, "t");
    sql.push(&q.sort.order_by("t"))
        .push(" LIMIT ")
        .bind(q.per_page as i64)
        .push(" OFFSET ")
        .bind(offset(q.page, q.per_page))
        .push(") page JOIN companies c ON c.id = page.id LEFT JOIN users u ON u.id = c.owner_id) AS items");
    PageRow::find_by_statement(sql.build())
        .one(&db.read)
        .await?
        .ok_or_else(|| AppError::Internal("the list query returned no row".into()))?
        .into_page(q.page, q.per_page)
}

/// Refuses filters naming a tag or custom field that does not exist. Lists, exports
/// (before the first byte is sent) and bulk actions all go through it.
pub async fn check_filters(db: &Db, q: &ListQuery) -> Result<(), AppError> {
    crate::domain::filters::check_names(db, "company", &q.tags, &q.custom).await
}

/// Rows per chunk of an export.
pub const EXPORT_CHUNK: u64 = 1000;

/// The next chunk of an export: companies matching the filters with an id above `after`.
pub async fn export_chunk(
    db: &Db,
    _actor: &Actor,
    q: &ListQuery,
    after: i64,
) -> Result<Vec<Company>, AppError> {
    let backend = db.backend();
    let mut sql = Sql::new(backend);
    sql.push("SELECT CAST(0 AS BIGINT) AS total, (SELECT ")
        .push(&json_array(backend, &fields(backend), " ORDER BY c.id"))
        .push(" FROM (SELECT t.id FROM companies t");
    push_filters(&mut sql, q, "t");
    sql.push(" AND t.id > ")
        .bind(after)
        .push(" ORDER BY t.id LIMIT ")
        .bind(EXPORT_CHUNK as i64)
        .push(") page JOIN companies c ON c.id = page.id LEFT JOIN users u ON u.id = c.owner_id) AS items");
    let page: Page<Company> = PageRow::find_by_statement(sql.build())
        .one(&db.read)
        .await?
        .ok_or_else(|| AppError::Internal("the export query returned no row".into()))?
        .into_page(1, EXPORT_CHUNK)?;
    Ok(page.items)
}

/// The fields whose value can be taken from either company in a merge.
pub const MERGE_FIELDS: [&str; 8] = [
    "name",
    "domain",
    "industry",
    "size_band",
    "website",
    "phone",
    "address",
    "owner_id",
];

/// Merges company `lose` into `keep`: `take` names the fields whose value comes from
/// `lose`; its contacts and tags move to `keep`; `lose` is deleted; the merge is
/// recorded. One transaction.
pub async fn merge(
    db: &Db,
    actor: &Actor,
    keep: i64,
    lose: i64,
    take: &[String],
) -> Result<Company, AppError> {
    actor.require_write()?;
    if keep == lose {
        return Err(AppError::field(
            "merge_id",
            "A company cannot be merged with itself.",
        ));
    }
    if let Some(unknown) = take.iter().find(|f| !MERGE_FIELDS.contains(&f.as_str())) {
        return Err(AppError::field(
            "take",
            format!(
                "Unknown field {unknown}; fields are {}.",
                MERGE_FIELDS.join(", ")
            ),
        ));
    }
    let survivor = get(db, actor, keep).await?;
    let other = get(db, actor, lose)
        .await
        .map_err(|_| AppError::field("merge_id", "No company has this id."))?;
    let mut input = CompanyInput::from(&survivor);
    let from = CompanyInput::from(&other);
    for field in take {
        match field.as_str() {
            "name" => input.name = from.name.clone(),
            "domain" => input.domain = from.domain.clone(),
            "industry" => input.industry = from.industry.clone(),
            "size_band" => input.size_band = from.size_band.clone(),
            "website" => input.website = from.website.clone(),
            "phone" => input.phone = from.phone.clone(),
            "address" => input.address = from.address.clone(),
            _ => input.owner_id = from.owner_id,
        }
    }
    let mut tags = survivor.tags.clone();
    tags.extend(other.tags.iter().cloned());
    input.tags = Some(tags);
    let current_owner = if take.iter().any(|f| f == "owner_id") {
        other.owner_id
    } else {
        survivor.owner_id
    };
    let mut custom = other.custom_fields.clone();
    custom.extend(survivor.custom_fields.clone());
    let v = validate(db, actor, &input, current_owner, &custom).await?;
    let backend = db.backend();
    let tx = db.write.begin().await?;
    for (sql_text, arg_first) in [
        ("UPDATE contacts SET company_id = ", true),
        ("UPDATE deals SET company_id = ", true),
        ("UPDATE activities SET company_id = ", true),
        (
            "INSERT INTO company_tags (company_id, tag_id) SELECT ",
            false,
        ),
    ] {
        let mut sql = Sql::new(backend);
        if arg_first {
            sql.push(sql_text)
                .bind(keep)
                .push(" WHERE company_id = ")
                .bind(lose);
        } else {
            sql.push(sql_text)
                .bind(keep)
                .push(", tag_id FROM company_tags WHERE company_id = ")
                .bind(lose)
                .push(" ON CONFLICT DO NOTHING");
        }
        tx.execute_raw(sql.build()).await?;
    }
    company::Entity::delete_by_id(lose).exec(&tx).await?;
    conflict(&tx, &v, Some(keep)).await?;
    let tag_names = v.tags.clone();
    company::Entity::update_many()
        .set(active_model(v, now()))
        .filter(company::Column::Id.eq(keep))
        .exec(&tx)
        .await?;
    if let Some(names) = &tag_names {
        let tags = crate::domain::tags::ensure(&tx, names).await?;
        crate::domain::tags::set_for(&tx, "company_tags", "company_id", keep, &tags).await?;
    }
    audit::record(
        &tx,
        Some(actor),
        "merge",
        "company",
        keep,
        Some(serde_json::json!({"merged_id": lose, "merged_name": other.name, "took": take, "moved_contacts": other.contact_count})),
    )
    .await?;
    let merged = get_in(&tx, keep).await?;
    tx.commit().await?;
    Ok(merged)
}
