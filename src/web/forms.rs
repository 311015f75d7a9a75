//! Form bodies parsed with `serde_html_form`, which (unlike `web::Form`) accepts repeated
//! keys for checkbox groups and multi-selects, and answers bad input with our error type.
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::AppError;

pub const MAX_BODY: usize = 1024 * 1024;

pub struct Form<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Form<T>, AppError>>;

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
            serde_html_form::from_bytes(&bytes)
                .map(Form)
                .map_err(|e| AppError::BadRequest(format!("The form could not be read: {e}")))
        })
    }
}
