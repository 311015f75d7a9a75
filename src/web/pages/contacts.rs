//! Contact pages: list (with live search and filters), detail, create, edit, delete.
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::domain::Action;
use crate::domain::trash;
use crate::web::filters;
use serde::Deserialize;

use crate::app::AppState;

use crate::domain::activities::Subject;
use crate::domain::companies::matching::{self, Scope};
use crate::domain::contacts::merge as lookalike;
use crate::domain::contacts::{self, Contact, ContactInput, ListParams, SOURCES};
use crate::domain::deals::ContactRef;
use crate::domain::pick;
use crate::error::AppError;
use crate::web::auth::{CurrentUser, set_flash};
use crate::web::forms::Form;
use crate::web::pages::pick::CompanyNote;
use crate::web::pages::records::{self, Edited, Listed, MergeText};
use crate::web::pages::{
    FieldMessages, Layout, field_messages, ok, record_page as records_page, render, see_other,
};
use actix_web::http::header::{HeaderName, HeaderValue};

records::record_pages!(Contact, "contacts/index.html", "records/delete.html",
    sources: &'static [&'static str] = &SOURCES,
);

#[derive(Template)]
#[template(path = "contacts/show.html")]
struct ShowPage {
    l: Layout,
    around: records::Around,
    c: Contact,
    /// The deals the contact is linked to, newest first.
    deals: Vec<crate::domain::deals::Deal>,
    /// Payments and subscription from Stripe, when it named this contact.
    billing: Option<crate::domain::stripe::billing::Shown>,
    /// The lead score's horizon, which its score is the chance of a won deal within.
    horizon_days: i64,
}

records::record_form! {
    /// The create/edit form's fields, as typed.
    pub struct ContactForm {
        first_name: String,
        last_name: String,
        email: String,
        phone: String,
        company: String,
        title: String,
        source: String,
        owner_id: String,
        /// Comma-separated tag names.
        tags: String,
        /// "1" once the user has seen the likely duplicates and saves anyway.
        confirm_duplicates: String,
        /// The company page the contact was started from, to go back to once it is added.
        return_to: String,
    }
}

impl ContactForm {
    fn from_contact(c: &Contact) -> ContactForm {
        ContactForm {
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            email: c.email.clone().unwrap_or_default(),
            phone: c.phone.clone().unwrap_or_default(),
            company: c.company_in_form(),
            title: c.title.clone().unwrap_or_default(),
            source: c.source.clone(),
            owner_id: c.owner_id.to_string(),
            tags: c.tags.join(", "),
            confirm_duplicates: String::new(),
            return_to: String::new(),
            custom: c.custom_fields.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "contacts/form.html")]
struct FormPage {
    l: Layout,
    /// The contact being edited; none when creating.
    id: Option<i64>,
    v: ContactForm,
    p: records::FormParts,
    /// Contacts that look like the one being added.
    duplicates: Vec<Contact>,
    /// The contact that already has the refused email, linked from the message.
    email_owner: Option<ContactRef>,
    /// Which company the typed one links, or that saving creates one.
    company_note: Option<CompanyNote>,
    sources: &'static [&'static str],
}

field_messages!(FormPage: p.errors);

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
            ("company", "Company", &v.company, "text", "maxlength=200"),
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

    /// Where "← Back" goes: the company page a new contact was started from, the
    /// contact being edited, or the list.
    fn back(&self) -> String {
        match (self.id, records_page(&self.v.return_to)) {
            (Some(id), _) => format!("/contacts/{id}"),
            (None, Some(page)) => page.to_string(),
            (None, None) => "/contacts".to_string(),
        }
    }

    /// The htmx attributes that check a field as the user types (see `pick`).
    fn live(&self, field: &str) -> String {
        crate::web::pages::pick::contact_field(field, self.id)
    }
}

async fn form_page_with(
    state: &AppState,
    user: &CurrentUser,
    id: Option<i64>,
    v: ContactForm,
    error: Option<AppError>,
    duplicates: Vec<Contact>,
) -> Result<HttpResponse, AppError> {
    let p =
        records::FormParts::load::<Contact>(state, &v.owner_id, v.custom.clone(), error).await?;
    let email_owner = match p.conflict_on("email") {
        true => lookalike::with_email(&state.db, &user.actor, &v.email, id).await?,
        false => None,
    };
    let links = matching::matching(&state.db, &user.actor, &v.company, Scope::Same)
        .await?
        .into_iter()
        .find(|m| m.same)
        .map(|m| (m.id, m.name));
    let status = p.status;
    render(
        &FormPage {
            email_owner,
            company_note: CompanyNote::of(&v.company, links),
            l: Layout::for_user(user, "contacts"),
            id,
            v,
            p,
            duplicates,
            sources: &SOURCES,
        },
        status,
    )
}

/// `/contacts/new`'s query: where the contact starts, and what was typed before (the
/// look-alike check puts it in the address bar, so a reload keeps the form).
#[derive(Deserialize, serde::Serialize, Default)]
pub struct NewQuery {
    /// A company's page: the contact starts at that company, and saving goes back there.
    #[serde(skip_serializing_if = "Option::is_none")]
    company: Option<i64>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    first_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    last_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    email: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    phone: String,
    /// The company as typed (`company` is a company's id).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    company_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    tags: String,
}

pub async fn new(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<NewQuery>,
) -> Result<HttpResponse, AppError> {
    user.actor.require(Action::WriteRecords)?;
    let mut v = ContactForm {
        source: "organic".into(),
        owner_id: user.actor.id.to_string(),
        ..Default::default()
    };
    if let Some(id) = q.company {
        let c = crate::domain::companies::get(&state.db, &user.actor, id).await?;
        // "Name (#id)" is how the company picker names a chosen company.
        v.company = format!("{} (#{})", c.name, c.id);
        v.return_to = format!("/companies/{}", c.id);
    }
    let q = q.into_inner();
    if !q.company_name.is_empty() {
        v.company = q.company_name;
    }
    (v.first_name, v.last_name, v.email) = (q.first_name, q.last_name, q.email);
    (v.phone, v.title, v.tags) = (q.phone, q.title, q.tags);
    form_page_with(&state, &user, None, v, None, Vec::new()).await
}

/// The new-contact form with what was typed, to keep in the address bar while it is
/// shown again: a reload shows the same form, filled in.
fn form_url(form: &ContactForm) -> String {
    let company = records_page(&form.return_to)
        .and_then(|r| r.strip_prefix("/companies/"))
        .and_then(|id| id.parse().ok());
    let typed = NewQuery {
        company,
        first_name: form.first_name.clone(),
        last_name: form.last_name.clone(),
        email: form.email.clone(),
        phone: form.phone.clone(),
        company_name: form.company.clone(),
        title: form.title.clone(),
        tags: form.tags.clone(),
    };
    match serde_html_form::to_string(&typed) {
        Ok(query) if !query.is_empty() => format!("/contacts/new?{query}"),
        _ => "/contacts/new".to_string(),
    }
}

pub async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let form = Contact::read_form(&state, &pairs).await?;
    if let Ok(input) = Contact::input(&form)
        && form.confirm_duplicates != "1"
    {
        let duplicates =
            contacts::merge::likely_duplicates(&state.db, &user.actor, &input, None).await?;
        // The same email is no "maybe": saving answers it as a conflict on the field.
        let email = input.email.as_deref().map(crate::domain::normalise);
        let same_email = duplicates
            .iter()
            .any(|d| d.email.as_deref().map(crate::domain::normalise) == email && email.is_some());
        // Show look-alikes once before saving; "Save anyway" sends confirm_duplicates.
        if !duplicates.is_empty() && !same_email {
            return lookalikes_page(&state, &user, form, duplicates).await;
        }
    }
    let result = Contact::save(&state, &user, None, &form).await;
    if let (Ok(c), Some(back)) = (&result, records_page(&form.return_to)) {
        set_flash(&user.session, format!("{} was added.", c.full_name()));
        return Ok(see_other(back));
    }
    records::saved(&state, &user, None, form, result, "added").await
}

/// The form again with the look-alikes. It answers a post to /contacts: the address bar
/// stays on the form, so a reload shows the form again rather than the list.
async fn lookalikes_page(
    state: &AppState,
    user: &CurrentUser,
    form: ContactForm,
    duplicates: Vec<Contact>,
) -> Result<HttpResponse, AppError> {
    let url = form_url(&form);
    let mut res = form_page_with(state, user, None, form, None, duplicates).await?;
    if let Ok(value) = HeaderValue::from_str(&url) {
        res.headers_mut()
            .insert(HeaderName::from_static("hx-replace-url"), value);
    }
    Ok(res)
}

impl Edited for Contact {
    type Form = ContactForm;

    fn input(form: &ContactForm) -> Result<ContactInput, AppError> {
        let owner_id = records::owner_field(&form.owner_id)?;
        let opt = |s: &String| Some(s.clone());
        // A chosen suggestion ("Acme (#12)") names its company by id.
        let (company, company_id) = match pick::trailing_id(&form.company) {
            Some(id) => (None, Some(id)),
            None => (opt(&form.company), None),
        };
        Ok(ContactInput {
            first_name: form.first_name.clone(),
            last_name: form.last_name.clone(),
            email: opt(&form.email),
            phone: opt(&form.phone),
            company,
            company_id,
            tags: Some(crate::domain::tags::split(&form.tags)),
            custom_fields: Some(form.custom.clone()),
            title: opt(&form.title),
            source: opt(&form.source),
            owner_id,
        })
    }

    fn form_of(&self) -> ContactForm {
        ContactForm::from_contact(self)
    }

    async fn form_page(
        state: &AppState,
        user: &CurrentUser,
        id: Option<i64>,
        form: ContactForm,
        error: Option<AppError>,
    ) -> Result<HttpResponse, AppError> {
        form_page_with(state, user, id, form, error, Vec::new()).await
    }
}

impl records::Rendered for Contact {
    const BIN: trash::Bin = trash::Bin::Contact;

    fn owner(&self) -> Option<i64> {
        Some(self.owner_id)
    }

    fn subject(&self) -> Subject {
        Subject::Contact(self.id)
    }

    /// With the deals the contact is linked to.
    async fn show_page(
        state: &AppState,
        user: &CurrentUser,
        c: Contact,
        around: records::Around,
    ) -> Result<HttpResponse, AppError> {
        ok(&ShowPage {
            l: Layout::for_user(user, "contacts"),
            around,
            deals: crate::domain::deals::for_contact(&state.db, &user.actor, c.id, 50).await?,
            billing: crate::domain::stripe::billing::shown(&state.db, c.id).await?,
            horizon_days: crate::domain::scoring::leads::scored_horizon_days(&state.db).await?,
            c,
        })
    }
}

/// The confirmation page's form (no JavaScript needed).
pub async fn delete(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let c = contacts::get(&state.db, &user.actor, *id).await?;
    contacts::delete(&state.db, &user.actor, c.id).await?;
    set_flash(
        &user.session,
        format!("{} was deleted. {}", c.full_name(), trash::RESTORE_NOTE),
    );
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

impl Listed for Contact {
    type Params = ListParams;

    fn named(p: &ListParams) -> Vec<(&'static str, Option<String>)> {
        records::named!(
            p: q,
            source,
            company,
            company_id,
            subscription,
            mrr_min,
            min_score,
            owner,
            tags,
            sort
        )
    }

    fn name(&self) -> String {
        self.full_name()
    }

    const DELETE_NOTE: &'static str = "";

    const MERGE_TEXT: MergeText = MergeText {
        moves: "its tags",
        question: "Which contact is the same person?",
        none_found: "No look-alikes found by email, phone, or name and company.",
        placeholder: "Name or email of the other contact",
    };

    fn hint(&self) -> String {
        let email = self.email.clone().unwrap_or_default();
        match &self.company {
            Some(co) => format!("{email} · {co}"),
            None => email,
        }
    }

    async fn look_alikes(
        state: &AppState,
        user: &CurrentUser,
        c: &Contact,
    ) -> Result<Vec<Contact>, AppError> {
        contacts::merge::likely_duplicates(
            &state.db,
            &user.actor,
            &ContactInput::from(c),
            Some(c.id),
        )
        .await
    }

    async fn called(
        state: &AppState,
        user: &CurrentUser,
        text: &str,
    ) -> Result<Vec<Contact>, AppError> {
        lookalike::called(&state.db, &user.actor, text).await
    }

    async fn billing_shown(state: &AppState) -> Result<bool, AppError> {
        contacts::billing_shown(&state.db).await
    }

    async fn score_shown(state: &AppState) -> Result<bool, AppError> {
        let db = &state.db;
        crate::domain::scoring::train::scoring(db, &db.read, crate::domain::scoring::Kind::Lead)
            .await
    }
}
