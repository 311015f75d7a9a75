//! Single sign-on against a real OpenID Connect provider (tests/oidc/provider.py): the
//! whole code flow with PKCE, matching by verified email, accounts made for allowed
//! domains, and each refusal (state, nonce, issuer, audience, unverified email, unknown
//! user, domain, deactivated) recorded in the audit log with the address and nothing else
//! changed.
use cairn::domain::sso::config::Form;
use cairn::domain::users;
use cairn::entities::audit_log;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::oidc_provider::*;
use crate::support::*;

/// The client's address in every test (`Client::peer`).
const IP: &str = "10.1.2.3";

/// An app whose admin configured the test provider with `change` to the form.
async fn app_with_sso(change: impl FnOnce(&mut cairn::domain::sso::config::Form)) -> TestApp {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    configure(&app.db, &admin, change).await;
    app
}

/// A subject at the provider with `email`, verified or not.
async fn person(email: &str, verified: bool) -> String {
    let sub = unique_subject(email.split('@').next().unwrap());
    set_user(
        &sub,
        json!({"email": email, "email_verified": verified, "name": "Ana Lima"}),
    )
    .await;
    sub
}

/// The SSO sign-in audit rows (`sign_in` via sso, or `sign_in_failed` via sso).
async fn sso_rows(app: &TestApp) -> Vec<(String, Value, Option<String>, Option<i64>)> {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.is_in(["sign_in", "sign_in_failed"]))
        .order_by_asc(audit_log::Column::Id)
        .all(&app.db.read)
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            let detail: Value = serde_json::from_str(r.detail.as_deref().unwrap_or("{}")).unwrap();
            (r.action, detail, r.ip, r.actor_id)
        })
        .filter(|(_, d, _, _)| d["via"] == "sso")
        .collect()
}

/// Asserts the answer refused with `status` and that the only SSO audit row is a
/// `sign_in_failed` for `reason` from the client's address, with no session started.
async fn refused(app: &TestApp, res: &Response, status: u16, reason: &str) {
    assert_eq!(
        res.status,
        status,
        "expected {status} for {reason}: {}",
        res.text()
    );
    assert!(
        res.text().contains("Sign in with Test IdP"),
        "the refusal is shown on the sign-in page: {}",
        res.text()
    );
    let rows = sso_rows(app).await;
    assert_eq!(rows.len(), 1, "one audit row for the refusal: {rows:?}");
    let (action, detail, ip, _) = &rows[0];
    assert_eq!(action, "sign_in_failed", "{rows:?}");
    assert_eq!(detail["reason"], reason, "{rows:?}");
    assert_eq!(ip.as_deref(), Some(IP), "the row has the client's address");
    assert_eq!(
        app.count("sessions").await,
        0,
        "no session for a refused sign-in"
    );
}

#[actix_web::test]
async fn an_existing_user_signs_in_by_verified_email() {
    let app = app_with_sso(|_| {}).await;
    let rep = app.user("ana@example.com", "rep").await;
    let sub = person("Ana@Example.com", true).await;
    let mut c = app.client().await;
    let mut asked = String::new();
    let res = sign_in_via(&mut c, &sub, |u| {
        asked = u.clone();
        u
    })
    .await;
    assert_eq!(res.status, 303, "signed in: {}", res.text());
    assert_eq!(res.location(), "/", "on the dashboard");
    for part in [
        "code_challenge_method=S256",
        "code_challenge=",
        "nonce=",
        "state=",
    ] {
        assert!(
            asked.contains(part),
            "the authorization request has {part}: {asked}"
        );
    }
    let page = c.get("/account").await;
    assert_eq!(page.status, 200, "the session works: {}", page.text());
    assert!(page.text().contains("ana@example.com"), "{}", page.text());
    let rows = sso_rows(&app).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, "sign_in");
    assert_eq!(rows[0].1["subject"], sub.as_str());
    assert_eq!(rows[0].2.as_deref(), Some(IP));
    assert_eq!(rows[0].3, Some(rep.id), "the row names who signed in");
    assert_eq!(app.count("users").await, 2, "no account made");
}

#[actix_web::test]
async fn the_sign_in_returns_to_the_page_asked_for() {
    let app = app_with_sso(|_| {}).await;
    app.user("ana@example.com", "rep").await;
    let sub = person("ana@example.com", true).await;
    let mut c = app.client().await;
    let login = c.get("/login?next=/deals").await;
    assert!(
        login.text().contains("href=\"/login/sso?next=%2Fdeals\""),
        "the button carries next: {}",
        login.text()
    );
    let res = c.get("/login/sso?next=/deals").await;
    let back = authorize(&res.location(), &sub).await;
    let res = c.get(&back).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(res.location(), "/deals");
}

#[actix_web::test]
async fn an_unknown_user_is_refused() {
    let app = app_with_sso(|_| {}).await;
    let sub = person("stranger@example.com", true).await;
    let mut c = app.client().await;
    let res = sign_in_via(&mut c, &sub, |u| u).await;
    refused(&app, &res, 403, "unknown user").await;
    assert!(
        res.text().contains("No Cairn account has the email"),
        "{}",
        res.text()
    );
    assert_eq!(app.count("users").await, 1, "no account made");
}

#[actix_web::test]
async fn an_unknown_user_at_an_allowed_domain_gets_an_account_with_the_default_role() {
    let app = app_with_sso(|f| {
        f.create_users = Some("1".into());
        f.allowed_domains = "example.org, @Example.net".into();
        f.default_role = "viewer".into();
    })
    .await;
    let sub = person("new.person@example.net", true).await;
    let mut c = app.client().await;
    let res = sign_in_via(&mut c, &sub, |u| u).await;
    assert_eq!(res.status, 303, "signed in: {}", res.text());
    let made = users::find_by_email(&app.db.read, "new.person@example.net")
        .await
        .unwrap()
        .expect("an account was made");
    assert_eq!(made.role, "viewer", "the default role");
    assert_eq!(made.name, "Ana Lima", "the name the provider gave");
    assert_eq!(made.password_hash, "!", "no password until one is set");
    let created = app
        .count_where(
            "audit_log",
            &format!(
                " WHERE action = 'create' AND entity = 'user' AND entity_id = {}",
                made.id
            ),
        )
        .await;
    assert_eq!(created, 1, "the account's creation is in the audit log");
    assert_eq!(sso_rows(&app).await[0].0, "sign_in");
}

#[actix_web::test]
async fn an_unknown_user_at_another_domain_is_refused() {
    let app = app_with_sso(|f| {
        f.create_users = Some("1".into());
        f.allowed_domains = "example.org".into();
    })
    .await;
    let sub = person("someone@example.org.evil.test", true).await;
    let mut c = app.client().await;
    let res = sign_in_via(&mut c, &sub, |u| u).await;
    refused(&app, &res, 403, "domain not allowed").await;
    assert_eq!(app.count("users").await, 1, "no account made");
}

#[actix_web::test]
async fn an_unverified_email_is_refused_even_for_an_existing_user() {
    let app = app_with_sso(|_| {}).await;
    app.user("ana@example.com", "rep").await;
    let sub = person("ana@example.com", false).await;
    let mut c = app.client().await;
    let res = sign_in_via(&mut c, &sub, |u| u).await;
    refused(&app, &res, 403, "unverified email").await;
}

#[actix_web::test]
async fn a_deactivated_user_is_refused() {
    let app = app_with_sso(|_| {}).await;
    let rep = app.user("ana@example.com", "rep").await;
    users::set_active(&app.db, None, rep.id, false)
        .await
        .unwrap();
    let sub = person("ana@example.com", true).await;
    let mut c = app.client().await;
    let res = sign_in_via(&mut c, &sub, |u| u).await;
    refused(&app, &res, 403, "deactivated").await;
}

#[actix_web::test]
async fn a_wrong_state_is_refused_and_the_code_is_not_redeemed() {
    let app = app_with_sso(|_| {}).await;
    app.user("ana@example.com", "rep").await;
    let sub = person("ana@example.com", true).await;
    let mut c = app.client().await;
    let back = go_to_provider(&mut c, &sub, |u| u).await;
    let forged = back.replace("state=", "state=forged");
    let res = c.get(&forged).await;
    refused(&app, &res, 401, "wrong state").await;
    // The sign-in under way ended with the refusal: the real answer no longer works.
    let res = c.get(&back).await;
    assert_eq!(res.status, 401, "{}", res.text());
}

#[actix_web::test]
async fn a_callback_no_sign_in_started_is_refused() {
    let app = app_with_sso(|_| {}).await;
    let mut c = app.client().await;
    let res = c.get("/login/sso/callback?code=abc&state=xyz").await;
    refused(&app, &res, 401, "no sign-in started").await;
}

#[actix_web::test]
async fn a_sign_in_the_provider_denied_is_refused() {
    let app = app_with_sso(|_| {}).await;
    let mut c = app.client().await;
    let to = c.get("/login/sso").await.location();
    let back = deny(&to).await;
    assert!(back.contains("error=access_denied"), "{back}");
    // This provider leaves the state out of its error answer; a conforming one sends it
    // back, as here (without it the answer is refused as a wrong state).
    let state = url::Url::parse(&to)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("the authorization request has a state");
    let res = c.get(&format!("{back}&state={state}")).await;
    refused(&app, &res, 401, "provider error").await;
    assert!(
        res.text().contains("did not sign you in (access_denied)"),
        "{}",
        res.text()
    );
}

#[actix_web::test]
async fn a_wrong_nonce_is_refused() {
    let app = app_with_sso(|_| {}).await;
    app.user("ana@example.com", "rep").await;
    let sub = person("ana@example.com", true).await;
    let mut c = app.client().await;
    // The authorization request is replayed with another nonce: the ID token carries it.
    let res = sign_in_via(&mut c, &sub, |u| u.replace("nonce=", "nonce=replayed")).await;
    refused(&app, &res, 401, "wrong nonce").await;
}

/// Ana leaves for the provider, an admin changes the provider's settings with `change`
/// meanwhile, and she comes back: the sign-in must be refused for `reason`.
async fn refused_after_a_change_midway(change: impl FnOnce(&mut Form), reason: &str) {
    let app = app_with_sso(|_| {}).await;
    let admin = app.user("second-admin@example.com", "admin").await;
    app.user("ana@example.com", "rep").await;
    let sub = person("ana@example.com", true).await;
    let mut c = app.client().await;
    let back = go_to_provider(&mut c, &sub, |u| u).await;
    configure(&app.db, &admin, change).await;
    let res = c.get(&back).await;
    refused(&app, &res, 401, reason).await;
}

#[actix_web::test]
async fn a_token_for_another_client_is_refused_as_wrong_audience() {
    // The provider's code and token are for client `cairn`; Cairn now expects another.
    refused_after_a_change_midway(|f| f.client_id = "cairn-renamed".into(), "wrong audience").await;
}

#[actix_web::test]
async fn a_token_from_another_issuer_is_refused() {
    // The same provider under another name is another issuer: its ID tokens say
    // http://localhost:PORT, the one the sign-in began with says http://127.0.0.1:PORT.
    let other = format!("http://localhost:{}", provider().port);
    refused_after_a_change_midway(|f| f.issuer_url = other, "wrong issuer").await;
}

#[actix_web::test]
async fn password_sign_in_can_be_kept_for_admins_only() {
    let app = app_with_sso(|f| f.password_admins_only = Some("1".into())).await;
    app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    let login = c.get("/login").await;
    assert!(
        login.text().contains("Or, for admins, with a password"),
        "{}",
        login.text()
    );
    let res = c.sign_in("rep@example.com", PASSWORD).await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert!(
        res.text()
            .contains("Password sign-in is for admins only here. Use “Sign in with Test IdP”"),
        "a clear message: {}",
        res.text()
    );
    assert_eq!(app.count("sessions").await, 0, "no session for the rep");
    let wrong = c.sign_in("rep@example.com", "not the password").await;
    assert_eq!(wrong.status, 401, "a wrong password says nothing more");
    let refusals = app
        .count_where(
            "audit_log",
            " WHERE action = 'sign_in_failed' AND detail LIKE '%password sign-in off%'",
        )
        .await;
    assert_eq!(refusals, 1, "the refusal is in the audit log");
    let mut admin = app.client().await;
    let res = admin.sign_in("admin@example.com", PASSWORD).await;
    assert_eq!(
        res.status,
        303,
        "admins keep their password: {}",
        res.text()
    );
}

#[actix_web::test]
async fn an_invitee_is_sent_to_single_sign_on_when_passwords_are_for_admins_only() {
    let app = app_with_sso(|f| f.password_admins_only = Some("1".into())).await;
    let mut admin = app.client().await;
    admin.sign_in("admin@example.com", PASSWORD).await;
    admin.get("/settings/users").await;
    admin
        .post_form_ok(
            "/settings/users/invites",
            &[("invite_email", "rita@example.com"), ("invite_role", "rep")],
        )
        .await;
    let secret = crate::invites::secret_sent_to(&app, "rita@example.com").await;
    let mut rita = app.client().await;
    rita.get(&format!("/invite/{secret}")).await;
    let res = rita
        .post_form(
            &format!("/invite/{secret}"),
            &[
                ("name", "Rita"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(res.location(), "/login", "not signed in with the password");
    let login = rita.get("/login").await;
    assert!(
        login.text().contains("Your account is ready."),
        "{}",
        login.text()
    );
    assert_eq!(rita.get("/contacts").await.status, 303, "no session");
    let sub = person("rita@example.com", true).await;
    let res = sign_in_via(&mut rita, &sub, |u| u).await;
    assert_eq!(
        res.status,
        303,
        "signed in with the provider: {}",
        res.text()
    );
}

#[actix_web::test]
async fn the_settings_page_saves_the_provider_and_never_shows_the_secret() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let page = c.get("/settings/sign-in").await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(
        page.text().contains("http://localhost/login/sso/callback"),
        "the redirect URI"
    );
    let secret = "s3cr3t-value-for-the-client-WXYZ";
    let issuer = provider().issuer.clone();
    let res = c
        .post_form(
            "/settings/sign-in",
            &[
                ("issuer_url", issuer.as_str()),
                ("client_id", "cairn"),
                ("client_secret", secret),
                ("label", "Acme SSO"),
                ("default_role", "rep"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let page = c.get("/settings/sign-in").await;
    assert!(
        page.text().contains("ends in …WXYZ"),
        "a hint of the secret: {}",
        page.text()
    );
    assert!(!page.text().contains(secret), "never the secret itself");
    let logged = app
        .count_where("audit_log", &format!(" WHERE detail LIKE '%{secret}%'"))
        .await;
    assert_eq!(logged, 0, "the secret is not in the audit log");
    let changes = app
        .count_where("audit_log", " WHERE action = 'set_sign_in_settings'")
        .await;
    assert_eq!(changes, 1, "the change is in the audit log");
    let mut visitor = app.client().await;
    let login = visitor.get("/login").await;
    assert!(
        login.text().contains("Sign in with Acme SSO"),
        "{}",
        login.text()
    );
}

#[actix_web::test]
async fn the_settings_refuse_an_admin_default_role_and_a_provider_that_does_not_answer() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    c.get("/settings/sign-in").await;
    let nowhere = format!("http://127.0.0.1:{}", crate::cli::free_port());
    let res = c
        .post_form(
            "/settings/sign-in",
            &[
                ("issuer_url", nowhere.as_str()),
                ("client_id", "cairn"),
                ("default_role", "admin"),
            ],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(
        res.text().contains("New accounts cannot be admins"),
        "{}",
        res.text()
    );
    let res = c
        .post_form(
            "/settings/sign-in",
            &[
                ("issuer_url", nowhere.as_str()),
                ("client_id", "cairn"),
                ("default_role", "rep"),
            ],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(res.text().contains("discovery document"), "{}", res.text());
    assert_eq!(
        app.count_where("settings", " WHERE key LIKE 'sso.%'").await,
        0,
        "nothing saved"
    );
}

#[actix_web::test]
async fn only_admins_see_the_sign_in_settings() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("manager@example.com", "manager").await;
    let res = c.get("/settings/sign-in").await;
    assert_eq!(res.status, 403, "{}", res.text());
    let res = c
        .post_form("/settings/sign-in", &[("issuer_url", "")])
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
    let saved = app.count_where("settings", " WHERE key LIKE 'sso.%'").await;
    assert_eq!(saved, 0, "nothing saved");
}
