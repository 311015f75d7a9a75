use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "custom_fields")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub entity: String,
    pub key: String,
    pub label: String,
    pub kind: String,
    pub options: String,
    pub required: bool,
    pub position: i32,
    /// Raised by every edit; an edit made from an older one is refused.
    pub version: i32,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
