use sea_orm::entity::prelude::*;

/// One move of a deal from a stage to another, in the deal's history.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deal_stage_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub deal_id: i64,
    pub from_stage_id: Option<i64>,
    pub to_stage_id: i64,
    pub user_id: Option<i64>,
    pub created_at: ChronoDateTimeUtc,
    pub from_stage_name: Option<String>,
    pub to_stage_name: Option<String>,
    /// How long the deal had been in `from_stage_id` when it left it, in milliseconds
    /// (none for a deal's creation).
    pub stay_ms: Option<i64>,
}

// Only `deal_id` is a foreign key: the stage ids outlive a removed stage (its name is
// copied into `*_stage_name`), and `user_id` has no constraint in the schema.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::deal::Entity",
        from = "Column::DealId",
        to = "super::deal::Column::Id",
        on_delete = "Cascade"
    )]
    Deal,
}

impl Related<super::deal::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Deal.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
