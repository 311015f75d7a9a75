//! Settings → Webhooks (admins only): the endpoints (`templates/settings/webhooks.html`),
//! a new one (`webhook_new.html`, its secret shown once after), one endpoint with its
//! form, actions and delivery log (`webhook.html`), and Redeliver, which answers htmx
//! with the log's row (`_delivery_row.html`).
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::webhooks::EventType;
use crate::domain::webhooks::endpoints::{self, Endpoint, EndpointInput};
use crate::domain::{Page, paging};
use crate::entities::webhook_delivery;
use crate::error::{AppError, FieldErrors};
use crate::web::auth::{Can, CurrentUser, csrf_token, gate, set_flash};
use crate::web::filters;
use crate::web::forms::Form;
use crate::web::htmx::Htmx;
use crate::web::pages::{
    FieldMessages, Layout, Refusal, field_messages, list_query, ok, render, see_other,
};

/// A checkbox of the event types.
pub struct EventBox {
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

fn boxes(chosen: &[String]) -> Vec<EventBox> {
    EventType::ALL
        .iter()
        .map(|t| EventBox {
            value: t.as_str(),
            label: t.label(),
            checked: chosen.iter().any(|c| c == t.as_str()),
        })
        .collect()
}

/// A delivery as the log shows it.
pub struct DeliveryView {
    pub id: i64,
    pub event_type: String,
    pub event_id: String,
    pub status: String,
    pub attempts: i32,
    pub status_code: Option<i32>,
    pub latency_ms: Option<i64>,
    pub excerpt: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<webhook_delivery::Model> for DeliveryView {
    fn from(d: webhook_delivery::Model) -> DeliveryView {
        DeliveryView {
            id: d.id,
            event_type: d.event_type,
            event_id: d.event_id,
            status: d.status,
            attempts: d.attempts,
            status_code: d.status_code,
            latency_ms: d.latency_ms,
            excerpt: d.response_excerpt,
            error: d.error,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
        }
    }
}

#[derive(Template)]
#[template(path = "settings/webhooks.html")]
struct ListPage {
    l: Layout,
    endpoints: Vec<Endpoint>,
}

#[derive(Template)]
#[template(path = "settings/webhook_new.html")]
struct NewPage {
    l: Layout,
    url: String,
    kind: String,
    events: Vec<EventBox>,
    errors: FieldErrors,
    message: Option<String>,
}

#[derive(Template)]
#[template(path = "settings/webhook.html")]
struct ShowPage {
    l: Layout,
    e: Endpoint,
    /// The secret in full, right after the endpoint was made (never again).
    new_secret: Option<String>,
    url: String,
    kind: String,
    events: Vec<EventBox>,
    log: Page<DeliveryView>,
    errors: FieldErrors,
    message: Option<String>,
}

field_messages!(NewPage, ShowPage);

impl ShowPage {
    fn page_link(&self, n: u64) -> String {
        format!("/settings/webhooks/{}?{}", self.e.id, list_query(&[], n))
    }
}

#[derive(Template)]
#[template(path = "settings/_delivery_row.html")]
struct DeliveryRow {
    d: DeliveryView,
    csrf: String,
    active: bool,
}

#[derive(Deserialize)]
pub struct EndpointForm {
    #[serde(default)]
    url: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    events: Vec<String>,
}

impl EndpointForm {
    fn input(&self) -> EndpointInput {
        EndpointInput {
            url: self.url.clone(),
            kind: self.kind.clone(),
            events: self.events.clone(),
        }
    }
}

#[derive(Deserialize)]
pub struct LogQuery {
    page: Option<String>,
}

pub async fn index(
    state: web::Data<AppState>,
    user: Can<gate::Webhooks>,
) -> Result<HttpResponse, AppError> {
    ok(&ListPage {
        l: Layout::for_user(&user, "settings"),
        endpoints: endpoints::list(&state.db, &user.actor).await?,
    })
}

pub async fn new(user: Can<gate::Webhooks>) -> Result<HttpResponse, AppError> {
    new_page(
        &user,
        &EndpointForm {
            url: String::new(),
            kind: String::new(),
            events: vec![],
        },
        None,
    )
}

fn new_page(
    user: &CurrentUser,
    form: &EndpointForm,
    error: Option<AppError>,
) -> Result<HttpResponse, AppError> {
    let Refusal {
        status,
        message,
        fields: errors,
    } = Refusal::of(error)?;
    render(
        &NewPage {
            l: Layout::for_user(user, "settings"),
            url: form.url.clone(),
            kind: form.kind.clone(),
            events: boxes(&form.events),
            errors,
            message,
        },
        status,
    )
}

pub async fn create(
    state: web::Data<AppState>,
    user: Can<gate::Webhooks>,
    Form(form): Form<EndpointForm>,
) -> Result<HttpResponse, AppError> {
    match endpoints::create(&state.db, &user.actor, &form.input()).await {
        Ok((e, secret)) => show_page(&state, &user, e, Some(secret), None, None, 1).await,
        Err(e) => new_page(&user, &form, Some(e)),
    }
}

/// The endpoint's page; `form` is what was sent when a change was refused.
async fn show_page(
    state: &AppState,
    user: &CurrentUser,
    e: Endpoint,
    new_secret: Option<String>,
    form: Option<&EndpointForm>,
    error: Option<AppError>,
    page: u64,
) -> Result<HttpResponse, AppError> {
    let Refusal {
        status,
        message,
        fields: errors,
    } = Refusal::of(error)?;
    let found = endpoints::deliveries(&state.db, &user.actor, e.id, page).await?;
    let log = Page {
        total: found.total,
        total_is_estimate: false,
        page: found.page,
        per_page: found.per_page,
        items: found.items.into_iter().map(DeliveryView::from).collect(),
    };
    let (url, kind, chosen) = match form {
        Some(f) => (f.url.clone(), f.kind.clone(), f.events.clone()),
        None => (e.url.clone(), e.kind.clone(), e.events.clone()),
    };
    render(
        &ShowPage {
            l: Layout::for_user(user, "settings"),
            e,
            new_secret,
            url,
            kind,
            events: boxes(&chosen),
            log,
            errors,
            message,
        },
        status,
    )
}

pub async fn show(
    state: web::Data<AppState>,
    user: Can<gate::Webhooks>,
    id: web::Path<i64>,
    q: web::Query<LogQuery>,
) -> Result<HttpResponse, AppError> {
    let mut fields = FieldErrors::new();
    let (page, _) = paging(&q.page, &None, endpoints::LOG_PAGE, &mut fields);
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let e = endpoints::get(&state.db, &user.actor, *id).await?;
    show_page(&state, &user, e, None, None, None, page).await
}

pub async fn update(
    state: web::Data<AppState>,
    user: Can<gate::Webhooks>,
    id: web::Path<i64>,
    Form(form): Form<EndpointForm>,
) -> Result<HttpResponse, AppError> {
    match endpoints::update(&state.db, &user.actor, *id, &form.input()).await {
        Ok(_) => {
            set_flash(&user.session, "The endpoint was saved.");
            Ok(see_other(&format!("/settings/webhooks/{}", *id)))
        }
        Err(err) => {
            let e = endpoints::get(&state.db, &user.actor, *id).await?;
            show_page(&state, &user, e, None, Some(&form), Some(err), 1).await
        }
    }
}

pub async fn delete(
    state: web::Data<AppState>,
    user: Can<gate::Webhooks>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    endpoints::delete(&state.db, &user.actor, *id).await?;
    set_flash(
        &user.session,
        "The endpoint and its delivery log were removed.",
    );
    Ok(see_other("/settings/webhooks"))
}

pub async fn enable(
    state: web::Data<AppState>,
    user: Can<gate::Webhooks>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    endpoints::enable(&state.db, &user.actor, *id).await?;
    set_flash(
        &user.session,
        "The endpoint is enabled again. Redeliver what it missed from its log.",
    );
    Ok(see_other(&format!("/settings/webhooks/{}", *id)))
}

pub async fn test(
    state: web::Data<AppState>,
    user: Can<gate::Webhooks>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    endpoints::send_test(&state.db, &user.actor, *id).await?;
    set_flash(
        &user.session,
        "A test event is on its way; its delivery shows in the log below.",
    );
    Ok(see_other(&format!("/settings/webhooks/{}", *id)))
}

pub async fn redeliver(
    state: web::Data<AppState>,
    user: Can<gate::Webhooks>,
    id: web::Path<i64>,
    htmx: Htmx,
) -> Result<HttpResponse, AppError> {
    let d = endpoints::redeliver(&state.db, &user.actor, *id).await?;
    if htmx.fragment {
        return ok(&DeliveryRow {
            d: d.into(),
            csrf: csrf_token(&user.session),
            active: true,
        });
    }
    let endpoint = d.endpoint_id;
    set_flash(&user.session, format!("Delivery {} is queued again.", d.id));
    Ok(see_other(&format!("/settings/webhooks/{endpoint}")))
}
