//! The contact and company list pages: select-all, sorting column headers, the bulk bar's
//! refusals in the page, coloured tag chips.
use actix_web::http::Method;
use actix_web::test::TestRequest;
use sea_orm::EntityTrait;
use serde_json::json;

use crate::support::*;

/// `n` contacts from `source`, named `<prefix>NN Row`.
async fn contacts(
    c: &mut Client<impl TestService>,
    token: &str,
    prefix: &str,
    source: &str,
    n: u32,
) {
    for i in 0..n {
        let body =
            json!({"first_name": format!("{prefix}{i:02}"), "last_name": "Row", "source": source});
        c.create("/api/v1/contacts", token, body).await;
    }
}

/// The `aria-sort` of the header whose link text is `label`.
fn aria_sort(html: &str, label: &str) -> String {
    let th = html
        .split("<th")
        .find(|th| th.contains(&format!(">{label}</a>")))
        .unwrap_or_else(|| panic!("no sortable header {label}"));
    th.split("aria-sort=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

/// The link of the header whose text is `label`.
fn header_link(html: &str, label: &str) -> String {
    let th = html
        .split("<th")
        .find(|th| th.contains(&format!(">{label}</a>")))
        .unwrap_or_else(|| panic!("no sortable header {label}"));
    th.split("href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

#[actix_web::test]
async fn select_all_matching_applies_to_exactly_the_filtered_set() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    contacts(&mut c, &token, "Paid", "paid", 30).await;
    contacts(&mut c, &token, "Event", "event", 3).await;
    let list = c.get("/contacts?source=paid").await.text();
    assert!(
        list.contains("data-select-page"),
        "the header has a select-all box"
    );
    assert!(
        list.contains("Select all 30 matching") && list.contains("name=\"all_matching\""),
        "the page (25 of 30) offers all 30 matching"
    );
    let one_row = list
        .split("name=\"ids\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let ask = [
        ("action", "tag"),
        ("tag", "Hot"),
        ("source", "paid"),
        ("ids", one_row),
        ("all_matching", "1"),
        ("scope", "selected"),
    ];
    let res = c.post_form("/contacts/bulk", &ask).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(
        res.text().contains("Tag 30 contacts “Hot”?"),
        "the confirmation counts every match, not the ticked rows: {}",
        res.text()
    );
    let confirm = [
        ("action", "tag"),
        ("tag", "Hot"),
        ("source", "paid"),
        ("scope", "all"),
        ("confirm", "1"),
        ("expected", "30"),
    ];
    let res = c.post_form("/contacts/bulk", &confirm).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let hot = c
        .get_json("/api/v1/contacts?tags=hot&per_page=100", &token)
        .await;
    assert_eq!(hot["total"], 30, "every paid contact is tagged");
    let items = hot["items"].as_array().unwrap();
    assert!(
        items.iter().all(|i| i["source"] == "paid"),
        "no event contact was tagged"
    );
}

#[actix_web::test]
async fn a_page_that_holds_every_match_offers_no_select_all_matching() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    contacts(&mut c, &token, "Few", "paid", 2).await;
    let list = c.get("/contacts").await.text();
    assert!(list.contains("data-select-page"));
    assert!(
        !list.contains("Select all"),
        "two rows need no 'all matching'"
    );
}

/// A post of the bulk form as htmx sends a boosted form.
async fn boosted_post(
    c: &mut Client<impl TestService>,
    path: &str,
    fields: &[(&str, &str)],
) -> Response {
    let csrf = c.csrf.clone().expect("a CSRF token from the list");
    let mut all = fields.to_vec();
    all.push(("_csrf", &csrf));
    let body = serde_html_form::to_string(&all).unwrap();
    c.send(
        TestRequest::post()
            .uri(path)
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .insert_header(("HX-Request", "true"))
            .insert_header(("HX-Boosted", "true"))
            .set_payload(body),
    )
    .await
}

#[actix_web::test]
async fn apply_to_selected_with_nothing_ticked_says_so_beside_the_button() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    contacts(&mut c, &token, "Paid", "paid", 2).await;
    c.get("/contacts?source=paid").await;
    let ask = [
        ("action", "delete"),
        ("scope", "selected"),
        ("source", "paid"),
    ];
    let res = boosted_post(&mut c, "/contacts/bulk", &ask).await;
    assert_eq!(res.status, 422, "a refusal, answered in the page");
    assert_eq!(res.header("HX-Retarget").as_deref(), Some("#bulk-message"));
    assert_eq!(res.header("HX-Push-Url").as_deref(), Some("false"));
    let text = res.text();
    assert!(
        text.starts_with("Nothing was changed: first tick the contacts"),
        "{text}"
    );
    assert!(
        !text.contains("<html") && !text.contains("422"),
        "no error page: {text}"
    );
    assert_eq!(app.count("contacts").await, 2);
}

#[actix_web::test]
async fn apply_to_selected_with_nothing_ticked_without_script_keeps_the_filters() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    contacts(&mut c, &token, "Paid", "paid", 2).await;
    c.get("/contacts?source=paid").await;
    let ask = [
        ("action", "delete"),
        ("scope", "selected"),
        ("source", "paid"),
    ];
    let res = c.post_form("/contacts/bulk", &ask).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(
        res.location(),
        "/contacts?source=paid",
        "the filters are kept"
    );
    let list = c.get(&res.location()).await.text();
    assert!(list.contains("Nothing was changed: first tick the contacts"));
    assert_eq!(app.count("contacts").await, 2);
}

#[actix_web::test]
async fn contact_headers_sort_the_list_and_say_which_way() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    for first in ["Bea", "Cid", "Abe"] {
        let body = json!({"first_name": first, "last_name": first, "source": "paid"});
        c.create("/api/v1/contacts", &token, body).await;
    }
    let html = c.get("/contacts?source=paid").await.text();
    assert_eq!(
        aria_sort(&html, "Added"),
        "descending",
        "newest first by default"
    );
    assert_eq!(aria_sort(&html, "Name"), "none");
    let by_name = header_link(&html, "Name");
    assert_eq!(
        by_name, "/contacts?source=paid&sort=name",
        "the filter is kept"
    );

    let html = c.hx_get(&by_name).await.text();
    assert!(
        !html.contains("<html"),
        "an htmx click gets the results only"
    );
    assert_eq!(aria_sort(&html, "Name"), "ascending");
    assert_eq!(aria_sort(&html, "Added"), "none");
    let (a, b, cid) = (
        html.find("Abe Abe"),
        html.find("Bea Bea"),
        html.find("Cid Cid"),
    );
    assert!(a < b && b < cid, "rows in name order");
    assert_eq!(
        header_link(&html, "Name"),
        "/contacts?source=paid&sort=name_desc",
        "a second click turns the order round"
    );

    let html = c.get("/contacts?source=paid&sort=name_desc").await.text();
    assert_eq!(aria_sort(&html, "Name"), "descending");
    let (a, cid) = (html.find("Abe Abe"), html.find("Cid Cid"));
    assert!(cid < a, "rows in reverse name order");
    assert_eq!(
        header_link(&html, "Added"),
        "/contacts?source=paid&sort=newest"
    );
}

#[actix_web::test]
async fn company_headers_sort_the_list_and_say_which_way() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    for name in ["Globex", "Acme", "Initech"] {
        c.create("/api/v1/companies", &token, json!({"name": name}))
            .await;
    }
    let html = c.get("/companies").await.text();
    assert_eq!(aria_sort(&html, "Name"), "ascending", "A–Z by default");
    assert_eq!(aria_sort(&html, "Added"), "none");
    assert_eq!(header_link(&html, "Name"), "/companies?sort=name_desc");
    let html = c.hx_get("/companies?sort=newest").await.text();
    assert_eq!(aria_sort(&html, "Added"), "descending");
    let (acme, initech) = (html.find(">Acme<"), html.find(">Initech<"));
    assert!(initech < acme, "newest first: {html}");
    assert_eq!(header_link(&html, "Added"), "/companies?sort=oldest");
}

#[actix_web::test]
async fn list_tag_chips_carry_their_colour_and_rows_have_no_delete() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let body = json!({"first_name": "Ana", "last_name": "Silva", "tags": ["vip"]});
    c.create("/api/v1/contacts", &token, body).await;
    c.create(
        "/api/v1/companies",
        &token,
        json!({"name": "Acme", "tags": ["vip"]}),
    )
    .await;
    let tag = cairn::entities::tag::Entity::find()
        .one(&app.db.read)
        .await
        .unwrap()
        .expect("the tag vip");
    let chip = format!("class=\"tag tag-{}\"", tag.color);
    for list in ["/contacts", "/companies"] {
        let html = c.get(list).await.text();
        assert!(
            html.contains(&chip),
            "{list}: the chip is {}: {html}",
            tag.color
        );
        assert!(
            !html.contains("hx-delete") && !html.contains("btn small danger"),
            "{list}: a row has its own Delete"
        );
    }
    let res = c
        .api(Method::GET, "/api/v1/contacts", &token, None)
        .await
        .json();
    assert_eq!(
        res["items"][0]["tags"],
        json!(["vip"]),
        "the API is unchanged"
    );
}

#[actix_web::test]
async fn record_page_tag_chips_carry_their_colour() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let body = json!({"first_name": "Ana", "last_name": "Silva", "tags": ["vip"]});
    let contact = c.create("/api/v1/contacts", &token, body).await;
    let body = json!({"name": "Acme", "tags": ["vip"]});
    let company = c.create("/api/v1/companies", &token, body).await;
    let tag = cairn::entities::tag::Entity::find()
        .one(&app.db.read)
        .await
        .unwrap()
        .expect("the tag vip");
    let chip = format!("class=\"tag tag-{}\"", tag.color);
    for page in [
        format!("/contacts/{contact}"),
        format!("/companies/{company}"),
    ] {
        let html = c.get(&page).await.text();
        assert!(html.contains(&chip), "{page}: the chip is {}", tag.color);
    }
}
