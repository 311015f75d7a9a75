use sea_orm::entity::prelude::*;

/// A sign-in between the right password and its second step (a code, or setting up
/// two-factor when it is required). Not a session: the browser's cookie holds a secret
/// whose SHA-256 is kept here, and it lets its holder do nothing but finish signing in.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pending_sign_ins")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub token_hash: String,
    pub user_id: i64,
    /// "code" or "setup".
    pub purpose: String,
    /// Where to go once signed in (a path on this site).
    pub next: String,
    /// Wrong codes given for it; past a few the password is asked again.
    pub failures: i32,
    pub created_at: ChronoDateTimeUtc,
    pub expires_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
