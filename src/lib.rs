//! Cairn: a self-hosted CRM for startups, in one binary.
pub mod app;
pub mod cli;
pub mod config;
pub mod db;
pub mod doctor;
pub mod domain;
pub mod entities;
pub mod error;
pub mod import_command;
pub mod jobs;
pub mod mail;
pub mod score_command;
pub mod serve;
pub mod telemetry;
pub mod traces;
pub mod web;
