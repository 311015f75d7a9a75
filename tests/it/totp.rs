//! Two-factor sign-in (TOTP): set-up confirmed with a first code, the second step of
//! signing in, replay and drift, recovery codes, the organisation's requirement,
//! throttling and the audit trail. Codes are computed here with `totp-rs`, as an
//! authenticator app would.
use actix_web::http::Method;
use cairn::domain::{settings, two_factor};
use totp_rs::{Builder, Secret};

use crate::support::*;

const STEP: i64 = 30;

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The code an authenticator shows `steps` steps from now (its clock ahead or behind).
pub(crate) fn code(secret: &str, steps: i64) -> String {
    let totp = Builder::new()
        .with_secret(Secret::try_from_base32(secret).expect("a base32 secret"))
        .build()
        .expect("a TOTP");
    totp.generate((unix_now() + steps * STEP) as u64)
        .to_string()
}

/// Waits for a fresh time step when the current one is about to end, so a code computed
/// here is judged by the server in the same step.
pub(crate) async fn steady() {
    let into = unix_now() % STEP;
    if into >= STEP - 3 {
        tokio::time::sleep(std::time::Duration::from_secs((STEP - into + 1) as u64)).await;
    }
}

pub(crate) fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let at = html
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in {html}"))
        + start.len();
    html[at..].split(end).next().unwrap_or_default()
}

/// Turns two-factor on for the signed-in client through the account pages; returns
/// the secret and the recovery codes shown.
async fn enable(c: &mut Client<impl TestService>) -> (String, Vec<String>) {
    c.get("/account").await;
    let res = c.post_form("/account/two-factor", &[]).await;
    assert_eq!(res.status, 303, "turn on: {}", res.text());
    assert_eq!(res.location(), "/account/two-factor");
    let page = c.get("/account/two-factor").await;
    assert_eq!(page.status, 200, "the set-up page: {}", page.text());
    let secret = between(&page.text(), "id=\"two-factor-secret\">", "<").to_string();
    steady().await;
    let res = c
        .post_form(
            "/account/two-factor/confirm",
            &[("code", &code(&secret, 0))],
        )
        .await;
    assert_eq!(res.status, 200, "confirm with a right code: {}", res.text());
    (secret, recovery_codes(&res.text()))
}

pub(crate) fn recovery_codes(html: &str) -> Vec<String> {
    between(html, "id=\"recovery-codes\">", "</ul>")
        .split("<code>")
        .skip(1)
        .map(|c| c.split("</code>").next().unwrap_or_default().to_string())
        .collect()
}

/// A user with two-factor on since a while (its last code long used), and their secret
/// and recovery codes.
pub(crate) async fn user_with_two_factor(app: &TestApp, email: &str) -> (String, Vec<String>) {
    let mut c = app.signed_in(email, "rep").await;
    let enabled = enable(&mut c).await;
    exec(&app.db, "UPDATE two_factor SET last_step = 0").await;
    enabled
}

/// Signs in with the password from `c`: the answer must send it to the second step.
pub(crate) async fn password_step(c: &mut Client<impl TestService>, email: &str) {
    let res = c.sign_in(email, PASSWORD).await;
    assert_eq!(res.status, 303, "the password is right: {}", res.text());
    assert_eq!(
        res.location(),
        "/login/two-factor",
        "a code is asked for next"
    );
    let page = c.get("/login/two-factor").await;
    assert_eq!(page.status, 200, "the code page: {}", page.text());
}

pub(crate) async fn give_code(c: &mut Client<impl TestService>, code: &str) -> Response {
    c.post_form("/login/two-factor", &[("code", code)]).await
}

pub(crate) async fn signed_in(c: &mut Client<impl TestService>) -> bool {
    c.get("/contacts").await.status == 200
}

#[actix_web::test]
async fn turning_on_shows_a_qr_code_and_ten_recovery_codes_kept_hashed() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("ana@example.com", "rep").await;
    c.get("/account").await;
    assert_eq!(c.post_form("/account/two-factor", &[]).await.status, 303);
    let page = c.get("/account/two-factor").await.text();
    assert!(
        page.contains("<svg") && page.contains("<path"),
        "a QR code drawn as SVG"
    );
    assert!(
        !page.contains("<?xml"),
        "no XML declaration inside the page"
    );
    let secret = between(&page, "id=\"two-factor-secret\">", "<").to_string();
    assert_eq!(secret.len(), 32, "160 bits in base32: {secret}");
    steady().await;
    let res = c
        .post_form(
            "/account/two-factor/confirm",
            &[("code", &code(&secret, 0))],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let codes = recovery_codes(&res.text());
    assert_eq!(codes.len(), 10, "ten recovery codes: {codes:?}");
    let push = res.header("hx-push-url");
    assert_eq!(
        push.as_deref(),
        Some("false"),
        "a reload shows no codes again"
    );
    let on = app
        .count_where("two_factor", " WHERE enabled_at IS NOT NULL")
        .await;
    assert_eq!(on, 1, "two-factor is on");
    let plain = app
        .count_where(
            "recovery_codes",
            &format!(" WHERE code_hash = '{}'", codes[0]),
        )
        .await;
    assert_eq!(plain, 0, "recovery codes are not stored as given");
    assert!(
        c.get("/account")
            .await
            .text()
            .contains("10 recovery codes left")
    );
}

#[actix_web::test]
async fn a_wrong_first_code_leaves_two_factor_off() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("ana@example.com", "rep").await;
    c.get("/account").await;
    c.post_form("/account/two-factor", &[]).await;
    let page = c.get("/account/two-factor").await.text();
    let secret = between(&page, "id=\"two-factor-secret\">", "<").to_string();
    let wrong = if code(&secret, 0) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let res = c
        .post_form("/account/two-factor/confirm", &[("code", wrong)])
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(res.text().contains("That code is not right"));
    let on = app
        .count_where("two_factor", " WHERE enabled_at IS NOT NULL")
        .await;
    assert_eq!(on, 0, "still off");
    assert_eq!(app.count("recovery_codes").await, 0);
}

#[actix_web::test]
async fn sign_in_asks_for_the_code_before_any_session() {
    let app = TestApp::new().await;
    user_with_two_factor(&app, "ana@example.com").await;
    let sessions_before = app.count("sessions").await;
    let mut c = app.client().await;
    password_step(&mut c, "ana@example.com").await;
    assert!(
        !signed_in(&mut c).await,
        "the password alone signs nobody in"
    );
    assert_eq!(
        app.count("sessions").await,
        sessions_before,
        "no session yet"
    );
}

#[actix_web::test]
async fn the_right_code_signs_in() {
    let app = TestApp::new().await;
    let (secret, _) = user_with_two_factor(&app, "ana@example.com").await;
    let mut c = app.client().await;
    password_step(&mut c, "ana@example.com").await;
    steady().await;
    let res = give_code(&mut c, &code(&secret, 0)).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(res.location(), "/", "on the dashboard");
    assert!(signed_in(&mut c).await);
    assert_eq!(
        app.count("pending_sign_ins").await,
        0,
        "the pending sign-in is gone"
    );
}

#[actix_web::test]
async fn a_code_used_once_is_refused_the_second_time() {
    let app = TestApp::new().await;
    let (secret, _) = user_with_two_factor(&app, "ana@example.com").await;
    steady().await;
    let used = code(&secret, 0);
    let mut first = app.client().await;
    password_step(&mut first, "ana@example.com").await;
    assert_eq!(give_code(&mut first, &used).await.status, 303);
    let mut second = app.client().await;
    password_step(&mut second, "ana@example.com").await;
    let res = give_code(&mut second, &used).await;
    assert_eq!(res.status, 401, "{}", res.text());
    assert!(res.text().contains("used already"), "{}", res.text());
    assert!(!signed_in(&mut second).await);
}

#[actix_web::test]
async fn one_step_of_clock_drift_is_accepted_two_are_not() {
    let app = TestApp::new().await;
    let (secret, _) = user_with_two_factor(&app, "ana@example.com").await;
    steady().await;
    for steps in [-2, 2] {
        let mut c = app.client().await;
        password_step(&mut c, "ana@example.com").await;
        let res = give_code(&mut c, &code(&secret, steps)).await;
        assert_eq!(
            res.status,
            401,
            "{steps} steps off is refused: {}",
            res.text()
        );
    }
    // Behind first: an accepted step only moves forward.
    for steps in [-1, 1] {
        let mut c = app.client().await;
        password_step(&mut c, "ana@example.com").await;
        let res = give_code(&mut c, &code(&secret, steps)).await;
        assert_eq!(
            res.status,
            303,
            "{steps} step off is accepted: {}",
            res.text()
        );
    }
}

#[actix_web::test]
async fn a_recovery_code_signs_in_once() {
    let app = TestApp::new().await;
    let (_, codes) = user_with_two_factor(&app, "ana@example.com").await;
    let mut c = app.client().await;
    password_step(&mut c, "ana@example.com").await;
    let res = give_code(&mut c, &codes[3].to_uppercase()).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert!(c.get("/contacts").await.text().contains("9 are left"));
    let mut again = app.client().await;
    password_step(&mut again, "ana@example.com").await;
    let res = give_code(&mut again, &codes[3]).await;
    assert_eq!(res.status, 401, "a used recovery code: {}", res.text());
    assert!(!signed_in(&mut again).await);
}

#[actix_web::test]
async fn when_required_a_user_without_two_factor_sets_it_up_to_sign_in() {
    let app = TestApp::new().await;
    app.user("ana@example.com", "rep").await;
    // The admin turns the rule on in Settings → Organisation.
    let mut admin = app.signed_in("admin@example.com", "admin").await;
    crate::organisation::set_organisation(&mut admin, &[("require_2fa", "1")]).await;
    assert!(two_factor::required(&app.db.read).await.unwrap());
    let mut c = app.client().await;
    password_step(&mut c, "ana@example.com").await;
    let page = c.get("/login/two-factor").await.text();
    assert!(page.contains("requires two-factor"), "{page}");
    assert!(!signed_in(&mut c).await, "no way in before set-up");
    let secret = between(&page, "id=\"two-factor-secret\">", "<").to_string();
    steady().await;
    let res = give_code(&mut c, &code(&secret, 0)).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(recovery_codes(&res.text()).len(), 10);
    assert!(signed_in(&mut c).await, "signed in once set up");
    let on = app
        .count_where("two_factor", " WHERE enabled_at IS NOT NULL")
        .await;
    assert_eq!(on, 1);
}

#[actix_web::test]
async fn wrong_codes_are_throttled_with_the_password_failures() {
    let app = TestApp::new().await;
    let (secret, _) = user_with_two_factor(&app, "ana@example.com").await;
    let mut c = app.client().await;
    for i in 0..2 {
        let res = c.sign_in("ana@example.com", &format!("wrong {i}")).await;
        assert_eq!(res.status, 401);
    }
    password_step(&mut c, "ana@example.com").await;
    steady().await;
    let wrong = if code(&secret, 0) == "000000" {
        "111111"
    } else {
        "000000"
    };
    for i in 0..3 {
        let res = give_code(&mut c, wrong).await;
        assert_eq!(res.status, 401, "wrong code {i}: {}", res.text());
    }
    let res = give_code(&mut c, &code(&secret, 0)).await;
    assert_eq!(res.status, 429, "five failures: even the right code waits");
    assert!(res.header("retry-after").is_some());
    assert!(!signed_in(&mut c).await);
    let throttled = app
        .count_where(
            "audit_log",
            " WHERE action = 'two_factor_failed' AND detail LIKE '%throttled%'",
        )
        .await;
    assert_eq!(throttled, 1, "the refused try is in the audit log");
}

#[actix_web::test]
async fn too_many_wrong_codes_ask_for_the_password_again() {
    let app = TestApp::new().await;
    user_with_two_factor(&app, "ana@example.com").await;
    let mut c = app.client().await;
    c.peer = "198.51.100.7:4000".parse().unwrap();
    password_step(&mut c, "ana@example.com").await;
    for _ in 0..4 {
        assert_eq!(give_code(&mut c, "12345x").await.status, 401);
    }
    let res = give_code(&mut c, "12345x").await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(res.location(), "/login");
    assert_eq!(app.count("pending_sign_ins").await, 0);
    let res = c.sign_in("ana@example.com", PASSWORD).await;
    assert_eq!(
        res.status, 429,
        "the right password does not clear wrong codes"
    );
}

#[actix_web::test]
async fn turning_off_needs_the_password() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("ana@example.com", "rep").await;
    enable(&mut c).await;
    let res = c
        .post_form(
            "/account/two-factor/disable",
            &[("proof", "not my password")],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert_eq!(app.count("two_factor").await, 1, "still on");
    let res = c
        .post_form("/account/two-factor/disable", &[("proof", PASSWORD)])
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(app.count("two_factor").await, 0, "off");
    assert_eq!(app.count("recovery_codes").await, 0, "recovery codes gone");
}

#[actix_web::test]
async fn every_two_factor_change_is_in_the_audit_log() {
    let app = TestApp::new().await;
    let (_, codes) = user_with_two_factor(&app, "ana@example.com").await;
    let mut c = app.client().await;
    password_step(&mut c, "ana@example.com").await;
    assert_eq!(give_code(&mut c, "12345x").await.status, 401);
    assert_eq!(give_code(&mut c, &codes[0]).await.status, 303);
    c.get("/account").await;
    let res = c
        .post_form("/account/two-factor/disable", &[("proof", PASSWORD)])
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    for action in [
        "enable_two_factor",
        "two_factor_failed",
        "use_recovery_code",
        "disable_two_factor",
    ] {
        let rows = app
            .count_where(
                "audit_log",
                &format!(" WHERE action = '{action}' AND entity = 'user' AND ip IS NOT NULL"),
            )
            .await;
        assert_eq!(rows, 1, "one {action} row with the address");
    }
}

#[actix_web::test]
async fn api_tokens_need_no_code() {
    let app = TestApp::new().await;
    user_with_two_factor(&app, "ana@example.com").await;
    let token = app.token("ana@example.com").await;
    let mut c = app.client().await;
    c.api_ok(Method::GET, "/api/v1/contacts", &token, None)
        .await;
}

#[actix_web::test]
async fn when_required_an_accepted_invitation_leads_to_set_up() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    settings::set(&app.db.write, two_factor::REQUIRED_SETTING, "true")
        .await
        .unwrap();
    cairn::domain::invites::create(&app.db, &admin, "new@example.com", "rep")
        .await
        .expect("invite");
    let secret = crate::invites::secret_sent_to(&app, "new@example.com").await;
    let mut c = app.client().await;
    c.get(&format!("/invite/{secret}")).await;
    let fields = [
        ("name", "Nina New"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
    ];
    let res = c.post_form(&format!("/invite/{secret}"), &fields).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(res.location(), "/login/two-factor", "set-up comes first");
    assert!(!signed_in(&mut c).await, "no session before set-up");
}

#[actix_web::test]
async fn a_current_code_also_turns_two_factor_off() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("ana@example.com", "rep").await;
    let (secret, _) = enable(&mut c).await;
    exec(&app.db, "UPDATE two_factor SET last_step = 0").await;
    c.get("/account").await;
    steady().await;
    let res = c
        .post_form(
            "/account/two-factor/disable",
            &[("proof", &code(&secret, 0))],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(app.count("two_factor").await, 0, "off");
}

#[actix_web::test]
async fn while_required_two_factor_cannot_be_turned_off() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("ana@example.com", "rep").await;
    enable(&mut c).await;
    settings::set(&app.db.write, two_factor::REQUIRED_SETTING, "true")
        .await
        .unwrap();
    c.get("/account").await;
    let res = c
        .post_form("/account/two-factor/disable", &[("proof", PASSWORD)])
        .await;
    assert_eq!(res.status, 409, "{}", res.text());
    assert!(res.text().contains("required for everyone"));
    assert_eq!(app.count("two_factor").await, 1, "still on");
}

#[actix_web::test]
async fn the_command_line_turns_off_two_factor_of_a_user_who_lost_their_phone() {
    let app = TestApp::new().await;
    user_with_two_factor(&app, "ana@example.com").await;
    let out = crate::cli::cairn(&app.url)
        .args(["user", "reset-two-factor", "--email", "ana@example.com"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "reset-two-factor: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(app.count("two_factor").await, 0);
    let rows = app
        .count_where(
            "audit_log",
            " WHERE action = 'reset_two_factor' AND actor_id IS NULL",
        )
        .await;
    assert_eq!(rows, 1, "recorded as done from the command line");
    let res = app
        .client()
        .await
        .sign_in("ana@example.com", PASSWORD)
        .await;
    assert_eq!(res.location(), "/", "the password alone signs in again");
}
