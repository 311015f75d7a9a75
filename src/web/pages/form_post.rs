//! A web form's public endpoint, `POST /f/{key}`, and its CORS preflight. Posted from
//! other sites with no session and no CSRF token (exempt in `web::auth::csrf`); what it
//! may write is the form's (`domain::forms::submit`). A form post is answered with a
//! redirect to the thank-you address (303) or a thank-you page; JSON with JSON. CORS
//! headers go only to an `Origin` the form lists. Templates: `templates/forms/`.
use crate::web::filters;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError, web};
use askama::Template;
use futures_util::StreamExt;

use crate::app::AppState;
use crate::domain::forms::submit::{self, Sent};
use crate::domain::forms::{self, Form, MAX_BODY};
use crate::error::{AppError, FieldErrors};
use crate::web::assets;
use crate::web::auth::client_ip;
use crate::web::pages::Layout;

#[derive(Template)]
#[template(path = "forms/thanks.html")]
struct Thanks<'a> {
    l: Layout,
    message: &'a str,
}

#[derive(Template)]
#[template(path = "forms/refused.html")]
struct Refused<'a> {
    l: Layout,
    status: u16,
    message: String,
    fields: &'a FieldErrors,
}

/// The page frame for a sender: no user, no session (a cookie set here would be a
/// third party's), so no CSRF token either.
fn layout() -> Layout {
    Layout {
        user: None,
        csrf: String::new(),
        flash: None,
        assets: assets::urls(),
        section: "",
        overdue: 0,
        org: None,
    }
}

const THANKS: &str = "Thank you. We received your message and will be in touch.";

/// Whether the sender wants JSON back: it sent JSON, or asked for it.
fn wants_json(req: &HttpRequest) -> bool {
    let header = |name| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    header(header::CONTENT_TYPE).starts_with("application/json")
        || header(header::ACCEPT).starts_with("application/json")
}

/// The form behind `key`, when it takes submissions.
async fn active_form(state: &AppState, key: &str) -> Result<Option<Form>, AppError> {
    Ok(forms::by_key(&state.db, key).await?.filter(|f| f.active))
}

/// The request's `Origin` when the form lists it.
fn allowed_origin(req: &HttpRequest, form: Option<&Form>) -> Option<String> {
    let origin = req.headers().get(header::ORIGIN)?.to_str().ok()?;
    form.filter(|f| f.allows_origin(origin))
        .map(|_| origin.to_string())
}

fn with_cors(mut res: HttpResponse, origin: Option<String>) -> HttpResponse {
    let h = res.headers_mut();
    // Answers differ by Origin: caches must keep them apart.
    h.insert(header::VARY, header::HeaderValue::from_static("Origin"));
    if let Some(o) = origin.and_then(|o| header::HeaderValue::from_str(&o).ok()) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
    }
    res
}

pub async fn preflight(
    state: web::Data<AppState>,
    key: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let form = active_form(&state, &key).await?;
    if form.is_none() {
        return Ok(HttpResponse::NotFound().finish());
    }
    let origin = allowed_origin(&req, form.as_ref());
    let mut res = HttpResponse::NoContent();
    if origin.is_some() {
        res.insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "POST"))
            .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, "Content-Type, Accept"))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"));
    }
    Ok(with_cors(res.finish(), origin))
}

pub async fn submit(
    state: web::Data<AppState>,
    key: web::Path<String>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let json = wants_json(&req);
    let form = active_form(&state, &key).await?;
    let origin = allowed_origin(&req, form.as_ref());
    let answer = match form {
        None => Err(AppError::NotFound(
            "There is no form at this address (or it is switched off).".into(),
        )),
        Some(form) => receive(&state, &form, &req, body).await.map(|()| form),
    };
    let res = match answer {
        Ok(_) if json => HttpResponse::Ok().json(serde_json::json!({"ok": true})),
        Ok(form) => thanked(&form)?,
        Err(e) if json => e.error_response(),
        Err(e) => refused(e)?,
    };
    Ok(with_cors(res, origin))
}

/// Reads, parses and submits the body.
async fn receive(
    state: &AppState,
    form: &Form,
    req: &HttpRequest,
    body: web::Payload,
) -> Result<(), AppError> {
    let bytes = read_body(req, body).await?;
    let sent = parse(req, &bytes)?;
    let ip = client_ip(req, state.config.behind_proxy);
    submit::submit(&state.db, form, &sent, &ip)
        .await
        .map(|_| ())
}

fn too_large() -> AppError {
    AppError::PayloadTooLarge(format!("A submission is at most {} KiB.", MAX_BODY / 1024))
}

/// The body, refused past `MAX_BODY` (by its declared length before reading any).
async fn read_body(req: &HttpRequest, mut body: web::Payload) -> Result<web::Bytes, AppError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Err(too_large());
    }
    let mut bytes = web::BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|_| too_large())?;
        if bytes.len() + chunk.len() > MAX_BODY {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes.freeze())
}

/// A urlencoded form or a flat JSON object of texts (numbers and booleans as text).
fn parse(req: &HttpRequest, bytes: &[u8]) -> Result<Sent, AppError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return Ok(url::form_urlencoded::parse(bytes).into_owned().collect());
    }
    if !content_type.starts_with("application/json") {
        return Err(AppError::UnsupportedMediaType(
            "Send the form as application/x-www-form-urlencoded or application/json.".into(),
        ));
    }
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(bytes)
        .map_err(|e| AppError::BadRequest(format!("The JSON could not be read: {e}")))?;
    let mut sent = Sent::new();
    for (k, v) in object {
        let text = match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Null => String::new(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            _ => {
                return Err(AppError::field(
                    &k,
                    "Each field must be text, a number or true/false.",
                ));
            }
        };
        sent.insert(k, text);
    }
    Ok(sent)
}

/// After an accepted form post: off to the form's thank-you address, or its message.
fn thanked(form: &Form) -> Result<HttpResponse, AppError> {
    if let Some(url) = &form.thank_you_url {
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, url.as_str()))
            .finish());
    }
    let page = Thanks {
        l: layout(),
        message: form.thank_you_message.as_deref().unwrap_or(THANKS),
    };
    html(HttpResponse::Ok(), &page)
}

/// A refused form post as a page that says what to fix (never the thank-you page).
/// Errors on our side go to the error page (`web::errors`).
fn refused(e: AppError) -> Result<HttpResponse, AppError> {
    let status = e.status_code();
    if status.is_server_error() {
        return Err(e);
    }
    let none = FieldErrors::new();
    let page = Refused {
        l: layout(),
        status: status.as_u16(),
        message: e.to_string(),
        fields: e.fields().unwrap_or(&none),
    };
    let mut res = HttpResponse::build(status);
    if let AppError::TooManyRequests { retry_after, .. } = &e {
        res.insert_header((header::RETRY_AFTER, retry_after.to_string()));
    }
    html(res, &page)
}

fn html(mut res: HttpResponseBuilder, page: &impl Template) -> Result<HttpResponse, AppError> {
    let body = page
        .render()
        .map_err(|e| AppError::Internal(format!("template: {e}")))?;
    Ok(res
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}
