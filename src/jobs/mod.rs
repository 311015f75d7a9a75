//! The durable job queue: background work kept in the `jobs` table, so it survives
//! restarts and is shared by every `cairn serve` process on one database.
//!
//! - `queue`: enqueue, claim, and the outcome of a run (done, retry later, dead).
//! - `admin`: what Settings → Jobs and `cairn jobs` show and do (list, counts, retry).
//! - `backoff`: when a failed job runs again.
//! - `registry`: the handlers, by kind, and what a handler gets and returns.
//! - `worker`: the tokio tasks inside `cairn serve` that run due jobs, and their shutdown.
//! - `kinds`: the kinds this product has (no-op, the nightly clean-up); `schedule`: work
//!   that recurs.
//! - `command`: `cairn jobs …`; `clock`: the time the queue works with, which tests move.
//!
//! A job is claimed for a lease: its `run_after` moves to the lease's end, so a job whose
//! worker died becomes due again when the lease runs out. On PostgreSQL the claim skips
//! rows another worker holds (`FOR UPDATE SKIP LOCKED`); on SQLite the one writer
//! serialises claims.
pub mod admin;
pub mod backoff;
pub mod clock;
pub mod command;
pub mod kinds;
pub mod queue;
pub mod registry;
pub mod schedule;
pub mod worker;

pub use clock::Clock;
pub use queue::{NewJob, enqueue, enqueue_many};
pub use registry::{Ctx, JobError, Registry};
pub use worker::{Options, Runner, Running};

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Waiting for its `run_after`.
    Queued,
    /// Claimed by a worker whose lease ends at `run_after`.
    Running,
    /// Failed; runs again at `run_after`.
    Failed,
    Done,
    /// Failed for good (attempts used up, or it can never succeed); kept with its error.
    Dead,
}

impl State {
    pub const ALL: [State; 5] = [
        State::Queued,
        State::Running,
        State::Failed,
        State::Done,
        State::Dead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Running => "running",
            State::Failed => "failed",
            State::Done => "done",
            State::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|st| st.as_str() == s.trim())
    }
}

/// Wakes this process's idle workers when a job is enqueued here, so it starts at once
/// rather than at the next poll. Jobs enqueued by other processes wait for the poll.
pub(crate) static WAKE: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Call after committing a transaction that enqueued jobs with `queue::enqueue`.
pub fn wake() {
    WAKE.notify_waiters();
}
