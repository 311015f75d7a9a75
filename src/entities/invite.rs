use sea_orm::entity::prelude::*;

/// An invitation to join: its link's secret is kept only as a SHA-256 hash.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invites")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub email: String,
    pub email_norm: String,
    pub role: String,
    pub token_hash: String,
    pub invited_by: Option<i64>,
    /// How many times it was sent (each send makes a new link).
    pub sends: i32,
    pub created_at: ChronoDateTimeUtc,
    pub expires_at: ChronoDateTimeUtc,
    pub accepted_at: Option<ChronoDateTimeUtc>,
    /// The user the invitation became.
    pub user_id: Option<i64>,
    pub revoked_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::InvitedBy",
        to = "super::user::Column::Id",
        on_delete = "SetNull"
    )]
    InvitedBy,
}

impl ActiveModelBehavior for ActiveModel {}
