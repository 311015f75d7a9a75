use sea_orm::entity::prelude::*;

/// An activity as it was before an edit: its kind, text and time, who replaced them and
/// when (`created_at`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activity_revisions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub activity_id: i64,
    pub kind: String,
    pub body: String,
    pub occurred_at: ChronoDateTimeUtc,
    pub editor_id: Option<i64>,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::activity::Entity",
        from = "Column::ActivityId",
        to = "super::activity::Column::Id",
        on_delete = "Cascade"
    )]
    Activity,
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::EditorId",
        to = "super::user::Column::Id",
        on_delete = "SetNull"
    )]
    Editor,
}

impl Related<super::activity::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Activity.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
