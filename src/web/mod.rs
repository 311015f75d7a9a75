//! The one route table: every URL of the product is listed here.
pub mod api;
pub mod assets;
pub mod auth;
pub mod errors;
pub mod forms;
pub mod health;
pub mod htmx;
pub mod middleware;
pub mod pages;

use actix_web::web;

use pages::{account, contacts, login, setup, users};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/static/{name:.*}", web::get().to(assets::serve))
        .route(
            "/",
            web::get().to(|| async { pages::see_other("/contacts") }),
        )
        // Sign-in and first-run setup.
        .route("/login", web::get().to(login::show))
        .route("/login", web::post().to(login::submit))
        .route("/logout", web::post().to(login::logout))
        .route("/setup", web::get().to(setup::show))
        .route("/setup", web::post().to(setup::submit))
        .route("/account", web::get().to(account::show))
        .route(
            "/account/password",
            web::post().to(account::change_password),
        )
        .route("/account/tokens", web::post().to(account::create_token))
        .route(
            "/account/tokens/{id}/revoke",
            web::post().to(account::revoke_token),
        )
        // Settings (admins).
        .route(
            "/settings",
            web::get().to(|| async { pages::see_other("/settings/users") }),
        )
        .route("/settings/users", web::get().to(users::index))
        .route("/settings/users", web::post().to(users::create))
        .route(
            "/settings/users/{id}/role",
            web::post().to(users::change_role),
        )
        .route(
            "/settings/users/{id}/deactivate",
            web::post().to(users::deactivate),
        )
        .route(
            "/settings/users/{id}/activate",
            web::post().to(users::activate),
        )
        // Contacts.
        .route("/contacts", web::get().to(contacts::index))
        .route("/contacts", web::post().to(contacts::create))
        .route("/contacts/new", web::get().to(contacts::new))
        .route("/contacts/{id}", web::get().to(contacts::show))
        .route("/contacts/{id}", web::post().to(contacts::update))
        .route("/contacts/{id}", web::delete().to(contacts::delete_row))
        .route("/contacts/{id}/edit", web::get().to(contacts::edit))
        .route(
            "/contacts/{id}/delete",
            web::get().to(contacts::confirm_delete),
        )
        .route("/contacts/{id}/delete", web::post().to(contacts::delete))
        // JSON API.
        .route("/api/openapi.json", web::get().to(api::openapi::document))
        .service(
            web::scope("/api/v1")
                .wrap(actix_web::middleware::from_fn(auth::api_auth))
                .service(
                    web::resource("/contacts")
                        .get(api::contacts::list)
                        .post(api::contacts::create)
                        .default_service(web::to(api::method_not_allowed)),
                )
                .service(
                    web::resource("/contacts/{id}")
                        .get(api::contacts::get)
                        .patch(api::contacts::update)
                        .delete(api::contacts::delete)
                        .default_service(web::to(api::method_not_allowed)),
                ),
        )
        .default_service(web::to(errors::not_found));
}
