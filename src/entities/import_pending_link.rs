use sea_orm::entity::prelude::*;

/// A link an import could not make yet: a record of `contact_id`, `deal_id`,
/// `activity_id` or `task_id` (exactly one is set: the record holding the link) waits
/// for the record of `target_kind` that `system`'s id `source_key` becomes in a later
/// import. `link` is which link: `company` (a contact's or deal's company),
/// `deal_contact` (a contact on a deal, held by whichever end is in Cairn) or `about`
/// (the record an activity or task is about). Deleting the holder, or the import that
/// made the row, deletes the row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "import_pending_links")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub import_id: i64,
    pub system: String,
    pub target_kind: String,
    pub source_key: String,
    pub link: String,
    pub contact_id: Option<i64>,
    pub deal_id: Option<i64>,
    pub activity_id: Option<i64>,
    pub task_id: Option<i64>,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::import::Entity",
        from = "Column::ImportId",
        to = "super::import::Column::Id",
        on_delete = "Cascade"
    )]
    Import,
    #[sea_orm(
        belongs_to = "super::contact::Entity",
        from = "Column::ContactId",
        to = "super::contact::Column::Id",
        on_delete = "Cascade"
    )]
    Contact,
    #[sea_orm(
        belongs_to = "super::deal::Entity",
        from = "Column::DealId",
        to = "super::deal::Column::Id",
        on_delete = "Cascade"
    )]
    Deal,
    #[sea_orm(
        belongs_to = "super::activity::Entity",
        from = "Column::ActivityId",
        to = "super::activity::Column::Id",
        on_delete = "Cascade"
    )]
    Activity,
    #[sea_orm(
        belongs_to = "super::task::Entity",
        from = "Column::TaskId",
        to = "super::task::Column::Id",
        on_delete = "Cascade"
    )]
    Task,
}

impl ActiveModelBehavior for ActiveModel {}
