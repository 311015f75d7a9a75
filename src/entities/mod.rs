//! sea-orm entities, one file per table. No business rules here: those live in `domain`.
pub mod api_token;
pub mod audit_log;
pub mod company;
pub mod contact;
pub mod custom_field;
pub mod login_attempt;
pub mod session;
pub mod setting;
pub mod tag;
pub mod user;
