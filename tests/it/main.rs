//! One integration-test binary (each extra file in tests/ would be another link step).
//! Every test gets a fresh database: SQLite by default, PostgreSQL when
//! `CAIRN_TEST_DATABASE_URL` points at a server (scripts/test runs both).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod given;
mod support;

mod activities;
mod activity_edits;
mod api_errors;
mod audit;
mod auth;
mod board_cache;
mod board_closed;
mod board_page;
mod bulk;
mod bulk_scope;
mod cli;
mod companies;
mod contact_form;
mod contacts_api;
mod contacts_pages;
mod custom_fields;
mod deal_custom_fields;
mod deal_form;
mod deal_page;
mod deals;
mod email;
mod email_pages;
mod email_server;
mod entities;
mod error_pages;
mod export;
mod field_edits;
mod fuzz;
mod hardening;
mod invites;
mod jobs;
mod jobs_process;
mod login_throttle;
mod markdown;
mod merge;
mod openapi;
mod owners;
mod password_reset;
mod pipelines;
mod record_lists;
mod scale;
mod search;
mod sessions;
mod sessions_page;
mod settings;
mod setup;
mod tags;
mod task_mail;
mod tasks;
mod tasks_groups;
mod tasks_more;
mod tasks_pages;
mod tasks_trash;
mod trash;
mod trash_page;
mod trash_reads;
mod views;
mod welcome;
