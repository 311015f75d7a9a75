//! Company pages: list (live search, filters by industry, size and owner; sort), the
//! company with its contacts and history, create, edit, and delete (which asks what to
//! do with the contacts).
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::domain::trash;
use crate::web::filters;
use serde::Deserialize;

use crate::app::AppState;

use crate::domain::activities::Subject;
use crate::domain::companies::matching::{self, Scope};
use crate::domain::companies::{self, Company, CompanyInput, INDUSTRIES, ListParams, SIZE_BANDS};
use crate::domain::contacts::{self, Contact};
use crate::domain::{Action, Page, audit};
use crate::error::AppError;
use crate::web::auth::{CurrentUser, set_flash};
use crate::web::forms::Form;
use crate::web::pages::records::{self, Edited, Listed, MergeText, text};
use crate::web::pages::{FieldMessages, Layout, field_messages, ok, render, see_other};

records::record_pages!(Company, "companies/index.html", "companies/delete.html",
    industries: &'static [(&'static str, &'static str)] = &INDUSTRIES,
    sizes: &'static [&'static str] = &SIZE_BANDS,
);

#[derive(Template)]
#[template(path = "companies/show.html")]
struct ShowPage {
    l: Layout,
    around: records::Around,
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

records::record_form! {
    pub struct CompanyForm {
        name: String,
        domain: String,
        industry: String,
        size_band: String,
        website: String,
        phone: String,
        address: String,
        owner_id: String,
        /// Comma-separated tag names.
        tags: String,
    }
}

impl CompanyForm {
    fn from_company(c: &Company) -> CompanyForm {
        CompanyForm {
            name: c.name.clone(),
            domain: text(&c.domain),
            industry: text(&c.industry),
            size_band: text(&c.size_band),
            website: text(&c.website),
            phone: text(&c.phone),
            address: text(&c.address),
            owner_id: c.owner_id.map(|o| o.to_string()).unwrap_or_default(),
            tags: c.tags.join(", "),
            custom: c.custom_fields.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "companies/form.html")]
struct FormPage {
    l: Layout,
    id: Option<i64>,
    v: CompanyForm,
    p: records::FormParts,
    industries: &'static [(&'static str, &'static str)],
    sizes: &'static [&'static str],
    /// The company that already has the name refused as taken, to open instead.
    name_owner: Option<(i64, String)>,
}

field_messages!(FormPage: p.errors);

impl FormPage {
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

pub async fn new(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    user.actor.require(Action::WriteRecords)?;
    let v = CompanyForm {
        owner_id: user.actor.id.to_string(),
        ..Default::default()
    };
    Company::form_page(&state, &user, None, v, None).await
}

impl Edited for Company {
    type Form = CompanyForm;

    fn input(form: &CompanyForm) -> Result<CompanyInput, AppError> {
        let owner_id = records::owner_field(&form.owner_id)?;
        let opt = |s: &String| Some(s.clone());
        Ok(CompanyInput {
            name: form.name.clone(),
            domain: opt(&form.domain),
            industry: opt(&form.industry),
            size_band: opt(&form.size_band),
            website: opt(&form.website),
            phone: opt(&form.phone),
            address: opt(&form.address),
            owner_id,
            tags: Some(crate::domain::tags::split(&form.tags)),
            custom_fields: Some(form.custom.clone()),
        })
    }

    fn form_of(&self) -> CompanyForm {
        CompanyForm::from_company(self)
    }

    async fn form_page(
        state: &AppState,
        user: &CurrentUser,
        id: Option<i64>,
        v: CompanyForm,
        error: Option<AppError>,
    ) -> Result<HttpResponse, AppError> {
        let p = records::FormParts::load::<Company>(state, &v.owner_id, v.custom.clone(), error)
            .await?;
        let name_owner = match p.conflict_on("name") {
            true => matching::the_one(&state.db, &user.actor, &v.name)
                .await?
                .filter(|c| Some(c.id) != id)
                .map(|c| (c.id, c.name)),
            false => None,
        };
        let status = p.status;
        render(
            &FormPage {
                l: Layout::for_user(user, "companies"),
                id,
                v,
                industries: &INDUSTRIES,
                sizes: &SIZE_BANDS,
                name_owner,
                p,
            },
            status,
        )
    }
}

impl records::Rendered for Company {
    const BIN: trash::Bin = trash::Bin::Company;

    fn owner(&self) -> Option<i64> {
        self.owner_id
    }

    fn subject(&self) -> Subject {
        Subject::Company(self.id)
    }

    /// With the company's contacts, deals and history.
    async fn show_page(
        state: &AppState,
        user: &CurrentUser,
        c: Company,
        around: records::Around,
    ) -> Result<HttpResponse, AppError> {
        let query = contacts::ListParams {
            company_id: Some(c.id.to_string()),
            sort: Some("name".into()),
            per_page: Some("50".into()),
            ..Default::default()
        }
        .validate(50)?;
        ok(&ShowPage {
            l: Layout::for_user(user, "companies"),
            around,
            contacts: contacts::list(&state.db, &user.actor, &query).await?,
            deals: crate::domain::deals::for_company(&state.db, &user.actor, c.id, 50).await?,
            history: audit::for_record(&state.db, "company", c.id, 20).await?,
            c,
        })
    }
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
        records::named!(p: q, industry, size, owner, tags, sort)
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    const DELETE_NOTE: &'static str = "their contacts stay, without a company";

    const MERGE_TEXT: MergeText = MergeText {
        moves: "its contacts, its tags",
        question: "Which company is the same one?",
        none_found: "No look-alikes found by name.",
        placeholder: "Name or domain of the other company",
    };

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
                // Those the asker may not see (`access`) are not offered.
                match companies::get(&state.db, &user.actor, m.id).await {
                    Ok(c) => found.push(c),
                    Err(AppError::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(found)
    }
}
