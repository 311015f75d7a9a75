//! Contact pages: list (with live search and filters), detail, create, edit, delete.
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::web::filters;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::bulk;
use crate::domain::contacts::{self, Contact, ContactInput, ListParams, SOURCES, Sort};
use crate::domain::{Page, users, views};
use crate::error::{AppError, FieldErrors};
use crate::web::auth::{CurrentUser, set_flash};
use crate::web::forms::{Form, RawForm};
use crate::web::htmx::Htmx;
use crate::web::pages::{
    Layout, Refusal, SetFilters, custom, custom_filters, iso, ok, render, see_other, short_date,
};

/// The list's filters as the user set them, echoed back into the form and the links.
#[derive(Default)]
pub struct Filters {
    q: String,
    source: String,
    company: String,
    company_id: String,
    owner: String,
    tags: String,
    sort: String,
    /// `cf.<key>` filters, kept across pages and saved views.
    custom: Vec<(String, String)>,
}

impl Filters {
    fn from(p: &ListParams) -> Filters {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        Filters {
            q: s(&p.q),
            source: s(&p.source),
            company: s(&p.company),
            company_id: s(&p.company_id),
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
                ("source", &self.source),
                ("company", &self.company),
                ("company_id", &self.company_id),
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

#[derive(Template)]
#[template(path = "contacts/index.html")]
struct IndexPage {
    l: Layout,
    views: Vec<crate::domain::views::View>,
    list_name: &'static str,
    current_query: String,
    f: Filters,
    page: Page<Contact>,
    owners: Vec<users::Person>,
    can_write: bool,
    csrf: String,
}

#[derive(Template)]
#[template(path = "contacts/index.html", block = "results")]
struct Results {
    list_name: &'static str,
    current_query: String,
    f: Filters,
    page: Page<Contact>,
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
    // A bare visit opens the user's default view, if they chose one.
    // One read of the user's views serves the default-view redirect and the views bar.
    let saved = if hx.fragment {
        Vec::new()
    } else {
        views::for_list(&state.db, &user.actor, "contacts").await?
    };
    if req.query_string().is_empty()
        && let Some(v) = saved.iter().find(|v| v.is_default && !v.query.is_empty())
    {
        return Ok(see_other(&format!("/contacts?{}", v.query)));
    }
    let query = params.validate(25)?;
    let page = contacts::list(&state.db, &user.actor, &query).await?;
    let f = Filters::from(&params);
    let current_query = f.page_query(1);
    let can_write = user.actor.can_write();
    let owners = users::list_active(&state.db).await?;
    let csrf = crate::web::auth::csrf_token(&user.session);
    if hx.fragment {
        return ok(&Results {
            list_name: "contacts",
            current_query,
            f,
            page,
            owners,
            can_write,
            csrf,
        });
    }
    ok(&IndexPage {
        l: Layout::for_user(&user, "contacts"),
        views: saved,
        list_name: "contacts",
        current_query,
        f,
        page,
        owners,
        can_write,
        csrf,
    })
}

#[derive(Template)]
#[template(path = "contacts/show.html")]
struct ShowPage {
    l: Layout,
    activity: crate::web::pages::activities::Panel,
    c: Contact,
    defs: Vec<crate::domain::custom_fields::Field>,
    values: std::collections::BTreeMap<String, serde_json::Value>,
}

pub async fn show(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let c = contacts::get(&state.db, &user.actor, *id).await?;
    let activity = crate::web::pages::activities::panel(
        &state,
        &user,
        crate::domain::activities::Subject::Contact(c.id),
    )
    .await?;
    ok(&ShowPage {
        l: Layout::for_user(&user, "contacts"),
        activity,
        defs: crate::domain::custom_fields::defs(&state.db, "contact").await?,
        values: c.custom_fields.clone(),
        c,
    })
}

/// The create/edit form's fields, as typed.
#[derive(Deserialize, Default)]
pub struct ContactForm {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    company: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    owner_id: String,
    /// Comma-separated tag names.
    #[serde(default)]
    tags: String,
    /// "1" once the user has seen the likely duplicates and saves anyway.
    #[serde(default)]
    confirm_duplicates: String,
    /// Custom field values, read from the `cf.<key>` inputs by `read_form`.
    #[serde(skip)]
    custom: std::collections::BTreeMap<String, serde_json::Value>,
}

/// The posted form: the fixed fields, then the custom ones.
async fn read_form(state: &AppState, pairs: &[(String, String)]) -> Result<ContactForm, AppError> {
    let mut form: ContactForm = custom::fixed(pairs)?;
    form.custom = custom::from_pairs(state, "contact", pairs).await?;
    Ok(form)
}

impl ContactForm {
    fn from_contact(c: &Contact) -> ContactForm {
        ContactForm {
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            email: c.email.clone().unwrap_or_default(),
            phone: c.phone.clone().unwrap_or_default(),
            company: c.company.clone().unwrap_or_default(),
            title: c.title.clone().unwrap_or_default(),
            source: c.source.clone(),
            owner_id: c.owner_id.to_string(),
            tags: c.tags.join(", "),
            confirm_duplicates: String::new(),
            custom: c.custom_fields.clone(),
        }
    }

    fn to_input(&self) -> Result<ContactInput, AppError> {
        let owner_id = match self.owner_id.trim() {
            "" => None,
            s => Some(
                s.parse::<i64>()
                    .map_err(|_| AppError::field("owner_id", "Choose an owner from the list."))?,
            ),
        };
        let opt = |s: &String| Some(s.clone());
        Ok(ContactInput {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            email: opt(&self.email),
            phone: opt(&self.phone),
            company: opt(&self.company),
            company_id: None,
            tags: Some(crate::domain::tags::split(&self.tags)),
            custom_fields: Some(self.custom.clone()),
            title: opt(&self.title),
            source: opt(&self.source),
            owner_id,
        })
    }
}

#[derive(Template)]
#[template(path = "contacts/form.html")]
struct FormPage {
    l: Layout,
    /// The contact being edited; none when creating.
    id: Option<i64>,
    v: ContactForm,
    errors: FieldErrors,
    message: Option<String>,
    owners: Vec<users::Person>,
    tag_names: Vec<String>,
    /// Contacts that look like the one being added.
    duplicates: Vec<Contact>,
    cf: custom::Inputs,
}

impl FormPage {
    /// The plain text inputs: name, label, value, input type, extra attributes.
    fn text_fields(&self) -> [(&'static str, &'static str, &str, &'static str, &'static str); 7] {
        let v = &self.v;
        [
            (
                "first_name",
                "First name",
                &v.first_name,
                "text",
                "required maxlength=120 autocomplete=given-name",
            ),
            (
                "last_name",
                "Last name",
                &v.last_name,
                "text",
                "required maxlength=120 autocomplete=family-name",
            ),
            (
                "email",
                "Email",
                &v.email,
                "email",
                "maxlength=254 autocomplete=email",
            ),
            (
                "phone",
                "Phone",
                &v.phone,
                "tel",
                "maxlength=30 autocomplete=tel",
            ),
            (
                "company",
                "Company",
                &v.company,
                "text",
                "maxlength=200 autocomplete=organization",
            ),
            (
                "title",
                "Title",
                &v.title,
                "text",
                "maxlength=120 autocomplete=organization-title",
            ),
            (
                "tags",
                "Tags (comma-separated)",
                &v.tags,
                "text",
                "list=tag-names autocomplete=off",
            ),
        ]
    }

    fn err(&self, field: &str) -> &str {
        self.errors.get(field).map(String::as_str).unwrap_or("")
    }
}

async fn form_page(
    state: &AppState,
    user: &CurrentUser,
    id: Option<i64>,
    v: ContactForm,
    error: Option<AppError>,
) -> Result<HttpResponse, AppError> {
    form_page_with(state, user, id, v, error, Vec::new()).await
}

async fn form_page_with(
    state: &AppState,
    user: &CurrentUser,
    id: Option<i64>,
    v: ContactForm,
    error: Option<AppError>,
    duplicates: Vec<Contact>,
) -> Result<HttpResponse, AppError> {
    let Refusal {
        status,
        message,
        fields: errors,
    } = Refusal::of(error)?;
    let mut owners = users::list_active(&state.db).await?;
    // A contact may belong to someone since deactivated: keep them selectable so saving
    // the form does not quietly hand the contact to someone else.
    if let Ok(owner_id) = v.owner_id.parse::<i64>()
        && !owners.iter().any(|o| o.id == owner_id)
        && let Ok(owner) = users::person(&state.db.read, owner_id).await
    {
        owners.push(owner);
    }
    let cf = custom::Inputs::load(state, "contact", v.custom.clone(), &errors).await?;
    render(
        &FormPage {
            l: Layout::for_user(user, "contacts"),
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
            duplicates,
        },
        status,
    )
}

pub async fn new(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    user.actor.require_write()?;
    let v = ContactForm {
        source: "organic".into(),
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
        Ok(input) => {
            // Show look-alikes once before saving; "Save anyway" sends confirm_duplicates.
            if form.confirm_duplicates != "1" {
                let duplicates =
                    contacts::merge::likely_duplicates(&state.db, &user.actor, &input, None)
                        .await?;
                // The same email is no "maybe": saving answers it as a conflict on the field.
                let email = input.email.as_deref().map(crate::domain::normalise);
                let same_email = duplicates.iter().any(|d| {
                    d.email.as_deref().map(crate::domain::normalise) == email && email.is_some()
                });
                if !duplicates.is_empty() && !same_email {
                    return form_page_with(&state, &user, None, form, None, duplicates).await;
                }
            }
            contacts::create(&state.db, &user.actor, &input).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => {
            set_flash(&user.session, format!("{} was added.", c.full_name()));
            Ok(see_other(&format!("/contacts/{}", c.id)))
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
    let c = contacts::get(&state.db, &user.actor, *id).await?;
    form_page(
        &state,
        &user,
        Some(c.id),
        ContactForm::from_contact(&c),
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
        Ok(input) => contacts::update(&state.db, &user.actor, id, input.into()).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => {
            set_flash(&user.session, format!("{} was saved.", c.full_name()));
            Ok(see_other(&format!("/contacts/{}", c.id)))
        }
        Err(e) => form_page(&state, &user, Some(id), form, Some(e)).await,
    }
}

#[derive(Template)]
#[template(path = "contacts/delete.html")]
struct DeletePage {
    l: Layout,
    c: Contact,
}

pub async fn confirm_delete(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    user.actor.require_write()?;
    let c = contacts::get(&state.db, &user.actor, *id).await?;
    ok(&DeletePage {
        l: Layout::for_user(&user, "contacts"),
        c,
    })
}

/// The confirmation page's form (no JavaScript needed).
pub async fn delete(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let c = contacts::get(&state.db, &user.actor, *id).await?;
    contacts::delete(&state.db, &user.actor, c.id).await?;
    set_flash(&user.session, format!("{} was deleted.", c.full_name()));
    Ok(see_other("/contacts"))
}

/// The list row's delete button (htmx, after a confirm dialog): an empty 200 removes the row.
pub async fn delete_row(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    contacts::delete(&state.db, &user.actor, *id).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(""))
}

pub fn sort_options() -> &'static [(Sort, &'static str, &'static str)] {
    &Sort::ALL
}

pub fn sources() -> &'static [&'static str] {
    &SOURCES
}

pub fn fmt_time(t: &chrono::DateTime<chrono::Utc>) -> (String, String) {
    (iso(t), short_date(t))
}

const CSV_HEADER: [&str; 13] = [
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "company_id",
    "title",
    "source",
    "owner",
    "owner_id",
    "created_at",
    "updated_at",
];

/// `/contacts/export.csv` with the list's filters: every matching contact, streamed.
pub async fn export(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let params = ListParams::from_query(req.query_string())?;
    let query = params.validate(25)?;
    // Refused now, while an error can still be a status: once streaming starts it can't.
    contacts::check_filters(&state.db, &query).await?;
    let (db, actor) = (state.db.clone(), user.actor.clone());
    let next = move |after| {
        let (db, actor, query) = (db.clone(), actor.clone(), query.clone());
        async move { contacts::export_chunk(&db, &actor, &query, after).await }
    };
    let write = |out: &mut String, c: &Contact| {
        let (id, company_id, owner_id) = (
            c.id.to_string(),
            c.company_id.map(|v| v.to_string()).unwrap_or_default(),
            c.owner_id.to_string(),
        );
        let (created, updated) = (iso(&c.created_at), iso(&c.updated_at));
        crate::web::csv::row(
            out,
            [
                id.as_str(),
                &c.first_name,
                &c.last_name,
                c.email.as_deref().unwrap_or(""),
                c.phone.as_deref().unwrap_or(""),
                c.company.as_deref().unwrap_or(""),
                &company_id,
                c.title.as_deref().unwrap_or(""),
                &c.source,
                &c.owner_name,
                &owner_id,
                &created,
                &updated,
            ],
        );
    };
    let body = crate::web::csv::stream(
        &CSV_HEADER,
        contacts::EXPORT_CHUNK,
        next,
        write,
        |c: &Contact| c.id,
    );
    Ok(crate::web::csv::download("contacts", body))
}

/// The list's bulk form: the action, the chosen rows or "all matching", and the filters.
#[derive(Deserialize, Default)]
pub struct BulkForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    owner_id: String,
    /// "selected" or "all".
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
#[template(path = "contacts/bulk.html")]
struct BulkPage {
    l: Layout,
    form: BulkForm,
    f: Filters,
    count: u64,
    owner_name: String,
}

/// Step one shows what will happen to how many contacts; step two (`confirm=1`) does it.
pub async fn bulk(
    state: web::Data<AppState>,
    user: CurrentUser,
    raw: RawForm,
) -> Result<HttpResponse, AppError> {
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
        bulk::Selection::Contacts(params.validate(25)?)
    } else {
        bulk::Selection::Ids(form.ids.clone())
    };
    let owner_id = form.owner_id.parse::<i64>().ok();
    let back = format!("/contacts?{}", Filters::from(&params).page_query(1));
    if form.confirm != "1" {
        let count = bulk::count(&state.db, &user.actor, bulk::Target::Contacts, &selection).await?;
        let owner_name = match (action, owner_id) {
            (bulk::Action::ChangeOwner, Some(id)) => users::person(&state.db.read, id).await?.name,
            (bulk::Action::ChangeOwner, None) => {
                return Err(AppError::field("owner_id", "Choose the new owner."));
            }
            _ => String::new(),
        };
        return ok(&BulkPage {
            l: Layout::for_user(&user, "contacts"),
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
            target: bulk::Target::Contacts,
            selection: &selection,
            action,
            owner_id,
            tag: Some(&form.tag),
            expected: form.expected,
        },
    )
    .await?;
    let what = match action {
        bulk::Action::Delete => "deleted",
        bulk::Action::ChangeOwner => "given a new owner",
        bulk::Action::Tag => "tagged",
        bulk::Action::Untag => "untagged",
    };
    set_flash(
        &user.session,
        format!(
            "{n} contact{} {what}.",
            if n == 1 { " was" } else { "s were" }
        ),
    );
    Ok(see_other(&back))
}

#[derive(Deserialize)]
pub struct MergeParams {
    with: Option<String>,
}

#[derive(Template)]
#[template(path = "contacts/merge.html")]
struct MergePage {
    l: Layout,
    c: Contact,
    other: Option<Contact>,
    candidates: Vec<Contact>,
}

/// One row of the merge table: field, label, this contact's value, the other's.
type MergeRow = (&'static str, &'static str, String, String);

impl MergePage {
    fn rows(&self) -> Vec<MergeRow> {
        let Some(o) = &self.other else {
            return Vec::new();
        };
        let c = &self.c;
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        vec![
            (
                "first_name",
                "First name",
                c.first_name.clone(),
                o.first_name.clone(),
            ),
            (
                "last_name",
                "Last name",
                c.last_name.clone(),
                o.last_name.clone(),
            ),
            ("email", "Email", s(&c.email), s(&o.email)),
            ("phone", "Phone", s(&c.phone), s(&o.phone)),
            ("company", "Company", s(&c.company), s(&o.company)),
            ("title", "Title", s(&c.title), s(&o.title)),
            ("source", "Source", c.source.clone(), o.source.clone()),
            (
                "owner_id",
                "Owner",
                c.owner_name.clone(),
                o.owner_name.clone(),
            ),
        ]
    }
}

/// The merge page: pick the other contact, then field by field what survives.
pub async fn merge_page(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    params: web::Query<MergeParams>,
) -> Result<HttpResponse, AppError> {
    user.actor.require_write()?;
    let c = contacts::get(&state.db, &user.actor, *id).await?;
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
                .map_err(|_| AppError::field("with", "Give the other contact's number."))?;
            if other_id == c.id {
                return Err(AppError::field(
                    "with",
                    "A contact cannot be merged with itself.",
                ));
            }
            Some(contacts::get(&state.db, &user.actor, other_id).await?)
        }
    };
    let candidates = if other.is_none() {
        contacts::merge::likely_duplicates(
            &state.db,
            &user.actor,
            &ContactInput::from(&c),
            Some(c.id),
        )
        .await?
    } else {
        Vec::new()
    };
    ok(&MergePage {
        l: Layout::for_user(&user, "contacts"),
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
        .ok_or_else(|| AppError::field("with", "Choose the contact to merge."))?;
    let take: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| v == "take" && contacts::merge::FIELDS.contains(&k.as_str()))
        .map(|(k, _)| k.clone())
        .collect();
    let merged = contacts::merge::merge(&state.db, &user.actor, *id, other, &take).await?;
    set_flash(
        &user.session,
        format!(
            "Merged into {}; the other record is gone.",
            merged.full_name()
        ),
    );
    Ok(see_other(&format!("/contacts/{}", merged.id)))
}
