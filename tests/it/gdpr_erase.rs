//! "Erase this person": nothing of theirs is left in any column of any table; other
//! people's data, deals, companies and payment amounts stay; roll-ups stay exact; admins
//! only, confirmed, audited.
use actix_web::http::Method;

use crate::gdpr_given::*;
use crate::support::*;

async fn erase(c: &mut Client<impl TestService>, p: &Person) -> serde_json::Value {
    let path = format!("/api/v1/contacts/{}/erase", p.id);
    c.api_ok(Method::POST, &path, &p.token, None).await.json()
}

#[actix_web::test]
async fn after_the_erase_no_column_of_any_table_holds_the_email_name_or_phone() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let p = person(&app, &mut c).await;
    assert!(
        !found(&app, EMAIL).await.is_empty(),
        "the search finds the email before"
    );
    let hooks = " WHERE payload LIKE '%Quillfeather%'";
    assert!(
        app.count_where("webhook_deliveries", hooks).await > 0,
        "webhook payloads name them"
    );
    erase(&mut c, &p).await;
    for trace in TRACES {
        let hits = found(&app, trace).await;
        assert!(hits.is_empty(), "{trace:?} is still in {hits:?}");
    }
}

#[actix_web::test]
async fn the_bystander_the_deal_the_company_and_the_payment_amount_stay() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let p = person(&app, &mut c).await;
    let done = erase(&mut c, &p).await;
    assert_eq!(
        done["activities"], 3,
        "their note, the payment's and the form's: {done}"
    );
    assert_eq!(done["tasks"], 1, "{done}");
    let bob = c
        .get_json(&format!("/api/v1/contacts/{}", p.other), &p.token)
        .await;
    assert_eq!(
        bob["email"], "bob@example.test",
        "the bystander is untouched"
    );
    let notes = c
        .get_json(
            &format!("/api/v1/activities?contact_id={}", p.other),
            &p.token,
        )
        .await;
    assert_eq!(notes["items"][0]["id"], p.other_note, "{notes}");
    let deal = c
        .get_json(&format!("/api/v1/deals/{}", p.deal), &p.token)
        .await;
    assert_eq!(
        deal["contacts"],
        serde_json::json!([{"id": p.other, "name": "Bob Bystander"}]),
        "{deal}"
    );
    c.get_json(&format!("/api/v1/companies/{}", p.company), &p.token)
        .await;
    let gone = c
        .api(
            Method::GET,
            &format!("/api/v1/contacts/{}", p.id),
            &p.token,
            None,
        )
        .await;
    assert_eq!(gone.status, 404, "the person is gone");
    let kept = " WHERE amount_minor = 4900 AND contact_id IS NULL";
    assert_eq!(
        app.count_where("billing_entries", kept).await,
        1,
        "the payment stays, unlinked"
    );
}

#[actix_web::test]
async fn counts_and_activity_hours_stay_equal_to_the_rows() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let p = person(&app, &mut c).await;
    erase(&mut c, &p).await;
    let counted = app
        .count_where("record_counts", " WHERE name = 'contacts' AND n = 1")
        .await;
    assert_eq!(
        counted, 1,
        "record_counts says one live contact, as the table holds"
    );
    assert_eq!(app.count("contacts").await, 1);
    let with_author = app
        .count_where("activities", " WHERE author_id IS NOT NULL")
        .await;
    let sum = format!(" WHERE (SELECT SUM(n) FROM activity_hours) = {with_author}");
    assert_eq!(
        app.count_where("record_counts", &format!("{sum} AND name = 'contacts'"))
            .await,
        1,
        "activity_hours adds up to the {with_author} activities left"
    );
}

#[actix_web::test]
async fn a_manager_is_refused_and_nothing_is_erased() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let p = person(&app, &mut c).await;
    let token = app.api_user("manager").await;
    let path = format!("/api/v1/contacts/{}/erase", p.id);
    c.api(Method::POST, &path, &token, None)
        .await
        .refuses(403, "Only admins");
    let mut page = app.signed_in("manager2@example.com", "manager").await;
    page.get(&format!("/contacts/{}", p.id)).await;
    let res = page
        .post_form(
            &format!("/contacts/{}/erase", p.id),
            &[("confirm", "erase")],
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert!(
        res.text().contains("Only admins"),
        "refused for the role: {}",
        res.text()
    );
    c.get_json(&format!("/api/v1/contacts/{}", p.id), &p.token)
        .await;
}

#[actix_web::test]
async fn the_erase_is_audited_without_the_person_s_data() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let p = person(&app, &mut c).await;
    erase(&mut c, &p).await;
    let filter = format!(
        " WHERE action = 'erase' AND entity = 'contact' AND entity_id = {}",
        p.id
    );
    assert_eq!(
        app.count_where("audit_log", &filter).await,
        1,
        "one erase entry"
    );
    let updates = format!(
        " WHERE action = 'update' AND entity = 'contact' AND entity_id = {}",
        p.id
    );
    assert_eq!(
        app.count_where("audit_log", &updates).await,
        2,
        "the title and tag changes keep their entries"
    );
}

#[actix_web::test]
async fn the_page_asks_for_the_word_before_erasing() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let p = person(&app, &mut c).await;
    let mut page = app.signed_in("admin2@example.com", "admin").await;
    let path = format!("/contacts/{}/erase", p.id);
    assert!(
        page.get(&format!("/contacts/{}", p.id))
            .await
            .text()
            .contains(&path)
    );
    let res = page.post_form(&path, &[("confirm", "yes")]).await;
    assert_eq!(res.status, 422, "a wrong word: {}", res.text());
    assert!(res.text().contains("Type “erase”"), "{}", res.text());
    assert_eq!(app.count("contacts").await, 2, "nothing erased yet");
    let res = page.post_form(&path, &[("confirm", "Erase")]).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(app.count("contacts").await, 1, "the person is erased");
}
