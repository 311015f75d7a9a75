//! Editing a custom field in Settings: its label, required flag and choices (renamed on
//! every record, reordered, added, removed when unused), with its key and kind fixed and
//! a save from an older version refused.
use cairn::domain::custom_fields::{self, Field};
use serde_json::json;

use crate::support::*;

/// An admin's token and signed-in client, with a contact field "Tier" (a select of Gold,
/// Silver) and a text field "Notes"; the Tier field as stored.
async fn admin_with_tier(app: &TestApp) -> (String, Client<impl TestService>, Field) {
    let mut c = app.signed_in("admin-api@example.com", "admin").await;
    let token = app.token("admin-api@example.com").await;
    c.get("/settings/fields").await;
    for (label, kind, options) in [("Tier", "select", "Gold\nSilver"), ("Notes", "text", "")] {
        let form = [
            ("entity", "contact"),
            ("label", label),
            ("kind", kind),
            ("options", options),
        ];
        c.post_form_ok("/settings/fields", &form).await;
    }
    (token, c, field(app, "tier").await)
}

/// The contact field with `key`, as stored now.
async fn field(app: &TestApp, key: &str) -> Field {
    custom_fields::for_entity(&app.db.read, "contact")
        .await
        .unwrap()
        .into_iter()
        .find(|f| f.key == key)
        .unwrap_or_else(|| panic!("no contact field {key}"))
}

/// A contact whose Tier is `tier`; their id.
async fn contact_with_tier(c: &mut Client<impl TestService>, token: &str, tier: &str) -> i64 {
    let body = json!({"first_name": "Ana", "last_name": tier, "custom_fields": {"tier": tier}});
    c.create("/api/v1/contacts", token, body).await
}

/// The edit form of `f` after `rows` (choice it had, its name now, its order number).
async fn save(
    c: &mut Client<impl TestService>,
    f: &Field,
    label: &str,
    rows: &[(&str, &str, &str)],
    remove: &[&str],
) -> Response {
    let page = c.get(&format!("/settings/fields/{}/edit", f.id)).await;
    assert_eq!(page.status, 200, "the edit page: {}", page.text());
    let version = f.version.to_string();
    let mut form = vec![("version", version.as_str()), ("label", label)];
    for (from, name, order) in rows {
        form.extend([
            ("opt_from", *from),
            ("opt_name", *name),
            ("opt_order", *order),
        ]);
    }
    form.extend(remove.iter().map(|r| ("opt_remove", *r)));
    c.post_form(&format!("/settings/fields/{}", f.id), &form)
        .await
}

#[actix_web::test]
async fn the_edit_page_says_the_key_and_kind_stay_fixed() {
    let app = TestApp::new().await;
    let (_, mut c, tier) = admin_with_tier(&app).await;
    let html = c
        .get(&format!("/settings/fields/{}/edit", tier.id))
        .await
        .text();
    assert!(html.contains("<code>tier</code> · Single select"), "{html}");
    assert!(html.contains("These stay as created"), "{html}");
}

#[actix_web::test]
async fn an_edit_changes_the_label_and_required_flag_but_not_the_key() {
    let app = TestApp::new().await;
    let (_, mut c, _) = admin_with_tier(&app).await;
    let notes = field(&app, "notes").await;
    c.get(&format!("/settings/fields/{}/edit", notes.id)).await;
    let form = [("version", "1"), ("label", "Call notes"), ("required", "1")];
    let res = c
        .post_form_ok(&format!("/settings/fields/{}", notes.id), &form)
        .await;
    assert_eq!(res.location(), "/settings/fields");
    let now = field(&app, "notes").await;
    assert_eq!(
        (now.label.as_str(), now.required, now.version),
        ("Call notes", true, 2)
    );
}

#[actix_web::test]
async fn renaming_a_choice_renames_it_on_every_record() {
    let app = TestApp::new().await;
    let (token, mut c, tier) = admin_with_tier(&app).await;
    let ana = contact_with_tier(&mut c, &token, "Gold").await;
    let rows = [("Gold", "Platinum", "1"), ("Silver", "Silver", "2")];
    let res = save(&mut c, &tier, "Tier", &rows, &[]).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(field(&app, "tier").await.options, ["Platinum", "Silver"]);
    let ana = c.get_json(&format!("/api/v1/contacts/{ana}"), &token).await;
    assert_eq!(ana["custom_fields"]["tier"], "Platinum", "{ana}");
}

#[actix_web::test]
async fn choices_are_added_reordered_and_an_unused_one_removed() {
    let app = TestApp::new().await;
    let (_, mut c, tier) = admin_with_tier(&app).await;
    let rows = [
        ("Gold", "Gold", "2"),
        ("Silver", "Silver", "3"),
        ("", "Bronze", "1"),
    ];
    let res = save(&mut c, &tier, "Tier", &rows, &["Silver"]).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(field(&app, "tier").await.options, ["Bronze", "Gold"]);
}

#[actix_web::test]
async fn a_choice_in_use_is_kept_and_the_refusal_counts_its_records() {
    let app = TestApp::new().await;
    let (token, mut c, tier) = admin_with_tier(&app).await;
    contact_with_tier(&mut c, &token, "Silver").await;
    contact_with_tier(&mut c, &token, "Silver").await;
    let rows = [("Gold", "Gold", "1"), ("Silver", "Silver", "2")];
    let res = save(&mut c, &tier, "Tier", &rows, &["Silver"]).await;
    assert_eq!(res.status, 409, "{}", res.text());
    assert!(
        res.text().contains("“Silver” is chosen on 2 contacts"),
        "the message names how many: {}",
        res.text()
    );
    assert_eq!(field(&app, "tier").await.options, ["Gold", "Silver"]);
}

#[actix_web::test]
async fn an_edit_from_an_older_version_is_refused() {
    let app = TestApp::new().await;
    let (_, mut c, tier) = admin_with_tier(&app).await;
    let rows = [("Gold", "Gold", "1"), ("Silver", "Silver", "2")];
    let res = save(&mut c, &tier, "Level", &rows, &[]).await;
    assert_eq!(res.status, 303, "the first save: {}", res.text());
    // `tier` still says version 1.
    let res = save(&mut c, &tier, "Rank", &rows, &[]).await;
    assert_eq!(res.status, 409, "{}", res.text());
    assert!(res.text().contains("Nothing was saved"), "{}", res.text());
    assert_eq!(field(&app, "tier").await.label, "Level");
}

#[actix_web::test]
async fn only_admins_edit_fields() {
    let app = TestApp::new().await;
    let (_, _, tier) = admin_with_tier(&app).await;
    let mut c = app.signed_in("manager@example.com", "manager").await;
    let res = c.get(&format!("/settings/fields/{}/edit", tier.id)).await;
    assert_eq!(res.status, 403, "{}", res.text());
}
