use sea_orm::entity::prelude::*;

/// An outbound webhook endpoint (see `crate::domain::webhooks`). `kind` is json or slack;
/// `event_types` a JSON array of the event types it gets; `secret` signs its deliveries
/// (kept recoverable, unlike tokens: it must sign). An endpoint that kept failing for a
/// day is inactive with `disabled_reason`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub url: String,
    pub kind: String,
    pub secret: String,
    pub event_types: String,
    pub active: bool,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<ChronoDateTimeUtc>,
    pub created_by: Option<i64>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
