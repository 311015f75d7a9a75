//! My tasks beyond the first batch of a group ("Show more", a keyset) and a task's notes
//! loaded when opened.
use chrono::{Duration, Utc};
use serde_json::json;

use cairn::domain::tasks::After;

use crate::support::*;

/// The task titles in an HTML fragment, in page order.
fn titles(html: &str) -> Vec<String> {
    html.split("class=\"task-title\">")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_string())
        .collect()
}

/// The "Show more" link in a fragment, unescaped, if any.
fn more_link(html: &str) -> Option<String> {
    let at = html.find("href=\"/tasks/more?")?;
    let rest = &html[at + 6..];
    Some(
        rest[..rest.find('"').unwrap()]
            .replace("&#38;", "&")
            .replace("&amp;", "&"),
    )
}

/// A rep with `n` overdue tasks, alternately timed and date-only, oldest first by title.
async fn rep_with_overdue(app: &TestApp, n: i64) -> Client<impl TestService> {
    let (mut c, token) = app.rep_signed_in().await;
    for i in 0..n {
        let days = 40 - i;
        let body = if i % 2 == 0 {
            let at = Utc::now() - Duration::days(days);
            json!({"title": format!("t{i:02}"), "due_at": at.to_rfc3339()})
        } else {
            let date = (Utc::now() - Duration::days(days)).date_naive();
            json!({"title": format!("t{i:02}"), "due_date": date.to_string()})
        };
        c.create("/api/v1/tasks", &token, body).await;
    }
    c
}

#[test]
fn a_show_more_token_reads_back_and_a_forged_one_is_refused() {
    let at = Utc::now();
    let date = at.date_naive();
    for a in [
        After::Timed(at, 7),
        After::Dated(date, 8),
        After::Undated(9),
    ] {
        assert_eq!(After::parse(&a.token()), Some(a), "token {}", a.token());
    }
    assert_eq!(After::parse("x1_2"), None, "an unknown kind is refused");
    assert_eq!(After::parse("d2026-13-40_1"), None, "a bad date is refused");
}

#[actix_web::test]
async fn show_more_walks_a_group_to_its_end_in_order() {
    let app = TestApp::new().await;
    let mut c = rep_with_overdue(&app, 27).await;
    let page = c.get("/tasks").await.text();
    let first_group = &page[page.find("id=\"group-overdue\"").unwrap()..];
    let first_group = &first_group[..first_group.find("</section>").unwrap()];
    let mut seen = titles(first_group);
    assert_eq!(seen.len(), 20, "the first batch is 20: {seen:?}");
    let mut next = more_link(first_group);
    while let Some(link) = next {
        let batch = c.hx_get(&link).await;
        assert_eq!(batch.status, 200, "{link}: {}", batch.text());
        seen.extend(titles(&batch.text()));
        next = more_link(&batch.text());
    }
    let want: Vec<String> = (0..27).map(|i| format!("t{i:02}")).collect();
    assert_eq!(seen, want, "every overdue task once, oldest first");
}

#[actix_web::test]
async fn show_more_with_a_forged_cursor_is_a_422() {
    let app = TestApp::new().await;
    let (mut c, _) = app.rep_signed_in().await;
    let r = c.hx_get("/tasks/more?group=overdue&after=nonsense").await;
    assert_eq!(r.status, 422, "{}", r.text());
    let r = c.hx_get("/tasks/more?group=done&after=u_1").await;
    assert_eq!(r.status, 422, "done has its own batches: {}", r.text());
}

#[actix_web::test]
async fn notes_open_as_markdown_with_scripts_made_inert() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let notes = "**Call** first\n\n<script>alert(1)</script>[x](javascript:alert(1))";
    let id = c
        .create(
            "/api/v1/tasks",
            &token,
            json!({"title": "Noted", "notes": notes}),
        )
        .await;
    let page = c.get("/tasks").await.text();
    assert!(
        page.contains(&format!("hx-get=\"/tasks/{id}/notes\"")),
        "the row offers its notes: {page}"
    );
    let r = c.hx_get(&format!("/tasks/{id}/notes")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    assert!(
        html.contains("<strong>Call</strong>"),
        "Markdown renders: {html}"
    );
    assert!(
        !html.contains("<script") && !html.contains("href=\"javascript"),
        "scripts are inert: {html}"
    );
}

#[actix_web::test]
async fn another_reps_private_task_notes_are_not_found() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let id = c
        .create(
            "/api/v1/tasks",
            &token,
            json!({"title": "Mine", "notes": "secret"}),
        )
        .await;
    let mut other = app.signed_in("other-rep@example.com", "rep").await;
    let r = other.hx_get(&format!("/tasks/{id}/notes")).await;
    assert_eq!(r.status, 404, "{}", r.text());
}

/// The count a group's heading shows.
fn heading_count(html: &str, key: &str) -> String {
    let at = html
        .find(&format!("id=\"h-{key}\""))
        .unwrap_or_else(|| panic!("no {key} heading in {html}"));
    let rest = &html[at..];
    let mark = "class=\"muted count\">";
    let open = rest.find(mark).expect("the count") + mark.len();
    rest[open..].split('<').next().unwrap().to_string()
}

#[actix_web::test]
async fn a_group_total_is_counted_again_after_a_task_is_added() {
    let app = TestApp::new().await;
    let mut c = rep_with_overdue(&app, 21).await;
    let page = c.get("/tasks").await.text();
    assert_eq!(
        heading_count(&page, "overdue"),
        "21",
        "the total of a full group"
    );
    let token = app.token("rep-api@example.com").await;
    let date = (Utc::now() - Duration::days(2)).date_naive();
    c.create(
        "/api/v1/tasks",
        &token,
        json!({"title": "one more", "due_date": date.to_string()}),
    )
    .await;
    let page = c.get("/tasks").await.text();
    assert_eq!(
        heading_count(&page, "overdue"),
        "22",
        "the kept total was forgotten"
    );
}
