//! Set-up through the API that many tests share: records added, trashed and restored
//! with every answer checked, so a test reads as the behaviour it is about.
use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::Method;
use serde_json::{Value, json};

use crate::support::{Client, Response, TestApp, TestService, contact_json};

impl TestApp {
    /// An API token for a new user with `role`, and a client to call with it.
    pub async fn api_client(&self, role: &str) -> (String, Client<impl TestService>) {
        let token = self.api_user(role).await;
        (token, self.client().await)
    }
}

impl TestApp {
    /// Own-records-only on, an admin and a rep (API tokens) and one open EUR deal each:
    /// the admin's of 500, the rep's of 70. The tokens and a client.
    pub async fn own_records_with_a_deal_each(&self) -> (String, String, Client<impl TestService>) {
        let (admin, mut c) = self.api_client("admin").await;
        let rep = self.api_user("rep").await;
        crate::access::rule(self, true).await;
        c.add(
            "deals",
            &admin,
            json!({"title": "Admin's", "amount": 500, "currency": "EUR"}),
        )
        .await;
        c.add(
            "deals",
            &rep,
            json!({"title": "Rep's", "amount": 70, "currency": "EUR"}),
        )
        .await;
        (admin, rep, c)
    }
}

/// Yesterday's date (UTC), as a task's `due_date`.
pub fn yesterday() -> String {
    (chrono::Utc::now() - chrono::Duration::days(1))
        .date_naive()
        .to_string()
}

impl<S, B> Client<S>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    /// Adds a record to API collection `kind` ("contacts", "tasks" …) as `token`; its id.
    pub async fn add(&mut self, kind: &str, token: &str, body: Value) -> i64 {
        self.create(&format!("/api/v1/{kind}"), token, body).await
    }

    /// Adds a contact (`contact_json`) as `token`; its id.
    pub async fn add_contact(&mut self, token: &str, first: &str, last: &str, email: &str) -> i64 {
        self.add("contacts", token, contact_json(first, last, email))
            .await
    }

    /// Adds a company called `name` as `token`; its id.
    pub async fn add_company(&mut self, token: &str, name: &str) -> i64 {
        self.add("companies", token, json!({"name": name})).await
    }

    /// Adds a deal worth 100 called `title` as `token`; its id.
    pub async fn add_deal(&mut self, token: &str, title: &str) -> i64 {
        self.add("deals", token, json!({"title": title, "amount": 100}))
            .await
    }

    /// Adds a task (`body`: its fields as the API takes them) as `token`; its id.
    pub async fn add_task(&mut self, token: &str, body: Value) -> i64 {
        self.add("tasks", token, body).await
    }

    /// Adds a deal "Pilot" with an open task "Send contract" on it as `token`; the deal's
    /// id and the task's.
    pub async fn deal_with_task(&mut self, token: &str) -> (i64, i64) {
        let deal = self.add_deal(token, "Pilot").await;
        let body = json!({"title": "Send contract", "deal_id": deal});
        (deal, self.add_task(token, body).await)
    }

    /// Asks to move record `id` of API collection `kind` to the trash; the answer.
    pub async fn delete_as(&mut self, kind: &str, id: i64, token: &str) -> Response {
        let path = format!("/api/v1/{kind}/{id}");
        self.api(Method::DELETE, &path, token, None).await
    }

    /// Moves record `id` of API collection `kind` to the trash; anything but success fails.
    pub async fn trash(&mut self, kind: &str, id: i64, token: &str) {
        let path = format!("/api/v1/{kind}/{id}");
        self.api_ok(Method::DELETE, &path, token, None).await;
    }

    /// Restores record `id` of API collection `kind` from the trash; anything but success
    /// fails.
    pub async fn restore(&mut self, kind: &str, id: i64, token: &str) {
        let path = format!("/api/v1/{kind}/{id}/restore");
        self.api_ok(Method::POST, &path, token, None).await;
    }
}

impl Response {
    /// Asserts the answer is a `status` refusal whose text says `why`.
    pub fn refuses(&self, status: u16, why: &str) {
        assert_eq!(self.status, status, "{}", self.text());
        assert!(
            self.text().contains(why),
            "the {status} says {why:?}: {}",
            self.text()
        );
    }
}
