//! The durable job queue in one process: backoff and dead jobs, idempotency keys, leases,
//! unknown kinds and bad payloads, two runners sharing a queue, the nightly clean-up, and
//! Settings → Jobs. (`jobs_process.rs` runs the real binary.)
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use actix_web::test::TestRequest;
use cairn::domain::Db;
use cairn::entities::job;
use cairn::jobs::backoff::{self, DEFAULT_MAX_ATTEMPTS};
use cairn::jobs::queue::{self, NewJob, enqueue_in};
use cairn::jobs::{Clock, Ctx, JobError, Options, Registry, Runner, State, admin, kinds};
use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set, TransactionTrait};
use serde::Deserialize;
use serde_json::json;

use crate::support::*;

pub(crate) async fn get(db: &Db, id: i64) -> job::Model {
    job::Entity::find_by_id(id)
        .one(&db.read)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("job {id} is gone"))
}

/// Polls the job until `done` holds, for up to 20 s; fails with the job as it last was.
pub(crate) async fn wait_for(
    db: &Db,
    id: i64,
    what: &str,
    done: impl Fn(&job::Model) -> bool,
) -> job::Model {
    let deadline = Instant::now() + StdDuration::from_secs(20);
    loop {
        let j = get(db, id).await;
        if done(&j) {
            return j;
        }
        assert!(
            Instant::now() < deadline,
            "job {id} never became {what}: {j:?}"
        );
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
}

fn options(clock: &Clock) -> Options {
    Options {
        workers: 4,
        poll: StdDuration::from_millis(20),
        clock: clock.clone(),
        ..Default::default()
    }
}

/// A job claimed once and failed with its only attempt: dead, with `error`.
pub(crate) async fn dead_job(db: &Db, error: &str) -> i64 {
    let id = enqueue_in(&db.write, &NewJob::new("mail", json!({})).attempts(1))
        .await
        .unwrap();
    let claimed = queue::claim(&db.write, "w", 10, Utc::now(), Duration::minutes(5))
        .await
        .unwrap();
    let job = claimed
        .iter()
        .find(|j| j.id == id)
        .expect("the job is claimed");
    let went = queue::fail(&db.write, job, "w", error, Utc::now(), 0.5)
        .await
        .unwrap();
    assert_eq!(went, Some(State::Dead), "one attempt, used up");
    id
}

#[test]
fn eight_attempts_with_doubling_waits_span_about_a_day() {
    let total: Duration = (1..DEFAULT_MAX_ATTEMPTS)
        .map(|a| backoff::delay(a, 0.5))
        .sum();
    assert!(
        total > Duration::hours(20) && total < Duration::hours(28),
        "7 waits between 8 attempts add up to {total:?}"
    );
    let (low, high) = backoff::bounds(3);
    assert!(
        low < backoff::delay(3, 0.5) && backoff::delay(3, 0.5) < high,
        "jitter widens the wait both ways"
    );
    assert_eq!(
        backoff::delay(2, 0.5),
        backoff::delay(1, 0.5) * 2,
        "each wait doubles"
    );
}

#[actix_web::test]
async fn a_failing_job_waits_out_its_backoff_then_is_dead_with_its_last_error() {
    let app = TestApp::new().await;
    let db = &app.db;
    let id = enqueue_in(
        &db.write,
        &NewJob::new("mail", json!({"to": "a@example.com"})).attempts(3),
    )
    .await
    .unwrap();
    let mut t = Utc::now();
    for attempt in 1..=3 {
        let claimed = queue::claim(&db.write, "w1", 5, t, Duration::minutes(5))
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1, "attempt {attempt} is due at {t}");
        assert_eq!(claimed[0].attempts, attempt, "the claim counts the attempt");
        let error = format!("SMTP refused, try {attempt}");
        let went = queue::fail(&db.write, &claimed[0], "w1", &error, t, 0.5)
            .await
            .unwrap();
        let j = get(db, id).await;
        assert_eq!(j.last_error.as_deref(), Some(error.as_str()));
        if attempt < 3 {
            assert_eq!(went, Some(State::Failed));
            assert_eq!(j.state, "failed");
            let again = j.run_after.expect("a failed job has its next run");
            let (low, high) = backoff::bounds(attempt);
            assert!(
                again - t >= low && again - t <= high,
                "after attempt {attempt} the wait is {:?}, not within {low:?}..{high:?}",
                again - t
            );
            let early = queue::claim(
                &db.write,
                "w1",
                5,
                again - Duration::seconds(1),
                Duration::minutes(5),
            )
            .await
            .unwrap();
            assert!(
                early.is_empty(),
                "claimed before its backoff ended: {early:?}"
            );
            t = again;
        } else {
            assert_eq!(went, Some(State::Dead));
            assert_eq!(j.state, "dead", "attempts used up");
            assert_eq!(j.run_after, None, "a dead job is never claimed");
        }
    }
    let later = queue::claim(
        &db.write,
        "w1",
        5,
        t + Duration::days(30),
        Duration::minutes(5),
    )
    .await
    .unwrap();
    assert!(later.is_empty(), "a dead job was claimed: {later:?}");
}

#[actix_web::test]
async fn the_same_kind_and_key_enqueued_twice_make_one_job() {
    let app = TestApp::new().await;
    let w = &app.db.write;
    let first = enqueue_in(w, &NewJob::new("mail", json!({"n": 1})).key("task-7-due"))
        .await
        .unwrap();
    let second = enqueue_in(w, &NewJob::new("mail", json!({"n": 2})).key("task-7-due"))
        .await
        .unwrap();
    assert_eq!(
        first, second,
        "the second enqueue answers with the first job"
    );
    let other_kind = enqueue_in(w, &NewJob::new("webhook", json!({})).key("task-7-due"))
        .await
        .unwrap();
    assert_ne!(first, other_kind, "keys are per kind");
    enqueue_in(w, &NewJob::new("mail", json!({})))
        .await
        .unwrap();
    enqueue_in(w, &NewJob::new("mail", json!({})))
        .await
        .unwrap();
    assert_eq!(
        app.count("jobs").await,
        4,
        "jobs without a key never collide"
    );
    assert_eq!(
        get(&app.db, first).await.payload,
        r#"{"n":1}"#,
        "the first payload is kept"
    );
}

#[actix_web::test]
async fn a_job_whose_worker_died_is_claimed_again_once_after_its_lease() {
    let app = TestApp::new().await;
    let w = &app.db.write;
    let lease = Duration::minutes(5);
    let id = enqueue_in(w, &NewJob::new("mail", json!({})))
        .await
        .unwrap();
    let t = Utc::now();
    let first = queue::claim(w, "died", 1, t, lease).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(
        queue::claim(w, "w2", 1, t + lease - Duration::seconds(1), lease)
            .await
            .unwrap()
            .is_empty(),
        "claimed while its lease held"
    );
    let after = t + lease + Duration::seconds(1);
    let again = queue::claim(w, "w2", 1, after, lease).await.unwrap();
    assert_eq!(
        again.iter().map(|j| (j.id, j.attempts)).collect::<Vec<_>>(),
        vec![(id, 2)],
        "picked up once the lease ran out"
    );
    assert!(
        queue::claim(w, "w3", 1, after, lease)
            .await
            .unwrap()
            .is_empty(),
        "picked up twice"
    );
    assert_eq!(
        queue::complete(w, &[id], "died", after).await.unwrap(),
        0,
        "the dead worker's late answer is ignored"
    );
    assert_eq!(get(&app.db, id).await.state, "running");
    assert_eq!(queue::complete(w, &[id], "w2", after).await.unwrap(), 1);
    assert_eq!(get(&app.db, id).await.state, "done");
}

#[actix_web::test]
async fn a_job_running_past_its_lease_keeps_it_while_its_process_lives() {
    let app = TestApp::new().await;
    let (release, released) = tokio::sync::watch::channel(false);
    let mut registry = Registry::new();
    registry.register("long", move |_: Ctx, _: serde_json::Value| {
        let mut released = released.clone();
        async move {
            let _ = released.wait_for(|r| *r).await;
            Ok(())
        }
    });
    let clock = Clock::system();
    let lease = Duration::minutes(5);
    let opts = Options {
        lease,
        renew: StdDuration::from_millis(20),
        ..options(&clock)
    };
    let running = Runner::new(app.db.clone(), registry, opts).start();
    let id = enqueue_in(&app.db.write, &NewJob::new("long", json!({})))
        .await
        .unwrap();
    let claimed = wait_for(&app.db, id, "running", |j| j.state == "running").await;
    let first_end = claimed.run_after.unwrap();
    clock.advance(Duration::minutes(4));
    wait_for(&app.db, id, "renewed", |j| {
        j.run_after
            .is_some_and(|t| t > first_end + Duration::minutes(3))
    })
    .await;
    let past_first_lease = clock.now() + Duration::minutes(2);
    assert!(
        queue::claim(&app.db.write, "other", 1, past_first_lease, lease)
            .await
            .unwrap()
            .is_empty(),
        "another process claimed a job whose process is still running it"
    );
    release.send(true).unwrap();
    let done = wait_for(&app.db, id, "done", |j| j.state == "done").await;
    assert_eq!(done.attempts, 1, "it ran once");
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn a_job_of_an_unknown_kind_is_dead_with_the_reason() {
    let app = TestApp::new().await;
    let clock = Clock::system();
    let running = Runner::new(app.db.clone(), kinds::registry(), options(&clock)).start();
    let id = queue::enqueue(&app.db, &NewJob::new("fax.send", json!({})))
        .await
        .unwrap();
    let j = wait_for(&app.db, id, "dead", |j| j.state == "dead").await;
    assert_eq!(j.attempts, 1, "not retried");
    let error = j.last_error.unwrap_or_default();
    assert!(
        error.contains("no handler") && error.contains("fax.send"),
        "{error}"
    );
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[derive(Deserialize)]
struct Mail {
    #[allow(dead_code)]
    to: String,
}

#[actix_web::test]
async fn a_payload_that_does_not_fit_its_kind_is_dead_at_once() {
    let app = TestApp::new().await;
    let mut registry = Registry::new();
    registry.register("mail", |_: Ctx, _: Mail| async { Ok(()) });
    let running = Runner::new(app.db.clone(), registry, options(&Clock::system())).start();
    let id = queue::enqueue(&app.db, &NewJob::new("mail", json!({"too": "typo"})))
        .await
        .unwrap();
    let j = wait_for(&app.db, id, "dead", |j| j.state == "dead").await;
    assert_eq!(j.attempts, 1);
    assert!(
        j.last_error.unwrap_or_default().contains("payload"),
        "the reason names the payload"
    );
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn a_runner_retries_a_failed_job_once_its_backoff_has_passed() {
    let app = TestApp::new().await;
    let clock = Clock::system();
    let runs = Arc::new(Mutex::new(0));
    let counter = runs.clone();
    let mut registry = Registry::new();
    registry.register("flaky", move |ctx: Ctx, _: serde_json::Value| {
        let counter = counter.clone();
        async move {
            *counter.lock().unwrap() += 1;
            if ctx.attempt == 1 {
                return Err(JobError::Retry("the server did not answer".into()));
            }
            Ok(())
        }
    });
    let running = Runner::new(app.db.clone(), registry, options(&clock)).start();
    let id = queue::enqueue(&app.db, &NewJob::new("flaky", json!({})))
        .await
        .unwrap();
    let failed = wait_for(&app.db, id, "failed", |j| j.state == "failed").await;
    assert_eq!(
        failed.last_error.as_deref(),
        Some("the server did not answer")
    );
    tokio::time::sleep(StdDuration::from_millis(200)).await;
    assert_eq!(*runs.lock().unwrap(), 1, "retried before its backoff");
    clock.advance(backoff::bounds(1).1 + Duration::seconds(1));
    let done = wait_for(&app.db, id, "done", |j| j.state == "done").await;
    assert_eq!(done.attempts, 2);
    assert_eq!(*runs.lock().unwrap(), 2);
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[derive(Deserialize)]
struct Numbered {
    n: u64,
}

/// Two runners on their own connections, as two processes would be, share 1 000 jobs.
#[actix_web::test]
async fn two_runners_run_a_thousand_jobs_each_exactly_once() {
    let app = TestApp::new().await;
    let other = app.other_process().await;
    let seen: Arc<Mutex<HashMap<u64, Vec<&'static str>>>> = Arc::default();
    let registry = |who: &'static str| {
        let seen = seen.clone();
        let mut r = Registry::new();
        r.register("count", move |_: Ctx, p: Numbered| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().entry(p.n).or_default().push(who);
                tokio::time::sleep(StdDuration::from_millis(1)).await;
                Ok(())
            }
        });
        r
    };
    let clock = Clock::system();
    let a = Runner::new(app.db.clone(), registry("a"), options(&clock)).start();
    let b = Runner::new(other.db.clone(), registry("b"), options(&clock)).start();
    let jobs: Vec<NewJob> = (0..1000)
        .map(|n| NewJob::new("count", json!({ "n": n })))
        .collect();
    let tx = app.db.write.begin().await.unwrap();
    queue::enqueue_many(&tx, &jobs).await.unwrap();
    tx.commit().await.unwrap();
    let deadline = Instant::now() + StdDuration::from_secs(60);
    while admin::unfinished(&app.db.read, "count", 0).await.unwrap() > 0 {
        assert!(
            Instant::now() < deadline,
            "1 000 jobs did not finish in a minute"
        );
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert!(a.finish(StdDuration::from_secs(5)).await && b.finish(StdDuration::from_secs(5)).await);
    let counts = admin::counts(&app.db.read).await.unwrap();
    assert!(counts.contains(&(State::Done, 1000)), "{counts:?}");
    let seen = seen.lock().unwrap();
    let twice: Vec<_> = seen.iter().filter(|(_, who)| who.len() != 1).collect();
    assert!(twice.is_empty(), "jobs not run exactly once: {twice:?}");
    assert_eq!(seen.len(), 1000, "every job ran");
    let by_b = seen.values().filter(|who| who[0] == "b").count();
    assert!(
        by_b > 0 && by_b < 1000,
        "both runners took jobs (b ran {by_b})"
    );
}

#[actix_web::test]
async fn the_nightly_clean_up_removes_old_done_jobs_and_schedules_the_next_night() {
    let app = TestApp::new().await;
    kinds::ensure_recurring(&app.db).await.unwrap();
    kinds::ensure_recurring(&app.db).await.unwrap();
    let cleanups = |db: Db| async move {
        job::Entity::find()
            .all(&db.read)
            .await
            .unwrap()
            .into_iter()
            .filter(|j| j.kind == kinds::CLEANUP)
            .collect::<Vec<_>>()
    };
    let first = cleanups(app.db.clone()).await;
    assert_eq!(first.len(), 1, "scheduled once however often ensured");
    let due = first[0].run_after.unwrap();
    assert!(due > Utc::now() && due - Utc::now() <= Duration::days(1));

    let (old, recent) = (
        enqueue_in(&app.db.write, &NewJob::new("noop", json!({})))
            .await
            .unwrap(),
        enqueue_in(&app.db.write, &NewJob::new("noop", json!({})))
            .await
            .unwrap(),
    );
    let ten_days_ago = Utc::now() - Duration::days(10);
    for (id, at) in [(old, ten_days_ago), (recent, Utc::now())] {
        let mut j = get(&app.db, id).await.into_active_model();
        j.state = Set("done".into());
        j.run_after = Set(None);
        j.updated_at = Set(at);
        j.update(&app.db.write).await.unwrap();
    }
    let clock = Clock::system();
    clock.advance(due - Utc::now() + Duration::seconds(1));
    let running = Runner::new(app.db.clone(), kinds::registry(), options(&clock)).start();
    wait_for(&app.db, first[0].id, "done", |j| j.state == "done").await;
    assert!(running.finish(StdDuration::from_secs(5)).await);
    assert!(
        job::Entity::find_by_id(old)
            .one(&app.db.read)
            .await
            .unwrap()
            .is_none(),
        "the 10-day-old done job is removed"
    );
    assert_eq!(
        get(&app.db, recent).await.state,
        "done",
        "a recent done job is kept"
    );
    let next: Vec<_> = cleanups(app.db.clone())
        .await
        .into_iter()
        .filter(|j| j.state == "queued")
        .collect();
    assert_eq!(next.len(), 1, "the next night is scheduled");
    assert_eq!(next[0].run_after, Some(due + Duration::days(1)));
}

#[actix_web::test]
async fn settings_jobs_lists_a_dead_job_with_its_error_and_retry_queues_it_again() {
    let app = TestApp::new().await;
    let id = dead_job(&app.db, "550 mailbox unavailable").await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let page = c.get("/settings/jobs?state=dead").await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(
        html.contains("550 mailbox unavailable"),
        "the error is shown"
    );
    assert!(
        html.contains(&format!("/settings/jobs/{id}/retry")),
        "a Retry button"
    );
    let res = c
        .post_form_ok(&format!("/settings/jobs/{id}/retry"), &[])
        .await;
    assert_eq!(res.status, 303);
    let j = get(&app.db, id).await;
    assert_eq!(
        (j.state.as_str(), j.attempts),
        ("queued", 0),
        "queued with fresh attempts"
    );
    let again = c
        .post_form(&format!("/settings/jobs/{id}/retry"), &[])
        .await;
    assert_eq!(
        again.status,
        409,
        "a queued job is not retried: {}",
        again.text()
    );
}

#[actix_web::test]
async fn the_retry_button_answers_htmx_with_the_job_s_row() {
    let app = TestApp::new().await;
    let id = dead_job(&app.db, "timeout").await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    c.get("/settings/jobs").await;
    let body = serde_html_form::to_string([("_csrf", c.csrf.clone().unwrap())]).unwrap();
    let res = c
        .send(
            TestRequest::post()
                .uri(&format!("/settings/jobs/{id}/retry"))
                .insert_header(("HX-Request", "true"))
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(body),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let row = res.text();
    assert!(
        row.trim_start()
            .starts_with(&format!("<tr id=\"job-{id}\"")),
        "one row: {row}"
    );
    assert!(
        row.contains(">queued<") && !row.contains("Retry</button>"),
        "{row}"
    );
    assert_eq!(get(&app.db, id).await.state, "queued");
}

#[actix_web::test]
async fn only_admins_see_or_retry_jobs() {
    let app = TestApp::new().await;
    let id = dead_job(&app.db, "boom").await;
    let mut c = app.signed_in("manager@example.com", "manager").await;
    assert_eq!(c.get("/settings/jobs").await.status, 403);
    c.get("/contacts").await;
    let res = c
        .post_form(&format!("/settings/jobs/{id}/retry"), &[])
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(get(&app.db, id).await.state, "dead");
}

#[actix_web::test]
async fn retry_all_dead_queues_every_dead_job_again() {
    let app = TestApp::new().await;
    let (a, b) = (dead_job(&app.db, "x").await, dead_job(&app.db, "y").await);
    let mut c = app.signed_in("admin@example.com", "admin").await;
    c.get("/settings/jobs").await;
    c.post_form_ok("/settings/jobs/retry-dead", &[]).await;
    for id in [a, b] {
        assert_eq!(get(&app.db, id).await.state, "queued", "job {id}");
    }
}

#[actix_web::test]
async fn stopping_runs_started_jobs_to_the_end_and_puts_unstarted_ones_back() {
    let app = TestApp::new().await;
    let mut registry = Registry::new();
    registry.register("slow", |_: Ctx, _: serde_json::Value| async {
        tokio::time::sleep(StdDuration::from_millis(1000)).await;
        Ok(())
    });
    let opts = Options {
        workers: 1,
        ..options(&Clock::system())
    };
    let running = Runner::new(app.db.clone(), registry, opts).start();
    let tx = app.db.write.begin().await.unwrap();
    queue::enqueue_many(
        &tx,
        &[
            NewJob::new("slow", json!({})),
            NewJob::new("slow", json!({})),
            NewJob::new("slow", json!({})),
        ],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // Two are claimed at once (two per worker while jobs are long); which of them gets
    // the one worker is up to the scheduler.
    for id in [1, 2] {
        wait_for(&app.db, id, "claimed", |j| j.state == "running").await;
    }
    assert_eq!(
        get(&app.db, 3).await.state,
        "queued",
        "long jobs are not hoarded"
    );
    assert!(
        running.finish(StdDuration::from_secs(5)).await,
        "finished within the wait"
    );
    let mut ends: Vec<_> = [
        get(&app.db, 1).await,
        get(&app.db, 2).await,
        get(&app.db, 3).await,
    ]
    .into_iter()
    .map(|j| (j.state, j.attempts, j.locked_by))
    .collect();
    ends.sort();
    assert_eq!(
        ends,
        vec![
            ("done".to_string(), 1, None),
            ("queued".to_string(), 0, None),
            ("queued".to_string(), 0, None)
        ],
        "the started job ran to its end; the waiting one is back in the queue, its claim not counted"
    );
}
