use sea_orm::entity::prelude::*;

/// One "forgot password" request, for any address (known or not): counted per address
/// and per client to throttle them.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reset_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub email_norm: String,
    pub ip: String,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
