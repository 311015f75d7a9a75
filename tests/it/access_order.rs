//! Record-level access and order: with "reps see only their own records" on, where a
//! record the rep may not see falls in a list of theirs says nothing of its real name.
use actix_web::http::Method;
use serde_json::json;

use crate::access::{rule, world};
use crate::support::*;

/// The ids of a deal's contacts, in the order the user of `token` reads them.
async fn deal_contacts(c: &mut Client<impl TestService>, token: &str, deal: i64) -> Vec<String> {
    let deal = c.get_json(&format!("/api/v1/deals/{deal}"), token).await;
    let contacts = deal["contacts"].as_array().expect("contacts");
    contacts.iter().map(|x| x["id"].to_string()).collect()
}

#[actix_web::test]
async fn another_rep_s_contact_on_a_rep_s_deal_sorts_the_same_whatever_its_name() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let manager = app.api_user("manager").await;
    let mut c = app.client().await;
    // The deal has the rep's "Zebedee Person" and, linked by a manager, the other rep's
    // contact, whose last name is then made to sort first and then last.
    let path = format!("/api/v1/deals/{}", w.zeb.deal);
    let both = json!({"contact_ids": [w.zeb.contact, w.quin.contact]});
    c.api_ok(Method::PATCH, &path, &manager, Some(both)).await;
    rule(&app, true).await;
    let hidden = format!("/api/v1/contacts/{}", w.quin.contact);
    let mut orders = Vec::new();
    for last_name in ["Aardvark", "Zzyzx"] {
        let rename = json!({"last_name": last_name});
        c.api_ok(Method::PATCH, &hidden, &w.rep2, Some(rename))
            .await;
        orders.push(deal_contacts(&mut c, &w.rep1, w.zeb.deal).await);
    }
    assert_eq!(orders[0].len(), 2, "both contacts are listed: {orders:?}");
    assert_eq!(
        orders[0], orders[1],
        "the order does not follow the hidden name"
    );
    // A manager's order follows the real names, so the rename above did move it.
    let seen = deal_contacts(&mut c, &manager, w.zeb.deal).await;
    assert_eq!(
        seen[1],
        w.quin.contact.to_string(),
        "Zzyzx sorts last: {seen:?}"
    );
}

/// The ids of the deal list sorted by company (A to Z), as the user of `token` reads it.
async fn by_company(c: &mut Client<impl TestService>, token: &str) -> Vec<String> {
    let list = c
        .get_json("/api/v1/deals?sort=company&dir=asc", token)
        .await;
    let items = list["items"].as_array().expect("items");
    items.iter().map(|d| d["id"].to_string()).collect()
}

#[actix_web::test]
async fn the_deal_list_sorted_by_company_puts_another_rep_s_company_under_its_label() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let manager = app.api_user("manager").await;
    let mut c = app.client().await;
    // The rep's second deal is at the other rep's company (a manager's link).
    let second = json!({"title": "Zebedee Second", "amount": 5});
    let second = c.add("deals", &w.rep1, second).await;
    let link = json!({"company_id": w.quin.company});
    let path = format!("/api/v1/deals/{second}");
    c.api_ok(Method::PATCH, &path, &manager, Some(link)).await;
    rule(&app, true).await;
    let hidden = format!("/api/v1/companies/{}", w.quin.company);
    let (mut orders, mut managers) = (Vec::new(), Vec::new());
    for name in ["Aardvark Quintessa", "Zzyzx Quintessa"] {
        let rename = json!({"name": name});
        c.api_ok(Method::PATCH, &hidden, &w.rep2, Some(rename))
            .await;
        orders.push(by_company(&mut c, &w.rep1).await);
        managers.push(by_company(&mut c, &manager).await);
    }
    assert_eq!(orders[0].len(), 2, "the rep's two deals: {orders:?}");
    assert_eq!(
        orders[0], orders[1],
        "the order does not follow the hidden name"
    );
    // A manager's order follows the real names, so the renames above did move it.
    assert_ne!(managers[0], managers[1], "{managers:?}");
}
