//! The trigger-kept record counts (an unfiltered list's exact total): right after every
//! kind of write, and, on PostgreSQL, not locked by a write that changes no count (an
//! edit), so two transactions editing contacts do not wait for each other's commit.
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement, TransactionTrait};

use crate::support::{TestApp, exec};

async fn contacts_count(app: &TestApp) -> i64 {
    let row = app
        .db
        .read
        .query_one_raw(Statement::from_string(
            app.db.backend(),
            "SELECT n FROM record_counts WHERE name = 'contacts'",
        ))
        .await
        .unwrap()
        .expect("the contacts' count row");
    row.try_get("", "n").unwrap()
}

#[actix_web::test]
async fn the_contact_count_follows_creates_trash_restore_and_deletes_but_not_edits() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let a = c
        .add_contact(&token, "Ana", "Lima", "ana@example.com")
        .await;
    let b = c.add_contact(&token, "Ben", "Ode", "ben@example.com").await;
    assert_eq!(contacts_count(&app).await, 2, "two created");
    exec(&app.db, "UPDATE contacts SET first_name = 'Anna'").await;
    assert_eq!(contacts_count(&app).await, 2, "an edit changes no count");
    c.trash("contacts", a, &token).await;
    assert_eq!(
        contacts_count(&app).await,
        1,
        "a trashed contact no longer counts"
    );
    c.restore("contacts", a, &token).await;
    assert_eq!(
        contacts_count(&app).await,
        2,
        "a restored contact counts again"
    );
    c.trash("contacts", b, &token).await;
    exec(&app.db, &format!("DELETE FROM contacts WHERE id = {b}")).await;
    assert_eq!(
        contacts_count(&app).await,
        1,
        "purging a trashed contact takes nothing off"
    );
    exec(&app.db, &format!("DELETE FROM contacts WHERE id = {a}")).await;
    assert_eq!(
        contacts_count(&app).await,
        0,
        "deleting a live contact takes it off"
    );
}

/// Runs `write` in a transaction left open, then asks from another connection whether the
/// contacts' count row can be locked without waiting.
async fn count_row_free_during(app: &TestApp, other: &DatabaseConnection, write: &str) -> bool {
    let tx = app.db.write.begin().await.unwrap();
    tx.execute_unprepared(write).await.unwrap();
    let probe = other
        .execute_unprepared("SELECT n FROM record_counts WHERE name = 'contacts' FOR UPDATE NOWAIT")
        .await;
    tx.rollback().await.unwrap();
    probe.is_ok()
}

async fn postgres_app() -> Option<(TestApp, DatabaseConnection)> {
    let app = TestApp::new().await;
    if app.db.is_sqlite() {
        // SQLite runs one writing transaction at a time whatever it touches; the suite's
        // PostgreSQL run is where row locks are checked.
        eprintln!("skipped on SQLite: row locks exist only on PostgreSQL");
        return None;
    }
    let other = Database::connect(&app.url).await.unwrap();
    Some((app, other))
}

#[actix_web::test]
async fn editing_a_contact_leaves_the_count_row_free_on_postgresql() {
    let Some((app, other)) = postgres_app().await else {
        return;
    };
    let (token, mut c) = app.api_client("admin").await;
    c.add_contact(&token, "Ana", "Lima", "ana@example.com")
        .await;
    let free = count_row_free_during(&app, &other, "UPDATE contacts SET first_name = 'Anna'").await;
    assert!(
        free,
        "an open edit of a contact held the contacts' count row"
    );
}

#[actix_web::test]
async fn trashing_a_contact_holds_the_count_row_until_it_commits_on_postgresql() {
    let Some((app, other)) = postgres_app().await else {
        return;
    };
    let (token, mut c) = app.api_client("admin").await;
    c.add_contact(&token, "Ana", "Lima", "ana@example.com")
        .await;
    let trash = "UPDATE contacts SET deleted_at = CURRENT_TIMESTAMP";
    let free = count_row_free_during(&app, &other, trash).await;
    assert!(!free, "an open trashing did not lock the count it changes");
}
