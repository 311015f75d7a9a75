//! SQLite's planner statistics reach connections that were already open. A connection
//! reads them when it opens or when the schema changes, and ANALYZE changes no schema: a
//! server's connections kept "two audit rows" after a million were loaded and analysed
//! by `cairn seed`, and planned the unfiltered audit page as a scan of the whole log and
//! a sort (2 s a page) until restarted. The plan itself depends on SQLite's cost model;
//! what this checks is the signal SQLite reloads statistics on, seen from a connection
//! opened before the refresh.
use sea_orm::DatabaseBackend;
use sea_orm::sqlx;

use crate::support::*;

/// The schema version as `conn` sees it now.
async fn schema_version(conn: &mut sqlx::SqliteConnection) -> i64 {
    sqlx::query_scalar("PRAGMA schema_version")
        .fetch_one(conn)
        .await
        .unwrap()
}

#[actix_web::test]
async fn refreshed_statistics_make_connections_already_open_read_them_again() {
    let app = TestApp::new().await;
    if app.db.backend() == DatabaseBackend::Postgres {
        return; // PostgreSQL plans each statement with the statistics of the moment.
    }
    // A first ANALYZE may create SQLite's statistics tables, a schema change of its own.
    cairn::db::refresh_statistics(&app.db.write).await.unwrap();
    let pool = app.db.read.get_sqlite_connection_pool();
    let mut open = pool.acquire().await.unwrap();
    let before = schema_version(&mut open).await;
    cairn::db::refresh_statistics(&app.db.write).await.unwrap();
    let after = schema_version(&mut open).await;
    assert!(
        after > before,
        "the refresh changes the schema's version ({before} → {after}), so the open \
         connection reloads the schema and the statistics with it"
    );
}
