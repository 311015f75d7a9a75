//! `cairn doctor` on the real binary: a working deployment passes (warnings are not
//! failures), and each broken part is named on a FAIL line with exit code 1.
use std::process::Output;

use cairn::domain::Db;

use crate::cli::{cairn, free_port};
use crate::support::*;

fn doctor(url: &str, env: &[(&str, &str)]) -> (Output, String) {
    let out = cairn(url)
        .envs(env.iter().copied())
        .arg("doctor")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    (out, printed)
}

/// The line of `check` (`FAIL  email …`), failing the test with everything printed when
/// there is none.
fn line<'a>(printed: &'a str, check: &str) -> &'a str {
    printed
        .lines()
        .find(|l| l.get(6..).is_some_and(|rest| rest.starts_with(check)))
        .unwrap_or_else(|| panic!("no line about {check}: {printed}"))
}

#[actix_web::test]
async fn a_working_deployment_passes_with_its_warnings_named() {
    let database = migrated_database().await;
    let db = Db::connect(&database.url).await.unwrap();
    create_user(&db, "ops@example.com", "admin").await;
    let (out, printed) = doctor(&database.url, &[]);
    assert!(
        out.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(line(&printed, "database").starts_with("ok"), "{printed}");
    assert!(line(&printed, "migrations").starts_with("ok"), "{printed}");
    assert!(line(&printed, "users").starts_with("ok"), "{printed}");
    assert!(
        line(&printed, "email").starts_with("warn"),
        "no SMTP server is a warning: {printed}"
    );
}

#[actix_web::test]
async fn a_real_smtp_server_is_reached() {
    let database = migrated_database().await;
    let smtp = format!("smtp://{}?tls=none", crate::email_server::smtp().addr);
    let (out, printed) = doctor(&database.url, &[("CAIRN_SMTP_URL", &smtp)]);
    assert!(out.status.success(), "{printed}");
    assert!(line(&printed, "email").starts_with("ok"), "{printed}");
}

#[actix_web::test]
async fn an_smtp_server_that_does_not_answer_fails() {
    let database = migrated_database().await;
    let smtp = format!("smtp://127.0.0.1:{}?tls=none&timeout=2", free_port());
    let (out, printed) = doctor(&database.url, &[("CAIRN_SMTP_URL", &smtp)]);
    assert_eq!(out.status.code(), Some(1), "{printed}");
    assert!(line(&printed, "email").starts_with("FAIL"), "{printed}");
}

#[actix_web::test]
async fn a_database_a_newer_cairn_migrated_fails_and_is_not_served() {
    let database = migrated_database().await;
    let db = Db::connect(&database.url).await.unwrap();
    exec(
        &db,
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m29990101_000001_future', 0)",
    )
    .await;
    let (out, printed) = doctor(&database.url, &[]);
    assert_eq!(out.status.code(), Some(1), "{printed}");
    assert!(
        line(&printed, "migrations").contains("newer Cairn"),
        "{printed}"
    );
    let migrate = cairn(&database.url).arg("migrate").output().unwrap();
    let said = String::from_utf8_lossy(&migrate.stderr);
    assert!(!migrate.status.success(), "migrate refuses: {said}");
    assert!(said.contains("newer Cairn"), "and says why: {said}");
}

#[test]
fn a_data_folder_that_cannot_be_made_and_http_behind_a_proxy_fail() {
    // Nobody, root included, makes a folder under /proc.
    let url = "sqlite:///proc/cairn-doctor/cairn.db";
    let (out, printed) = doctor(
        url,
        &[
            ("CAIRN_BEHIND_PROXY", "true"),
            ("CAIRN_BASE_URL", "http://crm.example.com"),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{printed}");
    assert!(
        line(&printed, "data folder").starts_with("FAIL"),
        "{printed}"
    );
    assert!(line(&printed, "base URL").starts_with("FAIL"), "{printed}");
}
