use sea_orm::entity::prelude::*;

/// What is left of a Stripe event the retention job deleted (`domain::stripe::retention`):
/// its id, so a redelivery is a repeat, and for a `charge.refunded` the charge and its
/// `amount_refunded`, which a later refund of that charge subtracts.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stripe_pruned_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub event_id: String,
    pub charge_id: Option<String>,
    pub refunded: Option<i64>,
    pub pruned_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
