//! The job queue in the real binary: SIGTERM lets a running job finish, two `cairn serve`
//! processes on one PostgreSQL database run every job exactly once, and `cairn jobs`
//! revives dead jobs.
use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use cairn::domain::Db;
use cairn::entities::job;
use cairn::jobs::queue::{NewJob, enqueue_in, enqueue_many};
use cairn::jobs::{State, admin};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait};
use serde_json::json;

use crate::cli::{Server, cairn, succeeded};
use crate::jobs::{dead_job, get};
use crate::support::*;

#[actix_web::test]
async fn sigterm_lets_a_running_job_finish_before_the_process_exits() {
    let database = fresh_database().await;
    let mut server = Server::start_with(&database.url, &[("CAIRN_LOG", "info,cairn::jobs=debug")]);
    let db = Db::connect(&database.url).await.unwrap();
    let id = enqueue_in(&db.write, &NewJob::new("noop", json!({ "sleep_ms": 1500 })))
        .await
        .unwrap();
    // Claimed is not yet started (a job waits for a free worker, and one that never
    // started is put back at a stop): wait for the job itself to say it began.
    let started = format!("no-op job started job={id}");
    assert!(
        server.log_with(&started).contains(&started),
        "the job never started: {}",
        server.log()
    );
    let term = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success(), "kill -TERM");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "serve did not exit after SIGTERM: {}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        status.success(),
        "serve exits cleanly: {status:?}\n{}",
        server.log()
    );
    let j = get(&db, id).await;
    assert_eq!(
        j.state,
        "done",
        "the running job finished: {j:?}\n{}",
        server.log()
    );
}

/// The `job=` of every "no-op job ran" line of a log.
fn ran(log: &str) -> Vec<i64> {
    log.lines()
        .filter(|l| l.contains("no-op job ran"))
        .filter_map(|l| {
            l.split("job=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect()
}

#[actix_web::test]
async fn two_serve_processes_on_one_postgresql_database_run_each_of_1000_jobs_once() {
    let app = TestApp::new().await;
    if app.db.is_sqlite() {
        // On SQLite one process runs the jobs through its single writer; the suite's
        // PostgreSQL run is where this is checked.
        eprintln!("skipped on SQLite: several processes share a queue only on PostgreSQL");
        return;
    }
    let env = [
        ("CAIRN_LOG", "info,cairn::jobs=debug"),
        ("CAIRN_JOB_WORKERS", "4"),
    ];
    let (a, b) = (
        Server::start_with(&app.url, &env),
        Server::start_with(&app.url, &env),
    );
    let jobs: Vec<NewJob> = (0..1000)
        .map(|n| NewJob::new("noop", json!({ "n": n, "sleep_ms": 2 })))
        .collect();
    let tx = app.db.write.begin().await.unwrap();
    enqueue_many(&tx, &jobs).await.unwrap();
    tx.commit().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while admin::unfinished(&app.db.read, "noop", 0).await.unwrap() > 0 {
        assert!(
            Instant::now() < deadline,
            "1 000 jobs did not finish in a minute"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Only the no-op jobs: `cairn serve` queues its own at start (the ledger backfill).
    let done = job::Entity::find()
        .filter(job::Column::Kind.eq("noop"))
        .filter(job::Column::State.eq(State::Done.as_str()))
        .count(&app.db.read)
        .await
        .unwrap();
    assert_eq!(
        done,
        1000,
        "{:?}",
        admin::counts(&app.db.read).await.unwrap()
    );
    // The log lines come through pipes: give the last ones a moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (by_a, by_b) = loop {
        let (x, y) = (ran(&a.log()), ran(&b.log()));
        if x.len() + y.len() >= 1000 || Instant::now() > deadline {
            break (x, y);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut runs: HashMap<i64, u32> = HashMap::new();
    for id in by_a.iter().chain(&by_b) {
        *runs.entry(*id).or_default() += 1;
    }
    let twice: Vec<_> = runs.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "jobs run more than once: {twice:?}");
    assert_eq!(runs.len(), 1000, "every job ran once");
    assert!(
        !by_a.is_empty() && !by_b.is_empty(),
        "both processes ran jobs: {} and {}",
        by_a.len(),
        by_b.len()
    );
}

#[actix_web::test]
async fn cairn_jobs_lists_and_retries_dead_jobs() {
    let app = TestApp::new().await;
    let (one, two, three) = (
        dead_job(&app.db, "first failure").await,
        dead_job(&app.db, "second failure").await,
        dead_job(&app.db, "third failure").await,
    );
    let out = succeeded(cairn(&app.url).args(["jobs", "list", "--state", "dead"]));
    let listed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(listed.lines().count(), 3, "{listed}");
    assert!(listed.contains("second failure"), "{listed}");
    let out = succeeded(cairn(&app.url).args(["jobs", "retry", &one.to_string()]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("queued again"));
    assert_eq!(get(&app.db, one).await.state, "queued");
    let out = succeeded(cairn(&app.url).args(["jobs", "retry-dead"]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 dead jobs queued again"));
    for id in [two, three] {
        let j = get(&app.db, id).await;
        assert_eq!((j.state.as_str(), j.attempts), ("queued", 0), "job {id}");
    }
    let refused = cairn(&app.url)
        .args(["jobs", "retry", &one.to_string()])
        .output()
        .unwrap();
    assert_eq!(
        refused.status.code(),
        Some(1),
        "a queued job cannot be retried"
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("only failed and dead"));
}
