use sea_orm::entity::prelude::*;

/// An event Stripe sent (`domain::stripe`), kept raw. `status` is received, processed,
/// ignored, failed or dead; `created` is the event's own time (Stripe's `created`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stripe_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Stripe's `evt_…` id, unique.
    pub event_id: String,
    /// Stripe's `type` (`invoice.paid`, …).
    pub kind: String,
    /// `data.object.id`, when the body has one.
    pub object_id: Option<String>,
    pub created: ChronoDateTimeUtc,
    /// The raw body, as received and signed.
    pub body: String,
    pub status: String,
    pub error: Option<String>,
    pub attempts: i32,
    pub received_at: ChronoDateTimeUtc,
    pub processed_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
