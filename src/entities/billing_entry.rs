use sea_orm::entity::prelude::*;

/// A payment or refund applied from Stripe (`domain::stripe::ledger`), one per event:
/// the revenue report's rows. Written by the apply path only.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "billing_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// None once the contact was purged from the trash (the money stays received).
    pub contact_id: Option<i64>,
    /// `payment` or `refund`.
    pub kind: String,
    /// Always positive: a refund's amount is taken off by the report.
    pub amount_minor: i64,
    /// ISO 4217, upper case.
    pub currency: String,
    /// The Stripe object's time: an invoice's payment, a refund event's creation.
    pub occurred_at: ChronoDateTimeUtc,
    pub stripe_event_id: String,
    pub invoice_id: Option<String>,
    pub charge_id: Option<String>,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::contact::Entity",
        from = "Column::ContactId",
        to = "super::contact::Column::Id",
        on_delete = "SetNull"
    )]
    Contact,
}

impl Related<super::contact::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Contact.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
