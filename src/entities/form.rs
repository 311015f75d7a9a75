use sea_orm::entity::prelude::*;

/// A web-to-lead form: its public key names its endpoint (`POST /f/{key}`); `fields`,
/// `tags` and `allowed_origins` are JSON text (see `domain::forms`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "forms")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub public_key: String,
    pub fields: String,
    /// The source new contacts get.
    pub source: String,
    /// Who new contacts belong to (and who is told, with `notify_owner`).
    pub owner_id: i64,
    pub tags: String,
    pub thank_you_url: Option<String>,
    pub thank_you_message: Option<String>,
    pub allowed_origins: String,
    pub notify_owner: bool,
    pub active: bool,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::OwnerId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    Owner,
}

impl ActiveModelBehavior for ActiveModel {}
