//! `cairn jobs …`: look at the queue and revive jobs from the command line.
use std::time::{Duration, Instant};

use clap::Subcommand;
use serde_json::json;

use super::admin::{self, Show};
use super::kinds::NOOP;
use super::queue::{NewJob, enqueue_many};
use crate::domain::{Db, now};
use crate::error::AppError;

#[derive(Subcommand, Debug)]
pub enum JobsCommand {
    /// List jobs, newest first: every job not done, or those in one state.
    List {
        #[arg(long, value_parser = ["queued", "running", "failed", "done", "dead", "open", "all"])]
        state: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// Run a failed or dead job again now, with a fresh set of attempts.
    Retry { id: i64 },
    /// Run every dead job again now, with a fresh set of attempts.
    RetryDead,
    /// How many jobs are in each state.
    Stats,
    /// Enqueue no-op jobs (to check or benchmark the workers of `cairn serve`); with
    /// --wait, wait until they have run and print how long that took.
    Noop {
        #[arg(long, default_value_t = 1)]
        count: u64,
        #[arg(long)]
        wait: bool,
        /// With --wait: give up after this many seconds.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
    },
}

pub async fn run(db: &Db, command: JobsCommand) -> Result<(), AppError> {
    match command {
        JobsCommand::List { state, limit } => {
            let show = Show::parse(state.as_deref())?;
            let page = admin::list(&db.read, show, 1, limit.clamp(1, 10_000)).await?;
            for j in &page.items {
                let when = j.run_after.map(|t| t.to_rfc3339()).unwrap_or_default();
                let error = j.last_error.as_deref().unwrap_or("").replace('\n', " ");
                println!(
                    "{}\t{}\t{}\t{}/{}\t{}\t{}",
                    j.id, j.kind, j.state, j.attempts, j.max_attempts, when, error
                );
            }
            eprintln!(
                "{} of {} {} jobs",
                page.items.len(),
                page.total,
                show.as_str()
            );
        }
        JobsCommand::Retry { id } => {
            let job = admin::retry(db, None, id, now()).await?;
            println!("job {} ({}) is queued again", job.id, job.kind);
        }
        JobsCommand::RetryDead => {
            let n = admin::retry_dead(db, None, now()).await?;
            println!("{n} dead jobs queued again");
        }
        JobsCommand::Stats => {
            for (state, n) in admin::counts(&db.read).await? {
                println!("{}\t{n}", state.as_str());
            }
        }
        JobsCommand::Noop {
            count,
            wait,
            timeout,
        } => noop(db, count, wait.then(|| Duration::from_secs(timeout))).await?,
    }
    Ok(())
}

/// Enqueues `count` no-op jobs in one transaction (so the workers see them all at once)
/// and, with `wait`, polls until none is left unfinished.
async fn noop(db: &Db, count: u64, wait: Option<Duration>) -> Result<(), AppError> {
    let jobs: Vec<NewJob> = (0..count)
        .map(|n| NewJob::new(NOOP, json!({ "n": n })))
        .collect();
    let tx = db.begin_write().await?;
    let before = admin::last_id(&tx).await?;
    enqueue_many(&tx, &jobs).await?;
    tx.commit().await?;
    let started = Instant::now();
    println!("enqueued {count} no-op jobs");
    let Some(limit) = wait else { return Ok(()) };
    loop {
        let left = admin::unfinished(&db.read, NOOP, before).await?;
        if left == 0 {
            let secs = started.elapsed().as_secs_f64();
            println!(
                "drained {count} no-op jobs in {secs:.2} s ({:.0} jobs/s)",
                count as f64 / secs.max(1e-6)
            );
            return Ok(());
        }
        if started.elapsed() > limit {
            return Err(AppError::Unavailable(format!(
                "{left} of {count} no-op jobs still wait after {} s: is `cairn serve` running with CAIRN_JOB_WORKERS above 0?",
                limit.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
