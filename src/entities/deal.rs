use sea_orm::entity::prelude::*;

/// A deal: an opportunity in one stage of a pipeline, with its amount in minor units.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub title: String,
    pub pipeline_id: i64,
    pub stage_id: i64,
    pub position: i64,
    pub amount_minor: i64,
    pub currency: String,
    pub company_id: Option<i64>,
    pub owner_id: i64,
    pub expected_close: Option<ChronoDate>,
    pub probability: Option<i32>,
    pub source: String,
    pub closed_at: Option<ChronoDateTimeUtc>,
    pub lost_reason: Option<String>,
    /// Custom field values, a JSON object by field key.
    pub custom: String,
    pub version: i32,
    pub stage_entered_at: ChronoDateTimeUtc,
    /// When it went to the trash (None: it is live); see `domain::trash`.
    pub deleted_at: Option<ChronoDateTimeUtc>,
    pub deleted_by: Option<i64>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::pipeline::Entity",
        from = "Column::PipelineId",
        to = "super::pipeline::Column::Id",
        on_delete = "Restrict"
    )]
    Pipeline,
    #[sea_orm(
        belongs_to = "super::pipeline_stage::Entity",
        from = "Column::StageId",
        to = "super::pipeline_stage::Column::Id",
        on_delete = "Restrict"
    )]
    Stage,
    #[sea_orm(
        belongs_to = "super::company::Entity",
        from = "Column::CompanyId",
        to = "super::company::Column::Id",
        on_delete = "SetNull"
    )]
    Company,
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::OwnerId",
        to = "super::user::Column::Id",
        on_delete = "Restrict"
    )]
    Owner,
}

impl Related<super::pipeline::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Pipeline.def()
    }
}

impl Related<super::pipeline_stage::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Stage.def()
    }
}

impl Related<super::company::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Company.def()
    }
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Owner.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
