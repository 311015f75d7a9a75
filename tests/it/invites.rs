//! Invitations: an admin invites an address from Settings → Users; the link works once,
//! for 7 days, until revoked or resent; the invitee chooses a name and password, becomes a
//! user with the invited role and is signed in.
use cairn::entities::outbox;
use cairn::jobs::Clock;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::email::runner;
use crate::email_server::*;
use crate::support::*;

/// The link secret of the latest email queued to `to` (read from the outbox before its
/// job runs, as only the recipient's mailbox would have it after).
pub(crate) async fn secret_sent_to(app: &TestApp, to: &str) -> String {
    let row = outbox::Entity::find()
        .filter(outbox::Column::ToEmail.eq(to))
        .order_by_desc(outbox::Column::Id)
        .one(&app.db.read)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no email was queued to {to}"));
    let content: serde_json::Value = serde_json::from_str(&row.content).unwrap();
    content["token"]
        .as_str()
        .unwrap_or_else(|| panic!("the email to {to} carries no link: {content}"))
        .to_string()
}

/// A time `n` minutes ago as both engines read it in an SQL literal.
pub(crate) fn minutes_ago(n: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(n))
        .format("%Y-%m-%d %H:%M:%S+00:00")
        .to_string()
}

/// An admin's client that has invited `email` as `role`; the link's secret.
async fn invited(app: &TestApp, email: &str, role: &str) -> (Client<impl TestService>, String) {
    let mut admin = app.signed_in("admin@example.com", "admin").await;
    admin.get("/settings/users").await;
    let res = admin
        .post_form_ok(
            "/settings/users/invites",
            &[("invite_email", email), ("invite_role", role)],
        )
        .await;
    assert_eq!(res.location(), "/settings/users#invites");
    (admin, secret_sent_to(app, email).await)
}

async fn accept(c: &mut Client<impl TestService>, secret: &str, name: &str) -> Response {
    let page = c.get(&format!("/invite/{secret}")).await;
    assert_eq!(page.status, 200, "the invitation page: {}", page.text());
    c.post_form(
        &format!("/invite/{secret}"),
        &[
            ("name", name),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ],
    )
    .await
}

#[actix_web::test]
async fn an_accepted_invitation_makes_a_signed_in_user_with_the_invited_role() {
    let app = TestApp::new().await;
    let (_admin, secret) = invited(&app, "vic@example.com", "viewer").await;
    let mut vic = app.client().await;
    let res = accept(&mut vic, &secret, "Vic Viewer").await;
    assert_eq!(res.status, 303, "accepting: {}", res.text());
    assert_eq!(vic.get("/contacts").await.status, 200, "signed in at once");
    assert_eq!(
        vic.get("/contacts/new").await.status,
        403,
        "as the viewer they were invited as"
    );
    assert_eq!(
        app.count_where(
            "users",
            " WHERE email = 'vic@example.com' AND name = 'Vic Viewer'"
        )
        .await,
        1
    );
    let mut again = app.client().await;
    assert_eq!(again.sign_in("vic@example.com", PASSWORD).await.status, 303);
}

#[actix_web::test]
async fn pending_invitations_are_listed_until_accepted() {
    let app = TestApp::new().await;
    let (mut admin, secret) = invited(&app, "rita@example.com", "rep").await;
    let page = admin.get("/settings/users").await.text();
    assert!(page.contains("Pending invitations") && page.contains("rita@example.com"));
    accept(&mut app.client().await, &secret, "Rita").await;
    let page = admin.get("/settings/users").await.text();
    assert!(
        !page.contains("Pending invitations"),
        "an accepted invitation is no longer pending"
    );
}

#[actix_web::test]
async fn without_an_smtp_server_the_admin_is_told_the_invitation_is_held() {
    let app = TestApp::new().await;
    let (mut admin, _) = invited(&app, "rita@example.com", "rep").await;
    let page = admin.get("/settings/users").await.text();
    assert!(
        page.contains("An invitation to rita@example.com is held: no SMTP server is configured"),
        "the flash says the email waits"
    );
}

#[actix_web::test]
async fn an_invitation_link_works_once() {
    let app = TestApp::new().await;
    let (_admin, secret) = invited(&app, "rita@example.com", "rep").await;
    let res = accept(&mut app.client().await, &secret, "Rita").await;
    assert_eq!(res.status, 303, "the first use: {}", res.text());

    let mut other = app.client().await;
    let page = other.get(&format!("/invite/{secret}")).await;
    assert_eq!(page.status, 404);
    assert!(page.text().contains("was used already"), "{}", page.text());
    other.get("/login").await;
    let res = other
        .post_form(
            &format!("/invite/{secret}"),
            &[
                ("name", "Mallory"),
                ("password", "another long password"),
                ("password_confirm", "another long password"),
            ],
        )
        .await;
    assert_eq!(res.status, 404, "a second use is refused: {}", res.text());
    assert_eq!(app.count("users").await, 2, "no second user");
}

#[actix_web::test]
async fn an_expired_invitation_is_refused_and_makes_no_user() {
    let app = TestApp::new().await;
    let (_admin, secret) = invited(&app, "rita@example.com", "rep").await;
    let past = minutes_ago(1);
    exec(
        &app.db,
        &format!("UPDATE invites SET expires_at = '{past}'"),
    )
    .await;
    let mut c = app.client().await;
    let page = c.get(&format!("/invite/{secret}")).await;
    assert_eq!(page.status, 404);
    assert!(page.text().contains("has expired"), "{}", page.text());
    c.get("/login").await;
    let res = c
        .post_form(
            &format!("/invite/{secret}"),
            &[
                ("name", "Rita"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, 404, "{}", res.text());
    assert_eq!(app.count("users").await, 1, "only the admin");
}

#[actix_web::test]
async fn a_revoked_invitation_is_refused() {
    let app = TestApp::new().await;
    let (mut admin, secret) = invited(&app, "rita@example.com", "rep").await;
    let id = app.count_where("invites", "").await;
    admin
        .post_form_ok(&format!("/settings/users/invites/{id}/revoke"), &[])
        .await;
    let page = app.client().await.get(&format!("/invite/{secret}")).await;
    assert_eq!(page.status, 404);
    assert!(page.text().contains("was revoked"), "{}", page.text());
    let res = admin
        .post_form(&format!("/settings/users/invites/{id}/revoke"), &[])
        .await;
    assert_eq!(res.status, 404, "revoking twice: {}", res.text());
}

#[actix_web::test]
async fn resending_makes_a_new_link_and_the_old_one_stops_working() {
    let app = TestApp::new().await;
    let (mut admin, old) = invited(&app, "rita@example.com", "rep").await;
    admin
        .post_form_ok("/settings/users/invites/1/resend", &[])
        .await;
    let new = secret_sent_to(&app, "rita@example.com").await;
    assert_ne!(old, new);
    assert_eq!(app.count("outbox").await, 2, "a second email");
    let mut c = app.client().await;
    assert_eq!(c.get(&format!("/invite/{old}")).await.status, 404);
    assert_eq!(accept(&mut c, &new, "Rita").await.status, 303);
}

#[actix_web::test]
async fn an_address_with_a_user_or_a_pending_invitation_is_not_invited_again() {
    let app = TestApp::new().await;
    let (mut admin, _) = invited(&app, "rita@example.com", "rep").await;
    for email in ["admin@example.com", "Rita@Example.com"] {
        let res = admin
            .post_form(
                "/settings/users/invites",
                &[("invite_email", email), ("invite_role", "rep")],
            )
            .await;
        assert_eq!(res.status, 409, "inviting {email}: {}", res.text());
        assert!(res.text().contains("field-error"), "the field says why");
    }
    let res = admin
        .post_form(
            "/settings/users/invites",
            &[("invite_email", "not an address"), ("invite_role", "owner")],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.text().contains("Role must be one of"));
    assert_eq!(app.count("invites").await, 1);
}

#[actix_web::test]
async fn only_admins_invite() {
    let app = TestApp::new().await;
    let mut manager = app.signed_in("boss@example.com", "manager").await;
    manager.get("/account").await;
    let res = manager
        .post_form(
            "/settings/users/invites",
            &[("invite_email", "x@example.com"), ("invite_role", "admin")],
        )
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(app.count("invites").await, 0);
}

#[actix_web::test]
async fn accepting_refuses_a_common_or_short_password_and_keeps_the_link() {
    let app = TestApp::new().await;
    let (_admin, secret) = invited(&app, "rita@example.com", "rep").await;
    let mut c = app.client().await;
    c.get(&format!("/invite/{secret}")).await;
    for bad in ["password123", "short1234"] {
        let res = c
            .post_form(
                &format!("/invite/{secret}"),
                &[
                    ("name", "Rita"),
                    ("password", bad),
                    ("password_confirm", bad),
                ],
            )
            .await;
        assert_eq!(res.status, 422, "{bad}: {}", res.text());
        assert!(
            res.text().contains("field-error") && res.text().contains("aria-invalid"),
            "the password field says why"
        );
    }
    assert_eq!(accept(&mut c, &secret, "Rita").await.status, 303);
}

#[actix_web::test]
async fn invitations_sent_accepted_and_revoked_are_audited() {
    let app = TestApp::new().await;
    let (mut admin, secret) = invited(&app, "rita@example.com", "rep").await;
    accept(&mut app.client().await, &secret, "Rita").await;
    admin.get("/settings/users").await;
    admin
        .post_form_ok(
            "/settings/users/invites",
            &[("invite_email", "sam@example.com"), ("invite_role", "rep")],
        )
        .await;
    admin
        .post_form_ok("/settings/users/invites/2/revoke", &[])
        .await;
    for action in ["invite", "accept", "revoke"] {
        let n = app
            .count_where(
                "audit_log",
                &format!(" WHERE entity = 'invite' AND action = '{action}'"),
            )
            .await;
        assert!(n >= 1, "no audit row for {action}");
    }
}

#[actix_web::test]
async fn the_invitation_email_arrives_with_a_link_that_works() {
    let app = TestApp::new().await;
    let admin = app.user("boss@example.com", "admin").await;
    configure(
        &app.db,
        &admin,
        &test_server_url(),
        "crm@example.com",
        "Acme",
    )
    .await;
    let running = runner(&app.db, &Clock::system());
    let address = unique_address("invitee");
    let (mut admin_c, _) = invited(&app, &address, "manager").await;
    let page = admin_c.get("/settings/users").await.text();
    assert!(
        page.contains("is on its way to"),
        "the flash says it is sent"
    );

    let mail = unfolded(&wait_for_mail(&address, 1).await[0]);
    assert!(mail.contains("invited you to Acme's Cairn"), "{mail}");
    let at = mail.find("/invite/").expect("a link in the email") + "/invite/".len();
    let secret: String = mail[at..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    let res = accept(&mut app.client().await, &secret, "Mia Manager").await;
    assert_eq!(res.status, 303, "accepting from the email: {}", res.text());
    assert!(running.finish(std::time::Duration::from_secs(5)).await);
}
