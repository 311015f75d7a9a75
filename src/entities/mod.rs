//! sea-orm entities, one file per table. No business rules here: those live in `domain`.
//!
//! The SQLite FTS5 search indexes (`contacts_fts`, `companies_fts`, `deals_fts` and their
//! shadow tables) have no entity: they are virtual tables kept by triggers, not tables of
//! records, and PostgreSQL has none (it searches with trigram indexes).
pub mod activity;
pub mod activity_revision;
pub mod api_token;
pub mod audit_log;
pub mod change_counter;
pub mod company;
pub mod company_tag;
pub mod contact;
pub mod contact_tag;
pub mod custom_field;
pub mod deal;
pub mod deal_contact;
pub mod deal_stage_change;
pub mod job;
pub mod login_attempt;
pub mod notification_pref;
pub mod outbox;
pub mod pipeline;
pub mod pipeline_stage;
pub mod record_count;
pub mod saved_view;
pub mod session;
pub mod setting;
pub mod tag;
pub mod task;
pub mod user;
pub mod view_default;
