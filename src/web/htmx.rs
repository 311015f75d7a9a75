//! What htmx tells us about a request, and the headers we answer it with.
use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload};

/// An htmx request that wants a fragment: `HX-Request` without `HX-Boosted` (a boosted
/// link or form wants the whole page, like a normal navigation).
#[derive(Debug, Clone, Copy)]
pub struct Htmx {
    pub fragment: bool,
}

pub fn wants_fragment(req: &HttpRequest) -> bool {
    let h = req.headers();
    h.contains_key("HX-Request")
        && !h.contains_key("HX-Boosted")
        && !h.contains_key("HX-History-Restore-Request")
}

impl FromRequest for Htmx {
    type Error = actix_web::Error;
    type Future = Ready<Result<Htmx, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Htmx {
            fragment: wants_fragment(req),
        }))
    }
}
