use sea_orm::entity::prelude::*;

/// The table also has `first_interaction_at`, written only by the triggers of the
/// `first_interaction` migration and read only by the reports (`reports::funnel`), so it
/// is not a field here: no write of a contact can set it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contacts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub email_norm: Option<String>,
    pub phone: Option<String>,
    pub company_id: Option<i64>,
    pub title: Option<String>,
    pub source: String,
    pub owner_id: i64,
    pub custom: String,
    /// When it went to the trash (None: it is live); see `domain::trash`.
    pub deleted_at: Option<ChronoDateTimeUtc>,
    pub deleted_by: Option<i64>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
