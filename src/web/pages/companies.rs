//! Company pages: list (live search, filters by industry, size and owner; sort), the
//! company with its contacts and history, create, edit, and delete (which asks what to
//! do with the contacts).
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::web::filters;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::companies::{
    self, Company, CompanyInput, INDUSTRIES, ListParams, SIZE_BANDS, Sort, industry_label,
};
use crate::domain::contacts::{self, Contact};
use crate::domain::{Page, audit, users, views};
use crate::error::{AppError, FieldErrors};
use crate::web::auth::{CurrentUser, set_flash};
use crate::web::forms::{Form, RawForm};
use crate::web::htmx::Htmx;
use crate::web::pages::{
    Layout, Refusal, SetFilters, custom, custom_filters, ok, render, see_other, short_date,
};

#[derive(Default)]
pub struct Filters {
    q: String,
    industry: String,
    size: String,
    owner: String,
    tags: String,
    sort: String,
    /// `cf.<key>` filters, kept across pages and bulk actions.
    custom: Vec<(String, String)>,
}

impl Filters {
    fn from(p: &ListParams) -> Filters {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        Filters {
            q: s(&p.q),
            industry: s(&p.industry),
            size: s(&p.size),
            owner: s(&p.owner),
            tags: s(&p.tags),
            sort: s(&p.sort),
            custom: custom_filters(&p.custom),
        }
    }

    fn set(&self) -> SetFilters<'_> {
        SetFilters::new(
            &[
                ("q", &self.q),
                ("industry", &self.industry),
                ("size", &self.size),
                ("owner", &self.owner),
                ("tags", &self.tags),
                ("sort", &self.sort),
            ],
            &self.custom,
        )
    }

    /// The query string for page `n` of the same list.
    fn page_query(&self, n: u64) -> String {
        self.set().page_query(n)
    }

    /// The filters that are set, as hidden form fields carry them.
    fn hidden(&self) -> Vec<(&str, &str)> {
        self.set().hidden()
    }

    fn any(&self) -> bool {
        self.set().any()
    }
}

pub fn industries() -> &'static [(&'static str, &'static str)] {
    &INDUSTRIES
}

pub fn sizes() -> &'static [&'static str] {
    &SIZE_BANDS
}

pub fn sorts() -> &'static [(Sort, &'static str, &'static str)] {
    &Sort::ALL
}

pub fn label(industry: &Option<String>) -> &str {
    industry.as_deref().map(industry_label).unwrap_or("")
}

#[derive(Template)]
#[template(path = "companies/index.html")]
struct IndexPage {
    l: Layout,
    views: Vec<crate::domain::views::View>,
    list_name: &'static str,
    current_query: String,
    f: Filters,
    page: Page<Company>,
    owners: Vec<users::Person>,
    can_write: bool,
    csrf: String,
}

#[derive(Template)]
#[template(path = "companies/index.html", block = "results")]
struct Results {
    list_name: &'static str,
    current_query: String,
    f: Filters,
    page: Page<Company>,
    owners: Vec<users::Person>,
    can_write: bool,
    csrf: String,
}

pub async fn index(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    hx: Htmx,
) -> Result<HttpResponse, AppError> {
    let params = ListParams::from_query(req.query_string())?;
    // One read of the user's views serves the default-view redirect and the views bar.
    let saved = if hx.fragment {
        Vec::new()
    } else {
        views::for_list(&state.db, &user.actor, "companies").await?
    };
    if req.query_string().is_empty()
        && let Some(v) = saved.iter().find(|v| v.is_default && !v.query.is_empty())
    {
        return Ok(see_other(&format!("/companies?{}", v.query)));
    }
    let query = params.validate(25)?;
    let page = companies::list(&state.db, &user.actor, &query).await?;
    let f = Filters::from(&params);
    let current_query = f.page_query(1);
    let can_write = user.actor.can_write();
    let csrf = crate::web::auth::csrf_token(&user.session);
    let owners = users::list_active(&state.db).await?;
    if hx.fragment {
        return ok(&Results {
            list_name: "companies",
            current_query,
            f,
            page,
            owners,
            can_write,
            csrf,
        });
    }
    ok(&IndexPage {
        l: Layout::for_user(&user, "companies"),
        views: saved,
        list_name: "companies",
        current_query,
        f,
        page,
        owners,
        can_write,
        csrf,
    })
}

#[derive(Template)]
#[template(path = "companies/show.html")]
struct ShowPage {
    l: Layout,
    activity: crate::web::pages::activities::Panel,
    defs: Vec<crate::domain::custom_fields::Field>,
    values: std::collections::BTreeMap<String, serde_json::Value>,
    c: Company,
    contacts: Page<Contact>,
    deals: Vec<crate::domain::deals::Deal>,
    history: Vec<audit::Entry>,
}

impl ShowPage {
    fn day(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        short_date(t)
    }
}

pub async fn show(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let c = companies::get(&state.db, &user.actor, *id).await?;
    let query = contacts::ListParams {
        company_id: Some(c.id.to_string()),
        sort: Some("name".into()),
        per_page: Some("50".into()),
        ..Default::default()
    }
    .validate(50)?;
    let contacts = contacts::list(&state.db, &user.actor, &query).await?;
    let history = audit::for_record(&state.db, "company", c.id, 20).await?;
    let deals = crate::domain::deals::for_company(&state.db, &user.actor, c.id, 50).await?;
    let activity = crate::web::pages::activities::panel(
        &state,
        &user,
        crate::domain::activities::Subject::Company(c.id),
    )
    .await?;
    ok(&ShowPage {
        l: Layout::for_user(&user, "companies"),
        activity,
        defs: crate::domain::custom_fields::defs(&state.db, "company").await?,
        values: c.custom_fields.clone(),
        c,
        contacts,
        deals,
        history,
    })
}

#[derive(Deserialize, Default)]
pub struct CompanyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    industry: String,
    #[serde(default)]
    size_band: String,
    #[serde(default)]
    website: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    owner_id: String,
    /// Comma-separated tag names.
    #[serde(default)]
    tags: String,
    #[serde(skip)]
    custom: std::collections::BTreeMap<String, serde_json::Value>,
}

async fn read_form(state: &AppState, pairs: &[(String, String)]) -> Result<CompanyForm, AppError> {
    let mut form: CompanyForm = custom::fixed(pairs)?;
    form.custom = custom::from_pairs(state, "company", pairs).await?;
    Ok(form)
}

impl CompanyForm {
    fn from_company(c: &Company) -> CompanyForm {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        CompanyForm {
            name: c.name.clone(),
            domain: s(&c.domain),
            industry: s(&c.industry),
            size_band: s(&c.size_band),
            website: s(&c.website),
            phone: s(&c.phone),
            address: s(&c.address),
            owner_id: c.owner_id.map(|o| o.to_string()).unwrap_or_default(),
            tags: c.tags.join(", "),
            custom: c.custom_fields.clone(),
        }
    }

    fn to_input(&self) -> Result<CompanyInput, AppError> {
        let owner_id = match self.owner_id.trim() {
            "" => None,
            s => Some(
                s.parse::<i64>()
                    .map_err(|_| AppError::field("owner_id", "Choose an owner from the list."))?,
            ),
        };
        let opt = |s: &String| Some(s.clone());
        Ok(CompanyInput {
            name: self.name.clone(),
            domain: opt(&self.domain),
            industry: opt(&self.industry),
            size_band: opt(&self.size_band),
            website: opt(&self.website),
            phone: opt(&self.phone),
            address: opt(&self.address),
            owner_id,
            tags: Some(crate::domain::tags::split(&self.tags)),
            custom_fields: Some(self.custom.clone()),
        })
    }
}

#[derive(Template)]
#[template(path = "companies/form.html")]
struct FormPage {
    l: Layout,
    id: Option<i64>,
    v: CompanyForm,
    errors: FieldErrors,
    message: Option<String>,
    owners: Vec<users::Person>,
    tag_names: Vec<String>,
    cf: custom::Inputs,
}

impl FormPage {
    fn err(&self, field: &str) -> &str {
        self.errors.get(field).map(String::as_str).unwrap_or("")
    }

    /// The plain text inputs: name, label, value, input type, extra attributes.
    fn text_fields(&self) -> [(&'static str, &'static str, &str, &'static str, &'static str); 6] {
        let v = &self.v;
        [
            (
                "name",
                "Name",
                &v.name,
                "text",
                "required maxlength=200 autocomplete=organization",
            ),
            (
                "domain",
                "Domain",
                &v.domain,
                "text",
                "maxlength=253 placeholder=acme.com",
            ),
            (
                "website",
                "Website",
                &v.website,
                "url",
                "maxlength=300 placeholder=https://acme.com",
            ),
            ("phone", "Phone", &v.phone, "tel", "maxlength=30"),
            ("address", "Address", &v.address, "text", "maxlength=500"),
            (
                "tags",
                "Tags (comma-separated)",
                &v.tags,
                "text",
                "list=tag-names autocomplete=off",
            ),
        ]
    }
}

async fn form_page(
    state: &AppState,
    user: &CurrentUser,
    id: Option<i64>,
    v: CompanyForm,
    error: Option<AppError>,
) -> Result<HttpResponse, AppError> {
    let Refusal {
        status,
        message,
        fields: errors,
    } = Refusal::of(error)?;
    let mut owners = users::list_active(&state.db).await?;
    if let Ok(owner_id) = v.owner_id.parse::<i64>()
        && !owners.iter().any(|o| o.id == owner_id)
        && let Ok(owner) = users::person(&state.db.read, owner_id).await
    {
        owners.push(owner);
    }
    let cf = custom::Inputs::load(state, "company", v.custom.clone(), &errors).await?;
    render(
        &FormPage {
            l: Layout::for_user(user, "companies"),
            cf,
            id,
            v,
            errors,
            message,
            owners,
            tag_names: crate::domain::tags::list(&state.db)
                .await?
                .into_iter()
                .map(|t| t.name)
                .collect(),
        },
        status,
    )
}

pub async fn new(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    user.actor.require_write()?;
    let v = CompanyForm {
        owner_id: user.actor.id.to_string(),
        ..Default::default()
    };
    form_page(&state, &user, None, v, None).await
}

pub async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let form = read_form(&state, &pairs).await?;
    let result = match form.to_input() {
        Ok(input) => companies::create(&state.db, &user.actor, &input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => {
            set_flash(&user.session, format!("{} was added.", c.name));
            Ok(see_other(&format!("/companies/{}", c.id)))
        }
        Err(e) => form_page(&state, &user, None, form, Some(e)).await,
    }
}

pub async fn edit(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    user.actor.require_write()?;
    let c = companies::get(&state.db, &user.actor, *id).await?;
    form_page(
        &state,
        &user,
        Some(c.id),
        CompanyForm::from_company(&c),
        None,
    )
    .await
}

pub async fn update(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let form = read_form(&state, &pairs).await?;
    let id = id.into_inner();
    let result = match form.to_input() {
        Ok(input) => {
            let patch = companies::CompanyPatch {
                name: Some(input.name),
                domain: Some(input.domain),
                industry: Some(input.industry),
                size_band: Some(input.size_band),
                website: Some(input.website),
                phone: Some(input.phone),
                address: Some(input.address),
                owner_id: input.owner_id.map(Some),
                tags: input.tags,
                custom_fields: input.custom_fields,
            };
            companies::update(&state.db, &user.actor, id, patch).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => {
            set_flash(&user.session, format!("{} was saved.", c.name));
            Ok(see_other(&format!("/companies/{}", c.id)))
        }
        Err(e) => form_page(&state, &user, Some(id), form, Some(e)).await,
    }
}

#[derive(Template)]
#[template(path = "companies/delete.html")]
struct DeletePage {
    l: Layout,
    c: Company,
}

pub async fn confirm_delete(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    user.actor.require_write()?;
    let c = companies::get(&state.db, &user.actor, *id).await?;
    ok(&DeletePage {
        l: Layout::for_user(&user, "companies"),
        c,
    })
}

#[derive(Deserialize)]
pub struct DeleteForm {
    /// "detach" to keep the contacts without a company.
    #[serde(default)]
    contacts: String,
}

pub async fn delete(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    Form(form): Form<DeleteForm>,
) -> Result<HttpResponse, AppError> {
    let c = companies::get(&state.db, &user.actor, *id).await?;
    let detached =
        companies::delete(&state.db, &user.actor, c.id, form.contacts == "detach").await?;
    let note = if detached > 0 {
        format!(" Its {detached} contact(s) remain, without a company.")
    } else {
        String::new()
    };
    set_flash(&user.session, format!("{} was deleted.{note}", c.name));
    Ok(see_other("/companies"))
}

/// Used by templates.
pub fn history_line(e: &audit::Entry) -> String {
    let who = e.actor_name.as_deref().unwrap_or("Someone");
    match e.action.as_str() {
        "create" => format!("{who} added it"),
        "update" => format!("{who} edited it"),
        "merge" => format!("{who} merged another company into it"),
        other => format!("{who}: {other}"),
    }
}

const CSV_HEADER: [&str; 13] = [
    "id",
    "name",
    "domain",
    "industry",
    "size_band",
    "website",
    "phone",
    "address",
    "contacts",
    "owner",
    "owner_id",
    "created_at",
    "updated_at",
];

/// `/companies/export.csv` with the list's filters: every matching company, streamed.
pub async fn export(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let params = ListParams::from_query(req.query_string())?;
    let query = params.validate(25)?;
    // Refused now, while an error can still be a status: once streaming starts it can't.
    companies::check_filters(&state.db, &query).await?;
    let (db, actor) = (state.db.clone(), user.actor.clone());
    let next = move |after| {
        let (db, actor, query) = (db.clone(), actor.clone(), query.clone());
        async move { companies::export_chunk(&db, &actor, &query, after).await }
    };
    let write = |out: &mut String, c: &Company| {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        let (id, count, owner_id) = (
            c.id.to_string(),
            c.contact_count.to_string(),
            c.owner_id.map(|v| v.to_string()).unwrap_or_default(),
        );
        let (created, updated) = (
            crate::web::pages::iso(&c.created_at),
            crate::web::pages::iso(&c.updated_at),
        );
        let values = [
            id,
            c.name.clone(),
            s(&c.domain),
            s(&c.industry),
            s(&c.size_band),
            s(&c.website),
            s(&c.phone),
            s(&c.address),
            count,
            s(&c.owner_name),
            owner_id,
            created,
            updated,
        ];
        crate::web::csv::row(out, values.iter().map(String::as_str));
    };
    let body = crate::web::csv::stream(
        &CSV_HEADER,
        companies::EXPORT_CHUNK,
        next,
        write,
        |c: &Company| c.id,
    );
    Ok(crate::web::csv::download("companies", body))
}

#[derive(Deserialize)]
pub struct MergeParams {
    with: Option<String>,
}

#[derive(Template)]
#[template(path = "companies/merge.html")]
struct MergePage {
    l: Layout,
    c: Company,
    other: Option<Company>,
    candidates: Vec<Company>,
}

type MergeRow = (&'static str, &'static str, String, String);

impl MergePage {
    fn rows(&self) -> Vec<MergeRow> {
        let Some(o) = &self.other else {
            return Vec::new();
        };
        let c = &self.c;
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        vec![
            ("name", "Name", c.name.clone(), o.name.clone()),
            ("domain", "Domain", s(&c.domain), s(&o.domain)),
            (
                "industry",
                "Industry",
                label(&c.industry).to_string(),
                label(&o.industry).to_string(),
            ),
            ("size_band", "Size", s(&c.size_band), s(&o.size_band)),
            ("website", "Website", s(&c.website), s(&o.website)),
            ("phone", "Phone", s(&c.phone), s(&o.phone)),
            ("address", "Address", s(&c.address), s(&o.address)),
            ("owner_id", "Owner", s(&c.owner_name), s(&o.owner_name)),
        ]
    }
}

/// The merge page: pick the other company, then field by field what survives.
pub async fn merge_page(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    params: web::Query<MergeParams>,
) -> Result<HttpResponse, AppError> {
    user.actor.require_write()?;
    let c = companies::get(&state.db, &user.actor, *id).await?;
    let other = match params
        .with
        .as_deref()
        .map(str::trim)
        .filter(|w| !w.is_empty())
    {
        None => None,
        Some(w) => {
            let other_id = w
                .parse::<i64>()
                .map_err(|_| AppError::field("with", "Give the other company's number."))?;
            if other_id == c.id {
                return Err(AppError::field(
                    "with",
                    "A company cannot be merged with itself.",
                ));
            }
            Some(companies::get(&state.db, &user.actor, other_id).await?)
        }
    };
    // Look-alikes: companies sharing the first word of the name.
    let candidates = match (&other, c.name.split_whitespace().next()) {
        (None, Some(word)) => {
            let query = ListParams {
                q: Some(word.to_string()),
                per_page: Some("10".into()),
                ..Default::default()
            }
            .validate(10)?;
            companies::list(&state.db, &user.actor, &query)
                .await?
                .items
                .into_iter()
                .filter(|x| x.id != c.id)
                .collect()
        }
        _ => Vec::new(),
    };
    ok(&MergePage {
        l: Layout::for_user(&user, "companies"),
        c,
        other,
        candidates,
    })
}

pub async fn merge(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let other = pairs
        .iter()
        .find(|(k, _)| k == "with")
        .and_then(|(_, v)| v.parse::<i64>().ok())
        .ok_or_else(|| AppError::field("with", "Choose the company to merge."))?;
    let take: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| v == "take" && companies::MERGE_FIELDS.contains(&k.as_str()))
        .map(|(k, _)| k.clone())
        .collect();
    let merged = companies::merge(&state.db, &user.actor, *id, other, &take).await?;
    set_flash(
        &user.session,
        format!("Merged into {}; the other record is gone.", merged.name),
    );
    Ok(see_other(&format!("/companies/{}", merged.id)))
}

/// The company list's bulk form.
#[derive(Deserialize, Default)]
pub struct BulkForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    owner_id: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    ids: Vec<i64>,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    tag: String,
    /// The count shown on the confirmation: the action is refused if it has changed.
    expected: Option<u64>,
}

#[derive(Template)]
#[template(path = "companies/bulk.html")]
struct BulkPage {
    l: Layout,
    form: BulkForm,
    f: Filters,
    count: u64,
    owner_name: String,
}

/// Step one shows what will happen to how many companies; step two (`confirm=1`) does it.
pub async fn bulk(
    state: web::Data<AppState>,
    user: CurrentUser,
    raw: RawForm,
) -> Result<HttpResponse, AppError> {
    use crate::domain::bulk;
    user.actor.require_write()?;
    let form: BulkForm = raw.parse()?;
    // The filters go through the list's own parser, custom fields and all.
    let params = ListParams::from_query(&raw.0)?;
    let action = match form.action.as_str() {
        "delete" => bulk::Action::Delete,
        "change_owner" => bulk::Action::ChangeOwner,
        "tag" => bulk::Action::Tag,
        "untag" => bulk::Action::Untag,
        _ => return Err(AppError::field("action", "Choose what to do.")),
    };
    let selection = if form.scope == "all" {
        bulk::Selection::Companies(params.validate(25)?)
    } else {
        bulk::Selection::Ids(form.ids.clone())
    };
    let owner_id = form.owner_id.parse::<i64>().ok();
    let back = format!("/companies?{}", Filters::from(&params).page_query(1));
    if form.confirm != "1" {
        let count =
            bulk::count(&state.db, &user.actor, bulk::Target::Companies, &selection).await?;
        let owner_name = match (action, owner_id) {
            (bulk::Action::ChangeOwner, Some(id)) => users::person(&state.db.read, id).await?.name,
            (bulk::Action::ChangeOwner, None) => {
                return Err(AppError::field("owner_id", "Choose the new owner."));
            }
            _ => String::new(),
        };
        return ok(&BulkPage {
            l: Layout::for_user(&user, "companies"),
            f: Filters::from(&params),
            form,
            count,
            owner_name,
        });
    }
    let n = bulk::apply(
        &state.db,
        &user.actor,
        bulk::Request {
            target: bulk::Target::Companies,
            selection: &selection,
            action,
            owner_id,
            tag: Some(&form.tag),
            expected: form.expected,
        },
    )
    .await?;
    let what = match action {
        bulk::Action::Delete => "deleted (their contacts stay, without a company)",
        bulk::Action::ChangeOwner => "given a new owner",
        bulk::Action::Tag => "tagged",
        bulk::Action::Untag => "untagged",
    };
    set_flash(
        &user.session,
        format!(
            "{n} compan{} {what}.",
            if n == 1 { "y was" } else { "ies were" }
        ),
    );
    Ok(see_other(&back))
}
