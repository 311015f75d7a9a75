//! Group commit, written once for every write that arrives many times a second (new
//! contacts, Stripe events). On SQLite every write goes through one connection and each
//! statement sent to it costs two thread hand-offs, so a write done alone costs its
//! BEGIN and COMMIT as much as its work. Here one task per kind of write takes what has
//! queued up (on SQLite, once it holds the writer) and writes it in one transaction;
//! each request gets its own answer. When a whole batch fails, its writes
//! are retried one by one, so one bad request cannot sink the others.
use std::future::Future;
use std::sync::Mutex;

use sea_orm::{DatabaseBackend, DatabaseTransaction};
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

    /// Writes `jobs` in `tx` (committed by the caller). The outer error means nothing
    /// was written; the inner results say, per job in order, what was. Also says how
    /// many jobs it queued (outbound webhooks, the events' own), so the workers are woken
    /// once the transaction has committed.
    fn write<'a>(
        db: &'a Db,
        tx: &'a DatabaseTransaction,
        jobs: &'a [Self::Job],
    ) -> impl Future<Output = Result<Written<Self::Out>, AppError>> + Send + 'a;
}

/// What a group's write answers each job, and how many jobs it queued.
pub(crate) type Written<T> = (Vec<Result<T, AppError>>, usize);

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

/// How many writes wait in each kind's queue (for `/metrics`): those its writer has not
/// taken into a group yet.
pub(crate) fn waiting(db: &Db) -> [(&'static str, usize); 2] {
    [
        (
            "contacts",
            depth::<crate::domain::contacts::batch::Creates>(db),
        ),
        (
            "stripe_events",
            depth::<crate::domain::stripe::ingest::Events>(db),
        ),
    ]
}

fn depth<B: Batch>(db: &Db) -> usize {
    let slot = B::slot(db).lock().unwrap_or_else(|e| e.into_inner());
    slot.as_ref()
        .map_or(0, |q| q.max_capacity().saturating_sub(q.capacity()))
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
            // On SQLite the transaction first, then the group: what arrives while another
            // transaction holds the one writer (the Stripe events' apply) joins this group
            // rather than the next. Taken before, a request waited for two turns of the
            // writer instead of one (bench (sw): the acknowledgements' p50 fell from
            // 8.3–10.8 ms to 5.7–6.7, and they went from 2 400–3 100 a second to
            // 3 900–4 400, with the apply's transactions of 24: `stripe::group`). PostgreSQL has a connection at hand, so little queues during
            // its BEGIN; begun first, its groups took events in faster than its queue
            // applied them (6 200 a second, the queue drained 11.8 s after the load
            // stopped, against 4 400–4 800 and 6.7 s).
            let sqlite = db.write.get_database_backend() == DatabaseBackend::Sqlite;
            let early = if sqlite {
                Some(db.begin_write().await)
            } else {
                None
            };
            let mut items = vec![first];
            while items.len() < B::MAX {
                match rx.try_recv() {
                    Ok(item) => items.push(item),
                    Err(_) => break,
                }
            }
            let began = match early {
                Some(began) => began,
                None => db.begin_write().await,
            };
            run::<B>(&db, began.map_err(AppError::from), items).await;
        }
    });
    tx
}

/// Writes the group in `began`; when that fails as a whole (or could not begin), each
/// job alone, so each gets its own answer.
async fn run<B: Batch>(db: &Db, began: Result<DatabaseTransaction, AppError>, items: Vec<Item<B>>) {
    let (jobs, replies): (Vec<B::Job>, Vec<_>) =
        items.into_iter().map(|i| (i.job, i.reply)).unzip();
    let together = async {
        let tx = began?;
        let written = B::write(db, &tx, &jobs).await?;
        tx.commit().await?;
        Ok::<_, AppError>(written)
    };
    match together.await {
        Ok((results, queued)) => {
            woken(queued);
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result);
            }
            return;
        }
        Err(e) if jobs.len() == 1 => {
            if let Some(reply) = replies.into_iter().next() {
                let _ = reply.send(Err(e));
            }
            return;
        }
        Err(e) => {
            tracing::warn!(error = %e, size = jobs.len(), writer = B::WRITER, "batch failed; retrying one by one");
        }
    }
    for (job, reply) in jobs.iter().zip(replies) {
        let _ = reply.send(alone::<B>(db, job).await);
    }
}

/// One job in its own transaction.
async fn alone<B: Batch>(db: &Db, job: &B::Job) -> Result<B::Out, AppError> {
    let tx = db.begin_write().await?;
    let (results, queued) = B::write(db, &tx, std::slice::from_ref(job)).await?;
    tx.commit().await?;
    woken(queued);
    results
        .into_iter()
        .next()
        .unwrap_or_else(|| Err(AppError::Internal("a write gave no result".into())))
}

fn woken(queued: usize) {
    if queued > 0 {
        crate::jobs::wake();
    }
}
