use sea_orm::entity::prelude::*;

/// An open deal's score from the model of `model_version` (`domain::scoring::scores`):
/// its win probability and, as JSON, the factors that explain it.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "deal_scores")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub deal_id: i64,
    pub model_version: i32,
    pub probability: f64,
    pub factors: String,
    pub scored_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
