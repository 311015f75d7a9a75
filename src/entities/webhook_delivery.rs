use sea_orm::entity::prelude::*;

/// One event sent (or to be sent) to one endpoint: the delivery log's row. `status` is
/// pending, delivered, failed (its job retries it) or dead; `event_id` is the same for
/// every endpoint an event goes to; `response_excerpt` is at most 1 KiB.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub endpoint_id: i64,
    pub event_type: String,
    pub event_id: String,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub status_code: Option<i32>,
    pub latency_ms: Option<i64>,
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
    pub created_at: ChronoDateTimeUtc,
    pub delivered_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
