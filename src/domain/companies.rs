//! Companies: records of their own (domain, industry, size, owner …) that contacts link to.
//! A contact may also just name its company, which is then found (`matching`) or created
//! here.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, NotSet, PaginatorTrait, QueryFilter, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Db;
use crate::domain::records::{self, Fields, Join, Kind, ListQuery, SortKey};
use crate::domain::{Action, Actor, Page, audit, normalise, now, webhooks};
use crate::entities::{company, contact};

mod list;
pub mod matching;
mod merge;
mod reads;
mod validate;

use validate::conflict;
pub use validate::normalise_domain;
pub(crate) use validate::{Valid, validate};

use crate::error::{AppError, FieldErrors};
pub use list::{CompanyFilters, ListParams};
pub use records::EXPORT_CHUNK;

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

records::record_struct! {
    shown
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
    }
}

impl Company {
    /// The industry's label, "" for none.
    pub fn industry_label(&self) -> &str {
        self.industry.as_deref().map(industry_label).unwrap_or("")
    }
}

records::record_struct! {
    input
    /// What a form or a POST supplies. Empty strings mean "none".
    #[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct CompanyInput {
        #[serde(default)]
        #[schema(required = true, min_length = 1, max_length = 200)]
        pub name: String,
        /// A domain or URL; stored normalised (`acme.com`).
        pub domain: Option<String>,
        /// One of software, fintech, healthcare, ecommerce, manufacturing, education, media,
        /// consulting, logistics, energy, nonprofit, other.
        #[schema(value_type = Option<crate::domain::schema::Industry>)]
        pub industry: Option<String>,
        /// One of 1-10, 11-50, 51-200, 201-1000, 1001-5000, 5001+.
        #[schema(value_type = Option<crate::domain::schema::SizeBand>)]
        pub size_band: Option<String>,
        #[schema(format = "uri", max_length = 300)]
        pub website: Option<String>,
        #[schema(max_length = 30, pattern = "^([0-9 +().x/-]*[0-9][0-9 +().x/-]*)?$")]
        pub phone: Option<String>,
        #[schema(max_length = 500)]
        pub address: Option<String>,
        /// Owner's user id (default: whoever creates the company).
        pub owner_id: Option<i64>,
    }
}

records::record_struct! {
    patch
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
        #[schema(value_type = Option<crate::domain::schema::Industry>)]
        pub industry: Option<Option<String>>,
        #[serde(default, deserialize_with = "crate::domain::double_option")]
        #[schema(value_type = Option<crate::domain::schema::SizeBand>)]
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
    }
}

/// A form's whole set of values as a patch: every field is set.
impl From<CompanyInput> for CompanyPatch {
    fn from(i: CompanyInput) -> CompanyPatch {
        CompanyPatch {
            name: Some(i.name),
            domain: Some(i.domain),
            industry: Some(i.industry),
            size_band: Some(i.size_band),
            website: Some(i.website),
            phone: Some(i.phone),
            address: Some(i.address),
            owner_id: i.owner_id.map(Some),
            tags: i.tags,
            custom_fields: i.custom_fields,
        }
    }
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

/// The company's columns from its checked values (an import writes them in bulk too).
pub(crate) fn active_model(v: Valid, t: DateTime<Utc>) -> company::ActiveModel {
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
        deleted_at: NotSet,
        deleted_by: NotSet,
        created_at: NotSet,
        updated_at: Set(t),
    }
}

pub async fn create(db: &Db, actor: &Actor, input: &CompanyInput) -> Result<Company, AppError> {
    actor.require(Action::WriteRecords)?;
    let v = validate(db, actor, input, None, &BTreeMap::new()).await?;
    let visible = crate::domain::access::visible(db, actor).await?;
    let tx = db.begin_write().await?;
    conflict(&tx, &v, None, visible).await?;
    let t = now();
    let tag_names = v.tags.clone();
    let mut am = active_model(v, t);
    am.created_at = Set(t);
    let id = company::Entity::insert(am).exec(&tx).await?.last_insert_id;
    if let Some(names) = &tag_names {
        records::set_tags::<Company>(&tx, id, names).await?;
    }
    audit::record(&tx, Some(actor), "create", "company", id, None).await?;
    let company: Company = records::get_in(&tx, id).await?;
    let hooked = webhooks::emit_about(db, &tx, "company", "created", &company).await?;
    tx.commit().await?;
    webhooks::wake_if(hooked);
    Ok(company)
}

pub async fn update(
    db: &Db,
    actor: &Actor,
    id: i64,
    mut patch: CompanyPatch,
) -> Result<Company, AppError> {
    actor.require(Action::WriteRecords)?;
    let current = get(db, actor, id).await?;
    let mut input = CompanyInput::from(&current);
    let changed = Company::overlay(&mut input, &mut patch).finish()?;
    // A domain that only came from the website follows the website.
    if patch_touches_website_only(&changed)
        && current.domain == current.website.as_deref().and_then(normalise_domain)
    {
        input.domain = None;
    }
    let v = validate(db, actor, &input, current.owner_id, &current.custom_fields).await?;
    let visible = crate::domain::access::visible(db, actor).await?;
    // The industry and size are features of its deals' scores.
    let firmographics = input.industry != current.industry || input.size_band != current.size_band;
    let tx = db.begin_write().await?;
    write_update(&tx, id, v, visible).await?;
    if firmographics {
        rescore_deals(db, &tx, id).await?;
    }
    records::updated(db, tx, actor, &current).await
}

/// Queues the live deals and contacts of company `id` to be scored again: its industry
/// and size are features of their scores.
pub(crate) async fn rescore_deals(
    db: &Db,
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<(), AppError> {
    use sea_orm::QuerySelect;
    let deals: Vec<i64> = crate::entities::deal::Entity::find()
        .select_only()
        .column(crate::entities::deal::Column::Id)
        .filter(crate::entities::deal::Column::CompanyId.eq(id))
        .filter(crate::entities::deal::Column::DeletedAt.is_null())
        .into_tuple()
        .all(conn)
        .await?;
    crate::domain::scoring::scores::changed(db, conn, &deals).await?;
    rescore_contacts(db, conn, id).await
}

/// Queues the live contacts of company `id` to be scored again (lead scores) when a
/// lead model scores.
async fn rescore_contacts(db: &Db, conn: &impl ConnectionTrait, id: i64) -> Result<(), AppError> {
    use crate::domain::scoring::{Kind, lead_scores, train};
    use sea_orm::QuerySelect;
    if !train::scoring(db, conn, Kind::Lead).await? {
        return Ok(());
    }
    let contacts: Vec<i64> = contact::Entity::find()
        .select_only()
        .column(contact::Column::Id)
        .filter(contact::Column::CompanyId.eq(id))
        .filter(contact::Column::DeletedAt.is_null())
        .into_tuple()
        .all(conn)
        .await?;
    lead_scores::changed(db, conn, &contacts).await
}

/// Stores validated values (and tags, when given) on company `id`, inside `tx`.
async fn write_update(
    tx: &impl ConnectionTrait,
    id: i64,
    v: Valid,
    visible: crate::domain::access::Visible,
) -> Result<(), AppError> {
    conflict(tx, &v, Some(id), visible).await?;
    let tag_names = v.tags.clone();
    let res = company::Entity::update_many()
        .set(active_model(v, now()))
        .filter(company::Column::Id.eq(id))
        .filter(company::Column::DeletedAt.is_null())
        .exec(tx)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::not_found("Company"));
    }
    if let Some(names) = &tag_names {
        records::set_tags::<Company>(tx, id, names).await?;
    }
    Ok(())
}

fn patch_touches_website_only(changed: &[&str]) -> bool {
    changed.contains(&"website") && !changed.contains(&"domain")
}

/// How many contacts `visible` sees still link to the company.
pub async fn contact_count(
    conn: &impl ConnectionTrait,
    id: i64,
    visible: crate::domain::access::Visible,
) -> Result<u64, AppError> {
    let mut q = contact::Entity::find()
        .filter(contact::Column::CompanyId.eq(id))
        .filter(contact::Column::DeletedAt.is_null());
    if let Some(mine) = visible.owned((contact::Entity, contact::Column::OwnerId)) {
        q = q.filter(mine);
    }
    Ok(q.count(conn).await?)
}

/// Moves a company to the trash. While contacts still link to it, the caller must choose
/// to detach them (they stay, without a company); otherwise nothing happens and the
/// answer is 409. Its deals keep it: they show no company until it is restored.
pub async fn delete(db: &Db, actor: &Actor, id: i64, detach: bool) -> Result<u64, AppError> {
    actor.require(Action::DeleteRecords)?;
    let tx = db.begin_write().await?;
    crate::domain::access::check(
        db,
        &tx,
        actor,
        crate::domain::access::Table::Companies,
        id,
        "Company",
    )
    .await?;
    let company = company::Entity::find_by_id(id)
        .filter(company::Column::DeletedAt.is_null())
        .one(&tx)
        .await?
        .ok_or_else(|| AppError::not_found("Company"))?;
    if !crate::domain::trash::may_delete(actor, company.owner_id) {
        return Err(crate::domain::trash::forbidden(
            actor,
            crate::domain::trash::Bin::Company,
        ));
    }
    // The contacts the actor sees decide and are counted to them; another rep's contacts
    // of the company (a manager's link) are neither counted nor a reason to refuse, and
    // are detached with the rest: a trashed company is no contact's company.
    let visible = crate::domain::access::visible(db, actor).await?;
    let shown = contact_count(&tx, id, visible).await?;
    if shown > 0 && !detach {
        return Err(AppError::Conflict {
            message: format!(
                "{} still has {shown} contact{}. Detach them to delete the company.",
                company.name,
                if shown == 1 { "" } else { "s" }
            ),
            fields: FieldErrors::new(),
        });
    }
    let linked = contact_count(&tx, id, crate::domain::access::Visible::All).await?;
    if linked > 0 {
        // Their company's industry and size are features of their lead scores.
        rescore_contacts(db, &tx, id).await?;
        contact::Entity::update_many()
            .col_expr(contact::Column::CompanyId, Expr::value(Option::<i64>::None))
            .col_expr(contact::Column::UpdatedAt, Expr::value(now()))
            .filter(contact::Column::CompanyId.eq(id))
            .exec(&tx)
            .await?;
    }
    let hooked = crate::domain::trash::trash_in::<crate::domain::trash::Companies>(
        db,
        &tx,
        actor,
        id,
        Some(serde_json::json!({"name": company.name, "detached_contacts": linked})),
    )
    .await?;
    tx.commit().await?;
    webhooks::wake_if(hooked);
    db.forget_task_counts();
    Ok(shown)
}

/// What a company is to the shared record machinery.
pub const KIND: Kind = Kind {
    entity: "company",
    table: "companies",
    title: "Company",
    plural: "companies",
    tagged: crate::domain::tags::Tagged::Company,
    tag_table: "company_tags",
    tag_column: "company_id",
    link_copies: false,
    fields: &[
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
        ("contact_count", reads::CONTACT_COUNT),
        ("created_at", "c.created_at"),
        ("updated_at", "c.updated_at"),
    ],
    joins: &[Join {
        table: "users",
        alias: "u",
        from: "owner_id",
        optional: true,
    }],
    sorts: &[
        SortKey {
            key: "name",
            label: "Name A–Z",
            columns: &["name_norm"],
            desc: false,
        },
        SortKey {
            key: "name_desc",
            label: "Name Z–A",
            columns: &["name_norm"],
            desc: true,
        },
        records::NEWEST,
        records::OLDEST,
    ],
};

records::record!(
    Company(CompanyInput, CompanyPatch),
    company,
    company_tag,
    CompanyId
);
records::fields!(Company {
    name: "Name", optional, cell, cell;
    domain: "Domain", optional, cell, cell;
    industry: "Industry", optional, cell, (|c: &Company| c.industry_label().to_string());
    size_band: "Size", optional, cell, cell;
    website: "Website", optional, cell, cell;
    phone: "Phone", optional, cell, cell;
    address: "Address", optional, cell, cell;
    contact_count as "contacts": "Contacts", -, cell, -;
});

pub async fn get(db: &Db, actor: &Actor, id: i64) -> Result<Company, AppError> {
    records::get(db, actor, id).await
}

/// One page of companies and the total (see `records::reads`).
pub async fn list(db: &Db, actor: &Actor, q: &ListQuery) -> Result<Page<Company>, AppError> {
    records::list(db, actor, q).await
}

pub async fn find_by_name(
    conn: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<company::Model>, AppError> {
    find_by_norm(conn, &normalise(name)).await
}

/// The live company `id` (a trashed one is not found).
pub async fn find_by_id(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<company::Model>, AppError> {
    Ok(company::Entity::find_by_id(id)
        .filter(company::Column::DeletedAt.is_null())
        .one(conn)
        .await?)
}

/// The company called `name` (compared without regard to case or spacing), created when
/// missing, owned by `owner`, and whether this call created it (for its `company.created`
/// event). Safe against a concurrent insert of the same name.
pub async fn find_or_create(
    conn: &impl ConnectionTrait,
    name: &str,
    owner: Option<i64>,
) -> Result<(company::Model, bool), AppError> {
    let name_norm = normalise(name);
    if let Some(c) = find_by_norm(conn, &name_norm).await? {
        return live_or_refused(c).map(|c| (c, false));
    }
    let t = now();
    let inserted = company::Entity::insert(company::ActiveModel {
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
        deleted_at: Set(None),
        deleted_by: Set(None),
        created_at: Set(t),
        updated_at: Set(t),
    })
    .on_conflict_do_nothing_on([company::Column::NameNorm])
    .exec(conn)
    .await?;
    let created = matches!(inserted, sea_orm::TryInsertResult::Inserted(_));
    find_by_norm(conn, &name_norm)
        .await?
        .ok_or_else(|| AppError::Internal(format!("company {name_norm} not found after insert")))
        .and_then(live_or_refused)
        .map(|c| (c, created))
}

/// A trashed company keeps its name: nothing links to it, and no second one takes it.
fn live_or_refused(c: company::Model) -> Result<company::Model, AppError> {
    if c.deleted_at.is_some() {
        return Err(AppError::field("company", in_trash(&c.name)));
    }
    Ok(c)
}

fn in_trash(name: &str) -> String {
    format!(
        "A company called {name} is in the trash; a manager can restore it from Settings → Trash, or use another name."
    )
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
