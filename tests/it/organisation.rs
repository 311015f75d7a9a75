//! Settings → Organisation: the name in the header and emails, the default time zone
//! and currency, how long a sign-in lasts, and the two access rules; admins only.
use sea_orm::{EntityTrait, QueryOrder};

use crate::support::*;
use cairn::entities::{audit_log, session};

/// Posts the organisation form as an admin would: every field with a sensible value,
/// `changes` replacing some. The answer is returned unchecked.
pub async fn post_organisation(
    c: &mut Client<impl TestService>,
    changes: &[(&str, &str)],
) -> Response {
    let mut fields = vec![
        ("name", "Acme Robotics"),
        ("time_zone", "UTC"),
        ("currency", "USD"),
        ("session_days", "14"),
    ];
    for (k, v) in changes {
        fields.retain(|(f, _)| f != k);
        fields.push((k, v));
    }
    c.get("/settings/organisation").await;
    c.post_form("/settings/organisation", &fields).await
}

/// The same, asserting it was saved.
pub async fn set_organisation(c: &mut Client<impl TestService>, changes: &[(&str, &str)]) {
    let res = post_organisation(c, changes).await;
    assert_eq!(res.status, 303, "saving the organisation: {}", res.text());
}

#[actix_web::test]
async fn the_name_shows_in_the_header() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    set_organisation(&mut c, &[("name", "Acme Robotics")]).await;
    let page = c.get("/contacts").await.text();
    assert!(
        page.contains(r#"<a class="brand" href="/">Acme Robotics</a>"#),
        "the header should carry the organisation's name"
    );
}

#[actix_web::test]
async fn the_form_shows_what_is_stored() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    set_organisation(
        &mut c,
        &[("time_zone", "Europe/Paris"), ("currency", "EUR")],
    )
    .await;
    let page = c.get("/settings/organisation").await.text();
    assert!(page.contains(r#"<option value="Europe/Paris" selected>"#));
    assert!(page.contains(r#"<option value="EUR" selected>"#));
}

#[actix_web::test]
async fn bad_values_are_refused_field_by_field_and_nothing_is_saved() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let res = post_organisation(
        &mut c,
        &[
            ("name", ""),
            ("time_zone", "Mars/Olympus"),
            ("currency", "XYZ"),
            ("session_days", "0"),
        ],
    )
    .await;
    assert_eq!(res.status, 422, "{}", res.text());
    let page = res.text();
    for message in [
        "name is 1 to 120 characters",
        "Pick a time zone",
        "Currency must be an ISO code",
        "A sign-in lasts from 1 to 90 days",
    ] {
        assert!(page.contains(message), "the form should say: {message}");
    }
    assert_eq!(
        app.count_where("settings", " WHERE key = 'org.time_zone'")
            .await,
        0,
        "a refused form must store nothing"
    );
}

#[actix_web::test]
async fn only_admins_may_change_it() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("manager@example.com", "manager").await;
    assert_eq!(c.get("/settings/organisation").await.status, 403);
    let res = post_organisation(&mut c, &[("name", "Hijacked")]).await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(
        app.count_where("settings", " WHERE key = 'org_name'").await,
        0
    );
}

#[actix_web::test]
async fn new_users_start_in_the_default_time_zone() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    set_organisation(&mut c, &[("time_zone", "America/New_York")]).await;
    let later = app.user("later@example.com", "rep").await;
    let tz = app
        .count_where(
            "users",
            &format!(
                " WHERE id = {} AND time_zone = 'America/New_York'",
                later.id
            ),
        )
        .await;
    assert_eq!(
        tz, 1,
        "a user created afterwards starts in the default zone"
    );
}

#[actix_web::test]
async fn a_sign_in_lasts_as_long_as_the_setting_says() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    set_organisation(&mut c, &[("session_days", "2")]).await;
    app.user("rep@example.com", "rep").await;
    let mut rep = app.client().await;
    assert_eq!(rep.sign_in("rep@example.com", PASSWORD).await.status, 303);
    let newest = session::Entity::find()
        .order_by_desc(session::Column::Id)
        .one(&app.db.read)
        .await
        .unwrap()
        .expect("the rep's session");
    let days = (newest.expires_at - newest.created_at).num_days();
    assert_eq!(days, 2, "the new session should end after 2 days");
}

#[actix_web::test]
async fn a_change_is_in_the_audit_log_with_old_and_new_values() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    set_organisation(&mut c, &[("own_records_only", "1")]).await;
    let row = audit_log::Entity::find()
        .order_by_desc(audit_log::Column::Id)
        .one(&app.db.read)
        .await
        .unwrap()
        .expect("an audit row");
    assert_eq!(row.action, "set_organisation");
    let details: serde_json::Value = serde_json::from_str(row.detail.as_deref().unwrap()).unwrap();
    assert_eq!(
        details["changes"]["own_records_only"],
        serde_json::json!({"old": false, "new": true}),
        "the rule's change should be recorded: {details}"
    );
}
