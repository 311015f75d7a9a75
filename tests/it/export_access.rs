//! Who may export the workspace, and the record each export leaves.
use crate::export_zip::{Export, export_as};
use crate::support::*;

#[actix_web::test]
async fn a_manager_or_rep_is_refused_the_export() {
    let app = TestApp::new().await;
    for role in ["manager", "rep"] {
        let (token, mut c) = app.api_client(role).await;
        let res = export_as(&mut c, &token).await;
        assert_eq!(res.status, 403, "a {role}'s API export: {}", res.text());
    }
    let mut c = app.signed_in("manager-page@example.com", "manager").await;
    c.get("/settings/tags").await;
    let res = c.post_form("/settings/export", &[]).await;
    assert_eq!(res.status, 403, "a manager's download: {}", res.text());
}

#[actix_web::test]
async fn the_settings_page_downloads_a_dated_zip() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin-page@example.com", "admin").await;
    let page = c.get("/settings/export").await;
    assert_eq!(page.status, 200, "{}", page.text());
    let res = c.post_form("/settings/export", &[]).await;
    let day = chrono::Utc::now().format("%Y-%m-%d");
    let disposition = res.header("content-disposition").unwrap_or_default();
    assert!(
        disposition.contains(&format!("cairn-export-{day}.zip")),
        "the file name: {disposition}"
    );
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("application/zip")
    );
    let zip = Export::read(&res);
    assert_eq!(zip.csv("users.csv").rows.len(), 1, "the admin");
}

#[actix_web::test]
async fn each_export_is_audited_with_who_asked() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let before = app
        .count_where("audit_log", " WHERE action = 'export'")
        .await;
    Export::read(&export_as(&mut c, &token).await);
    let entries = app
        .count_where(
            "audit_log",
            " WHERE action = 'export' AND entity = 'workspace' AND actor_id IS NOT NULL",
        )
        .await;
    assert_eq!(entries - before, 1, "one audit entry naming the admin");
}
