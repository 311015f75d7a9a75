use sea_orm::entity::prelude::*;

/// A unit of background work (see `crate::jobs`). `state` is queued, running, failed
/// (waiting to be retried), done or dead. `run_after` is when the job may next be claimed:
/// its due time while queued or failed, the end of its worker's lease while running, and
/// none once it is done or dead.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    /// JSON, as text on both engines.
    pub payload: String,
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_after: Option<ChronoDateTimeUtc>,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub idempotency_key: Option<String>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
