use sea_orm::entity::prelude::*;

/// Which emails a user wants; a user without a row has the defaults (`crate::mail::prefs`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_prefs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    pub task_assigned: bool,
    pub task_due: bool,
    pub task_due_lead_minutes: i32,
    pub deal_assigned: bool,
    pub daily_digest: bool,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
