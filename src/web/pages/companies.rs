//! Company pages: list (live search, filters by industry, size and owner; sort), the
//! company with its contacts and history, create, edit, and delete (which asks what to
//! do with the contacts).
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::domain::trash;
use crate::web::filters;
use serde::Deserialize;

use crate::app::AppState;

use crate::domain::companies::matching::{self, Scope};
use crate::domain::companies::{self, Company, CompanyInput, INDUSTRIES, ListParams, SIZE_BANDS};
use crate::domain::contacts::{self, Contact};
use crate::domain::{Page, audit, users};
use crate::error::{AppError, FieldErrors};
use crate::web::auth::{CurrentUser, set_flash};
use crate::web::forms::Form;
use crate::web::htmx::Htmx;
use crate::web::pages::records::{self, Edited, ListData, Listed, MergeRow, MergeText};
use crate::web::pages::{Layout, Refusal, custom, iso, ok, render, see_other};

#[derive(Template)]
#[template(path = "companies/index.html")]
struct IndexPage {
    l: Layout,
    d: ListData<Company>,
    industries: &'static [(&'static str, &'static str)],
    sizes: &'static [&'static str],
}

#[derive(Template)]
#[template(path = "companies/index.html", block = "results")]
struct Results {
    d: ListData<Company>,
}

pub async fn index(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    hx: Htmx,
) -> Result<HttpResponse, AppError> {
    let d = match records::list_data::<Company>(&req, &state, &user, &hx).await? {
        Ok(d) => d,
        Err(redirect) => return Ok(redirect),
    };
    if hx.fragment {
        return ok(&Results { d });
    }
    ok(&IndexPage {
        l: Layout::for_user(&user, "companies"),
        d,
        industries: &INDUSTRIES,
        sizes: &SIZE_BANDS,
    })
}

#[derive(Template)]
#[template(path = "companies/show.html")]
struct ShowPage {
    l: Layout,
    activity: crate::web::pages::activities::Panel,
    tasks: crate::web::pages::tasks::Panel,
    tags: Vec<records::Chip>,
    defs: Vec<crate::domain::custom_fields::Field>,
    values: std::collections::BTreeMap<String, serde_json::Value>,
    c: Company,
    contacts: Page<Contact>,
    deals: Vec<crate::domain::deals::Deal>,
    history: Vec<audit::Entry>,
}

impl ShowPage {
    /// A line of the company's history.
    fn history_line(&self, e: &audit::Entry) -> String {
        let who = e.actor_name.as_deref().unwrap_or("Someone");
        match e.action.as_str() {
            "create" => format!("{who} added it"),
            "update" => format!("{who} edited it"),
            "merge" => format!("{who} merged another company into it"),
            other => format!("{who}: {other}"),
        }
    }
}

pub async fn show(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let c = match companies::get(&state.db, &user.actor, *id).await {
        Ok(c) => c,
        Err(e) => return super::trash::or_notice(&state, &user, trash::Bin::Company, *id, e).await,
    };
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
    let tasks = crate::web::pages::tasks::panel(
        &state,
        &user,
        crate::domain::activities::Subject::Company(c.id),
    )
    .await?;
    ok(&ShowPage {
        l: Layout::for_user(&user, "companies"),
        activity,
        tasks,
        tags: records::chips(&state, &c.tags).await?,
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

impl records::FormCustom for CompanyForm {
    fn custom_mut(&mut self) -> &mut std::collections::BTreeMap<String, serde_json::Value> {
        &mut self.custom
    }
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
    form_kind: &'static crate::domain::records::Kind,
    industries: &'static [(&'static str, &'static str)],
    sizes: &'static [&'static str],
    /// The company that already has the name refused as taken, to open instead.
    name_owner: Option<(i64, String)>,
}

impl FormPage {
    fn err(&self, field: &str) -> &str {
        self.errors.get(field).map(String::as_str).unwrap_or("")
    }

    /// Where "← Back" and Cancel go: the company being edited, or the list.
    fn back(&self) -> String {
        match self.id {
            Some(id) => format!("/companies/{id}"),
            None => "/companies".to_string(),
        }
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
                // Text with a URL keyboard: "acme.com" is a fine answer (stored with https://).
                "text",
                "maxlength=300 inputmode=url placeholder=acme.com",
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
    let owners = records::owners(state, &v.owner_id).await?;
    let cf = custom::Inputs::load(state, "company", v.custom.clone(), &errors).await?;
    let name_owner = match (status, errors.contains_key("name")) {
        (actix_web::http::StatusCode::CONFLICT, true) => {
            matching::the_one(&state.db, &user.actor, &v.name)
                .await?
                .filter(|c| Some(c.id) != id)
                .map(|c| (c.id, c.name))
        }
        _ => None,
    };
    render(
        &FormPage {
            l: Layout::for_user(user, "companies"),
            form_kind: &companies::KIND,
            cf,
            id,
            v,
            errors,
            message,
            owners,
            tag_names: records::tag_names(state).await?,
            industries: &INDUSTRIES,
            sizes: &SIZE_BANDS,
            name_owner,
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
    let form = Company::read_form(&state, &pairs).await?;
    let result = match form.to_input() {
        Ok(input) => companies::create(&state.db, &user.actor, &input).await,
        Err(e) => Err(e),
    };
    records::saved(&state, &user, None, form, result, "added").await
}

impl Edited for Company {
    type Form = CompanyForm;

    fn form_of(&self) -> CompanyForm {
        CompanyForm::from_company(self)
    }

    async fn form_page(
        state: &AppState,
        user: &CurrentUser,
        id: Option<i64>,
        form: CompanyForm,
        error: Option<AppError>,
    ) -> Result<HttpResponse, AppError> {
        form_page(state, user, id, form, error).await
    }

    async fn save(
        state: &AppState,
        user: &CurrentUser,
        id: i64,
        form: &CompanyForm,
    ) -> Result<Company, AppError> {
        let input = form.to_input()?;
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
    if !trash::may_delete(&user.actor, c.owner_id) {
        return Err(trash::forbidden(&user.actor, trash::Bin::Company));
    }
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
    set_flash(
        &user.session,
        format!("{} was deleted.{note} {}", c.name, trash::RESTORE_NOTE),
    );
    Ok(see_other("/companies"))
}

impl Listed for Company {
    type Params = ListParams;

    fn named(p: &ListParams) -> Vec<(&'static str, Option<String>)> {
        vec![
            ("q", p.q.clone()),
            ("industry", p.industry.clone()),
            ("size", p.size.clone()),
            ("owner", p.owner.clone()),
            ("tags", p.tags.clone()),
            ("sort", p.sort.clone()),
        ]
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    const CSV_HEADER: &'static [&'static str] = &[
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

    fn csv(&self) -> Vec<String> {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        vec![
            self.id.to_string(),
            self.name.clone(),
            s(&self.domain),
            s(&self.industry),
            s(&self.size_band),
            s(&self.website),
            s(&self.phone),
            s(&self.address),
            self.contact_count.to_string(),
            s(&self.owner_name),
            self.owner_id.map(|v| v.to_string()).unwrap_or_default(),
            iso(&self.created_at),
            iso(&self.updated_at),
        ]
    }

    const DELETE_NOTE: &'static str = "their contacts stay, without a company";

    const MERGE_TEXT: MergeText = MergeText {
        moves: "its contacts, its tags",
        question: "Which company is the same one?",
        none_found: "No look-alikes found by name.",
        placeholder: "Name or domain of the other company",
    };

    fn merge_rows(&self, o: &Company) -> Vec<MergeRow> {
        let c = self;
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        vec![
            ("name", "Name", c.name.clone(), o.name.clone()),
            ("domain", "Domain", s(&c.domain), s(&o.domain)),
            (
                "industry",
                "Industry",
                c.industry_label().to_string(),
                o.industry_label().to_string(),
            ),
            ("size_band", "Size", s(&c.size_band), s(&o.size_band)),
            ("website", "Website", s(&c.website), s(&o.website)),
            ("phone", "Phone", s(&c.phone), s(&o.phone)),
            ("address", "Address", s(&c.address), s(&o.address)),
            ("owner_id", "Owner", s(&c.owner_name), s(&o.owner_name)),
        ]
    }

    fn hint(&self) -> String {
        format!(
            "{} · {} contacts",
            self.domain.clone().unwrap_or_default(),
            self.contact_count
        )
    }

    /// Companies sharing the first word of the name.
    async fn look_alikes(
        state: &AppState,
        user: &CurrentUser,
        c: &Company,
    ) -> Result<Vec<Company>, AppError> {
        let Some(word) = c.name.split_whitespace().next() else {
            return Ok(Vec::new());
        };
        let query = ListParams {
            q: Some(word.to_string()),
            per_page: Some("10".into()),
            ..Default::default()
        }
        .validate(10)?;
        Ok(companies::list(&state.db, &user.actor, &query)
            .await?
            .items
            .into_iter()
            .filter(|x| x.id != c.id)
            .collect())
    }

    /// A chosen suggestion, the name in any case or punctuation, or the domain
    /// (`companies::matching`).
    async fn called(
        state: &AppState,
        user: &CurrentUser,
        text: &str,
    ) -> Result<Vec<Company>, AppError> {
        let mut found = Vec::new();
        for m in matching::matching(&state.db, &user.actor, text, Scope::Same).await? {
            if m.same {
                found.push(companies::get(&state.db, &user.actor, m.id).await?);
            }
        }
        Ok(found)
    }
}
