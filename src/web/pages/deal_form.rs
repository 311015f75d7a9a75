//! The deal form (`/deals/new`, `/deals/{id}/edit`): adding and editing a deal, with the
//! company and contact pickers' suggestions. The form speaks in major units ("1,250.50");
//! the domain in minor ones.
use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::deals::{self, CURRENCIES, ContactRef, Deal, DealInput, DealPatch, Pipeline};
use crate::domain::{Action, companies, contacts, pick, users};
use crate::error::{AppError, FieldErrors};
use crate::web::auth::{CurrentUser, set_flash};
use crate::web::filters;
use crate::web::forms::Form;
use crate::web::pages::{
    FieldMessages, Layout, Refusal, custom, field_messages, ok, render, see_other,
};

#[derive(Deserialize, Default)]
pub struct DealForm {
    #[serde(default)]
    title: String,
    /// In major units, e.g. 1250.50.
    #[serde(default)]
    amount: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    stage_id: String,
    #[serde(default)]
    expected_close: String,
    #[serde(default)]
    owner_id: String,
    /// The company's name, typed or chosen from the suggestions.
    #[serde(default)]
    company: String,
    /// Linked contacts left ticked.
    #[serde(default)]
    contact_ids: Vec<String>,
    /// A contact to link: a suggestion ("Ann Lee (#42)"), an email or a full name.
    #[serde(default)]
    add_contact: String,
    #[serde(default)]
    source: String,
    /// 0–100; empty follows the stage.
    #[serde(default)]
    probability: String,
    /// The version an edit was made from.
    #[serde(default)]
    version: String,
    /// The record page a new deal was started from, to go back to once it is added.
    #[serde(default)]
    return_to: String,
    /// Custom field values, read from the `cf.<key>` inputs by `read_form`.
    #[serde(skip)]
    custom: BTreeMap<String, serde_json::Value>,
}

/// The posted form: the fixed fields, then the custom ones.
async fn read_form(state: &AppState, pairs: &[(String, String)]) -> Result<DealForm, AppError> {
    let mut form: DealForm = custom::fixed(pairs)?;
    form.custom = custom::from_pairs(state, "deal", pairs).await?;
    Ok(form)
}

impl DealForm {
    /// Where to go after adding: back to the contact or company the deal was started
    /// from, else the board. Only those record pages, never an address from elsewhere.
    fn after_create(&self) -> String {
        crate::web::pages::record_page(&self.return_to)
            .unwrap_or("/deals")
            .to_string()
    }
}

async fn resolve(
    state: &AppState,
    user: &CurrentUser,
    form: &DealForm,
) -> Result<pick::Picked, AppError> {
    let keep: Vec<i64> = form
        .contact_ids
        .iter()
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    pick::resolve(
        &state.db,
        &user.actor,
        &form.company,
        &keep,
        &form.add_contact,
    )
    .await
}

fn probability_of(text: &str) -> serde_json::Value {
    let t = text.trim().trim_end_matches('%').trim();
    match t.parse::<i64>() {
        _ if t.is_empty() => serde_json::Value::Null,
        Ok(n) => serde_json::Value::from(n),
        Err(_) => serde_json::Value::from(t),
    }
}

/// "1,250.50" in USD → 125050 minor units (yen have none: "1,250" → 1250); None when
/// it is not an amount.
fn to_minor(text: &str, currency: &str) -> Option<i64> {
    let t = text.trim().replace([',', ' '], "");
    if t.is_empty() {
        return Some(0);
    }
    let places = deals::decimals(currency.trim()) as usize;
    let (units, fraction) = match t.split_once('.') {
        Some((u, f)) if f.len() <= places && f.chars().all(|ch| ch.is_ascii_digit()) => {
            (u, format!("{f:0<places$}"))
        }
        // "5000.00" after switching a deal to yen is still five thousand.
        Some((u, f)) if places == 0 && f.chars().all(|ch| ch == '0') => (u, String::new()),
        None => (t.as_str(), "0".repeat(places)),
        _ => return None,
    };
    let units: i64 = units.parse().ok()?;
    let fraction: i64 = if places == 0 {
        0
    } else {
        fraction.parse().ok()?
    };
    units
        .checked_mul(10i64.pow(places as u32))?
        .checked_add(fraction)
}

/// The form speaks in major units; the domain's amount message is about minor ones.
fn in_form_units(e: AppError, currency: &str) -> AppError {
    match e {
        AppError::Validation {
            message,
            mut fields,
        } => {
            if fields.contains_key("amount") {
                let currency = currency.trim().to_uppercase();
                let most = deals::money(deals::MAX_AMOUNT, &currency);
                let text = if deals::decimals(&currency) == 0 {
                    format!(
                        "Amount is a whole number such as 1250 ({currency} has no decimals), at most {most}."
                    )
                } else {
                    format!("Amount is a number such as 1250 or 1,250.50, at most {most}.")
                };
                fields.insert("amount".into(), text);
            }
            let message = if fields.len() == 1 {
                fields.values().next().cloned().unwrap_or(message)
            } else {
                message
            };
            AppError::Validation { message, fields }
        }
        other => other,
    }
}

#[derive(Template)]
#[template(path = "deals/form.html")]
struct FormPage {
    l: Layout,
    /// Where the form posts: `/deals` to add, `/deals/{id}` to edit.
    action: String,
    /// The deal being edited, as it is now when a colleague's change got in first.
    theirs: Option<Deal>,
    editing: bool,
    v: DealForm,
    /// Every pipeline, for the stage picker of a new deal.
    pipelines: Vec<Pipeline>,
    owners: Vec<users::Person>,
    /// The contacts ticked in the form, with their names.
    linked: Vec<ContactRef>,
    errors: FieldErrors,
    message: Option<String>,
    /// The deal fields admins defined, with the form's values (`_custom_inputs.html`).
    cf: custom::Inputs,
}

field_messages!(FormPage);

impl FormPage {
    fn currencies(&self) -> [&'static str; 40] {
        CURRENCIES
    }
    /// Where "← Back" and Cancel go: the deal being edited, the contact or company page a
    /// new deal was started from, or the board.
    fn back(&self) -> String {
        if self.editing {
            return self.action.clone();
        }
        crate::web::pages::record_page(&self.v.return_to)
            .unwrap_or("/deals")
            .to_string()
    }
}

async fn form_page(
    state: &AppState,
    user: &CurrentUser,
    v: DealForm,
    error: Option<AppError>,
) -> Result<HttpResponse, AppError> {
    edit_page(state, user, None, v, error).await
}

/// The deal form, to add (`editing` None) or to edit a deal. A conflict shows the deal
/// as it is now beside what the user tried, and the next save starts from that version.
async fn edit_page(
    state: &AppState,
    user: &CurrentUser,
    editing: Option<i64>,
    mut v: DealForm,
    error: Option<AppError>,
) -> Result<HttpResponse, AppError> {
    let mut theirs = None;
    let Refusal {
        status,
        mut message,
        fields: errors,
    } = Refusal::of(error)?;
    if let (StatusCode::CONFLICT, Some(id)) = (status, editing) {
        let now = deals::get(&state.db, &user.actor, id).await?;
        v.version = now.version.to_string();
        theirs = Some(now);
        message = message.map(|m| {
            format!(
                "{m} Their version is shown above; your changes are still in the form. Save again to replace theirs."
            )
        });
    }
    let pipelines = deals::pipelines(&state.db.read).await?;
    let ids: Vec<i64> = v
        .contact_ids
        .iter()
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    let linked = pick::contact_refs(&state.db, &user.actor, &ids).await?;
    let owners = users::owner_choices(&state.db, v.owner_id.parse().ok()).await?;
    let cf = custom::Inputs::load(state, "deal", v.custom.clone(), &errors).await?;
    render(
        &FormPage {
            cf,
            l: Layout::for_user(user, "deals"),
            linked,
            action: editing.map_or("/deals".to_string(), |id| format!("/deals/{id}")),
            theirs,
            editing: editing.is_some(),
            v,
            pipelines,
            owners,
            errors,
            message,
        },
        status,
    )
}

#[derive(Deserialize)]
pub struct NewQuery {
    /// The board's pipeline: the form starts in its first stage.
    pipeline: Option<i64>,
    /// A contact's page: the deal starts linked to the contact and their company.
    contact: Option<i64>,
    /// A company's page: the deal starts with that company.
    company: Option<i64>,
}

pub async fn new(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<NewQuery>,
) -> Result<HttpResponse, AppError> {
    user.actor.require(Action::WriteRecords)?;
    let stage_id = match q.pipeline {
        Some(id) => deals::pipelines(&state.db.read)
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .and_then(|p| p.stages.into_iter().find(|s| s.kind == "open"))
            .map(|s| s.id.to_string())
            .unwrap_or_default(),
        None => String::new(),
    };
    let mut v = DealForm {
        currency: deals::org_currency(&state.db).await?,
        owner_id: user.actor.id.to_string(),
        stage_id,
        ..Default::default()
    };
    prefill_from_record(&state, &user, &q, &mut v).await?;
    form_page(&state, &user, v, None).await
}

/// A deal started from a contact's or a company's page links them, so nobody types
/// the contact again; "Name (#id)" is how the company picker names a chosen company.
async fn prefill_from_record(
    state: &AppState,
    user: &CurrentUser,
    q: &NewQuery,
    v: &mut DealForm,
) -> Result<(), AppError> {
    if let Some(id) = q.contact {
        let c = contacts::get(&state.db, &user.actor, id).await?;
        if let (Some(cid), Some(name)) = (c.company_id, &c.company) {
            v.company = format!("{name} (#{cid})");
        }
        v.contact_ids = vec![c.id.to_string()];
        v.return_to = format!("/contacts/{}", c.id);
    } else if let Some(id) = q.company {
        let c = companies::get(&state.db, &user.actor, id).await?;
        v.company = format!("{} (#{})", c.name, c.id);
        v.return_to = format!("/companies/{}", c.id);
    }
    Ok(())
}

pub async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let form = read_form(&state, &pairs).await?;
    let amount = match to_minor(&form.amount, &form.currency) {
        Some(a) => serde_json::Value::from(a),
        None => serde_json::Value::from(form.amount.clone()),
    };
    let picked = resolve(&state, &user, &form).await;
    let probability = probability_of(&form.probability);
    let input = DealInput {
        title: form.title.clone(),
        stage_id: form.stage_id.parse().ok(),
        amount: Some(amount),
        currency: Some(form.currency.clone()),
        expected_close: Some(form.expected_close.clone()),
        owner_id: form.owner_id.parse().ok(),
        company_id: picked.as_ref().ok().and_then(|p| p.company_id),
        contact_ids: picked.as_ref().ok().map(|p| p.contact_ids.clone()),
        source: Some(form.source.clone()),
        probability: (!probability.is_null()).then_some(probability),
        custom_fields: Some(form.custom.clone()),
        ..Default::default()
    };
    if let Err(e) = picked {
        // A picker that names nothing is said together with every other field's problem,
        // so the form is not refused twice over.
        let e = match (e, deals::check_new(&state.db, &user.actor, &input).await) {
            (
                AppError::Validation { fields, .. },
                Err(AppError::Validation { fields: more, .. }),
            ) => {
                let mut all = more;
                all.extend(fields);
                AppError::validation(all)
            }
            (e, _) => e,
        };
        let e = in_form_units(e, &form.currency);
        return form_page(&state, &user, form, Some(e)).await;
    }
    match deals::create(&state.db, &user.actor, &input).await {
        Ok(d) => {
            set_flash(&user.session, format!("{} was added.", d.title));
            Ok(see_other(&form.after_create()))
        }
        Err(e) => {
            let e = in_form_units(e, &form.currency);
            form_page(&state, &user, form, Some(e)).await
        }
    }
}

fn major(minor: i64, currency: &str) -> String {
    match deals::decimals(currency) {
        0 => minor.to_string(),
        _ => format!("{}.{:02}", minor / 100, minor.abs() % 100),
    }
}

pub async fn edit(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    user.actor.require(Action::WriteRecords)?;
    let d = deals::get(&state.db, &user.actor, *id).await?;
    let v = DealForm {
        title: d.title.clone(),
        amount: major(d.amount, &d.currency),
        currency: d.currency.clone(),
        stage_id: d.stage_id.to_string(),
        expected_close: d.expected_close.clone().unwrap_or_default(),
        owner_id: d.owner_id.to_string(),
        company: d.company_in_form(),
        contact_ids: d.contacts.iter().map(|c| c.id.to_string()).collect(),
        add_contact: String::new(),
        source: d.source.clone(),
        probability: d
            .probability_override
            .map(|p| p.to_string())
            .unwrap_or_default(),
        version: d.version.to_string(),
        return_to: String::new(),
        custom: d.custom_fields.clone(),
    };
    edit_page(&state, &user, Some(d.id), v, None).await
}

pub async fn update(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let form = read_form(&state, &pairs).await?;
    let amount = match to_minor(&form.amount, &form.currency) {
        Some(a) => serde_json::Value::from(a),
        None => serde_json::Value::from(form.amount.clone()),
    };
    let close = form.expected_close.trim();
    let picked = match resolve(&state, &user, &form).await {
        Ok(p) => p,
        Err(e) => return edit_page(&state, &user, Some(*id), form, Some(e)).await,
    };
    let patch = DealPatch {
        version: Some(form.version.trim().parse().map_err(|_| {
            AppError::field("version", "The form lost its version; reload the deal.")
        })?),
        title: Some(form.title.clone()),
        amount: Some(amount),
        currency: Some(form.currency.clone()),
        expected_close: Some((!close.is_empty()).then(|| close.to_string())),
        owner_id: form.owner_id.parse().ok(),
        company_id: Some(picked.company_id),
        contact_ids: Some(picked.contact_ids),
        source: Some(form.source.clone()),
        probability: Some(probability_of(&form.probability)),
        custom_fields: Some(form.custom.clone()),
        ..Default::default()
    };
    match deals::update(&state.db, &user.actor, *id, patch).await {
        Ok(d) => {
            set_flash(&user.session, format!("{} was saved.", d.title));
            Ok(see_other(&format!("/deals/{}", d.id)))
        }
        Err(e) => {
            let e = in_form_units(e, &form.currency);
            edit_page(&state, &user, Some(*id), form, Some(e)).await
        }
    }
}

#[derive(Template)]
#[template(path = "deals/_options.html")]
struct Options {
    suggestions: Vec<pick::Suggestion>,
}

#[derive(Deserialize)]
pub struct OptionsQuery {
    company: Option<String>,
    add_contact: Option<String>,
}

/// Suggestions for the form's company and contact pickers (a `<datalist>`'s options).
pub async fn options(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<OptionsQuery>,
) -> Result<HttpResponse, AppError> {
    let (kind, text) = match (&q.company, &q.add_contact) {
        (Some(t), _) => ("company", t.as_str()),
        (_, Some(t)) => ("contact", t.as_str()),
        _ => ("contact", ""),
    };
    ok(&Options {
        suggestions: pick::suggest(&state.db, &user.actor, kind, text).await?,
    })
}
