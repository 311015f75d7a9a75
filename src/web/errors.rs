//! Browser requests get errors as pages: a full page for normal and boosted navigation,
//! a short message for htmx fragment requests (shown as a toast, nothing swapped), and a
//! redirect to the sign-in page when the session is missing. The API keeps the JSON.
use crate::web::filters;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, ResponseError};
use askama::Template;

use crate::error::{AppError, FieldErrors};
use crate::web::assets;
use crate::web::auth::SignedIn;
use crate::web::htmx::wants_fragment;
use crate::web::pages::Layout;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    l: Layout,
    status: u16,
    title: &'a str,
    message: &'a str,
}

/// A heading in plain words for each kind of refusal (the status code stays small).
fn title_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "That request could not be read",
        403 => "You can’t do that",
        404 => "Not found",
        405 => "Not possible here",
        409 => "Someone changed this first",
        413 => "That is too large",
        415 => "That kind of upload is not accepted",
        422 => "Please check what you entered",
        429 => "Too many tries",
        503 => "Busy for a moment",
        _ if status.is_client_error() => "That did not work",
        _ => "Something went wrong",
    }
}

pub fn is_browser_path(path: &str) -> bool {
    !path.starts_with("/api/")
        && !path.starts_with("/webhooks/")
        && path != "/healthz"
        && path != "/metrics"
}

pub async fn html_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // Read what we need before routing: a clone of the request would make routing panic.
    // A web form's endpoint answers JSON to a JSON sender, errors included.
    let json_form = req.path().starts_with("/f/")
        && req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
    let browser = is_browser_path(req.path()) && !json_form;
    let fragment = wants_fragment(req.request());
    let htmx = req.headers().contains_key("HX-Request");
    let here = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let res = next.call(req).await?.map_into_boxed_body();
    let status = res.status();
    if !browser || status.is_success() || status.is_redirection() || status.is_informational() {
        return Ok(res);
    }
    let message = match res.response().error() {
        Some(e) => match e.as_error::<AppError>() {
            Some(app) => app.to_string(),
            // Errors raised by actix itself (such as a malformed path) are plain text.
            None if status.is_client_error() => e.to_string(),
            None => "Something went wrong on our side; it has been logged.".into(),
        },
        // A handler already rendered its own answer (a form with inline errors).
        None => return Ok(res),
    };
    if status == StatusCode::UNAUTHORIZED {
        let login = format!("/login?next={}", url_encode(&here));
        let response = if htmx {
            HttpResponse::Ok()
                .insert_header(("HX-Redirect", login))
                .finish()
        } else {
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, login))
                .finish()
        };
        return Ok(keep_cookies(res, response));
    }
    let response = if fragment {
        HttpResponse::build(status)
            .insert_header(("HX-Reswap", "none"))
            .content_type("text/plain; charset=utf-8")
            .body(message)
    } else {
        let signed_in = res.request().extensions().get::<SignedIn>().cloned();
        let (user, csrf) = match signed_in {
            Some(s) => (Some(s.actor), s.csrf),
            None => (None, String::new()),
        };
        let page = ErrorPage {
            l: Layout {
                user,
                csrf,
                flash: None,
                assets: assets::urls(),
                section: "",
                overdue: 0,
                org: None,
            },
            status: status.as_u16(),
            title: title_of(status),
            message: &message,
        };
        HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(page.render().unwrap_or(message))
    };
    Ok(keep_cookies(res, response))
}

/// Swaps in a new response but keeps the cookies the old one set (a purged session must
/// still reach the browser) and when to retry (after a 429).
fn keep_cookies(
    res: ServiceResponse<BoxBody>,
    mut response: HttpResponse,
) -> ServiceResponse<BoxBody> {
    for cookie in res.headers().get_all(header::SET_COOKIE) {
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookie.clone());
    }
    if let Some(retry) = res.headers().get(header::RETRY_AFTER) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, retry.clone());
    }
    res.into_response(response)
}

pub fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Answer for URLs no route matches: JSON under /api, a page elsewhere.
pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound(
        "There is nothing at this address.".into(),
    ))
}

/// The JSON error shape every API error answers with.
#[derive(serde::Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(serde::Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<&'a FieldErrors>,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(detail) = self {
            tracing::error!(error = %detail, "internal error");
        }
        let mut res = HttpResponse::build(self.status_code());
        if matches!(self, AppError::Unauthorized(_)) {
            res.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let AppError::TooManyRequests { retry_after, .. } = self {
            res.insert_header(("Retry-After", retry_after.to_string()));
        }
        res.json(ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
                fields: self.fields(),
            },
        })
    }
}
