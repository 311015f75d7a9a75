//! Settings → Email (admins): the SMTP server and From (and which applies, the
//! environment's or the form's), "send me a test email", and the outbox.
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::{Page, paging};
use crate::entities::outbox as row;
use crate::error::{AppError, FieldErrors};
use crate::mail::outbox::{self, State};
use crate::mail::settings::{self, Effective, Source, Stored};
use crate::web::auth::{Can, gate, set_flash};
use crate::web::filters;
use crate::web::forms::Form;
use crate::web::htmx::Htmx;
use crate::web::pages::{
    FieldMessages, Layout, Refusal, field_messages, list_query, ok, render, see_other,
};

const PER_PAGE: u64 = 25;

#[derive(Template)]
#[template(path = "settings/email.html")]
struct EmailPage {
    l: Layout,
    errors: FieldErrors,
    message: Option<String>,
    eff: Effective,
    stored: Stored,
    /// The outbox filter: "" for all, or a state.
    show: String,
    counts: Vec<(&'static str, u64)>,
    page: Page<row::Model>,
}

field_messages!(EmailPage);

impl EmailPage {
    fn is_env(&self, s: &Source) -> bool {
        *s == Source::Env
    }

    fn smtp_shown(&self) -> String {
        self.eff
            .smtp
            .as_ref()
            .map(|s| s.shown())
            .unwrap_or_default()
    }

    fn held(&self) -> u64 {
        self.counts
            .iter()
            .find(|(s, _)| *s == State::Held.as_str())
            .map_or(0, |(_, n)| *n)
    }

    fn page_link(&self, n: u64) -> String {
        format!(
            "/settings/email?{}#outbox",
            list_query(&[("state", &self.show)], n)
        )
    }
}

#[derive(Template)]
#[template(path = "settings/_email_test.html")]
struct TestResult {
    to: String,
    result: Result<String, String>,
}

#[derive(Template)]
#[template(path = "settings/outbox_show.html")]
struct OutboxShow {
    l: Layout,
    m: row::Model,
}

impl OutboxShow {
    fn when(&self, t: &Option<DateTime<Utc>>) -> String {
        t.map(|t| t.to_rfc3339()).unwrap_or_default()
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    page: Option<String>,
}

async fn page(
    state: &AppState,
    user: &Can<gate::EmailSettings>,
    q: &ListQuery,
    error: Option<AppError>,
) -> Result<HttpResponse, AppError> {
    let refusal = Refusal::of(error)?;
    let mut fields = FieldErrors::new();
    let (n, _) = paging(&q.page, &None, PER_PAGE, &mut fields);
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let show = match q.state.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(State::parse(s).ok_or_else(|| {
            AppError::field("state", "state is one of queued, sent, failed, held.")
        })?),
    };
    let db = &state.db.read;
    let mut counts = Vec::new();
    for s in State::ALL {
        counts.push((s.as_str(), outbox::count(db, s).await?));
    }
    render(
        &EmailPage {
            l: Layout::for_user(user, "settings"),
            errors: refusal.fields,
            message: refusal.message,
            eff: settings::effective(db, &state.config.mail).await?,
            stored: settings::stored(db).await?,
            show: show.map(|s| s.as_str().to_string()).unwrap_or_default(),
            counts,
            page: outbox::list(db, show, n, PER_PAGE).await?,
        },
        refusal.status,
    )
}

pub async fn index(
    state: web::Data<AppState>,
    user: Can<gate::EmailSettings>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    page(&state, &user, &q, None).await
}

pub async fn save(
    state: web::Data<AppState>,
    user: Can<gate::EmailSettings>,
    Form(form): Form<settings::Form>,
) -> Result<HttpResponse, AppError> {
    match settings::save(&state.db, &user.actor, &form).await {
        Ok(()) => {
            set_flash(&user.session, "Email settings saved.");
            Ok(see_other("/settings/email"))
        }
        Err(e) => {
            let q = ListQuery {
                state: None,
                page: None,
            };
            page(&state, &user, &q, Some(e)).await
        }
    }
}

/// Sends at once and answers with the server's reply or error (an htmx fragment, or the
/// page with it as a flash message).
pub async fn test(
    state: web::Data<AppState>,
    user: Can<gate::EmailSettings>,
    htmx: Htmx,
) -> Result<HttpResponse, AppError> {
    let outcome = crate::mail::test::send(&state.db, &state.config.mail, &user.actor).await?;
    let answer = TestResult {
        to: outcome.to,
        result: outcome.result,
    };
    if htmx.fragment {
        return ok(&answer);
    }
    let line = match &answer.result {
        Ok(r) => format!("Test email sent to {}. The server answered: {r}", answer.to),
        Err(e) => format!("The test email to {} was not sent: {e}", answer.to),
    };
    set_flash(&user.session, line);
    Ok(see_other("/settings/email"))
}

pub async fn show(
    state: web::Data<AppState>,
    user: Can<gate::EmailSettings>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let m = outbox::get(&state.db.read, *id).await?;
    ok(&OutboxShow {
        l: Layout::for_user(&user, "settings"),
        m,
    })
}

pub async fn release_held(
    state: web::Data<AppState>,
    user: Can<gate::EmailSettings>,
) -> Result<HttpResponse, AppError> {
    let n = outbox::release_held(&state.db, &user.actor).await?;
    let plural = if n == 1 { "" } else { "s" };
    set_flash(
        &user.session,
        format!("{n} held email{plural} queued to be sent."),
    );
    Ok(see_other("/settings/email"))
}
