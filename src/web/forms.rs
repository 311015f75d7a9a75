//! Form bodies parsed with `serde_html_form`, which (unlike `web::Form`) accepts repeated
//! keys for checkbox groups and multi-selects, and answers bad input with our error type.
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::AppError;

pub const MAX_BODY: usize = 1024 * 1024;

/// A list's query string read into its parameter type: one that does not fit is a 422
/// naming `query`, the same answer from every page and API list.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, AppError> {
    serde_html_form::from_str(query)
        .map_err(|e| AppError::field("query", format!("The query string is not valid: {e}")))
}

pub struct Form<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Form<T>, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let raw = RawForm::from_request(req, payload);
        Box::pin(async move { raw.await?.parse().map(Form) })
    }
}

/// A form body as text, for a handler that reads it twice: into its own fields, and as a
/// list's filters through the parser the list's query string goes through (a bulk action
/// then covers exactly what the list showed).
pub struct RawForm(pub String);

impl RawForm {
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, AppError> {
        serde_html_form::from_str(&self.0)
            .map_err(|e| AppError::BadRequest(format!("The form could not be read: {e}")))
    }
}

impl FromRequest for RawForm {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<RawForm, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !content_type.starts_with("application/x-www-form-urlencoded") {
                return Err(AppError::UnsupportedMediaType(
                    "Forms must be sent as application/x-www-form-urlencoded.".into(),
                ));
            }
            let bytes = body
                .await
                .map_err(|_| AppError::PayloadTooLarge("The form is larger than 1 MiB.".into()))?;
            String::from_utf8(bytes.to_vec())
                .map(RawForm)
                .map_err(|_| AppError::BadRequest("The form is not UTF-8 text.".into()))
        })
    }
}
