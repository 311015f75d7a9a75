//! The database handle the domain works with: the connections (`crate::db`) and what the
//! product keeps beside them for as long as the process runs.
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{
    DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};

use crate::domain::cache::{AuthCache, CounterCache, TtlCache};
use crate::domain::contacts::batch::Queue;
use crate::domain::credentials::Credentials;
use crate::domain::deals::{Board, BoardQuery, DealIndex, DealTable, ListQuery};
use crate::domain::tasks::due::Group;
use crate::domain::tasks::{Board as TaskBoard, Scope};

/// Distinct board filters (and deal-table pages) kept at once; each entry holds up to a
/// few hundred cards (some 70 KB). A board missing from it is built from the deals in
/// memory (`deals::index`) without a statement, so fewer entries cost little.
const BOARD_CACHE_ENTRIES: usize = 32;

/// My tasks boards kept at once (whose tasks and in which zone); each holds under a
/// hundred tasks.
const TASK_BOARD_ENTRIES: usize = 256;

/// Estimated list totals kept at once (`Db::estimates`): a few dozen bytes each.
const ESTIMATES_KEPT: usize = 1024;

/// Counts of linked-record lists kept at once (`Db::link_counts`); none is used again
/// after the requests that waited for it, so these only spare a map that grows.
const LINK_COUNTS_KEPT: usize = 64;

/// The read and write connections (see `crate::db::Pools`) and the process's caches.
#[derive(Clone)]
pub struct Db {
    pub read: DatabaseConnection,
    pub write: DatabaseConnection,
    /// Active users, custom field definitions (5 s; see `cache`).
    pub auth_cache: Arc<AuthCache>,
    /// Who session cookies and API tokens stand for, trusted while the cross-process
    /// auth generation is unchanged (`credentials`).
    pub credentials: Arc<Credentials>,
    /// Built boards, good while the `board` change counter is unchanged, by filters and
    /// the start of the closed columns' recent window (`deals::recent_since`).
    pub board_cache: Arc<CounterCache<(BoardQuery, DateTime<Utc>), Board>>,
    /// The live deals boards are built from (`deals::index`), under the same counter;
    /// None when there are too many to keep.
    pub deal_index: Arc<CounterCache<(), Option<DealIndex>>>,
    /// The counter at the last board built (`deals::board`): a second build at the same
    /// counter reads the index.
    pub board_built_at: Arc<AtomicI64>,
    /// Built deal-table pages, under the same counter.
    pub deal_list_cache: Arc<CounterCache<ListQuery, DealTable>>,
    /// The group-commit queue for new contacts, started on first use.
    pub(crate) contact_queue: Arc<Mutex<Option<Queue>>>,
    /// The group-commit queue for received Stripe events (`stripe::ingest`).
    pub(crate) stripe_queue: Arc<Mutex<Option<crate::domain::stripe::ingest::Queue>>>,
    /// How many open tasks each group of My tasks holds, by whose tasks and the time
    /// zone whose days make the groups (5 s; `tasks::overdue_count` for the navigation,
    /// the group totals of My tasks): a count walks every task of its group.
    pub task_counts: Arc<TtlCache<(Scope, Tz, Group), u64>>,
    /// Built My tasks boards, by whose tasks and time zone, good while the `tasks` change
    /// counter is unchanged and until the first task shown changes group
    /// (`tasks::Board::good_until`).
    pub task_boards: Arc<CounterCache<(Scope, Tz), TaskBoard>>,
    /// Lists' estimated totals past the exact limit, by filters and whose records the
    /// asker sees (a minute; `records::estimate`). This handle is one database, so one
    /// workspace.
    pub estimates: Arc<TtlCache<crate::domain::records::Estimated, u64>>,
    /// Counts of lists filtered on linked records, shared by identical lists asked at the
    /// same moment and by nothing later (`records::counted`).
    pub link_counts:
        Arc<CounterCache<crate::domain::records::Estimated, crate::domain::records::Counted>>,
    /// Settings → Organisation as pages draw it (5 s; `organisation::cached`).
    pub org_cache: Arc<TtlCache<(), Arc<crate::domain::organisation::Organisation>>>,
    /// The dashboard's figures per scope (whose records the reader sees) and `board`
    /// change counter, kept up to `reports::dashboard::KEPT_SECS`.
    pub dashboards: Arc<
        CounterCache<
            (crate::domain::access::Visible, Option<i64>),
            crate::domain::reports::dashboard::Figures,
        >,
    >,
    /// The last dashboard figures built per scope, shown for a few seconds after a deal
    /// write (`reports::dashboard::kept`).
    pub dashboard_latest: Arc<
        TtlCache<crate::domain::access::Visible, Arc<crate::domain::reports::dashboard::Figures>>,
    >,
    /// Whether reps see only their own records (`access`; read at most every 2 s).
    pub access_cache: Arc<crate::domain::access::RuleCache>,
    /// The active webhook endpoints and what they subscribed to (5 s; `webhooks::emit`).
    pub webhooks: Arc<TtlCache<(), Arc<Vec<crate::domain::webhooks::Subscriber>>>>,
    /// Settings → Integrations → Stripe's signing secrets (5 s; `stripe::secrets::active`,
    /// read at every delivery).
    pub stripe_secrets: Arc<TtlCache<(), Arc<Vec<String>>>>,
    /// Whether Stripe has named any contact (5 s; `contacts::billing_shown`): kept only
    /// once true, so the first billed contact shows the columns at once.
    pub billed: Arc<TtlCache<(), bool>>,
    /// Whether a model of each kind scores (5 s; `scoring::train::scoring`), asked at
    /// every deal or contact write to know whether to queue its rescoring.
    pub scoring: Arc<TtlCache<crate::domain::scoring::Kind, bool>>,
}

impl Db {
    /// Begins a write transaction. On SQLite it takes the write lock at BEGIN (`BEGIN
    /// IMMEDIATE`): a deferred transaction that reads first and then writes cannot wait
    /// for another process's lock (`cairn import` beside the server) and fails busy at
    /// once, where one that asks for the lock first waits its turn
    /// (`db::prompt_busy_wait`). Within this process the writer is one connection, so
    /// it changes nothing there. PostgreSQL ignores the mode.
    pub async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        let asked = std::time::Instant::now();
        let began = self
            .write
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await;
        crate::telemetry::write_waited(asked.elapsed());
        began
    }

    pub async fn connect(url: &str) -> Result<Db, DbErr> {
        let pools = crate::db::connect(url).await?;
        Ok(Db {
            read: pools.read,
            write: pools.write,
            auth_cache: Arc::default(),
            credentials: Arc::new(Credentials::open(url)),
            board_cache: Arc::new(CounterCache::new(BOARD_CACHE_ENTRIES)),
            deal_index: Arc::new(CounterCache::new(1)),
            board_built_at: Arc::new(AtomicI64::new(i64::MIN)),
            deal_list_cache: Arc::new(CounterCache::new(BOARD_CACHE_ENTRIES)),
            contact_queue: Arc::default(),
            stripe_queue: Arc::default(),
            task_counts: Arc::default(),
            task_boards: Arc::new(CounterCache::new(TASK_BOARD_ENTRIES)),
            estimates: Arc::new(TtlCache::lasting(
                crate::domain::records::ESTIMATE_TTL,
                ESTIMATES_KEPT,
            )),
            link_counts: Arc::new(CounterCache::new(LINK_COUNTS_KEPT)),
            org_cache: Arc::default(),
            dashboards: Arc::new(CounterCache::new(
                crate::domain::reports::dashboard::KEPT_SCOPES,
            )),
            dashboard_latest: Arc::new(TtlCache::lasting(
                std::time::Duration::from_secs(
                    crate::domain::reports::dashboard::FRESH_SECS.unsigned_abs(),
                ),
                crate::domain::reports::dashboard::KEPT_SCOPES,
            )),
            access_cache: Arc::default(),
            webhooks: Arc::default(),
            stripe_secrets: Arc::default(),
            billed: Arc::default(),
            scoring: Arc::default(),
        })
    }

    /// After a task write (or a record's trip to the trash and back, which hides or
    /// shows its tasks): every count is taken again on its next read. Everyone's counts
    /// change with anyone's task, so all go; writes are rare beside reads.
    pub fn forget_task_counts(&self) {
        self.task_counts.clear();
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.read.get_database_backend()
    }

    pub fn is_sqlite(&self) -> bool {
        self.backend() == DatabaseBackend::Sqlite
    }

    pub async fn migrate(&self) -> Result<(), DbErr> {
        crate::db::migrate(&self.write).await
    }

    pub async fn ping(&self) -> Result<(), DbErr> {
        self.read.ping().await
    }
}
