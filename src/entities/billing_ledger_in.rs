use sea_orm::entity::prelude::*;

/// Not a table: the view `billing_ledger_in`, through which the Stripe apply path writes
/// a group's ledger rows in one statement; its INSTEAD OF trigger puts a `mrr` row in
/// `mrr_changes` and any other in `billing_entries` (migration 000044). It holds no rows;
/// `stripe_event_id` is its key only because an entity needs one.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "billing_ledger_in")]
pub struct Model {
    /// `payment`, `refund` or `mrr`.
    pub kind: String,
    pub contact_id: Option<i64>,
    /// The payment's or refund's amount, or the subscription's MRR after the change.
    pub amount_minor: i64,
    pub currency: Option<String>,
    /// `occurred_at` of an entry, `effective_at` of a change.
    pub at: ChronoDateTimeUtc,
    #[sea_orm(primary_key, auto_increment = false)]
    pub stripe_event_id: String,
    pub invoice_id: Option<String>,
    pub charge_id: Option<String>,
    pub subscription_id: Option<String>,
    pub status: Option<String>,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
