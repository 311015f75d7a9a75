//! What the server counts and times for `GET /metrics` (Prometheus' text format,
//! `web::metrics`). Every metric is named here once, with the function that records it;
//! the domain calls those functions where the thing happens. Counters and histograms
//! are this process's since it started (each process behind a load balancer is scraped
//! on its own); the job gauges are the database's, the same from every process.
use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect,
};

use crate::domain::Db;
use crate::entities::job;

const HTTP_REQUESTS: &str = "cairn_http_requests_total";
const HTTP_SECONDS: &str = "cairn_http_request_duration_seconds";
const DB_CONNECTIONS: &str = "cairn_db_pool_connections";
const DB_MAX: &str = "cairn_db_pool_max_connections";
const DB_WRITE_WAIT: &str = "cairn_db_write_wait_seconds";
const WRITE_QUEUE: &str = "cairn_write_queue";
const JOBS: &str = "cairn_jobs";
const JOBS_LAG: &str = "cairn_jobs_oldest_due_seconds";
const JOBS_FINISHED: &str = "cairn_jobs_finished_total";
const JOB_SECONDS: &str = "cairn_job_duration_seconds";
const WEBHOOKS_RECEIVED: &str = "cairn_webhook_events_received_total";
const WEBHOOKS_PROCESSED: &str = "cairn_webhook_events_processed_total";
const WEBHOOKS_DELIVERED: &str = "cairn_webhook_deliveries_total";
const EMAILS: &str = "cairn_emails_total";
const LOGINS: &str = "cairn_logins_total";
const BOARD_CACHE: &str = "cairn_board_cache_total";
const BUILD_INFO: &str = "cairn_build_info";
const TRACE_EXPORTS_FAILED: &str = "cairn_trace_exports_failed_total";

/// Latency buckets, in seconds: a cached page answers in a millisecond, an export runs
/// for minutes.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0, 300.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The (kind, state) pairs of the job gauges set so far.
static JOBS_SEEN: std::sync::Mutex<std::collections::BTreeSet<(String, String)>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// The process's recorder, installed on first use (`app::build` asks at once, so nothing
/// counted before it is lost). Tests build many apps in one process: they share it.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new();
        // Only an invalid (empty) bucket list is refused, and BUCKETS is not empty.
        let builder =
            match builder.set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS) {
                Ok(b) => b,
                Err(_) => PrometheusBuilder::new(),
            };
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder was installed first: /metrics stays empty");
        }
        describe();
        gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        handle
    })
}

fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, route pattern and status class."
    );
    describe_histogram!(
        HTTP_SECONDS,
        "Time to answer an HTTP request, by method and route pattern."
    );
    describe_gauge!(
        DB_CONNECTIONS,
        "Database connections of each pool (read, write), idle or in use."
    );
    describe_gauge!(DB_MAX, "The most connections each pool opens.");
    describe_histogram!(
        DB_WRITE_WAIT,
        "Time a write transaction waited for the writer (SQLite's one connection, PostgreSQL's pool) and began."
    );
    describe_gauge!(
        WRITE_QUEUE,
        "Writes waiting in a group-commit queue (new contacts, Stripe events)."
    );
    describe_gauge!(
        JOBS,
        "Jobs waiting or running, by kind and state (the database's, whichever process runs them)."
    );
    describe_gauge!(
        JOBS_LAG,
        "How long the longest-due waiting job of each kind has been due."
    );
    describe_counter!(
        JOBS_FINISHED,
        "Job runs this process finished, by kind and outcome (done, retry, dead, unstarted)."
    );
    describe_histogram!(JOB_SECONDS, "Time a job ran, by kind.");
    describe_counter!(
        WEBHOOKS_RECEIVED,
        "Inbound webhook deliveries, by source and outcome (stored, duplicate, rejected)."
    );
    describe_counter!(
        WEBHOOKS_PROCESSED,
        "Inbound webhook events processed, by source and status."
    );
    describe_counter!(
        WEBHOOKS_DELIVERED,
        "Outbound webhook delivery attempts, by outcome."
    );
    describe_counter!(
        EMAILS,
        "Emails handed to the SMTP server, by outcome (sent, failed)."
    );
    describe_counter!(LOGINS, "Sign-ins, by outcome (succeeded, failed).");
    describe_counter!(
        BOARD_CACHE,
        "Deal board reads, by whether the built board was cached (hit) or built (miss)."
    );
    describe_gauge!(BUILD_INFO, "Always 1, labelled with this build's version.");
    describe_counter!(
        TRACE_EXPORTS_FAILED,
        "Batches of spans the OTLP endpoint did not take (dropped)."
    );
}

/// Keeps the histograms' memory bounded between scrapes (`serve` calls it every few
/// seconds; a scrape does the same).
pub fn upkeep() {
    handle().run_upkeep();
}

/// One answered request. `route` is the matched pattern (`/contacts/{id}`), never the
/// path: a path names records, and each would be a series of its own.
pub fn http(method: &str, route: Option<String>, status: u16, took: Duration) {
    let route = route.unwrap_or_else(|| "unmatched".to_string());
    let class = match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    counter!(HTTP_REQUESTS, "method" => method.to_string(), "route" => route.clone(), "status" => class)
        .increment(1);
    histogram!(HTTP_SECONDS, "method" => method.to_string(), "route" => route)
        .record(took.as_secs_f64());
}

pub fn write_waited(took: Duration) {
    histogram!(DB_WRITE_WAIT).record(took.as_secs_f64());
}

/// A job run's outcome: `done`, `retry`, `dead` or `unstarted`.
pub fn job_finished(kind: &str, outcome: &'static str) {
    counter!(JOBS_FINISHED, "kind" => kind.to_string(), "outcome" => outcome).increment(1);
}

/// A run of `count` jobs of `kind` (run together) that took `took`: each is recorded
/// with its share.
pub fn job_ran(kind: &str, count: usize, took: Duration) {
    let each = took.as_secs_f64() / count.max(1) as f64;
    histogram!(JOB_SECONDS, "kind" => kind.to_string()).record_many(each, count.max(1));
}

/// An inbound delivery from `source` (`stripe`, `form`): `stored`, `duplicate` or
/// `rejected`.
pub fn webhook_received(source: &'static str, outcome: &'static str) {
    counter!(WEBHOOKS_RECEIVED, "source" => source, "outcome" => outcome).increment(1);
}

/// `n` inbound events from `source` ended `status` (processed, ignored, failed, dead).
pub fn webhook_processed(source: &'static str, status: &'static str, n: u64) {
    if n > 0 {
        counter!(WEBHOOKS_PROCESSED, "source" => source, "status" => status).increment(n);
    }
}

/// An outbound delivery attempt: `delivered`, `failed` or `dead`.
pub fn webhook_delivered(outcome: &'static str) {
    counter!(WEBHOOKS_DELIVERED, "outcome" => outcome).increment(1);
}

pub fn email(sent: bool) {
    let outcome = if sent { "sent" } else { "failed" };
    counter!(EMAILS, "outcome" => outcome).increment(1);
}

pub fn login(succeeded: bool) {
    let outcome = if succeeded { "succeeded" } else { "failed" };
    counter!(LOGINS, "outcome" => outcome).increment(1);
}

pub fn trace_export_failed() {
    counter!(TRACE_EXPORTS_FAILED).increment(1);
}

pub fn board_cache(hit: bool) {
    let outcome = if hit { "hit" } else { "miss" };
    counter!(BOARD_CACHE, "outcome" => outcome).increment(1);
}

#[derive(FromQueryResult)]
struct Waiting {
    kind: String,
    state: String,
    n: i64,
    due: Option<chrono::DateTime<chrono::Utc>>,
}

/// The text a scrape answers: the gauges read now (pools, queues, the job queue), then
/// everything.
pub async fn render(db: &Db) -> Result<String, crate::error::AppError> {
    let handle = handle();
    pools(db);
    queues(db);
    jobs(db).await?;
    Ok(handle.render())
}

fn pools(db: &Db) {
    let named: &[(&str, &DatabaseConnection)] = match db.is_sqlite() {
        true => &[("read", &db.read), ("write", &db.write)],
        // One pool serves both on PostgreSQL.
        false => &[("shared", &db.read)],
    };
    for (name, conn) in named {
        let (size, idle, max) = match db.backend() {
            DbBackend::Sqlite => {
                let p = conn.get_sqlite_connection_pool();
                (
                    p.size(),
                    p.num_idle() as u32,
                    p.options().get_max_connections(),
                )
            }
            _ => {
                let p = conn.get_postgres_connection_pool();
                (
                    p.size(),
                    p.num_idle() as u32,
                    p.options().get_max_connections(),
                )
            }
        };
        let name = name.to_string();
        gauge!(DB_CONNECTIONS, "pool" => name.clone(), "state" => "idle").set(idle);
        gauge!(DB_CONNECTIONS, "pool" => name.clone(), "state" => "in_use")
            .set(size.saturating_sub(idle));
        gauge!(DB_MAX, "pool" => name).set(max);
    }
}

fn queues(db: &Db) {
    for (name, waiting) in crate::domain::group_commit::waiting(db) {
        gauge!(WRITE_QUEUE, "queue" => name).set(waiting as f64);
    }
}

/// The waiting and running jobs, read from the due index (done and dead jobs have no
/// due time, so however many accumulate this reads only the queue).
async fn jobs(db: &Db) -> Result<(), crate::error::AppError> {
    let rows = job::Entity::find()
        .select_only()
        .column(job::Column::Kind)
        .column(job::Column::State)
        .column_as(Expr::col(job::Column::Id).count(), "n")
        .column_as(Expr::col(job::Column::RunAfter).min(), "due")
        .filter(job::Column::RunAfter.is_not_null())
        .group_by(job::Column::Kind)
        .group_by(job::Column::State)
        .into_model::<Waiting>()
        .all(&db.read)
        .await?;
    let now = chrono::Utc::now();
    // A kind and state seen once and absent now is at zero, not at its last value.
    let mut seen = JOBS_SEEN.lock().unwrap_or_else(|e| e.into_inner());
    for r in &rows {
        seen.insert((r.kind.clone(), r.state.clone()));
    }
    for (kind, state) in seen.iter() {
        let n = rows
            .iter()
            .find(|r| &r.kind == kind && &r.state == state)
            .map_or(0, |r| r.n);
        gauge!(JOBS, "kind" => kind.clone(), "state" => state.clone()).set(n as f64);
    }
    let kinds: std::collections::BTreeSet<&String> = seen.iter().map(|(k, _)| k).collect();
    for kind in kinds {
        let lag = rows
            .iter()
            .filter(|r| &r.kind == kind && r.state != "running")
            .filter_map(|r| r.due)
            .min()
            .map_or(0.0, |due| {
                Ord::max((now - due).num_milliseconds(), 0) as f64 / 1000.0
            });
        gauge!(JOBS_LAG, "kind" => kind.clone()).set(lag);
    }
    Ok(())
}
