//! The one route table: every URL of the product is listed here.
pub mod api;
pub mod assets;
pub mod auth;
pub mod csv;
pub mod errors;
pub mod filters;
pub mod forms;
pub mod gates;
pub mod health;
pub mod htmx;
pub mod input;
pub mod metrics;
pub mod middleware;
pub mod pages;

use actix_web::http::Method;
use actix_web::web;

use crate::domain::companies::Company;
use crate::domain::contacts::Contact;
use crate::domain::reports::{
    activity::ActivityReport, forecast::Forecast, funnel::Funnel, pipeline::PipelineReport,
    revenue::Revenue, velocity::Velocity, win_rate::WinRate,
};
use pages::{
    account, activities, audit, backups, companies, contacts, deal_form, deal_list, deals, email,
    export, fields, form_post, imports, integrations, invites, jobs, login, monitoring,
    organisation, password_reset, personal_data, pick, pipelines, records, reports, scoring,
    search, setup, sso, tags, tasks, tokens, trash, two_factor, users, views, web_forms, webhooks,
    welcome,
};

/// Routes are grouped in scopes by their first path segment: actix matches routes one
/// by one, and a scope's static prefix is a cheap test where each dynamic route (`{id}`)
/// costs a regex match. Hot paths (the API, the contact pages) come first. Long on
/// purpose: every URL of the product in one table, so a reader finds any handler here.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .wrap(actix_web::middleware::from_fn(input::refuse_nul))
            .wrap(actix_web::middleware::from_fn(auth::api_auth))
            .service(
                web::resource("/contacts")
                    .get(api::contacts::list)
                    .post(api::contacts::create)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/contacts/bulk")
                    .post(api::contacts::bulk)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/contacts/{id}/merge")
                    .post(api::contacts::merge)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/contacts/{id}/personal-data")
                    .get(api::personal_data::export)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/contacts/{id}/erase")
                    .post(api::personal_data::erase)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/contacts/{id}")
                    .get(api::contacts::get)
                    .patch(api::contacts::update)
                    .delete(api::contacts::delete)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/pipelines")
                    .get(api::deals::pipelines)
                    .post(api::deals::create_pipeline)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/pipelines/{id}")
                    .patch(api::deals::rename_pipeline)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/pipelines/{id}/stages")
                    .post(api::deals::add_stage)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/stages/{id}/reorder")
                    .post(api::deals::reorder_stage)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/stages/{id}")
                    .patch(api::deals::update_stage)
                    .delete(api::deals::delete_stage)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/deals")
                    .get(api::deals::list)
                    .post(api::deals::create)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/contacts/{id}/restore")
                    .post(api::trash::restore_contact)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/companies/{id}/restore")
                    .post(api::trash::restore_company)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/deals/{id}/restore")
                    .post(api::trash::restore_deal)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/deals/{id}/move")
                    .post(api::deals::move_deal)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/deals/{id}/stage-changes")
                    .get(api::deals::stage_changes)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/deals/{id}")
                    .get(api::deals::get)
                    .patch(api::deals::update)
                    .delete(api::deals::delete)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/activities")
                    .get(api::activities::list)
                    .post(api::activities::create)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/activities/{id}")
                    .patch(api::activities::update)
                    .delete(api::activities::delete)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/tasks")
                    .get(api::tasks::list)
                    .post(api::tasks::create)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/tasks/{id}")
                    .get(api::tasks::get)
                    .patch(api::tasks::update)
                    .delete(api::tasks::delete)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/activities/{id}/revisions")
                    .get(api::activities::revisions)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/scoring/models")
                    .get(api::scoring::models)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/audit")
                    .get(api::audit::list)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/export")
                    .get(api::export::export)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/dashboard")
                    .get(api::dashboard::dashboard)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/reports/funnel")
                    .get(api::reports::funnel)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/reports/pipeline")
                    .get(api::reports::pipeline)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/reports/win-rate")
                    .get(api::reports::win_rate)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/reports/velocity")
                    .get(api::reports::velocity)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/reports/forecast")
                    .get(api::reports::forecast)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/reports/activity")
                    .get(api::reports::activity)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/reports/revenue")
                    .get(api::reports::revenue)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/search")
                    .get(api::search::search)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/companies")
                    .get(api::companies::list)
                    .post(api::companies::create)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/companies/bulk")
                    .post(api::companies::bulk)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/companies/{id}/merge")
                    .post(api::companies::merge)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/companies/{id}")
                    .get(api::companies::get)
                    .patch(api::companies::update)
                    .delete(api::companies::delete)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/webhooks")
                    .get(api::webhook_endpoints::list)
                    .post(api::webhook_endpoints::create)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/webhooks/deliveries/{id}/redeliver")
                    .post(api::webhook_endpoints::redeliver)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/webhooks/{id}/enable")
                    .post(api::webhook_endpoints::enable)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/webhooks/{id}/test")
                    .post(api::webhook_endpoints::test)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/webhooks/{id}/deliveries")
                    .get(api::webhook_endpoints::deliveries)
                    .default_service(web::to(api::method_not_allowed)),
            )
            .service(
                web::resource("/webhooks/{id}")
                    .get(api::webhook_endpoints::get)
                    .patch(api::webhook_endpoints::update)
                    .delete(api::webhook_endpoints::delete)
                    .default_service(web::to(api::method_not_allowed)),
            ),
    )
    .service(
        web::scope("/contacts")
            .wrap(actix_web::middleware::from_fn(auth::writers_only))
            .route("", web::get().to(records::index::<Contact>))
            .route("", web::post().to(contacts::create))
            .route("/new", web::get().to(contacts::new))
            .route("/export.csv", web::get().to(records::export::<Contact>))
            .route("/bulk", web::post().to(records::bulk::<Contact>))
            .route("/{id}", web::get().to(records::show::<Contact>))
            .route("/{id}", web::post().to(records::update::<Contact>))
            .route("/{id}", web::delete().to(contacts::delete_row))
            .route("/{id}/edit", web::get().to(records::edit::<Contact>))
            .route("/{id}/merge", web::get().to(records::merge_page::<Contact>))
            .route("/{id}/merge", web::post().to(records::merge::<Contact>))
            .route(
                "/{id}/delete",
                web::get().to(records::confirm_delete::<Contact>),
            )
            .route("/{id}/delete", web::post().to(contacts::delete))
            .route(
                "/{id}/personal-data",
                web::get().to(personal_data::download),
            )
            .route("/{id}/erase", web::get().to(personal_data::confirm))
            .route("/{id}/erase", web::post().to(personal_data::erase)),
    )
    .service(
        web::scope("/companies")
            .wrap(actix_web::middleware::from_fn(auth::writers_only))
            .route("", web::get().to(records::index::<Company>))
            .route("", web::post().to(records::create::<Company>))
            .route("/new", web::get().to(companies::new))
            .route("/export.csv", web::get().to(records::export::<Company>))
            .route("/bulk", web::post().to(records::bulk::<Company>))
            .route("/{id}", web::get().to(records::show::<Company>))
            .route("/{id}", web::post().to(records::update::<Company>))
            .route("/{id}/edit", web::get().to(records::edit::<Company>))
            .route("/{id}/merge", web::get().to(records::merge_page::<Company>))
            .route("/{id}/merge", web::post().to(records::merge::<Company>))
            .route(
                "/{id}/delete",
                web::get().to(records::confirm_delete::<Company>),
            )
            .route("/{id}/delete", web::post().to(companies::delete)),
    )
    .service(
        web::scope("/deals")
            .wrap(actix_web::middleware::from_fn(auth::writers_only))
            .route("", web::get().to(deals::board))
            .route("", web::post().to(deal_form::create))
            .route("/new", web::get().to(deal_form::new))
            .route("/list", web::get().to(deal_list::index))
            .route("/options", web::get().to(deal_form::options))
            .route("/column/{stage}", web::get().to(deals::column))
            .route("/{id}", web::get().to(deals::show))
            .route("/{id}", web::post().to(deal_form::update))
            .route("/{id}/edit", web::get().to(deal_form::edit))
            .route("/{id}/move", web::post().to(deals::move_deal))
            .route("/{id}/delete", web::post().to(deals::delete)),
    )
    .service(
        web::scope("/tasks")
            .wrap(actix_web::middleware::from_fn(auth::writers_only))
            .route("", web::get().to(tasks::index))
            .route("", web::post().to(tasks::create))
            .route("/done", web::get().to(tasks::done))
            .route("/more", web::get().to(tasks::more))
            .route("/{id}", web::post().to(tasks::update))
            .route("/{id}/edit", web::get().to(tasks::edit))
            .route("/{id}/notes", web::get().to(tasks::notes))
            .route("/{id}/done", web::post().to(tasks::toggle))
            .route("/{id}/delete", web::post().to(tasks::delete)),
    )
    .service(web::scope("/static").route("/{name}", web::get().to(assets::serve)))
    .service(
        web::scope("/activities")
            .wrap(actix_web::middleware::from_fn(auth::writers_only))
            .route("", web::get().to(activities::older))
            .route("", web::post().to(activities::create))
            .route("/{id}", web::get().to(activities::one))
            .route("/{id}", web::post().to(activities::update))
            .route("/{id}/edit", web::get().to(activities::edit))
            .route("/{id}/history", web::get().to(activities::history))
            .route("/{id}/delete", web::post().to(activities::delete)),
    )
    .service(
        web::scope("/pick")
            .route("/options", web::get().to(pick::options))
            .route("/contact", web::get().to(pick::contact_check)),
    )
    .route("/search", web::get().to(search::index))
    // Every report: its page and CSV, one generic handler each over the report's type
    // (`domain::reports::Report`; the slug here is the report's SLUG).
    .route("/reports/funnel", web::get().to(reports::page::<Funnel>))
    .route("/reports/funnel.csv", web::get().to(reports::csv::<Funnel>))
    .route(
        "/reports/pipeline",
        web::get().to(reports::page::<PipelineReport>),
    )
    .route(
        "/reports/pipeline.csv",
        web::get().to(reports::csv::<PipelineReport>),
    )
    .route("/reports/win-rate", web::get().to(reports::page::<WinRate>))
    .route(
        "/reports/win-rate.csv",
        web::get().to(reports::csv::<WinRate>),
    )
    .route(
        "/reports/velocity",
        web::get().to(reports::page::<Velocity>),
    )
    .route(
        "/reports/velocity.csv",
        web::get().to(reports::csv::<Velocity>),
    )
    .route(
        "/reports/forecast",
        web::get().to(reports::page::<Forecast>),
    )
    .route(
        "/reports/forecast.csv",
        web::get().to(reports::csv::<Forecast>),
    )
    .route(
        "/reports/activity",
        web::get().to(reports::page::<ActivityReport>),
    )
    .route(
        "/reports/activity.csv",
        web::get().to(reports::csv::<ActivityReport>),
    )
    .route("/reports/revenue", web::get().to(reports::page::<Revenue>))
    .route(
        "/reports/revenue.csv",
        web::get().to(reports::csv::<Revenue>),
    )
    .route("/views", web::post().to(views::create))
    .route("/views/default", web::post().to(views::set_default))
    .route("/views/{id}/delete", web::post().to(views::delete))
    .route("/healthz", web::get().to(health::healthz))
    .route("/metrics", web::get().to(metrics::scrape))
    // Signed events from Stripe (no session: the signature is checked).
    .route("/webhooks/stripe", web::post().to(api::webhooks::stripe))
    .route("/api/openapi.json", web::get().to(api::openapi::document))
    .route("/", web::get().to(pages::dashboard::index))
    .route(
        "/favicon.ico",
        web::get().to(|| async { pages::see_other(&assets::url("favicon.svg")) }),
    )
    // Sign-in and first-run setup.
    .route("/login", web::get().to(login::show))
    .route("/login", web::post().to(login::submit))
    // The second step of signing in (a two-factor code, or its set-up when required).
    .route("/login/two-factor", web::get().to(two_factor::show_step))
    .route("/login/two-factor", web::post().to(two_factor::submit_step))
    .route("/logout", web::post().to(login::logout))
    // Single sign-on: off to the identity provider, and back.
    .route("/login/sso", web::get().to(sso::start))
    .route("/login/sso/callback", web::get().to(sso::callback))
    // Links sent by email: an invitation, and a password reset asked for on the login page.
    .route("/invite/{secret}", web::get().to(invites::show))
    .route("/invite/{secret}", web::post().to(invites::accept))
    .route("/password/forgot", web::get().to(password_reset::show))
    .route("/password/forgot", web::post().to(password_reset::request))
    .route(
        "/password/reset/{secret}",
        web::get().to(password_reset::show_reset),
    )
    .route(
        "/password/reset/{secret}",
        web::post().to(password_reset::reset),
    )
    // A web form's public endpoint: posted from other sites, no session (see `form_post`).
    .route("/f/{key}", web::post().to(form_post::submit))
    .route(
        "/f/{key}",
        web::method(Method::OPTIONS).to(form_post::preflight),
    )
    .route("/setup", web::get().to(setup::show))
    .route("/setup", web::post().to(setup::submit))
    // The first steps after setup (admins).
    .route("/welcome", web::get().to(welcome::show))
    .route("/welcome/demo", web::post().to(welcome::load_demo))
    .route("/welcome/dismiss", web::post().to(welcome::dismiss))
    // The signed-in user's own account and API tokens.
    .service(
        web::scope("/account")
            .route("", web::get().to(account::show))
            .route("/password", web::post().to(account::change_password))
            .route(
                "/notifications",
                web::post().to(account::save_notifications),
            )
            .route("/time-zone", web::post().to(account::set_time_zone))
            .route("/sessions/{id}/end", web::post().to(account::end_session))
            .route(
                "/sessions/end-others",
                web::post().to(account::end_other_sessions),
            )
            .route("/tokens", web::post().to(account::create_token))
            .route("/tokens/{id}/revoke", web::post().to(account::revoke_token))
            .route("/two-factor", web::get().to(two_factor::show_setup))
            .route("/two-factor", web::post().to(two_factor::begin_setup))
            .route("/two-factor/confirm", web::post().to(two_factor::confirm))
            .route("/two-factor/disable", web::post().to(two_factor::disable)),
    )
    // Settings (admins).
    .service(
        web::scope("/settings")
            .wrap(actix_web::middleware::from_fn(gates::gated))
            .route(
                "",
                web::get().to(|| async { pages::see_other("/settings/tags") }),
            )
            .route("/audit", web::get().to(audit::index))
            .route("/audit/retention", web::post().to(audit::set_retention))
            .route("/monitoring", web::get().to(monitoring::index))
            .route("/monitoring/token", web::post().to(monitoring::make_token))
            .route(
                "/monitoring/token/revoke",
                web::post().to(monitoring::revoke_token),
            )
            .route("/backups", web::get().to(backups::index))
            .route("/backups", web::post().to(backups::save))
            .route("/scoring", web::get().to(scoring::index))
            .route("/scoring/train", web::post().to(scoring::train))
            .route("/scoring/features", web::post().to(scoring::save_features))
            .route("/scoring/horizon", web::post().to(scoring::save_horizon))
            .route(
                "/scoring/{kind}/{version}/activate",
                web::post().to(scoring::activate),
            )
            .route("/email", web::get().to(email::index))
            .route("/email", web::post().to(email::save))
            .route("/email/test", web::post().to(email::test))
            .route("/email/release-held", web::post().to(email::release_held))
            .route("/email/outbox/{id}", web::get().to(email::show))
            .route("/export", web::get().to(export::index))
            .route("/export", web::post().to(export::start))
            .route("/sign-in", web::get().to(sso::index))
            .route("/sign-in", web::post().to(sso::save))
            .route("/fields", web::get().to(fields::index))
            .route("/fields", web::post().to(fields::create))
            .route("/fields/{id}", web::post().to(fields::update))
            .route("/fields/{id}/edit", web::get().to(fields::edit))
            .route("/fields/{id}/delete", web::post().to(fields::delete))
            .route("/forms", web::get().to(web_forms::index))
            .route("/forms", web::post().to(web_forms::create))
            .route("/forms/new", web::get().to(web_forms::new))
            .route("/forms/{id}", web::get().to(web_forms::edit))
            .route("/forms/{id}", web::post().to(web_forms::update))
            .route("/forms/{id}/delete", web::post().to(web_forms::delete))
            .route(
                "/forms/{id}/submissions",
                web::get().to(web_forms::submissions),
            )
            .route(
                "/integrations",
                web::get().to(|| async { pages::see_other("/settings/integrations/stripe") }),
            )
            .route("/integrations/stripe", web::get().to(integrations::stripe))
            .route(
                "/integrations/stripe/secret",
                web::post().to(integrations::rotate),
            )
            .route(
                "/integrations/stripe/secret/previous/delete",
                web::post().to(integrations::drop_previous),
            )
            .route(
                "/integrations/stripe/retention",
                web::post().to(integrations::set_retention),
            )
            .route(
                "/integrations/stripe/events/{id}/reprocess",
                web::post().to(integrations::reprocess),
            )
            .route("/import", web::get().to(imports::index))
            .route("/import", web::post().to(imports::upload))
            .route("/import/{id}", web::get().to(imports::show))
            .route("/import/{id}/mapping", web::post().to(imports::save))
            .route("/import/{id}/dry-run", web::post().to(imports::dry_run))
            .route("/import/{id}/start", web::post().to(imports::start))
            .route("/import/{id}/progress", web::get().to(imports::progress))
            .route("/import/{id}/undo", web::post().to(imports::undo))
            .route("/jobs", web::get().to(jobs::index))
            .route("/jobs/retry-dead", web::post().to(jobs::retry_dead))
            .route("/jobs/{id}/retry", web::post().to(jobs::retry))
            .route("/organisation", web::get().to(organisation::index))
            .route("/organisation", web::post().to(organisation::save))
            .route("/pipelines", web::get().to(pipelines::index))
            .route("/pipelines", web::post().to(pipelines::create))
            .route("/pipelines/{id}", web::post().to(pipelines::rename))
            .route(
                "/pipelines/{id}/stages",
                web::post().to(pipelines::add_stage),
            )
            .route("/stages/{id}", web::post().to(pipelines::update_stage))
            .route(
                "/stages/{id}/reorder",
                web::post().to(pipelines::reorder_stage),
            )
            .route(
                "/stages/{id}/delete",
                web::post().to(pipelines::delete_stage),
            )
            .route("/webhooks", web::get().to(webhooks::index))
            .route("/webhooks", web::post().to(webhooks::create))
            .route("/webhooks/new", web::get().to(webhooks::new))
            .route("/webhooks/{id}", web::get().to(webhooks::show))
            .route("/webhooks/{id}", web::post().to(webhooks::update))
            .route("/webhooks/{id}/delete", web::post().to(webhooks::delete))
            .route("/webhooks/{id}/enable", web::post().to(webhooks::enable))
            .route("/webhooks/{id}/test", web::post().to(webhooks::test))
            .route(
                "/webhooks/deliveries/{id}/redeliver",
                web::post().to(webhooks::redeliver),
            )
            .route("/trash", web::get().to(trash::index))
            .route("/trash/{kind}/{id}/restore", web::post().to(trash::restore))
            .route(
                "/trash/{kind}/{id}/purge",
                web::post().to(trash::delete_forever),
            )
            .route("/tokens", web::get().to(tokens::index))
            .route("/tokens/{id}/revoke", web::post().to(tokens::revoke))
            .route("/tags", web::get().to(tags::index))
            .route("/tags/{id}", web::post().to(tags::update))
            .route("/tags/{id}/merge", web::post().to(tags::merge))
            .route("/tags/{id}/delete", web::post().to(tags::delete))
            .route("/users", web::get().to(users::index))
            .route("/users", web::post().to(users::create))
            .route("/users/invites", web::post().to(invites::create))
            .route(
                "/users/invites/{id}/resend",
                web::post().to(invites::resend),
            )
            .route(
                "/users/invites/{id}/revoke",
                web::post().to(invites::revoke),
            )
            .route("/users/{id}/role", web::post().to(users::change_role))
            .route("/users/{id}/deactivate", web::post().to(users::deactivate))
            .route("/users/{id}/activate", web::post().to(users::activate))
            .route(
                "/users/{id}/two-factor/reset",
                web::post().to(users::reset_two_factor),
            ),
    )
    .default_service(web::to(errors::not_found));
}
