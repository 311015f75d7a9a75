use sea_orm::entity::prelude::*;

/// A lead's score from the lead model of `model_version` (`domain::scoring::lead_scores`):
/// the chance it gets a won deal within the horizon and, as JSON, the factors that
/// explain it. `id` is the contact's.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "contact_scores")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub model_version: i32,
    pub probability: f64,
    pub factors: String,
    pub scored_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
