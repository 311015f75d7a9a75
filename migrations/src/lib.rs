//! Schema migrations, written once for SQLite and PostgreSQL.
pub use sea_orm_migration::prelude::*;
/// The migrator's own table, for reading which migrations a database file has had.
pub use sea_orm_migration::seaql_migrations;

mod m20261126_000001_init;
mod m20261126_000002_record_counts;
mod m20261126_000003_company_details;
mod m20261126_000004_search;
mod m20261126_000005_tags;
mod m20261126_000006_saved_views;
mod m20261126_000007_custom_fields;
mod m20261126_000008_deals;
mod m20261126_000009_change_counters;
mod m20261126_000010_activities;
mod m20261126_000011_stage_change_names;
mod m20261126_000012_deal_board_index;
mod m20261201_000013_sessions;
mod m20261202_000014_jobs;
mod m20261202_000015_deal_closed_index;
mod m20261202_000016_field_and_activity_edits;
mod m20261202_000017_tasks;
mod m20261202_000018_email;
mod m20261202_000019_trash;
mod m20261203_000020_board_totals_index;
mod m20261203_000021_scale_indexes;
mod m20261203_000022_invites;
mod m20261203_000023_audit;
mod m20261203_000024_task_undated_index;
mod m20261204_000025_task_record_trashed;
mod m20261204_000026_two_factor;
mod m20261204_000029_token_scope;
mod m20261205_000032_audit_and_owner_indexes;
mod m20261205_000033_tasks_counter;
mod m20261205_000035_contact_name_sort_indexes;
mod m20261206_000037_sorted_filter_indexes;
mod m20261207_000038_stripe;
mod m20261207_000039_forms;
mod m20261207_000040_webhooks;
mod m20261208_000041_stripe_retention;
mod m20261208_000043_report_indexes;
mod m20261208_000045_first_interaction;
mod m20261209_000044_billing_ledger;
mod m20261209_000047_velocity_activity_indexes;
mod m20261209_000048_quiet_counts;
mod m20261210_000049_activity_hours;
mod m20261211_000050_imports;
mod m20261212_000051_import_links;
mod m20261212_000053_import_workspace;
mod m20261213_000054_import_pending_links;
mod m20261213_000055_tag_link_copies;
mod m20261214_000056_filter_order_indexes;
mod m20261215_000057_scoring_models;
mod m20261215_000058_deal_scores;
mod m20261216_000059_contact_scores;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_init::Migration),
            Box::new(m20261126_000002_record_counts::Migration),
            Box::new(m20261126_000003_company_details::Migration),
            Box::new(m20261126_000004_search::Migration),
            Box::new(m20261126_000005_tags::Migration),
            Box::new(m20261126_000006_saved_views::Migration),
            Box::new(m20261126_000007_custom_fields::Migration),
            Box::new(m20261126_000008_deals::Migration),
            Box::new(m20261126_000009_change_counters::Migration),
            Box::new(m20261126_000010_activities::Migration),
            Box::new(m20261126_000011_stage_change_names::Migration),
            Box::new(m20261126_000012_deal_board_index::Migration),
            Box::new(m20261201_000013_sessions::Migration),
            Box::new(m20261202_000014_jobs::Migration),
            Box::new(m20261202_000015_deal_closed_index::Migration),
            Box::new(m20261202_000016_field_and_activity_edits::Migration),
            Box::new(m20261202_000017_tasks::Migration),
            Box::new(m20261202_000018_email::Migration),
            Box::new(m20261202_000019_trash::Migration),
            Box::new(m20261203_000020_board_totals_index::Migration),
            Box::new(m20261203_000021_scale_indexes::Migration),
            Box::new(m20261203_000022_invites::Migration),
            Box::new(m20261203_000023_audit::Migration),
            Box::new(m20261203_000024_task_undated_index::Migration),
            Box::new(m20261204_000029_token_scope::Migration),
            Box::new(m20261204_000026_two_factor::Migration),
            Box::new(m20261204_000025_task_record_trashed::Migration),
            Box::new(m20261205_000032_audit_and_owner_indexes::Migration),
            Box::new(m20261205_000033_tasks_counter::Migration),
            Box::new(m20261205_000035_contact_name_sort_indexes::Migration),
            Box::new(m20261206_000037_sorted_filter_indexes::Migration),
            Box::new(m20261207_000038_stripe::Migration),
            Box::new(m20261207_000039_forms::Migration),
            Box::new(m20261207_000040_webhooks::Migration),
            Box::new(m20261208_000041_stripe_retention::Migration),
            Box::new(m20261208_000043_report_indexes::Migration),
            Box::new(m20261209_000044_billing_ledger::Migration),
            Box::new(m20261208_000045_first_interaction::Migration),
            Box::new(m20261209_000047_velocity_activity_indexes::Migration),
            Box::new(m20261209_000048_quiet_counts::Migration),
            Box::new(m20261210_000049_activity_hours::Migration),
            Box::new(m20261211_000050_imports::Migration),
            Box::new(m20261212_000051_import_links::Migration),
            Box::new(m20261212_000053_import_workspace::Migration),
            Box::new(m20261213_000054_import_pending_links::Migration),
            Box::new(m20261213_000055_tag_link_copies::Migration),
            Box::new(m20261214_000056_filter_order_indexes::Migration),
            Box::new(m20261215_000057_scoring_models::Migration),
            Box::new(m20261215_000058_deal_scores::Migration),
            Box::new(m20261216_000059_contact_scores::Migration),
        ]
    }
}
