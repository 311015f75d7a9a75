//! Settings → Integrations → Stripe (admins only): the webhook's URL and signing secrets
//! (set a new one, the old stays valid until dropped; shown masked), how many deliveries
//! were refused for their signature since this process started, and the events received,
//! newest first, by status, with a Reprocess button (one row swapped by htmx), and how
//! long processed and ignored events are kept.
//! Templates: `settings/stripe.html`, `settings/_stripe_event_row.html`.
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::stripe::events::{self, Listed};
use crate::domain::stripe::{Status, ingest, retention, secrets};
use crate::error::AppError;
use crate::web::auth::{Can, csrf_token, gate, set_flash};
use crate::web::filters;
use crate::web::forms::Form;
use crate::web::htmx::Htmx;
use crate::web::pages::{Layout, ok, see_other};

const HERE: &str = "/settings/integrations/stripe";

#[derive(Template)]
#[template(path = "settings/stripe.html")]
struct StripePage {
    l: Layout,
    csrf: String,
    url: String,
    secrets: secrets::Shown,
    rejected: u64,
    retention_days: i64,
    show: String,
    counts: Vec<(&'static str, u64)>,
    rows: Vec<Listed>,
    next: Option<i64>,
}

impl StripePage {
    fn next_link(&self, before: &i64) -> String {
        match self.show.as_str() {
            "" => format!("{HERE}?before={before}"),
            s => format!("{HERE}?status={s}&before={before}"),
        }
    }
}

/// One row, the answer to an htmx Reprocess.
#[derive(Template)]
#[template(path = "settings/_stripe_event_row.html")]
struct EventRow {
    e: Listed,
    csrf: String,
}

#[derive(Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    before: Option<String>,
}

pub async fn stripe(
    state: web::Data<AppState>,
    user: Can<gate::Integrations>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            AppError::field(
                "status",
                "status is received, processed, ignored, failed or dead.",
            )
        })?),
    };
    let before = match q.before.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(b) => Some(
            b.parse::<i64>()
                .map_err(|_| AppError::field("before", "before must be an event number."))?,
        ),
    };
    let db = &state.db;
    let (rows, next) = events::list(db, &user.actor, status, before).await?;
    let mut counts = Vec::new();
    for s in Status::ALL {
        counts.push((s.as_str(), events::count(db, s).await?));
    }
    ok(&StripePage {
        l: Layout::for_user(&user, "settings"),
        csrf: csrf_token(&user.session),
        url: format!("{}/webhooks/stripe", state.config.base_url),
        secrets: secrets::shown(db, &user.actor, state.config.stripe_secret.as_ref()).await?,
        rejected: ingest::rejected(),
        retention_days: retention::days(&db.read).await?,
        show: status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        counts,
        rows,
        next,
    })
}

#[derive(Deserialize)]
pub struct SecretForm {
    #[serde(default)]
    secret: String,
}

pub async fn rotate(
    state: web::Data<AppState>,
    user: Can<gate::Integrations>,
    Form(form): Form<SecretForm>,
) -> Result<HttpResponse, AppError> {
    secrets::rotate(&state.db, &user.actor, &form.secret).await?;
    set_flash(
        &user.session,
        "Signing secret saved; the one it replaces still verifies until you drop it.",
    );
    Ok(see_other(HERE))
}

pub async fn drop_previous(
    state: web::Data<AppState>,
    user: Can<gate::Integrations>,
) -> Result<HttpResponse, AppError> {
    secrets::drop_previous(&state.db, &user.actor).await?;
    set_flash(
        &user.session,
        "The previous signing secret no longer verifies.",
    );
    Ok(see_other(HERE))
}

#[derive(Deserialize)]
pub struct RetentionForm {
    #[serde(default)]
    retention_days: String,
}

pub async fn set_retention(
    state: web::Data<AppState>,
    user: Can<gate::Integrations>,
    Form(form): Form<RetentionForm>,
) -> Result<HttpResponse, AppError> {
    let days = retention::set_days(&state.db, &user.actor, &form.retention_days).await?;
    let kept = match days {
        0 => "forever".to_string(),
        1 => "for 1 day".to_string(),
        n => format!("for {n} days"),
    };
    set_flash(
        &user.session,
        format!("Processed and ignored events are kept {kept}."),
    );
    Ok(see_other(HERE))
}

pub async fn reprocess(
    state: web::Data<AppState>,
    user: Can<gate::Integrations>,
    id: web::Path<i64>,
    htmx: Htmx,
) -> Result<HttpResponse, AppError> {
    let e = events::reprocess(&state.db, &user.actor, *id).await?;
    if htmx.fragment {
        return ok(&EventRow {
            e,
            csrf: csrf_token(&user.session),
        });
    }
    set_flash(
        &user.session,
        format!("Event {} is queued again.", e.event_id),
    );
    Ok(see_other(HERE))
}
