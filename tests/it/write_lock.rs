//! A write while another process writes in short transactions one after another (`cairn
//! import` beside `cairn serve`): it gets in between two of them instead of waiting until
//! they stop. On SQLite the other process holds the file's write lock (the server's
//! connections try again every millisecond, `db::prompt_busy_wait`); on PostgreSQL it
//! locks the contacts table.
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cairn::domain::contacts;
use sea_orm::{ConnectionTrait, DatabaseBackend, TransactionTrait};
use serde_json::json;

use crate::import_given::with_admin;

const BURSTS: usize = 40;

#[actix_web::test]
async fn a_write_gets_in_between_another_process_s_transactions() {
    let (app, admin) = with_admin().await;
    let other = sea_orm::Database::connect(&app.url)
        .await
        .expect("a second connection");
    let lock = match other.get_database_backend() {
        // A write statement takes SQLite's write lock even when it changes no row.
        DatabaseBackend::Sqlite => "UPDATE record_counts SET n = n WHERE 0 = 1",
        _ => "LOCK TABLE contacts IN EXCLUSIVE MODE",
    };
    let ended = Arc::new(AtomicUsize::new(0));
    let (first, holding) = tokio::sync::oneshot::channel();
    let bursts = ended.clone();
    let holder = tokio::spawn(async move {
        let mut first = Some(first);
        for _ in 0..BURSTS {
            let tx = other.begin().await.expect("begin");
            tx.execute_unprepared(lock).await.expect("take the lock");
            if let Some(first) = first.take() {
                let _ = first.send(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            tx.commit().await.expect("commit");
            bursts.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    holding.await.expect("the other process holds the lock");
    let ana = serde_json::from_value(json!({"first_name": "Ana", "last_name": "Lima"})).unwrap();
    contacts::create(&app.db, &admin, &ana)
        .await
        .expect("the write succeeds");
    let after = ended.load(Ordering::SeqCst);
    assert!(
        after < BURSTS / 2,
        "the write waited for {after} of the other process's {BURSTS} transactions"
    );
    holder.await.expect("the other process ends");
}
