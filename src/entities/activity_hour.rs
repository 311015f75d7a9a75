use sea_orm::entity::prelude::*;

/// How many activities of `kind` by `author_id` happened in the UTC hour starting at
/// `hour`: kept by triggers (migration 000049) for the activity report.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activity_hours")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub hour: ChronoDateTimeUtc,
    #[sea_orm(primary_key, auto_increment = false)]
    pub author_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    pub n: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
