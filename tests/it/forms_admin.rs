//! Settings → Forms: an admin adds, edits and removes a form through the pages, gets its
//! snippet (a plain form posting to the install's base URL, with the honeypot) and reads
//! its submission log; bad settings are refused field by field; other roles get 403.
use cairn::domain::forms;
use serde_json::json;

use crate::forms_given::*;
use crate::support::*;

/// The id in a `/settings/forms/{id}` address.
fn id_in(location: &str) -> i64 {
    location
        .trim_start_matches("/settings/forms/")
        .parse()
        .unwrap_or_else(|_| panic!("a form's address: {location}"))
}

const NEW_FORM: [(&str, &str); 13] = [
    ("name", "Contact us"),
    ("source", "organic"),
    ("tags", "inbound, site"),
    ("allowed_origins", "https://www.example.com"),
    ("notify_owner", "1"),
    ("active", "1"),
    ("field_key", "first_name"),
    ("field_label", "Your first name"),
    ("field_key", "last_name"),
    ("field_label", ""),
    ("field_key", "email"),
    ("field_label", "Work email"),
    ("field_on", "first_name"),
];

#[actix_web::test]
async fn an_admin_adds_a_form_and_gets_its_snippet() {
    let app = TestApp::new().await;
    let mut c = app.https_client().await;
    let admin = app.user("admin@example.com", "admin").await;
    c.sign_in("admin@example.com", PASSWORD).await;
    c.get("/settings/forms/new").await;
    let owner = admin.id.to_string();
    let mut fields = NEW_FORM.to_vec();
    fields.extend([
        ("owner_id", owner.as_str()),
        ("field_on", "email"),
        ("field_required", "first_name"),
    ]);
    let res = c.post_form("/settings/forms", &fields).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let id = id_in(&res.location());
    let f = forms::get(&app.db, &admin, id).await.unwrap();
    let keys: Vec<(&str, &str, bool)> = f
        .fields
        .iter()
        .map(|x| (x.key.as_str(), x.label.as_str(), x.required))
        .collect();
    assert_eq!(
        keys,
        [
            ("first_name", "Your first name", true),
            ("email", "Work email", true)
        ],
        "the ticked fields, the email always required"
    );
    assert_eq!(f.tags, ["inbound", "site"]);
    assert_eq!(f.allowed_origins, ["https://www.example.com"]);
    assert!(f.notify_owner && f.active);
    let page = c.get(&format!("/settings/forms/{id}")).await.text();
    let action = format!(
        "action=&#34;https://crm.example.com/f/{}&#34;",
        f.public_key
    );
    assert!(
        page.contains(&action),
        "the snippet posts to the base URL: {page}"
    );
    assert!(
        page.contains("name=&#34;website&#34;"),
        "the honeypot: {page}"
    );
    assert!(
        page.contains("name=&#34;first_name&#34; required"),
        "{page}"
    );
    let audit = app
        .count_where(
            "audit_log",
            &format!(" WHERE entity = 'form' AND entity_id = {id}"),
        )
        .await;
    assert_eq!(audit, 1, "the creation is audited");
}

#[actix_web::test]
async fn an_admin_edits_and_removes_a_form() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    let f = form_for(&app, &admin, |_| {}).await;
    let mut c = app.client().await;
    c.sign_in("admin@example.com", PASSWORD).await;
    c.get(&format!("/settings/forms/{}", f.id)).await;
    let owner = admin.id.to_string();
    let edit = [
        ("name", "Renamed"),
        ("source", "paid"),
        ("owner_id", owner.as_str()),
        ("field_key", "email"),
        ("field_label", "Email"),
        ("field_on", "email"),
    ];
    let res = c
        .post_form(&format!("/settings/forms/{}", f.id), &edit)
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let after = forms::get(&app.db, &admin, f.id).await.unwrap();
    assert_eq!(
        (after.name.as_str(), after.source.as_str()),
        ("Renamed", "paid")
    );
    assert!(!after.active, "unticked: switched off");
    assert_eq!(after.public_key, f.public_key, "the key stays");
    let list = c.get("/settings/forms").await;
    assert!(list.text().contains("Renamed"), "{}", list.text());
    let res = c
        .post_form(&format!("/settings/forms/{}/delete", f.id), &[])
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(app.count("forms").await, 0);
    let audit = app
        .count_where(
            "audit_log",
            &format!(" WHERE entity = 'form' AND entity_id = {}", f.id),
        )
        .await;
    assert_eq!(audit, 3, "created, updated, deleted");
}

#[actix_web::test]
async fn bad_settings_are_refused_field_by_field() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    let mut c = app.client().await;
    c.sign_in("admin@example.com", PASSWORD).await;
    c.get("/settings/forms/new").await;
    let owner = admin.id.to_string();
    let bad = [
        ("name", ""),
        ("source", "carrier pigeon"),
        ("owner_id", owner.as_str()),
        ("thank_you_url", "javascript:alert(1)"),
        ("allowed_origins", "https://www.example.com/path"),
    ];
    let res = c.post_form("/settings/forms", &bad).await;
    assert_eq!(res.status, 422, "{}", res.text());
    let text = res.text();
    for message in [
        "Give the form a name",
        "Source must be one of",
        "Give a whole web address",
        "is not an origin",
    ] {
        assert!(text.contains(message), "{message:?} is said: {text}");
    }
    assert_eq!(app.count("forms").await, 0);
}

#[actix_web::test]
async fn only_admins_reach_settings_forms() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    let f = form_for(&app, &admin, |_| {}).await;
    for role in ["manager", "rep", "viewer"] {
        let email = format!("{role}@example.com");
        let mut c = app.signed_in(&email, role).await;
        assert_eq!(c.get("/settings/forms").await.status, 403, "{role}");
        let log = c
            .get(&format!("/settings/forms/{}/submissions", f.id))
            .await;
        assert_eq!(log.status, 403, "{role}");
    }
}

#[actix_web::test]
async fn the_submission_log_shows_what_was_sent_and_what_came_of_it() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    let f = form_for(&app, &admin, |_| {}).await;
    let mut c = app.client().await;
    let sent = json!({"first_name": "Ana", "last_name": "Silva", "email": "ana@example.com"});
    let ok = c
        .submit_json(&f.public_key, "https://www.example.com", &sent)
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    let missing = json!({"email": "bo@example.com"});
    let refused = c
        .submit_json(&f.public_key, "https://www.example.com", &missing)
        .await;
    assert_eq!(refused.status, 422, "{}", refused.text());
    c.sign_in("admin@example.com", PASSWORD).await;
    let page = c
        .get(&format!("/settings/forms/{}/submissions", f.id))
        .await;
    assert_eq!(page.status, 200, "{}", page.text());
    let text = page.text();
    let id = contact_with(&app, "ana@example.com").await.unwrap();
    assert!(
        text.contains(&format!("/contacts/{id}")),
        "a link to the contact: {text}"
    );
    assert!(
        text.contains("created") && text.contains("rejected"),
        "{text}"
    );
    assert!(text.contains("Last name is required"), "the reason: {text}");
    assert!(text.contains("bo@example.com"), "what was sent: {text}");
}

#[actix_web::test]
async fn a_form_must_ask_for_a_custom_field_every_contact_requires() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    cairn::domain::custom_fields::create(&app.db, &admin, "contact", "Budget", "text", &[], true)
        .await
        .expect("a required custom field");
    let input = forms::FormInput {
        name: "Short".into(),
        source: "organic".into(),
        owner_id: admin.id,
        active: true,
        ..Default::default()
    };
    let refused = forms::create(&app.db, &admin, &input).await;
    let e = refused.expect_err("a form that could store no contact");
    assert!(e.to_string().contains("Budget"), "{e}");
    let with_it = forms::FormInput {
        fields: vec![field("custom_fields.budget", "Budget", true)],
        ..input
    };
    let f = forms::create(&app.db, &admin, &with_it)
        .await
        .expect("the form");
    let mut c = app.client().await;
    let sent = serde_json::json!({"email": "ana@example.com", "custom_fields.budget": "10k"});
    let res = c
        .submit_json(&f.public_key, "https://www.example.com", &sent)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let token = app.api_user("manager").await;
    let id = contact_with(&app, "ana@example.com")
        .await
        .expect("a contact");
    let ana = c.get_json(&format!("/api/v1/contacts/{id}"), &token).await;
    assert_eq!(ana["custom_fields"]["budget"], "10k", "{ana}");
}
