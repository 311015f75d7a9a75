//! `cairn backup` / `cairn restore`: a copy taken while writers write restores to a whole,
//! consistent database; restore refuses without --force, a file that is not a Cairn
//! database, and a database a server is running on. SQLite only by nature: on
//! PostgreSQL the refusal (with the pg_dump advice) is what is checked.
use std::path::{Path, PathBuf};

use cairn::domain::backup::{self, lock};
use cairn::domain::{Actor, Db, companies, contacts, deals};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::cli::{Server, cairn};
use crate::support::*;

/// A folder of its own under the tests' temp folder.
pub fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join("cairn-tests").join(format!(
        "{tag}-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

async fn scalar(db: &impl ConnectionTrait, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// A company, a deal of it and a contact, `n` times, as `admin`.
async fn write_records(db: &Db, admin: &Actor, tag: usize, n: usize) {
    for i in 0..n {
        let company: companies::CompanyInput =
            serde_json::from_value(json!({"name": format!("Writer {tag} co {i}")})).unwrap();
        let company = companies::create(db, admin, &company).await.unwrap();
        let deal: deals::DealInput = serde_json::from_value(
            json!({"title": format!("Deal {tag}-{i}"), "amount": 100, "company_id": company.id}),
        )
        .unwrap();
        deals::create(db, admin, &deal).await.unwrap();
        let email = format!("w{tag}-{i}@example.test");
        let contact = contact_json("Writer", &format!("{tag}-{i}"), &email);
        let contact = serde_json::from_value(contact).unwrap();
        contacts::create(db, admin, &contact).await.unwrap();
    }
}

#[actix_web::test]
async fn a_backup_taken_while_writers_write_restores_whole_and_consistent() {
    let app = TestApp::new().await;
    let dir = scratch("backup");
    let copy = dir.join("copy.db");
    if !app.db.is_sqlite() {
        let refused = backup::copy_to(&app.db, &copy)
            .await
            .unwrap_err()
            .to_string();
        assert!(refused.contains("pg_dump --format=custom"), "{refused}");
        assert!(!copy.exists(), "no file pretends to be a backup");
        return;
    }
    let admin = app.user("writer@example.com", "admin").await;
    let writers = (0..3).map(|t| write_records(&app.db, &admin, t, 30));
    let copying = async {
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        backup::copy_to(&app.db, &copy).await
    };
    let (_, size) = tokio::join!(futures_util::future::join_all(writers), copying);
    assert!(size.unwrap() > 0, "the copy has a size");
    let live = dir.join("restored.db");
    let checked = backup::restore(&copy, &live, true).await.unwrap();
    assert!(checked.migrations > 40, "{checked:?}");
    let restored = sea_orm::Database::connect(format!("sqlite://{}?mode=ro", live.display()))
        .await
        .unwrap();
    let orphans = "SELECT COUNT(*) FROM deals d WHERE d.company_id IS NOT NULL \
                   AND NOT EXISTS (SELECT 1 FROM companies c WHERE c.id = d.company_id)";
    assert_eq!(
        scalar(&restored, orphans).await,
        0,
        "every deal's company is there"
    );
    for table in ["contacts", "companies"] {
        let counted = scalar(
            &restored,
            &format!("SELECT n FROM record_counts WHERE name = '{table}'"),
        )
        .await;
        let real = scalar(
            &restored,
            &format!("SELECT COUNT(*) FROM {table} WHERE deleted_at IS NULL"),
        )
        .await;
        assert_eq!(
            counted, real,
            "record_counts of {table} equals its rows in the copy"
        );
    }
    let deals = scalar(&restored, "SELECT COUNT(*) FROM deals").await;
    let companies = scalar(&restored, "SELECT COUNT(*) FROM companies").await;
    assert!(
        deals <= companies,
        "a deal never without its company: {deals} > {companies}"
    );
}

/// A SQLite URL's file, or None on PostgreSQL (after checking the CLI refuses there).
fn sqlite_file_or_refusal(app: &TestApp, args: &[&str]) -> Option<PathBuf> {
    let file = backup::sqlite_path(&app.url);
    if file.is_none() {
        let out = cairn(&app.url).args(args).output().unwrap();
        let said = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!out.status.success(), "cairn {args:?} fails on PostgreSQL");
        assert!(said.contains("pg_restore --clean"), "{said}");
    }
    file
}

/// A good backup of `app`'s database, made by the real command.
fn backup_of(app: &TestApp, dir: &Path) -> PathBuf {
    let copy = dir.join("good.db");
    let out = cairn(&app.url)
        .args(["backup", copy.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    copy
}

fn restore_says(app: &TestApp, file: &Path, force: bool) -> (bool, String) {
    let mut args = vec!["restore", file.to_str().unwrap()];
    if force {
        args.push("--force");
    }
    let out = cairn(&app.url).args(&args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[actix_web::test]
async fn restore_without_force_checks_the_file_and_changes_nothing() {
    let app = TestApp::new().await;
    let Some(live) = sqlite_file_or_refusal(&app, &["restore", "x.db", "--force"]) else {
        return;
    };
    let copy = backup_of(&app, &scratch("noforce"));
    app.user("after-backup@example.com", "rep").await;
    let (ok, said) = restore_says(&app, &copy, false);
    assert!(
        !ok && said.contains("--force"),
        "refused, naming --force: {said}"
    );
    assert!(
        said.contains("is a good Cairn database"),
        "the file was checked: {said}"
    );
    assert!(live.exists());
    assert_eq!(
        app.count_where("users", " WHERE email = 'after-backup@example.com'")
            .await,
        1,
        "the live database is unchanged"
    );
}

#[actix_web::test]
async fn restore_refuses_files_that_are_not_cairn_databases() {
    let app = TestApp::new().await;
    if sqlite_file_or_refusal(&app, &["restore", "x.db", "--force"]).is_none() {
        return;
    }
    let dir = scratch("notdb");
    let text = dir.join("notes.db");
    std::fs::write(
        &text,
        "these are not the rows you are looking for, not even close",
    )
    .unwrap();
    let (ok, said) = restore_says(&app, &text, true);
    assert!(!ok && said.contains("not a SQLite database"), "{said}");
    let foreign = dir.join("foreign.db");
    let other = sea_orm::Database::connect(format!("sqlite://{}?mode=rwc", foreign.display()))
        .await
        .unwrap();
    other
        .execute_unprepared("CREATE TABLE t (x INTEGER)")
        .await
        .unwrap();
    other.close().await.unwrap();
    let (ok, said) = restore_says(&app, &foreign, true);
    assert!(!ok && said.contains("not a Cairn database"), "{said}");
}

#[actix_web::test]
async fn restore_refuses_a_backup_from_a_newer_cairn() {
    let app = TestApp::new().await;
    if sqlite_file_or_refusal(&app, &["restore", "x.db", "--force"]).is_none() {
        return;
    }
    let copy = backup_of(&app, &scratch("newer"));
    let db = sea_orm::Database::connect(format!("sqlite://{}?mode=rw", copy.display()))
        .await
        .unwrap();
    db.execute_unprepared(
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m29991231_000999_future', 0)",
    )
    .await
    .unwrap();
    db.close().await.unwrap();
    let (ok, said) = restore_says(&app, &copy, true);
    assert!(!ok && said.contains("newer Cairn"), "{said}");
}

#[actix_web::test]
async fn restore_refuses_while_a_server_runs_and_works_once_it_stopped() {
    let app = TestApp::new().await;
    let Some(live) = sqlite_file_or_refusal(&app, &["restore", "x.db", "--force"]) else {
        return;
    };
    let copy = backup_of(&app, &scratch("running"));
    let held = lock::shared(&live).unwrap();
    let (ok, said) = restore_says(&app, &copy, true);
    assert!(!ok && said.contains("server is running"), "{said}");
    drop(held);
    let mut server = Server::start_with(&app.url, &[]);
    let (ok, said) = restore_says(&app, &copy, true);
    assert!(
        !ok && said.contains("server is running"),
        "a real cairn serve holds it: {said}"
    );
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let (ok, said) = restore_says(&app, &copy, true);
    assert!(ok, "restored once the server stopped: {said}");
    assert!(
        !Path::new(&format!("{}-wal", live.display())).exists(),
        "no stale WAL"
    );
}
