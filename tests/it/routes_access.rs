//! Every route of the route table, called as every role (and signed out), with "reps see
//! only their own records" off and on; each answer checked against the permission table
//! (`domain::permissions`). The routes and what each needs are `routes_table::ROUTES`.
use actix_web::http::Method;
use actix_web::test::TestRequest;
use cairn::domain::permissions::{Scope, scope};
use cairn::domain::{Action, Actor, Role, custom_fields, invites, settings, tags, views};
use serde_json::{Value, json};

use crate::routes_table::{Fx, Need, ROUTES, Route, declared};
use crate::support::{Client, PASSWORD, Response, TestApp, TestService, stage_id};

#[test]
fn every_route_has_an_entry() {
    let declared = declared();
    assert!(declared.len() > 150, "read only {} routes", declared.len());
    let mut problems = Vec::new();
    for (method, path) in &declared {
        if !ROUTES.iter().any(|r| r.method == method && r.path == path) {
            problems.push(format!(
                "{method} {path} is routed but has no line in routes_table::ROUTES"
            ));
        }
    }
    for r in ROUTES {
        if !declared.iter().any(|(m, p)| m == r.method && p == r.path) {
            problems.push(format!("{} is in ROUTES but not routed", r.key()));
        }
        if ROUTES.iter().filter(|o| o.key() == r.key()).count() > 1 {
            problems.push(format!("{} is in ROUTES twice", r.key()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[actix_web::test]
async fn every_route_answers_every_role_as_the_table_says() {
    check_every_route(false).await;
}

#[actix_web::test]
async fn every_route_answers_every_role_as_the_table_says_with_own_records_only() {
    check_every_route(true).await;
}

/// What an answer must be.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Anything but 401, 403 or a server error; for a page or API read of a record that
    /// exists, not 404 either.
    Allowed,
    Forbidden,
    /// Pages: 303 to /login; API: 401.
    SignIn,
    NotFound,
}

fn expect(route: &Route, role: Option<Role>, own_records_only: bool) -> Option<Expect> {
    let Some(role) = role else {
        return Some(match route.need {
            Need::Public => Expect::Allowed,
            _ => Expect::SignIn,
        });
    };
    let restricted = scope(role, Action::ReadUnderOwnRecordsRule) == Scope::Own;
    // A role granted nothing for the route is refused before any record is looked up
    // (admin-only actions on a record: a person's data).
    if let Need::Can(action) = route.need
        && scope(role, action) == Scope::None
    {
        return Some(Expect::Forbidden);
    }
    if own_records_only && restricted && route.fx.is_others_record() {
        return Some(Expect::NotFound);
    }
    let allowed = match route.need {
        Need::Public | Need::SignedIn => true,
        Need::Can(action) => scope(role, action) != Scope::None,
        Need::Others(action) => scope(role, action) == Scope::All,
    };
    Some(if allowed {
        Expect::Allowed
    } else {
        Expect::Forbidden
    })
}

async fn check_every_route(own_records_only: bool) {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    let olive = app.user("olive@example.com", "rep").await;
    let admin_token = app.token("admin@example.com").await;
    settings::set(
        &app.db.write,
        cairn::domain::organisation::OWN_RECORDS_ONLY,
        if own_records_only { "true" } else { "false" },
    )
    .await
    .unwrap();
    let mut failures = Vec::new();
    let mut skipped = 0;
    let callers: [Option<Role>; 5] = [
        None,
        Some(Role::Viewer),
        Some(Role::Rep),
        Some(Role::Manager),
        Some(Role::Admin),
    ];
    for (k, role) in callers.into_iter().enumerate() {
        let mut setup = app.client().await;
        let fx = Fixtures::make(&app, &mut setup, &admin, &olive, &admin_token, k).await;
        let mut caller = caller(&app, role, k).await;
        if role == Some(Role::Rep) {
            // The same routes on the rep's own records, which a grant of `Own` reaches.
            let token = caller.token.clone().unwrap_or_default();
            let mine = Fixtures {
                ids: records(&mut setup, &token, caller.id, "mine", k).await,
                ..fx
            };
            let own = ROUTES
                .iter()
                .enumerate()
                .filter(|(_, r)| matches!(r.need, Need::Others(_)) && r.fx.is_others_record());
            for (n, route) in own {
                let want = match route.need {
                    Need::Others(a) if scope(Role::Rep, a) != Scope::None => Expect::Allowed,
                    _ => Expect::Forbidden,
                };
                let n = format!("{k}m{n}");
                caller.check(route, want, &mine, &n, &mut failures).await;
            }
        }
        for (n, route) in ROUTES.iter().enumerate() {
            let Some(want) = expect(route, role, own_records_only) else {
                skipped += 1;
                continue;
            };
            caller
                .check(route, want, &fx, &format!("{k}x{n}"), &mut failures)
                .await;
        }
    }
    assert!(
        failures.is_empty(),
        "own records only {own_records_only}: {} answers differ from the table ({skipped} awaited):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

struct Caller<S> {
    c: Client<S>,
    role: Option<Role>,
    id: i64,
    email: String,
    token: Option<String>,
    /// The session's CSRF token, put back before each call: an error page drawn without
    /// the session's user carries none, and the client keeps the last one it saw.
    csrf: Option<String>,
}

/// A client for `role` (signed in, with an API token), or a signed-out one that has
/// seen the login page (so its posts carry a CSRF token and reach the handler).
async fn caller(app: &TestApp, role: Option<Role>, k: usize) -> Caller<impl TestService> {
    let mut c = app.client().await;
    let Some(role) = role else {
        c.get("/login").await;
        let csrf = c.csrf.clone();
        let email = "nobody@example.com".into();
        return Caller {
            c,
            role,
            id: 0,
            email,
            token: None,
            csrf,
        };
    };
    let email = format!("{}{k}@example.com", role.as_str());
    let id = app.user(&email, role.as_str()).await.id;
    let res = c.sign_in(&email, PASSWORD).await;
    assert_eq!(res.status, 303, "{email} signs in: {}", res.text());
    c.get("/account").await;
    let token = Some(app.token(&email).await);
    let csrf = c.csrf.clone();
    Caller {
        c,
        role: Some(role),
        id,
        email,
        token,
        csrf,
    }
}

impl<S: TestService> Caller<S> {
    /// Calls `route` on `fx`'s records and notes in `failures` an answer other than `want`.
    async fn check(
        &mut self,
        route: &Route,
        want: Expect,
        fx: &Fixtures,
        n: &str,
        failures: &mut Vec<String>,
    ) {
        let (url, body) = fx.fill(route, &self.email, n);
        self.c.csrf = self.csrf.clone();
        let res = call(&mut self.c, route, &url, &body, self.token.as_deref()).await;
        if route.key() == "POST /login" {
            // Signing in again starts a new session with a new CSRF token.
            self.c.get("/account").await;
            self.csrf = self.c.csrf.clone();
        }
        if let Err(why) = judge(route, want, &res) {
            let who = self.role.map_or("signed out", Role::as_str);
            failures.push(format!("{} as {who} ({url}): {why}", route.key()));
        }
    }
}

async fn call(
    c: &mut Client<impl TestService>,
    route: &Route,
    url: &str,
    body: &str,
    token: Option<&str>,
) -> Response {
    let method = Method::from_bytes(route.method.as_bytes()).unwrap();
    if route.is_api() {
        let mut req = TestRequest::default().method(method).uri(url);
        if let Some(t) = token {
            req = req.insert_header(("authorization", format!("Bearer {t}")));
        }
        if route.method != "GET" && !body.is_empty() {
            req = req
                .insert_header(("content-type", "application/json"))
                .set_payload(body.to_string());
        }
        return c.send(req).await;
    }
    let csrf = c.csrf.clone().unwrap_or_default();
    match route.method {
        "GET" => c.get(url).await,
        "OPTIONS" => {
            let req = TestRequest::default().method(Method::OPTIONS).uri(url);
            c.send(req).await
        }
        "DELETE" => {
            let req = TestRequest::delete()
                .uri(url)
                .insert_header(("HX-Request", "true"))
                .insert_header(("X-CSRF-Token", csrf));
            c.send(req).await
        }
        _ => {
            let sep = if body.is_empty() { "" } else { "&" };
            let req = TestRequest::post()
                .uri(url)
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(format!("{body}{sep}_csrf={csrf}"));
            c.send(req).await
        }
    }
}

fn judge(route: &Route, want: Expect, res: &Response) -> Result<(), String> {
    let status = res.status.as_u16();
    let answer = || format!("{status} {}", gist(&res.text()));
    let ok = match want {
        // A public route answers a stranger's input as it likes (a wrong password is
        // 401 there), as long as it does not fail or refuse the form.
        Expect::Allowed if matches!(route.need, Need::Public) => status < 500 && status != 403,
        Expect::Allowed => {
            let reads_a_record = route.method == "GET"
                && !matches!(route.need, Need::Public)
                && !matches!(route.fx, Fx::Missing);
            !(status == 401 || status == 403 || status >= 500 || (reads_a_record && status == 404))
        }
        Expect::Forbidden if route.is_api() => status == 403 && res.code() == "forbidden",
        Expect::Forbidden => status == 403,
        Expect::SignIn if route.is_api() => status == 401,
        Expect::SignIn => {
            let to = res.header("location").or_else(|| res.header("hx-redirect"));
            (status == 303 || status == 200) && to.is_some_and(|l| l.starts_with("/login"))
        }
        Expect::NotFound => status == 404,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("expected {want:?}, got {}", answer()))
    }
}

/// The records one caller's routes act on, made by an admin, owned by another rep
/// (Olive), so each role meets the same situation and none sees an earlier role's
/// deletions.
struct Fixtures {
    ids: Vec<(Fx, i64)>,
    pipeline: i64,
    stage: i64,
    tag2: i64,
}

impl Fixtures {
    async fn make(
        app: &TestApp,
        c: &mut Client<impl TestService>,
        admin: &Actor,
        olive: &Actor,
        token: &str,
        k: usize,
    ) -> Fixtures {
        let mut ids = records(c, token, olive.id, "olive", k).await;
        let (contact, company, deal) = bodies(olive.id, "olive", k);
        for (fx, kind, body) in [
            (Fx::TrashedContact, "contacts", contact("trashed")),
            (Fx::TrashedCompany, "companies", company("trashed")),
            (Fx::TrashedDeal, "deals", deal("trashed")),
        ] {
            let id = c.add(kind, token, body).await;
            c.trash(kind, id, token).await;
            ids.push((fx, id));
        }
        let pipelines = c.get_json("/api/v1/pipelines", token).await;
        let first = &pipelines.as_array().expect("a list of pipelines")[0];
        let pipeline = first["id"].as_i64().unwrap();
        let stage = first["stages"][0]["id"].as_i64().unwrap();
        let doomed = format!("Doomed {k}");
        let body = json!({"name": doomed, "probability": 10, "kind": "open"});
        c.api_ok(
            Method::POST,
            &format!("/api/v1/pipelines/{pipeline}/stages"),
            token,
            Some(body),
        )
        .await;
        let pipelines = c.get_json("/api/v1/pipelines", token).await;
        ids.push((Fx::DoomedStage, stage_id(&pipelines[0], &doomed)));
        let tag_id = |all: &[tags::TagUse], name: String| {
            all.iter().find(|t| t.name == name).expect("the tag").id
        };
        let all = tags::list(&app.db).await.unwrap();
        ids.push((Fx::Tag, tag_id(&all, format!("olive{k}a"))));
        let tag2 = tag_id(&all, format!("olive{k}b"));
        ids.extend(settings_things(app, admin, olive, k).await);
        Fixtures {
            ids,
            pipeline,
            stage,
            tag2,
        }
    }

    fn id(&self, fx: Fx) -> i64 {
        self.ids
            .iter()
            .find(|(f, _)| *f == fx)
            .map_or(0, |(_, id)| *id)
    }

    /// The route's URL and body with the fixtures' ids in place.
    fn fill(&self, route: &Route, me: &str, n: &str) -> (String, String) {
        let id = match route.fx {
            Fx::Missing => "999999".to_string(),
            Fx::Secret => "never-sent-secret".to_string(),
            Fx::Asset => "htmx.min.js".to_string(),
            fx => self.id(fx).to_string(),
        };
        let url = route
            .path
            .replace("{id}", &id)
            .replace("{secret}", &id)
            .replace("{name}", &id)
            .replace("{stage}", &id)
            .replace("{key}", &id)
            .replace("{kind}", "contacts");
        let body = route
            .body
            .replace("$merged_contact", &self.id(Fx::MergedContact).to_string())
            .replace("$merged_company", &self.id(Fx::MergedCompany).to_string())
            .replace("$contact", &self.id(Fx::Contact).to_string())
            .replace("$company", &self.id(Fx::Company).to_string())
            .replace("$pipeline", &self.pipeline.to_string())
            .replace("$stage", &self.stage.to_string())
            .replace("$tag", &self.tag2.to_string())
            .replace("$password", &PASSWORD.replace(' ', "+"))
            .replace("$me", &me.replace('@', "%40"))
            .replace("$n", n);
        if route.method == "GET" && !body.is_empty() {
            return (format!("{url}?{body}"), String::new());
        }
        // JSON bodies carry the email unescaped.
        let body = if route.is_api() {
            body.replace("%40", "@")
        } else {
            body
        };
        (url, body)
    }
}

/// The words of an answer worth reading in a failure: a page's main part without its
/// markup, or the JSON as it is.
fn gist(text: &str) -> String {
    let main = text.find("<main").map_or(text, |at| &text[at..]);
    let (mut out, mut in_tag) = (String::new(), false);
    for c in main.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = out.split_whitespace().collect();
    words.join(" ").chars().take(240).collect()
}

/// What the API takes to add a contact, company or deal owned by `owner`, named after
/// `who` and `k`.
fn bodies(
    owner: i64,
    who: &str,
    k: usize,
) -> (
    impl Fn(&str) -> Value + '_,
    impl Fn(&str) -> Value + '_,
    impl Fn(&str) -> Value + '_,
) {
    let contact = move |n: &str| {
        json!({"first_name": who, "last_name": format!("{n} {k}"),
            "email": format!("{who}.{n}{k}@example.com"), "owner_id": owner,
            "tags": [format!("{who}{k}a"), format!("{who}{k}b")]})
    };
    let company = move |n: &str| json!({"name": format!("{who} {n} {k}"), "owner_id": owner});
    let deal =
        move |n: &str| json!({"title": format!("{who} {n} {k}"), "amount": 100, "owner_id": owner});
    (contact, company, deal)
}

/// Contacts, companies, deals owned by `owner`, a task assigned to them and notes on
/// the contact, added with `token` (whose user wrote the notes and made the tasks).
async fn records(
    c: &mut Client<impl TestService>,
    token: &str,
    owner: i64,
    who: &str,
    k: usize,
) -> Vec<(Fx, i64)> {
    let (contact, company, deal) = bodies(owner, who, k);
    let person = c.add("contacts", token, contact("contact")).await;
    let mut ids = vec![(Fx::Contact, person)];
    for (fx, kind, body) in [
        (Fx::DoomedContact, "contacts", contact("doomed")),
        (Fx::MergedContact, "contacts", contact("merged")),
        (Fx::Company, "companies", company("company")),
        (Fx::DoomedCompany, "companies", company("doomed")),
        (Fx::MergedCompany, "companies", company("merged")),
        (Fx::Deal, "deals", deal("deal")),
        (Fx::DoomedDeal, "deals", deal("doomed")),
    ] {
        ids.push((fx, c.add(kind, token, body).await));
    }
    let task =
        json!({"title": format!("{who}'s task {k}"), "assignee_id": owner, "contact_id": person});
    ids.push((Fx::Task, c.add_task(token, task.clone()).await));
    ids.push((Fx::DoomedTask, c.add_task(token, task).await));
    let note =
        json!({"kind": "note", "body": format!("On {who}'s contact {k}"), "contact_id": person});
    ids.push((Fx::Activity, c.add("activities", token, note.clone()).await));
    ids.push((Fx::DoomedActivity, c.add("activities", token, note).await));
    ids
}

/// What the settings routes act on: custom fields, a user, an invitation, an admin's
/// shared view, Olive's API token.
async fn settings_things(app: &TestApp, admin: &Actor, olive: &Actor, k: usize) -> Vec<(Fx, i64)> {
    let mut ids = Vec::new();
    for (fx, label) in [(Fx::Field, "Kept"), (Fx::DoomedField, "Doomed")] {
        let f = custom_fields::create(
            &app.db,
            admin,
            "contact",
            &format!("{label} {k}"),
            "text",
            &[],
            false,
        )
        .await
        .expect("a custom field");
        ids.push((fx, f.id));
    }
    ids.push((
        Fx::User,
        app.user(&format!("target{k}@example.com"), "rep").await.id,
    ));
    let invite = invites::create(&app.db, admin, &format!("invitee{k}@example.com"), "rep").await;
    ids.push((Fx::Invite, invite.expect("an invitation").id));
    let view = views::create(
        &app.db,
        admin,
        "contacts",
        &format!("Shared {k}"),
        "sort=name",
        true,
    )
    .await;
    ids.push((Fx::View, view.expect("a shared view").id));
    let req = cairn::domain::tokens::Request {
        name: "olive".into(),
        scope: "write".into(),
        expires_in_days: String::new(),
    };
    let olive_token = cairn::domain::tokens::create_for_email(&app.db, None, &olive.email, &req)
        .await
        .unwrap();
    ids.push((Fx::Token, olive_token.id));
    for (fx, name) in [(Fx::Form, "Kept"), (Fx::DoomedForm, "Doomed")] {
        let input = cairn::domain::forms::FormInput {
            name: format!("{name} form {k}"),
            source: "organic".into(),
            owner_id: olive.id,
            active: true,
            ..Default::default()
        };
        let f = cairn::domain::forms::create(&app.db, admin, &input).await;
        ids.push((fx, f.expect("a form").id));
    }
    ids
}

/// A viewer's malformed write (an empty form, JSON that does not parse) is refused for
/// the role before the body is read: 403, not the 422 a writer would get.
#[actix_web::test]
async fn a_viewer_s_malformed_write_is_forbidden_before_it_is_validated() {
    malformed_writes_are_forbidden(Role::Viewer).await;
}

/// So is a rep's to a route their role may not use at all (pipelines, settings, users,
/// the trash): the refusal comes before the body is parsed.
#[actix_web::test]
async fn a_rep_s_malformed_write_to_a_route_beyond_the_role_is_forbidden() {
    malformed_writes_are_forbidden(Role::Rep).await;
}

/// And a manager's to an admin's route.
#[actix_web::test]
async fn a_manager_s_malformed_write_to_an_admin_route_is_forbidden() {
    malformed_writes_are_forbidden(Role::Manager).await;
}

/// Posts an empty and a malformed body, as `role`, to every write the role may not make
/// on anyone's record (a grant of `Own` is decided per record, after the body is read).
async fn malformed_writes_are_forbidden(role: Role) {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    let olive = app.user("olive@example.com", "rep").await;
    let admin_token = app.token("admin@example.com").await;
    let mut setup = app.client().await;
    let fx = Fixtures::make(&app, &mut setup, &admin, &olive, &admin_token, 0).await;
    let mut who = caller(&app, Some(role), 0).await;
    let mut failures = Vec::new();
    let beyond_the_role = |route: &Route| match route.need {
        Need::Can(a) | Need::Others(a) => scope(role, a) == Scope::None,
        Need::Public | Need::SignedIn => false,
    };
    for route in ROUTES.iter().filter(|r| r.method != "GET") {
        if expect(route, Some(role), false) != Some(Expect::Forbidden) || !beyond_the_role(route) {
            continue;
        }
        let (url, _) = fx.fill(route, &who.email, "m");
        let malformed = if route.is_api() {
            "{\"nope"
        } else {
            "version=x&amount=%%"
        };
        for (what, body) in [("malformed", malformed), ("empty", "")] {
            who.c.csrf = who.csrf.clone();
            let res = call(&mut who.c, route, &url, body, who.token.as_deref()).await;
            if let Err(why) = judge(route, Expect::Forbidden, &res) {
                failures.push(format!("{} {what} ({url}): {why}", route.key()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
