//! Notes in Markdown: a record page shows an activity's body rendered and sanitised, the
//! API keeps the text as typed (the rendering itself is unit-tested in domain::markdown).
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

const HOSTILE: &str = "Call notes:\n\n- **budget** approved\n- see [the deck](https://example.com/deck)\n\n\
`SKU-12`\n\n<script>alert(1)</script>\n\n<iframe src=\"https://evil.test\"></iframe>\n\n\
<img src=x onerror=\"alert(2)\">\n\n[win](javascript:alert(3))";

#[actix_web::test]
async fn a_contact_page_renders_a_note_as_markdown_and_nothing_in_it_runs() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let contact = c
        .add_contact(&token, "Ana", "Silva", "ana@example.com")
        .await;
    let body = json!({"kind": "note", "body": HOSTILE, "contact_id": contact});
    let a = c
        .api_ok(Method::POST, "/api/v1/activities", &token, Some(body))
        .await
        .json();
    assert_eq!(a["body"], HOSTILE, "the API answers the text as typed");

    let page = c.get(&format!("/contacts/{contact}")).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    assert!(
        html.contains("<li><strong>budget</strong> approved</li>"),
        "the list and bold text: {html}"
    );
    assert!(
        html.contains(r#"<a href="https://example.com/deck" target="_blank" rel="noopener noreferrer nofollow">the deck</a>"#),
        "the link, opened safely: {html}"
    );
    assert!(html.contains("<code>SKU-12</code>"), "inline code: {html}");
    assert!(!html.contains("<script>alert"), "a script survived: {html}");
    assert!(!html.contains("<iframe"), "an iframe survived: {html}");
    assert!(
        !html.contains("<img"),
        "an image with its handler survived: {html}"
    );
    assert!(
        html.contains("&lt;img src=x onerror="),
        "the handler shows as typed text: {html}"
    );
    assert!(
        !html.contains("javascript:"),
        "a javascript: link survived: {html}"
    );
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "raw HTML shows as typed: {html}"
    );

    let listed = c
        .get_json(&format!("/api/v1/activities?contact_id={contact}"), &token)
        .await;
    assert_eq!(
        listed["items"][0]["body"], HOSTILE,
        "the API list keeps the raw text: {listed}"
    );
}
