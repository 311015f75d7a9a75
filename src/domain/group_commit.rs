//! Group commit, written once for every write that arrives many times a second (new
//! contacts, Stripe events). On SQLite every write goes through one connection and each
//! statement sent to it costs two thread hand-offs, so a write done alone costs its
//! BEGIN and COMMIT as much as its work. Here one task per kind of write takes what has
//! queued up while the last transaction ran and writes it in one transaction; each
//! request gets its own answer. When a whole batch fails, its writes are retried one by
//! one, so one bad request cannot sink the others.
use std::future::Future;
use std::sync::Mutex;

use tokio::sync::{mpsc, oneshot};

use crate::domain::Db;
use crate::error::AppError;

/// A kind of write that is committed in groups.
pub(crate) trait Batch: Send + Sync + 'static {
    /// One request's write, as queued.
    type Job: Send + Sync + 'static;
    /// What its request is answered.
    type Out: Send + 'static;
    /// Writes per transaction at most.
    const MAX: usize;
    /// Named in the answer when the writer task is gone ("The contact writer stopped").
    const WRITER: &'static str;

    /// Where `Db` keeps this kind's running queue.
    fn slot(db: &Db) -> &Mutex<Option<Queue<Self>>>;

    /// Writes `jobs` in one transaction. The outer error means nothing was written; the
    /// inner results say, per job in order, what was.
    fn write<'a>(
        db: &'a Db,
        jobs: &'a [Self::Job],
    ) -> impl Future<Output = Result<Vec<Result<Self::Out, AppError>>, AppError>> + Send + 'a;
}

/// A queued write and where its answer goes.
pub(crate) struct Item<B: Batch + ?Sized> {
    job: B::Job,
    reply: oneshot::Sender<Result<B::Out, AppError>>,
}

pub(crate) type Queue<B> = mpsc::Sender<Item<B>>;

/// Queues `job` and waits for its group to commit.
pub(crate) async fn submit<B: Batch>(db: &Db, job: B::Job) -> Result<B::Out, AppError> {
    let (reply, answer) = oneshot::channel();
    let item = Item::<B> { job, reply };
    let stopped = || AppError::Unavailable(format!("The {} writer stopped; try again.", B::WRITER));
    if let Err(mpsc::error::SendError(item)) = queue::<B>(db, false).send(item).await {
        // The writer task is gone (its runtime ended, or it panicked): start a new one.
        queue::<B>(db, true)
            .send(item)
            .await
            .map_err(|_| stopped())?;
    }
    answer.await.map_err(|_| stopped())?
}

/// The running writer's queue, started on first use or when `restart` says the last one
/// is gone.
fn queue<B: Batch>(db: &Db, restart: bool) -> Queue<B> {
    let mut slot = B::slot(db).lock().unwrap_or_else(|e| e.into_inner());
    match slot.as_ref() {
        Some(q) if !restart && !q.is_closed() => q.clone(),
        _ => {
            let q = start::<B>(db.clone());
            *slot = Some(q.clone());
            q
        }
    }
}

/// One writer task per kind, on either engine: a group is written while the next one
/// queues. (Several groups written at once on PostgreSQL took Stripe's events in faster
/// than the queue applied them, so the queue trailed the load by seconds: bench (sw).)
fn start<B: Batch>(db: Db) -> Queue<B> {
    let (tx, mut rx) = mpsc::channel::<Item<B>>(4 * B::MAX);
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            // What queued while the last group was written joins this one.
            let mut items = vec![first];
            while items.len() < B::MAX {
                match rx.try_recv() {
                    Ok(item) => items.push(item),
                    Err(_) => break,
                }
            }
            run::<B>(&db, items).await;
        }
    });
    tx
}

async fn run<B: Batch>(db: &Db, items: Vec<Item<B>>) {
    let (jobs, replies): (Vec<B::Job>, Vec<_>) =
        items.into_iter().map(|i| (i.job, i.reply)).unzip();
    if jobs.len() > 1 {
        match B::write(db, &jobs).await {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(result);
                }
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, size = jobs.len(), writer = B::WRITER, "batch failed; retrying one by one");
            }
        }
    }
    for (job, reply) in jobs.iter().zip(replies) {
        let result = B::write(db, std::slice::from_ref(job)).await.and_then(|r| {
            r.into_iter()
                .next()
                .unwrap_or_else(|| Err(AppError::Internal("a write gave no result".into())))
        });
        let _ = reply.send(result);
    }
}
