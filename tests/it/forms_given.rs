//! Set-up the web form tests share: a form made through the domain as an admin, and
//! posts to its public endpoint as a browser form or as JSON from another site.
use actix_web::test::TestRequest;
use cairn::domain::Actor;
use cairn::domain::forms::{self, Form, FormField, FormInput};
use serde_json::Value;

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use cairn::entities::contact;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::support::{Client, Response, TestApp};

pub fn field(key: &str, label: &str, required: bool) -> FormField {
    FormField {
        key: key.into(),
        label: label.into(),
        required,
    }
}

/// A form asking for first name, last name (both required), email and phone, giving new
/// contacts to `owner` with source "event" and the tag "webinar"; `tweak` changes it.
pub async fn form_for(app: &TestApp, owner: &Actor, tweak: impl FnOnce(&mut FormInput)) -> Form {
    let admin = app
        .user(&format!("forms-admin-{}@example.com", owner.id), "admin")
        .await;
    let mut input = FormInput {
        name: "Webinar sign-up".into(),
        fields: vec![
            field("first_name", "First name", true),
            field("last_name", "Last name", true),
            field("email", "Email", true),
            field("phone", "Phone", false),
        ],
        source: "event".into(),
        owner_id: owner.id,
        tags: vec!["webinar".into()],
        active: true,
        ..FormInput::default()
    };
    tweak(&mut input);
    forms::create(&app.db, &admin, &input)
        .await
        .expect("the admin makes a form")
}

impl<S, B> Client<S>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    /// Posts `fields` to form `key` as a browser form would, with no session or token.
    pub async fn submit_form(&mut self, key: &str, fields: &[(&str, &str)]) -> Response {
        let body = serde_html_form::to_string(fields).unwrap();
        let req = TestRequest::post()
            .uri(&format!("/f/{key}"))
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(body);
        self.send(req).await
    }

    /// Posts `body` as JSON to form `key` from a page of `origin`.
    pub async fn submit_json(&mut self, key: &str, origin: &str, body: &Value) -> Response {
        let req = TestRequest::post()
            .uri(&format!("/f/{key}"))
            .insert_header(("content-type", "application/json"))
            .insert_header(("origin", origin))
            .insert_header(("sec-fetch-site", "cross-site"))
            .set_payload(body.to_string());
        self.send(req).await
    }
}

/// The statuses of form `form_id`'s stored submissions, oldest first.
pub async fn statuses(app: &TestApp, form_id: i64) -> Vec<String> {
    let (rows, _) = forms::log::page(&app.db, &admin_actor(), form_id, None)
        .await
        .expect("the submission log");
    rows.into_iter().rev().map(|s| s.status).collect()
}

/// An admin for reading logs (reads check only the role).
fn admin_actor() -> Actor {
    Actor {
        id: 0,
        name: "reader".into(),
        email: String::new(),
        role: cairn::domain::Role::Admin,
        ip: None,
    }
}

/// The id of the contact whose email is `email` (any case), if one exists.
pub async fn contact_with(app: &TestApp, email: &str) -> Option<i64> {
    contact::Entity::find()
        .filter(contact::Column::EmailNorm.eq(email.to_lowercase()))
        .one(&app.db.read)
        .await
        .unwrap()
        .map(|c| c.id)
}
