use sea_orm::entity::prelude::*;

/// A to-do: due at a time (`due_at`, UTC) or on a date (`due_date`), or neither; assigned
/// to one user, optionally about one contact, company or deal.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub title: String,
    pub notes: Option<String>,
    pub due_at: Option<ChronoDateTimeUtc>,
    pub due_date: Option<ChronoDate>,
    /// low, normal or high.
    pub priority: String,
    pub assignee_id: i64,
    pub created_by: Option<i64>,
    pub contact_id: Option<i64>,
    pub company_id: Option<i64>,
    pub deal_id: Option<i64>,
    pub done: bool,
    /// Its contact, company or deal is in the trash: the task is hidden with it (set and
    /// cleared by `domain::trash`; purging the record deletes the task).
    pub record_trashed: bool,
    pub done_at: Option<ChronoDateTimeUtc>,
    /// Raised by every change; an edit made from an older one is refused, and a reminder
    /// job can tell the task changed since it was scheduled.
    pub version: i32,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::AssigneeId",
        to = "super::user::Column::Id",
        on_delete = "Restrict"
    )]
    Assignee,
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::CreatedBy",
        to = "super::user::Column::Id",
        on_delete = "SetNull"
    )]
    Creator,
    #[sea_orm(
        belongs_to = "super::contact::Entity",
        from = "Column::ContactId",
        to = "super::contact::Column::Id",
        on_delete = "Cascade"
    )]
    Contact,
    #[sea_orm(
        belongs_to = "super::company::Entity",
        from = "Column::CompanyId",
        to = "super::company::Column::Id",
        on_delete = "Cascade"
    )]
    Company,
    #[sea_orm(
        belongs_to = "super::deal::Entity",
        from = "Column::DealId",
        to = "super::deal::Column::Id",
        on_delete = "Cascade"
    )]
    Deal,
}

impl ActiveModelBehavior for ActiveModel {}
