//! Single sign-on's pages: Settings → Sign-in (admins), and the two steps of a sign-in:
//! `/login/sso` sends the browser to the provider, `/login/sso/callback` is where it
//! comes back. What the browser must keep in between (state, nonce, PKCE verifier) rides
//! in its encrypted session cookie and is used once.
use crate::web::filters;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::Role;
use crate::domain::sso::config::{self, Shown};
use crate::domain::sso::flow::{self, Pending};
use crate::domain::sso::signin::{self, Admitted, Answer};
use crate::error::{AppError, FieldErrors};
use crate::web::auth::{Can, adopt, client, gate, set_flash};
use crate::web::forms::Form;
use crate::web::pages::login::{asked_for, page as login_page};
use crate::web::pages::{Layout, Refusal, render, safe_next, see_other, two_factor};

/// The session key of a sign-in under way.
const PENDING: &str = "sso_flow";

#[derive(Template)]
#[template(path = "settings/sign_in.html")]
struct SignInPage {
    l: Layout,
    errors: FieldErrors,
    message: Option<String>,
    s: Shown,
    /// The callback URL to register with the provider.
    callback: String,
}

impl SignInPage {
    fn err(&self, field: &str) -> &str {
        self.errors.get(field).map(String::as_str).unwrap_or("")
    }

    /// The roles a new account may get: never admin.
    fn roles(&self) -> Vec<&'static str> {
        Role::ALL
            .into_iter()
            .filter(|r| *r != Role::Admin)
            .map(Role::as_str)
            .collect()
    }
}

fn callback_url(state: &AppState) -> String {
    format!("{}/login/sso/callback", state.config.base_url)
}

async fn settings_page(
    state: &AppState,
    user: &Can<gate::OrgSettings>,
    shown: Option<Shown>,
    error: Option<AppError>,
) -> Result<HttpResponse, AppError> {
    let refusal = Refusal::of(error)?;
    let s = match shown {
        Some(s) => s,
        None => config::shown(&state.db.read).await?,
    };
    render(
        &SignInPage {
            l: Layout::for_user(user, "settings"),
            errors: refusal.fields,
            message: refusal.message,
            s,
            callback: callback_url(state),
        },
        refusal.status,
    )
}

pub async fn index(
    state: web::Data<AppState>,
    user: Can<gate::OrgSettings>,
) -> Result<HttpResponse, AppError> {
    settings_page(&state, &user, None, None).await
}

pub async fn save(
    state: web::Data<AppState>,
    user: Can<gate::OrgSettings>,
    Form(form): Form<config::Form>,
) -> Result<HttpResponse, AppError> {
    match config::save(&state.db, &user.actor, &form).await {
        Ok(()) => {
            set_flash(&user.session, "Sign-in settings saved.");
            Ok(see_other("/settings/sign-in"))
        }
        Err(e) => {
            // The form as typed (never the secret), with what is saved for the rest.
            let saved = config::shown(&state.db.read).await?;
            let typed = Shown {
                issuer_url: form.issuer_url,
                client_id: form.client_id,
                secret_hint: saved.secret_hint,
                label: form.label,
                create_users: form.create_users.is_some(),
                allowed_domains: form.allowed_domains,
                default_role: form.default_role,
                password_admins_only: form.password_admins_only.is_some(),
            };
            settings_page(&state, &user, Some(typed), Some(e)).await
        }
    }
}

#[derive(Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

/// Sends the browser to the provider. A link, not a form: the strict CSP's
/// `form-action 'self'` would stop a form's redirect to another site.
pub async fn start(
    state: web::Data<AppState>,
    session: Session,
    q: web::Query<StartQuery>,
) -> Result<HttpResponse, AppError> {
    let next = asked_for(q.next.as_deref());
    let Some(provider) = config::load(&state.db.read).await?.provider else {
        return refused(
            &state,
            &session,
            next,
            AppError::NotFound("Single sign-on is not set up here.".into()),
        )
        .await;
    };
    match flow::begin(&provider, &callback_url(&state), next.clone()).await {
        Ok((url, pending)) => {
            session
                .insert(PENDING, pending)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            Ok(see_other(&url))
        }
        Err(e @ AppError::Unavailable(_)) => refused(&state, &session, next, e).await,
        Err(e) => Err(e),
    }
}

/// Where the provider sends the browser back: signed in and on to the page it asked
/// for, or the sign-in page saying why not.
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    q: web::Query<Answer>,
) -> Result<HttpResponse, AppError> {
    // Used once, whatever happens next.
    let pending = session.remove_as::<Pending>(PENDING).and_then(Result::ok);
    let next = pending.as_ref().and_then(|p| p.next.clone());
    let client = client(&req, state.config.behind_proxy);
    match signin::complete(&state.db, &client, pending, &q, &callback_url(&state)).await {
        Ok(Admitted::SignedIn(done)) => {
            adopt(&session, &done.secret)?;
            Ok(see_other(&safe_next(done.next.as_deref())))
        }
        Ok(Admitted::SecondStep { secret }) => two_factor::begin_pending(&session, &secret),
        Err(e @ (AppError::Unauthorized(_) | AppError::Forbidden(_))) => {
            refused(&state, &session, next, e).await
        }
        Err(e) => Err(e),
    }
}

/// The sign-in page with why single sign-on did not sign this browser in.
async fn refused(
    state: &AppState,
    session: &Session,
    next: Option<String>,
    e: AppError,
) -> Result<HttpResponse, AppError> {
    let status = match &e {
        AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    login_page(
        state,
        Layout::anonymous(session),
        String::new(),
        next.unwrap_or_default(),
        Some(e.to_string()),
        status,
    )
    .await
}
