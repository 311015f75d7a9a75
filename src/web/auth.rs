//! Who is asking: the session user for pages, the bearer token's user for the API (which
//! takes no cookies), and the CSRF check for every state-changing browser request.
use actix_session::{Session, SessionExt};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use futures_util::future::LocalBoxFuture;

use crate::app::AppState;
use crate::domain::Db;
use crate::domain::{Action, Actor, constant_time_eq, random_bytes, sessions, tokens};
use crate::error::AppError;
use std::marker::PhantomData;

/// The session's secret; its hash names the `sessions` row.
const SID: &str = "sid";
const CSRF: &str = "csrf";
const FLASH: &str = "flash";
pub const CSRF_FIELD: &str = "_csrf";
pub const CSRF_HEADER: &str = "X-CSRF-Token";

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal("application state missing".into()))
}

/// The signed-in user of a page request.
#[derive(Clone)]
pub struct CurrentUser {
    pub actor: Actor,
    /// The `sessions` row this request came in on.
    pub session_id: i64,
    pub session: Session,
    /// The user's time zone: task dues are typed and shown in it, My tasks groups by it.
    pub tz: chrono_tz::Tz,
    /// The user's overdue tasks, for the navigation's badge; counted only for requests
    /// that draw the navigation (not for htmx fragments).
    pub overdue: u64,
    /// The organisation's name for the header, read (cached) with the badge.
    pub org: Option<String>,
}

/// Who a page request was for, left in the request's extensions for the error page.
#[derive(Clone)]
pub struct SignedIn {
    pub actor: Actor,
    pub csrf: String,
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<CurrentUser, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Already looked up by `writers_only` for this request.
        if let Some(user) = req.extensions().get::<CurrentUser>() {
            let user = user.clone();
            return Box::pin(async move { Ok(user) });
        }
        let session = req.get_session();
        let state = state(req);
        let req = req.clone();
        Box::pin(async move {
            let state = state?;
            let signed_out = || AppError::Unauthorized("Please sign in.".into());
            let secret = session
                .get::<String>(SID)
                .ok()
                .flatten()
                .ok_or_else(signed_out)?;
            match sessions::find(&state.db, &secret).await? {
                Some(live) => {
                    // The address rides on the actor, so every write's audit row has it.
                    let mut actor = live.actor();
                    actor.ip = Some(client_ip(&req, state.config.behind_proxy));
                    let tz = crate::domain::tasks::due::zone(&live.time_zone);
                    let (overdue, org) = if draws_navigation(&req) {
                        let now = crate::domain::now();
                        let overdue =
                            crate::domain::tasks::overdue_count(&state.db, &actor, tz, now).await?;
                        let org = crate::domain::organisation::cached(&state.db).await?;
                        (overdue, Some(org.name.clone()))
                    } else {
                        (0, None)
                    };
                    // An error page drawn after the handler keeps this user's header.
                    req.extensions_mut().insert(SignedIn {
                        actor: actor.clone(),
                        csrf: csrf_token(&session),
                    });
                    Ok(CurrentUser {
                        actor,
                        session_id: live.session_id,
                        session,
                        tz,
                        overdue,
                        org,
                    })
                }
                None => {
                    // Signed out elsewhere, expired, ended by a password change, or the
                    // user was deactivated.
                    session.purge();
                    Err(signed_out())
                }
            }
        })
    }
}

/// Whether the answer is a whole page with the navigation: a plain or boosted GET (an
/// htmx fragment or a form post draws none).
fn draws_navigation(req: &HttpRequest) -> bool {
    let header = |name: &str| req.headers().contains_key(name);
    req.method() == Method::GET && (!header("HX-Request") || header("HX-Boosted"))
}

/// A signed-in user whose role may do `G::ACTION` (the table in `domain::permissions`):
/// the role is checked while the request is read, before its form, so someone else gets
/// 403 whatever they sent (settings pages).
pub struct Can<G: Gate>(pub CurrentUser, PhantomData<G>);

/// Names the action a `Can` guard checks.
pub trait Gate {
    const ACTION: Action;
}

/// One marker type per action a page guard checks, named after it.
pub mod gate {
    use super::{Action, Gate};

    macro_rules! gates {
        ($($name:ident),+) => {$(
            pub struct $name;
            impl Gate for $name {
                const ACTION: Action = Action::$name;
            }
        )+};
    }
    gates!(
        ManageTags,
        RestoreTrash,
        PurgeTrash,
        ManagePipelines,
        ManageFields,
        ManageUsers,
        OrgSettings,
        ManageTokens,
        AuditLog,
        Jobs,
        EmailSettings,
        Webhooks,
        Onboarding,
        ManageForms,
        Integrations,
        PersonalData,
        Backups,
        ExportWorkspace,
        Scoring,
        Monitoring
    );
}

impl<G: Gate + 'static> FromRequest for Can<G> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Can<G>, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = CurrentUser::from_request(req, payload);
        Box::pin(async move {
            let user = user.await?;
            user.actor.require(G::ACTION)?;
            Ok(Can(user, PhantomData))
        })
    }
}

impl<G: Gate> std::ops::Deref for Can<G> {
    type Target = CurrentUser;
    fn deref(&self) -> &CurrentUser {
        &self.0
    }
}

/// The user behind `Authorization: Bearer <token>`, put in place by `api_auth`.
pub struct ApiUser(pub Actor);

impl FromRequest for ApiUser {
    type Error = AppError;
    type Future = std::future::Ready<Result<ApiUser, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<Actor>()
                .cloned()
                .map(ApiUser)
                .ok_or_else(|| AppError::Unauthorized("Send an API token.".into())),
        )
    }
}

/// Authenticates every `/api/v1` request before anything else looks at it, so a bad token
/// gets 401 whatever else is wrong with the request, and no body is read for a stranger.
pub async fn api_auth(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string());
    let result = match (state(req.request()), token) {
        (Err(e), _) => Err(e),
        (_, None) => Err(AppError::Unauthorized(
            "Send an API token as `Authorization: Bearer <token>`.".into(),
        )),
        (Ok(state), Some(token)) => tokens::authenticate(&state.db, &token)
            .await
            .and_then(|b| within_scope(req.method(), req.path(), b))
            .map(|a| (a, state.config.behind_proxy)),
    };
    match result {
        Ok((mut actor, behind_proxy)) => {
            // The address rides on the actor, so every write's audit row has it.
            actor.ip = Some(client_ip(req.request(), behind_proxy));
            req.extensions_mut().insert(actor);
            next.call(req)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        Err(e) => Ok(req.error_response(e).map_into_right_body()),
    }
}

/// A read-only token may only read: every API write is a POST, PATCH, PUT or DELETE.
/// Nor may a role without `Action::WriteRecords`, the least write grant of the table
/// (`permissions`' test holds every other write to it): refused here, before the body is
/// read, a viewer's malformed JSON gets the same 403 as a good one, never a 400 or 422.
/// A write the path alone says the role may not make (pipelines, stages, restoring) is
/// refused here too (`gates`).
fn within_scope(method: &Method, path: &str, bearer: tokens::Bearer) -> Result<Actor, AppError> {
    if is_read(method) {
        return Ok(bearer.actor);
    }
    if bearer.scope == tokens::Scope::Read {
        return Err(AppError::Forbidden(
            "This API token is read-only; create a read-write token to make changes.".into(),
        ));
    }
    bearer.actor.require(Action::WriteRecords)?;
    if let Some(action) = crate::web::gates::gate(path) {
        bearer.actor.require(action)?;
    }
    Ok(bearer.actor)
}

pub(crate) fn is_read(method: &Method) -> bool {
    [Method::GET, Method::HEAD, Method::OPTIONS].contains(method)
}

/// The record pages' writes (the contacts, companies, deals, tasks and activities
/// scopes) all need `Action::WriteRecords` at least: a role without it is refused here,
/// before the form is read or a handler looks at it, so a viewer's malformed form gets
/// the same 403 as a good one. The user looked up is kept for the handler.
pub async fn writers_only(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if !is_read(req.method()) {
        // Signed out: the handler sends the caller to sign in, as it always does.
        if let Ok(user) = CurrentUser::from_request(req.request(), &mut Payload::None).await {
            if let Err(e) = user.actor.require(Action::WriteRecords) {
                return Ok(req.error_response(e).map_into_right_body());
            }
            req.extensions_mut().insert(user);
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// Where a request comes from, for the session record and throttling.
pub fn client(req: &HttpRequest, behind_proxy: bool) -> sessions::Client {
    sessions::Client {
        ip: client_ip(req, behind_proxy),
        user_agent: req
            .headers()
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
    }
}

/// Starts a fresh session for `user_id` (a new CSRF token too, so a token seen before
/// sign-in is worthless after it), recorded in the audit log with the session.
pub async fn sign_in(
    db: &Db,
    session: &Session,
    user_id: i64,
    client: &sessions::Client,
) -> Result<(), AppError> {
    let tx = db.begin_write().await?;
    let secret = sessions::open(&tx, user_id, client).await?;
    tx.commit().await?;
    adopt(session, &secret)
}

/// Makes this browser's cookie carry a session opened by the domain (a fresh cookie
/// and a new CSRF token, so a token seen before sign-in is worthless after it).
pub fn adopt(session: &Session, secret: &str) -> Result<(), AppError> {
    session.renew();
    let fail = |e: actix_session::SessionInsertError| AppError::Internal(e.to_string());
    session.insert(SID, secret).map_err(fail)?;
    session
        .insert(CSRF, hex::encode(random_bytes::<32>()?))
        .map_err(fail)?;
    Ok(())
}

/// Ends this browser's session everywhere, not only in this cookie; `ip` is the client's
/// address for the audit log.
pub async fn sign_out(db: &Db, session: &Session, ip: &str) -> Result<(), AppError> {
    if let Ok(Some(secret)) = session.get::<String>(SID) {
        sessions::end(db, &secret, ip).await?;
    }
    session.purge();
    Ok(())
}

/// The session's CSRF token, created on first use.
pub fn csrf_token(session: &Session) -> String {
    if let Ok(Some(t)) = session.get::<String>(CSRF) {
        return t;
    }
    // Without randomness there is no token: the form then fails its CSRF check (closed).
    let Ok(bytes) = random_bytes::<32>() else {
        return String::new();
    };
    let t = hex::encode(bytes);
    let _ = session.insert(CSRF, &t);
    t
}

pub fn set_flash(session: &Session, message: impl Into<String>) {
    let _ = session.insert(FLASH, message.into());
}

pub fn take_flash(session: &Session) -> Option<String> {
    // `remove` marks the session changed (a new cookie) even for a missing key: only
    // touch it when there is a message, so ordinary pages send no Set-Cookie.
    if !session.contains_key(FLASH) {
        return None;
    }
    session.remove_as::<String>(FLASH).and_then(Result::ok)
}

/// The client's address for throttling: the peer, or the last `X-Forwarded-For` hop when
/// the operator says a reverse proxy sits in front.
pub fn client_ip(req: &HttpRequest, behind_proxy: bool) -> String {
    if behind_proxy
        && let Some(ip) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            // The rightmost entry is the one our proxy added; the others are whatever
            // the client chose to send.
            .and_then(|v| v.rsplit(',').next())
    {
        return ip.trim().to_string();
    }
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn forbidden_csrf() -> AppError {
    AppError::Forbidden(
        "This form has expired or came from another site. Reload the page and try again.".into(),
    )
}

/// CSRF protection for browser requests: unsafe methods must come from this site
/// (`Sec-Fetch-Site`/`Origin`) and carry the session's token, in the `X-CSRF-Token`
/// header (htmx) or the `_csrf` form field (plain forms). The API is exempt: it takes
/// bearer tokens only, which browsers never send on their own.
pub async fn csrf(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // A web form's endpoint (`/f/{key}`) is posted to from other sites by design, with
    // no session: it writes only what its form allows, rate-limited per address. Webhooks
    // come from other servers, with their own signature instead of a session.
    if !is_unsafe(req.method())
        || req.path().starts_with("/api/")
        || req.path().starts_with("/f/")
        || req.path().starts_with("/webhooks/")
    {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return Ok(req.error_response(forbidden_csrf()).map_into_right_body());
    }
    if let Some(origin) = headers.get("origin").and_then(|v| v.to_str().ok()) {
        let host = headers
            .get("host")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let base = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.config.base_url.clone())
            .unwrap_or_default();
        let same_host = origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host);
        if origin != base && !same_host {
            return Ok(req.error_response(forbidden_csrf()).map_into_right_body());
        }
    }
    let Some(expected) = req.get_session().get::<String>(CSRF).ok().flatten() else {
        return Ok(req.error_response(forbidden_csrf()).map_into_right_body());
    };
    let matches = |sent: &str| constant_time_eq(expected.as_bytes(), sent.as_bytes());
    let header_ok = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(matches);
    let is_form = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    // A form carries its own token; it wins over a header left from an older page.
    let mut field_ok = false;
    if !header_ok && is_form {
        let body = match req.extract::<web::Bytes>().await {
            Ok(b) => b,
            Err(_) => {
                let e = AppError::PayloadTooLarge("The form is larger than 1 MiB.".into());
                return Ok(req.error_response(e).map_into_right_body());
            }
        };
        field_ok = serde_html_form::from_bytes::<Vec<(String, String)>>(&body)
            .ok()
            .and_then(|pairs| {
                pairs
                    .into_iter()
                    .find(|(k, _)| k == CSRF_FIELD)
                    .map(|(_, v)| v)
            })
            .is_some_and(|v| matches(&v));
        req.set_payload(Payload::from(body));
    }
    if header_ok || field_ok {
        next.call(req)
            .await
            .map(ServiceResponse::map_into_left_body)
    } else {
        Ok(req.error_response(forbidden_csrf()).map_into_right_body())
    }
}
