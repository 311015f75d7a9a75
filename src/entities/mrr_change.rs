use sea_orm::entity::prelude::*;

/// A subscription change applied from Stripe (`domain::stripe::ledger`), one per applied
/// event: the MRR history. An event older than the subscription state already applied is
/// ignored by the apply path and so never lands here.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mrr_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// None once the contact was purged from the trash.
    pub contact_id: Option<i64>,
    pub subscription_id: String,
    /// The subscription's monthly value after the change (its prices normalised to a
    /// month), whatever its status: whether it counts is the status's to say.
    pub mrr_minor: i64,
    /// ISO 4217, upper case; None for a subscription without a recurring price.
    pub currency: Option<String>,
    /// Stripe's status (`canceled` for a deleted subscription).
    pub status: String,
    /// The event's `created`.
    pub effective_at: ChronoDateTimeUtc,
    pub stripe_event_id: String,
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
