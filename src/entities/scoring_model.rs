use sea_orm::entity::prelude::*;

/// One training run of a score (`kind`: `deal`): its model and hold-out metrics as JSON
/// (`domain::scoring`), and whether it scores now (`status`: active, kept, retired).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "scoring_models")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub version: i32,
    pub status: String,
    pub trained_at: ChronoDateTimeUtc,
    /// Outcomes it was trained and tested on.
    pub won: i32,
    pub lost: i32,
    pub holdout: i32,
    pub metrics: String,
    pub model: String,
    /// Why it was not switched in, when it was not.
    pub message: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
