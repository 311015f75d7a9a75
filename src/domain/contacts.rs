//! Contacts: the first complete slice. Pages and the API both call these functions.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Db;
use crate::domain::records::{self, Fields, Join, Kind, ListQuery, SortKey};
use crate::domain::{Action, Actor, Page, access, audit, companies, double_option, normalise, now};
use crate::entities::{company, contact, contact_billing};
use crate::error::AppError;

pub const SOURCES: [&str; 7] = [
    "organic", "referral", "paid", "event", "import", "stripe", "other",
];
pub const NAME_MAX: usize = 120;
pub const PHONE_MAX: usize = 30;
pub const TITLE_MAX: usize = 120;

records::record_struct! {
    shown
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
        /// Stripe billing (`contact_billing`), all null for a contact Stripe never named.
        /// Amounts are in minor units of the currency beside them.
        /// Monthly recurring revenue of the subscription.
        #[serde(default)]
        pub mrr_minor: Option<i64>,
        #[serde(default)]
        pub mrr_currency: Option<String>,
        /// The subscription's status as Stripe names it (active, past_due, canceled, …).
        #[serde(default)]
        pub subscription_status: Option<String>,
        #[serde(default)]
        pub subscription_plan: Option<String>,
        /// Lifetime value: payments less refunds.
        #[serde(default)]
        pub ltv_minor: Option<i64>,
        #[serde(default)]
        pub ltv_currency: Option<String>,
        #[serde(default)]
        pub last_payment_minor: Option<i64>,
        #[serde(default)]
        pub last_payment_currency: Option<String>,
        #[serde(default)]
        pub last_payment_at: Option<DateTime<Utc>>,
        /// The lead score: the chance this contact gets a won deal within the horizon
        /// (0–100), from the model scoring leads now (Settings → Scoring); absent while
        /// no model scores it, or once it has a won deal.
        #[serde(default)]
        pub score: Option<i32>,
        /// What moves `score` most each way: on a single contact's read, not in lists.
        #[serde(default)]
        pub score_factors: Option<crate::domain::scoring::scores::Explanation>,
    }
}

impl Contact {
    /// Another rep's company, named only as such (`access`): shown without a link.
    pub fn company_hidden(&self) -> bool {
        crate::domain::access::company_hidden(self.company.as_deref())
    }

    /// The company as the contact form shows it (`access::company_in_form`).
    pub fn company_in_form(&self) -> String {
        crate::domain::access::company_in_form(self.company.as_deref(), self.company_id)
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// The MRR written out in its currency ("USD 49.00"), as the contact page shows it.
    pub fn mrr(&self) -> Option<String> {
        shown_money(self.mrr_minor, &self.mrr_currency)
    }

    /// The lifetime value written out in its currency.
    pub fn lifetime_value(&self) -> Option<String> {
        shown_money(self.ltv_minor, &self.ltv_currency)
    }

    /// The last payment written out in its currency.
    pub fn last_payment(&self) -> Option<String> {
        shown_money(self.last_payment_minor, &self.last_payment_currency)
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

records::record_struct! {
    input
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
        /// Company name: an existing company is found by its name in any case, spacing,
        /// punctuation or legal form ("northwind traders inc" is "Northwind Traders, Inc.")
        /// or by its domain (`northwind.com`); otherwise one is created.
        #[schema(max_length = 200)]
        pub company: Option<String>,
        /// An existing company's id (instead of, or matching, `company`).
        pub company_id: Option<i64>,
        #[schema(max_length = 120)]
        pub title: Option<String>,
        /// One of organic, referral, paid, event, import, stripe, other (default organic).
        #[schema(value_type = Option<crate::domain::schema::Source>)]
        pub source: Option<String>,
        /// Owner's user id (default: whoever creates the contact).
        pub owner_id: Option<i64>,
    }
}

records::record_struct! {
    patch
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
        #[schema(value_type = crate::domain::schema::Source, required = false)]
        pub source: Option<Option<String>>,
    }
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
pub(crate) mod intake;
mod list;
mod validate;

pub(crate) use validate::{Valid, validate};
pub mod erase;
pub mod merge;
pub mod personal_data;

pub use list::{ContactFilters, ListParams};
pub use records::EXPORT_CHUNK;

fn email_in_trash() -> AppError {
    AppError::conflict_field(
        "email",
        "A contact in the trash has this email; a manager can restore it from Settings → Trash.",
    )
}

fn duplicate_email() -> AppError {
    AppError::conflict_field("email", "Another contact already has this email.")
}

/// `visible`: what the actor sees; a holder they may not see is not named (not even as
/// being in the trash).
async fn ensure_email_free(
    conn: &impl ConnectionTrait,
    email_norm: &Option<String>,
    except: Option<i64>,
    visible: access::Visible,
) -> Result<(), AppError> {
    let Some(norm) = email_norm else {
        return Ok(());
    };
    let mut q = contact::Entity::find().filter(contact::Column::EmailNorm.eq(norm.as_str()));
    if let Some(id) = except {
        q = q.filter(contact::Column::Id.ne(id));
    }
    match q.one(conn).await? {
        None => Ok(()),
        Some(c) if access::hides(visible, Some(c.owner_id)) => Err(access::taken("email")),
        // A trashed contact keeps its email, so restoring it can never collide.
        Some(c) if c.deleted_at.is_some() => Err(email_in_trash()),
        Some(_) => Err(duplicate_email()),
    }
}

/// A unique-index violation that slipped past the check (another process won the race).
fn map_unique(err: AppError) -> AppError {
    match err {
        AppError::Conflict { fields, .. } if fields.is_empty() => duplicate_email(),
        other => other,
    }
}

/// The company a contact names, and whether this write created it. `known` is what a
/// lookup on the read pool found before the write transaction began, so the common case
/// (an existing company) adds nothing to the transaction; a new company is created
/// inside it, belonging to the contact's owner.
async fn company_in(
    tx: &impl ConnectionTrait,
    v: &Valid,
    known: Option<company::Model>,
) -> Result<(Option<company::Model>, bool), AppError> {
    match (&v.company, known) {
        (None, _) => Ok((None, false)),
        (Some(_), Some(c)) => Ok((Some(c), false)),
        (Some(name), None) => {
            let (c, created) = companies::find_or_create(tx, name, Some(v.owner_id)).await?;
            Ok((Some(c), created))
        }
    }
}

/// The audit row and `company.created` of company `id` that a contact's write created
/// by naming it (see `company_in`), both in that write's transaction `tx`, the row naming
/// the writer (`actor_id`, None for a web form) and its `ip`; how many deliveries were
/// queued (`webhooks::wake_if` after the commit). None: no company was created.
pub(crate) async fn company_created(
    db: &Db,
    tx: &impl ConnectionTrait,
    (actor_id, ip): (Option<i64>, Option<&str>),
    id: Option<i64>,
) -> Result<usize, AppError> {
    let Some(id) = id else {
        return Ok(0);
    };
    let detail = serde_json::json!({"created_with": "contact"});
    audit::record_as(tx, actor_id, ip, "create", "company", id, Some(detail)).await?;
    crate::domain::webhooks::emit_record(db, tx, "company", "created", id).await
}

/// The company a contact's typed company means (`companies::matching`): "northwind
/// traders" links the existing "Northwind Traders, Inc." rather than adding another.
async fn lookup_company(
    db: &Db,
    actor: &Actor,
    v: &Valid,
) -> Result<Option<company::Model>, AppError> {
    match (&v.company_known, &v.company) {
        (Some(c), _) => Ok(Some(c.as_ref().clone())),
        (None, Some(n)) => companies::matching::the_one(db, actor, n).await,
        (None, None) => Ok(None),
    }
}

/// Whether the contact list shows its billing columns: once Stripe has named any
/// contact (a `contact_billing` row exists), on every page and filter alike, so the
/// columns do not come and go between pages; a CRM without Stripe keeps its list as it
/// was. One indexed row read at most, and none for `cache::TTL` once true (a billing
/// row is rarely removed: only with its contact, from the trash).
pub async fn billing_shown(db: &Db) -> Result<bool, AppError> {
    if let Some(shown) = db.billed.get(&()) {
        return Ok(shown);
    }
    let any: Option<i64> = contact_billing::Entity::find()
        .select_only()
        .column(contact_billing::Column::Id)
        .limit(1)
        .into_tuple()
        .one(&db.read)
        .await?;
    if any.is_some() {
        db.billed.insert((), true);
    }
    Ok(any.is_some())
}

/// An amount and its currency as pages show money; none without both.
fn shown_money(minor: Option<i64>, currency: &Option<String>) -> Option<String> {
    match (minor, currency) {
        (Some(m), Some(c)) => Some(crate::domain::deals::money(m, c)),
        _ => None,
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
        // A contact written here has no billing yet: Stripe's events add it.
        mrr_minor: None,
        mrr_currency: None,
        subscription_status: None,
        subscription_plan: None,
        ltv_minor: None,
        ltv_currency: None,
        last_payment_minor: None,
        last_payment_currency: None,
        last_payment_at: None,
        created_at,
        updated_at,
        // Scored again by the job queue after the write (`lead_scores::changed`).
        score: None,
        score_factors: None,
    }
}

pub async fn create(db: &Db, actor: &Actor, input: &ContactInput) -> Result<Contact, AppError> {
    actor.require(Action::WriteRecords)?;
    let v = validate(db, actor, input, None, &BTreeMap::new()).await?;
    validate::company_visible(db, actor, &v).await?;
    let known = lookup_company(db, actor, &v).await?;
    // Email uniqueness is the unique index's job (no check-then-insert race); the batch
    // answers a duplicate with the same 409 as `update`, which names the trash when the
    // email's holder is there.
    let email_norm = v.email_norm.clone();
    match batch::submit(db, actor, v, known, now()).await {
        Err(AppError::Conflict { .. }) if email_norm.is_some() => {
            let visible = access::visible(db, actor).await?;
            Err(ensure_email_free(&db.read, &email_norm, None, visible)
                .await
                .err()
                .unwrap_or_else(duplicate_email))
        }
        other => other,
    }
}

/// Applies a patch: the stored contact with the patch's fields over it, checked as a
/// whole, written under its version.
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: i64,
    mut patch: ContactPatch,
) -> Result<Contact, AppError> {
    actor.require(Action::WriteRecords)?;
    // Seen by the actor, then read whole: a company the rep is shown only as another
    // rep's keeps its link, and the audit row's diff compares real names.
    get(db, actor, id).await?;
    let current: Contact = records::get_in(&db.read, id).await?;
    let mut input = ContactInput::from(&current);
    let mut o = Contact::overlay(&mut input, &mut patch);
    // The company by id, which the table leaves here: it replaces a typed name unless
    // the patch names the company too.
    match patch.company_id {
        Some(Some(id)) => {
            input.company_id = Some(id);
            if !o.changed.contains(&"company") {
                input.company = None;
            }
            o.changed.push("company_id");
        }
        Some(None) => {
            input.company = None;
            o.changed.push("company_id");
        }
        None => {}
    }
    o.finish()?;
    let v = validate(
        db,
        actor,
        &input,
        Some(current.owner_id),
        &current.custom_fields,
    )
    .await?;
    // Only a new link is checked: a rep may edit a contact a manager linked elsewhere.
    let same_company = match (&v.company_known, &v.company, &current.company) {
        (Some(c), _, _) => current.company_id == Some(c.id),
        (None, Some(name), Some(was)) => normalise(name) == normalise(was),
        (None, new, was) => new.is_none() && was.is_none(),
    };
    if !same_company {
        validate::company_visible(db, actor, &v).await?;
    }
    let known = lookup_company(db, actor, &v).await?;
    let visible = access::visible(db, actor).await?;
    let tx = db.begin_write().await?;
    ensure_email_free(&tx, &v.email_norm, Some(id), visible).await?;
    let new_company = write_update(&tx, id, &v, known).await?;
    let writer = (Some(actor.id), actor.ip.as_deref());
    let hooked = company_created(db, &tx, writer, new_company).await?;
    crate::domain::scoring::lead_scores::changed(db, &tx, &[id]).await?;
    let after = records::updated(db, tx, actor, &current).await?;
    crate::domain::webhooks::wake_if(hooked);
    Ok(after)
}

/// The contact's columns from its checked values, as an insert and an update both set
/// them (the id, the trash columns and `created_at` are left to the insert).
pub(crate) fn active_model(
    v: &Valid,
    company_id: Option<i64>,
    at: DateTime<Utc>,
) -> contact::ActiveModel {
    contact::ActiveModel {
        first_name: Set(v.first_name.clone()),
        last_name: Set(v.last_name.clone()),
        email: Set(v.email.clone()),
        email_norm: Set(v.email_norm.clone()),
        phone: Set(v.phone.clone()),
        company_id: Set(company_id),
        title: Set(v.title.clone()),
        source: Set(v.source.clone()),
        owner_id: Set(v.owner_id),
        custom: Set(v.custom.clone()),
        updated_at: Set(at),
        ..Default::default()
    }
}

/// Stores validated values (and tags, when given) on contact `id`, inside `tx`; the id
/// of the company it created when the contact names a new one (`company_created`).
async fn write_update(
    tx: &impl ConnectionTrait,
    id: i64,
    v: &Valid,
    known: Option<company::Model>,
) -> Result<Option<i64>, AppError> {
    let (company, created) = company_in(tx, v, known).await?;
    let res = contact::Entity::update_many()
        .set(active_model(v, company.as_ref().map(|c| c.id), now()))
        .filter(contact::Column::Id.eq(id))
        .filter(contact::Column::DeletedAt.is_null())
        .exec(tx)
        .await
        .map_err(|e| map_unique(e.into()))?;
    if res.rows_affected == 0 {
        return Err(AppError::not_found("Contact"));
    }
    if let Some(names) = &v.tags {
        records::set_tags::<Contact>(tx, id, names).await?;
    }
    Ok(company.filter(|_| created).map(|c| c.id))
}

/// Moves the contact to the trash (see `trash`).
pub async fn delete(db: &Db, actor: &Actor, id: i64) -> Result<(), AppError> {
    crate::domain::trash::trash::<crate::domain::trash::Contacts>(db, actor, id).await
}

/// What a contact is to the shared record machinery.
pub const KIND: Kind = Kind {
    entity: "contact",
    table: "contacts",
    title: "Contact",
    plural: "contacts",
    tagged: crate::domain::tags::Tagged::Contact,
    tag_table: "contact_tags",
    tag_column: "contact_id",
    link_copies: true,
    fields: &[
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
        // Stripe billing: one row per contact at most, joined on its primary key.
        ("mrr_minor", "b.mrr_minor"),
        ("mrr_currency", "b.mrr_currency"),
        ("subscription_status", "b.subscription_status"),
        ("subscription_plan", "b.subscription_plan"),
        ("ltv_minor", "b.ltv_minor"),
        ("ltv_currency", "b.ltv_currency"),
        ("last_payment_minor", "b.last_payment_minor"),
        ("last_payment_currency", "b.last_payment_currency"),
        ("last_payment_at", "b.last_payment_at"),
        // The lead score (`scoring::lead_scores`), one row per contact at most. Its
        // explanation only on the contact's own read: parsing it for every row of a list
        // page cost the page a quarter of its requests a second.
        ("score", "CAST(ROUND(cs.probability * 100) AS INTEGER)"),
        ("score_factors", "one:json:cs.factors"),
        ("created_at", "c.created_at"),
        ("updated_at", "c.updated_at"),
    ],
    joins: &[
        Join {
            table: "companies",
            alias: "co",
            from: "company_id",
            optional: true,
        },
        Join {
            table: "users",
            alias: "u",
            from: "owner_id",
            optional: false,
        },
        Join {
            table: "contact_billing",
            alias: "b",
            from: "id",
            optional: true,
        },
        Join {
            table: "contact_scores",
            alias: "cs",
            from: "id",
            optional: true,
        },
    ],
    sorts: &[
        records::NEWEST,
        records::OLDEST,
        SortKey {
            key: "name",
            label: "Name A–Z",
            columns: &["last_name", "first_name"],
            desc: false,
        },
        SortKey {
            key: "name_desc",
            label: "Name Z–A",
            columns: &["last_name", "first_name"],
            desc: true,
        },
    ],
};

records::record!(
    Contact(ContactInput, ContactPatch),
    contact,
    contact_tag,
    ContactId
);
records::fields!(Contact {
    first_name: "First name", required, cell, cell;
    last_name: "Last name", required, cell, cell;
    email: "Email", optional, cell, cell;
    phone: "Phone", optional, cell, cell;
    company: "Company", optional, cell, cell;
    company_id: "Company id", -, cell, -;
    title: "Title", optional, cell, cell;
    source: "Source", required, cell, cell;
});

/// Every role may read every contact (for now; the permission matrix comes later).
pub async fn get(db: &Db, actor: &Actor, id: i64) -> Result<Contact, AppError> {
    records::get(db, actor, id).await
}

/// The page as the database built it: the total and the items as JSON text. The API
/// sends that text on as it is, saving a parse and a re-serialisation per request.
pub async fn list_json(
    db: &Db,
    actor: &Actor,
    q: &ListQuery,
) -> Result<(u64, bool, String), AppError> {
    records::list_json(db, actor, q).await
}

/// One page of contacts and the total (see `records::reads`).
pub async fn list(db: &Db, actor: &Actor, q: &ListQuery) -> Result<Page<Contact>, AppError> {
    records::list(db, actor, q).await
}
