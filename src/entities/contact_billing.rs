use sea_orm::entity::prelude::*;

/// A contact's Stripe side (`domain::stripe`); `id` is the contact's id. Amounts are in
/// minor units of their currency (ISO 4217, lower case as Stripe writes them).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contact_billing")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub stripe_customer_id: Option<String>,
    pub last_payment_at: Option<ChronoDateTimeUtc>,
    pub last_payment_minor: Option<i64>,
    pub last_payment_currency: Option<String>,
    /// Lifetime value: payments less refunds.
    pub ltv_minor: i64,
    pub ltv_currency: Option<String>,
    pub subscription_id: Option<String>,
    pub subscription_plan: Option<String>,
    pub subscription_status: Option<String>,
    /// Monthly recurring revenue of the subscription, normalised to a month.
    pub mrr_minor: Option<i64>,
    pub mrr_currency: Option<String>,
    /// `created` of the last applied subscription event and customer event.
    pub subscription_at: Option<ChronoDateTimeUtc>,
    pub customer_at: Option<ChronoDateTimeUtc>,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::contact::Entity",
        from = "Column::Id",
        to = "super::contact::Column::Id",
        on_delete = "Cascade"
    )]
    Contact,
}

impl Related<super::contact::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Contact.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
