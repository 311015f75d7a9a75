//! Jobs of a kind registered to run together (`Registry::register_together`): the jobs
//! one claim takes run in runs of at most the kind's number, each job exactly once, and
//! each ends in its own answer.
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use cairn::jobs::admin::{self, Show};
use cairn::jobs::queue::{self, NewJob};
use cairn::jobs::{Clock, Ctx, JobError, Options, Registry, Runner};
use sea_orm::TransactionTrait;
use serde::Deserialize;
use serde_json::json;

use crate::jobs::get;
use crate::support::*;

#[derive(Deserialize)]
struct Numbered {
    n: u64,
}

/// The numbers each run of kind "sum" was given, in order.
type Runs = Arc<Mutex<Vec<Vec<u64>>>>;

/// A registry whose "sum" jobs run up to `together` at once; the job numbered 3 fails.
fn registry(runs: Runs, together: usize) -> Registry {
    let mut r = Registry::new();
    r.register_together("sum", together, move |jobs: Vec<(Ctx, Numbered)>| {
        let runs = runs.clone();
        async move {
            runs.lock()
                .unwrap()
                .push(jobs.iter().map(|(_, p)| p.n).collect());
            jobs.iter()
                .map(|(_, p)| match p.n {
                    3 => Err(JobError::Retry("three is refused".into())),
                    _ => Ok(()),
                })
                .collect()
        }
    });
    r
}

/// Enqueues jobs "sum" numbered 0..count in one transaction; their ids, in order.
async fn enqueue(app: &TestApp, count: u64) -> Vec<i64> {
    let jobs: Vec<NewJob> = (0..count)
        .map(|n| NewJob::new("sum", json!({ "n": n })))
        .collect();
    let tx = app.db.write.begin().await.unwrap();
    queue::enqueue_many(&tx, &jobs).await.unwrap();
    tx.commit().await.unwrap();
    let listed = admin::list(&app.db.read, Show::All, 1, 100).await.unwrap();
    let mut ids: Vec<i64> = listed.items.iter().map(|j| j.id).collect();
    ids.sort_unstable();
    ids
}

#[actix_web::test]
async fn jobs_claimed_together_run_together_each_once_with_its_own_answer() {
    let app = TestApp::new().await;
    let runs: Runs = Arc::default();
    let ids = enqueue(&app, 10).await;
    assert_eq!(ids.len(), 10, "ten jobs enqueued");
    let opts = Options {
        workers: 2,
        poll: StdDuration::from_millis(20),
        clock: Clock::system(),
        ..Default::default()
    };
    let running = Runner::new(app.db.clone(), registry(runs.clone(), 4), opts).start();
    let deadline = Instant::now() + StdDuration::from_secs(20);
    while admin::unfinished(&app.db.read, "sum", 0).await.unwrap() > 1 {
        assert!(Instant::now() < deadline, "the jobs did not run in 20 s");
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    assert!(running.finish(StdDuration::from_secs(5)).await);
    let runs = runs.lock().unwrap().clone();
    let mut ran: Vec<u64> = runs.iter().flatten().copied().collect();
    ran.sort_unstable();
    assert_eq!(
        ran,
        (0..10).collect::<Vec<_>>(),
        "each job ran once: {runs:?}"
    );
    assert!(
        runs.iter().all(|r| r.len() <= 4),
        "no run took more than four: {runs:?}"
    );
    assert!(
        runs.iter().any(|r| r.len() > 1),
        "jobs claimed at once ran together: {runs:?}"
    );
    for (n, id) in ids.iter().enumerate() {
        let j = get(&app.db, *id).await;
        let want = if n == 3 { "failed" } else { "done" };
        assert_eq!(j.state, want, "job numbered {n}: {j:?}");
    }
    assert_eq!(
        get(&app.db, ids[3]).await.last_error.as_deref(),
        Some("three is refused"),
        "the failed job keeps its own error"
    );
}
