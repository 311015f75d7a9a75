//! The workers inside `cairn serve`. One dispatcher task per process claims due jobs, runs
//! each in its own tokio task (at most `workers` at once), and hands outcomes to a
//! recorder task that writes the finished ones in batches. Claimed jobs beyond the free
//! workers wait for one, so a claim takes many short jobs at once (one write serves
//! dozens): while recent jobs were short it holds up to nine per worker, otherwise two,
//! so a long job waits behind at most one other (and not while another process idles).
//! Idle, it polls every `poll` and wakes at once when this process enqueues. Jobs of a
//! kind registered to run together (`Registry::register_together`) that one claim took
//! run as one, on one worker (the Stripe events of many small jobs in one transaction).
//! Stopping ends the claiming; jobs not started yet go back to the queue, and `finish`
//! waits, bounded, for the running ones and their outcomes to be written.
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use futures_util::FutureExt;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::JoinHandle;
use tracing::Instrument;

use super::registry::{Ctx, JobError, Registry};
use super::{Clock, State, WAKE, backoff, queue};
use crate::domain::Db;
use crate::entities::job;

pub const DEFAULT_WORKERS: usize = 4;
/// How long a claim holds a job unless renewed. Its process renews the leases of the
/// jobs it holds every quarter lease (`renew_leases`), so a job may run for as long as it
/// needs (an import of a million rows), and a job whose process died (killed, or its
/// machine gone) runs again within a minute, instead of its import showing "running"
/// for five.
pub const LEASE_SECONDS: i64 = 60;
/// How long running jobs get to finish when the process is asked to stop.
pub const SHUTDOWN_WAIT: StdDuration = StdDuration::from_secs(20);
/// Outcomes written per statement at most.
const RECORD_BATCH: usize = 1024;
/// Jobs that took less than this on average are short: up to `SHORT_HOLD` per worker are
/// held (claimed) at once; otherwise two per worker.
const SHORT_MICROS: u64 = 20_000;
const SHORT_HOLD: usize = 9;

#[derive(Clone, Debug)]
pub struct Options {
    /// Jobs run at once by this process.
    pub workers: usize,
    pub lease: Duration,
    /// How often the leases of the jobs held are renewed: well within `lease`.
    pub renew: StdDuration,
    /// The wait between claims when nothing is due.
    pub poll: StdDuration,
    pub clock: Clock,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            workers: DEFAULT_WORKERS,
            lease: Duration::seconds(LEASE_SECONDS),
            renew: StdDuration::from_secs(LEASE_SECONDS as u64 / 4),
            poll: StdDuration::from_millis(250),
            clock: Clock::system(),
        }
    }
}

/// Runs the jobs of one process: its handlers, options and the name its claims carry.
pub struct Runner {
    db: Db,
    registry: Registry,
    opts: Options,
    name: String,
    pace: Pace,
}

/// How long recent jobs took, and a signal when one ends.
struct Pace {
    /// An average leaning on the latest runs; it starts long, so a fresh process claims
    /// cautiously until it has seen what its jobs take.
    micros: AtomicU64,
    ended: Notify,
}

impl Pace {
    fn record(&self, took: StdDuration) {
        let took = u64::try_from(took.as_micros())
            .unwrap_or(u64::MAX)
            .min(60_000_000);
        let old = self.micros.load(Ordering::Relaxed);
        self.micros
            .store(old - old / 8 + took / 8, Ordering::Relaxed);
    }

    /// How many claimed jobs to hold at most.
    fn limit(&self, workers: usize) -> usize {
        if self.micros.load(Ordering::Relaxed) < SHORT_MICROS {
            SHORT_HOLD * workers
        } else {
            2 * workers
        }
    }
}

impl Runner {
    pub fn new(db: Db, registry: Registry, opts: Options) -> Runner {
        // The process id says which process holds a job; the random part tells this
        // runner from an earlier one that had the same id.
        let tag = crate::domain::random_bytes::<3>()
            .map(hex::encode)
            .unwrap_or_default();
        let name = format!("pid{}-{tag}", std::process::id());
        Runner {
            db,
            registry,
            opts,
            name,
            pace: Pace {
                micros: AtomicU64::new(1_000_000),
                ended: Notify::new(),
            },
        }
    }

    /// What `locked_by` holds for the jobs this runner claims.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn start(self) -> Running {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(dispatch(Arc::new(self), stopped));
        Running { stop, task }
    }
}

/// A started runner. Dropping it stops the claiming too.
pub struct Running {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Running {
    /// Claims no more jobs; running ones go on.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// Stops claiming and waits up to `wait` for the running jobs to finish and their
    /// outcomes to be written. False when some were still running: their leases run out
    /// and another worker runs them again.
    pub async fn finish(mut self, wait: StdDuration) -> bool {
        self.stop();
        match tokio::time::timeout(wait, &mut self.task).await {
            Ok(_) => true,
            Err(_) => {
                self.task.abort();
                false
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

/// A claimed job's end, on its way to the recorder: its run's result, or None when it
/// never started because the process is stopping.
struct Finished {
    job: job::Model,
    result: Option<Result<(), JobError>>,
}

/// The claim loop; see the module's comment. Long because it is one loop with its three
/// answers (nothing due, jobs, an error) side by side.
async fn dispatch(runner: Arc<Runner>, mut stop: watch::Receiver<bool>) {
    let workers = runner.opts.workers.max(1);
    let most = SHORT_HOLD * workers;
    let slots = Arc::new(Semaphore::new(most));
    let free_workers = Arc::new(Semaphore::new(workers));
    let (outcomes, received) = mpsc::unbounded_channel();
    let recorder = tokio::spawn(record_all(runner.clone(), received));
    let renewer = tokio::spawn(renew_leases(runner.clone(), slots.clone(), most));
    let mut errors = 0u32;
    while !*stop.borrow() {
        let first = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = stop.changed() => break,
        };
        let mut permits = vec![first];
        let limit = runner.pace.limit(workers);
        let holding = most - slots.available_permits() - permits.len();
        if holding >= limit {
            drop(permits);
            tokio::select! {
                _ = runner.pace.ended.notified() => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        while permits.len() < limit - holding {
            match slots.clone().try_acquire_owned() {
                Ok(p) => permits.push(p),
                Err(_) => break,
            }
        }
        // Listening before the claim: an enqueue between an empty claim and the wait
        // below still wakes us.
        let wake = WAKE.notified();
        tokio::pin!(wake);
        wake.as_mut().enable();
        let now = runner.opts.clock.now();
        let claimed = queue::claim(
            &runner.db.write,
            &runner.name,
            permits.len() as u64,
            now,
            runner.opts.lease,
        )
        .await;
        match claimed {
            Ok(jobs) if jobs.is_empty() => {
                errors = 0;
                drop(permits);
                tokio::select! {
                    _ = &mut wake => {}
                    _ = tokio::time::sleep(runner.opts.poll) => {}
                    _ = stop.changed() => {}
                }
            }
            Ok(jobs) => {
                errors = 0;
                let mut permits = permits.into_iter();
                for jobs in runs(&runner.registry, jobs) {
                    let start = Start {
                        workers: free_workers.clone(),
                        stop: stop.clone(),
                        slots: permits.by_ref().take(jobs.len()).collect(),
                    };
                    tokio::spawn(run(runner.clone(), jobs, start, outcomes.clone()));
                }
            }
            Err(e) => {
                drop(permits);
                errors = errors.saturating_add(1);
                if errors == 1 || errors.is_multiple_of(100) {
                    tracing::warn!(error = %e, "could not claim jobs; trying again shortly");
                }
                let pause = runner.opts.poll * 2u32.pow(errors.min(5));
                tokio::select! {
                    _ = tokio::time::sleep(pause.min(StdDuration::from_secs(10))) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }
    // Every slot back means every claimed job has handed over its outcome.
    let _ = slots.acquire_many(most as u32).await;
    renewer.abort();
    drop(outcomes);
    let _ = recorder.await;
}

/// Every `renew` (a quarter lease), renews the leases of the jobs this runner holds
/// (claimed and not yet recorded: a slot taken), so another process claims none of them
/// while this one lives. A renewal that fails is tried again at the next; the lease
/// leaves three.
async fn renew_leases(runner: Arc<Runner>, slots: Arc<Semaphore>, most: usize) {
    loop {
        tokio::time::sleep(runner.opts.renew).await;
        if slots.available_permits() == most {
            continue;
        }
        let now = runner.opts.clock.now();
        let renewed = queue::renew(&runner.db.write, &runner.name, now, runner.opts.lease).await;
        if let Err(e) = renewed {
            tracing::warn!(error = %e, "could not renew the leases of running jobs; trying again");
        }
    }
}

/// The runs of claimed `jobs` (in the order claimed): a job alone, or the jobs of a kind
/// that takes several at once in runs of up to its `together`.
fn runs(registry: &Registry, jobs: Vec<job::Model>) -> Vec<Vec<job::Model>> {
    let mut runs: Vec<Vec<job::Model>> = Vec::with_capacity(jobs.len());
    // Per kind taken together, the index in `runs` of its run still filling.
    let mut filling: HashMap<String, usize> = HashMap::new();
    for job in jobs {
        let together = registry.together(&job.kind);
        if together > 1 {
            if let Some(&i) = filling.get(&job.kind)
                && runs[i].len() < together
            {
                runs[i].push(job);
                continue;
            }
            filling.insert(job.kind.clone(), runs.len());
        }
        runs.push(vec![job]);
    }
    runs
}

/// What a run of claimed jobs needs to start: a free worker, unless the process stops
/// first.
struct Start {
    workers: Arc<Semaphore>,
    stop: watch::Receiver<bool>,
    /// Their places among the jobs the dispatcher holds, given back once they have ended.
    slots: Vec<OwnedSemaphorePermit>,
}

async fn run(
    runner: Arc<Runner>,
    jobs: Vec<job::Model>,
    mut start: Start,
    outcomes: mpsc::UnboundedSender<Finished>,
) {
    let worker = tokio::select! {
        biased;
        _ = start.stop.wait_for(|stopping| *stopping) => None,
        w = start.workers.clone().acquire_owned() => w.ok(),
    };
    let results: Vec<Option<Result<(), JobError>>> = match worker {
        Some(_) => {
            let began = Instant::now();
            let results = execute(&runner, &jobs).await;
            // The pace is a job's: a run of many jobs is not a long job.
            let count = u32::try_from(jobs.len()).unwrap_or(u32::MAX).max(1);
            runner.pace.record(began.elapsed() / count);
            if let Some(first) = jobs.first() {
                crate::telemetry::job_ran(&first.kind, jobs.len(), began.elapsed());
            }
            results.into_iter().map(Some).collect()
        }
        None => vec![None; jobs.len()],
    };
    for (job, result) in jobs.into_iter().zip(results) {
        let _ = outcomes.send(Finished { job, result });
    }
    drop(worker);
    drop(start.slots);
    runner.pace.ended.notify_one();
}

/// Runs `jobs` (all of one kind): one result each, in order.
async fn execute(runner: &Runner, jobs: &[job::Model]) -> Vec<Result<(), JobError>> {
    let mut results: Vec<Result<(), JobError>> = Vec::with_capacity(jobs.len());
    let mut given = Vec::with_capacity(jobs.len());
    for (i, job) in jobs.iter().enumerate() {
        if job.attempts > job.max_attempts {
            results.push(Err(JobError::Permanent(format!(
                "its worker stopped before finishing on all {} attempts (each lease ran out)",
                job.max_attempts
            ))));
        } else {
            results.push(Ok(()));
            given.push(i);
        }
    }
    let Some(kind) = jobs.first().map(|j| j.kind.as_str()) else {
        return results;
    };
    let Some(handler) = runner.registry.get(kind) else {
        let e = JobError::Permanent(format!(
            "no handler for jobs of kind '{kind}' (known kinds: {})",
            runner.registry.kinds().join(", ")
        ));
        return vec![Err(e); jobs.len()];
    };
    if given.is_empty() {
        return results;
    }
    let input = given
        .iter()
        .map(|&i| {
            let ctx = Ctx {
                db: runner.db.clone(),
                clock: runner.opts.clock.clone(),
                job_id: jobs[i].id,
                attempt: jobs[i].attempts,
            };
            (ctx, jobs[i].payload.clone())
        })
        .collect();
    // A panicking handler is a failed run, not a lost worker.
    let span = crate::traces::span(|| tracing::info_span!("job", kind, jobs = given.len()));
    let run = AssertUnwindSafe(handler(input).instrument(span));
    let answered = match run.catch_unwind().await {
        Ok(answered) => answered,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let e = JobError::Retry(format!("the job panicked: {what}"));
            vec![Err(e); given.len()]
        }
    };
    if answered.len() != given.len() {
        let e = JobError::Retry(format!(
            "the handler answered for {} of {} jobs",
            answered.len(),
            given.len()
        ));
        return vec![Err(e); jobs.len()];
    }
    for (i, r) in given.into_iter().zip(answered) {
        results[i] = r;
    }
    results
}

/// Writes outcomes as they come, every waiting one at once.
async fn record_all(runner: Arc<Runner>, mut received: mpsc::UnboundedReceiver<Finished>) {
    let mut batch = Vec::with_capacity(64);
    while received.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        record(&runner, &batch).await;
        batch.clear();
    }
}

async fn record(runner: &Runner, batch: &[Finished]) {
    let now = runner.opts.clock.now();
    let (db, by) = (&runner.db.write, runner.name.as_str());
    let ids = |want: fn(&Option<Result<(), JobError>>) -> bool| -> Vec<i64> {
        batch
            .iter()
            .filter(|f| want(&f.result))
            .map(|f| f.job.id)
            .collect()
    };
    for f in batch {
        match &f.result {
            Some(Ok(())) => crate::telemetry::job_finished(&f.job.kind, "done"),
            None => crate::telemetry::job_finished(&f.job.kind, "unstarted"),
            Some(Err(_)) => {} // counted below, once its next state is known
        }
    }
    let done = ids(|r| matches!(r, Some(Ok(()))));
    if !done.is_empty() {
        persist("mark jobs done", || queue::complete(db, &done, by, now)).await;
    }
    let unstarted = ids(Option::is_none);
    if !unstarted.is_empty() {
        persist("put unstarted jobs back", || {
            queue::release(db, &unstarted, by, now)
        })
        .await;
    }
    for f in batch {
        let Some(Err(e)) = &f.result else { continue };
        let (job, msg) = (&f.job, e.to_string());
        let went = match e {
            JobError::Retry(_) => {
                let jitter = backoff::unit();
                persist("record a failed job", || {
                    queue::fail(db, job, by, &msg, now, jitter)
                })
                .await
            }
            JobError::Permanent(_) => {
                persist("record a dead job", || queue::bury(db, job, by, &msg, now)).await
            }
        };
        let went = went.flatten();
        let outcome = match went {
            Some(State::Dead) => "dead",
            _ => "retry",
        };
        crate::telemetry::job_finished(&job.kind, outcome);
        match went {
            Some(State::Dead) => {
                tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, error = %msg, "job is dead")
            }
            Some(_) => {
                tracing::info!(job = job.id, kind = %job.kind, attempt = job.attempts, error = %msg, "job failed; it will be retried")
            }
            None => {}
        }
    }
}

/// A write of outcomes, tried three times: a busy database should not make a finished
/// job run again. After that the job's lease runs out and it does run again.
async fn persist<T, F, Fut>(what: &str, write: F) -> Option<T>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, crate::error::AppError>>,
{
    let mut last = None;
    for pause in [50u64, 500, 0] {
        match write().await {
            Ok(v) => return Some(v),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(StdDuration::from_millis(pause)).await;
    }
    if let Some(e) = last {
        tracing::error!(error = %e, "could not {what}; the jobs run again when their lease ends");
    }
    None
}
