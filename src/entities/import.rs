use sea_orm::entity::prelude::*;

/// One import (`crate::domain::import`): its files as described, its options, where its
/// job is and what came of it. `status` is planned, dry_run_done, queued, running, done,
/// failed or undone. JSON columns are text on both engines.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "imports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub status: String,
    /// `Vec<FileSpec>` as JSON.
    pub files: String,
    /// `Options` as JSON (on match, valid rows only, zone, system).
    pub options: String,
    pub total_rows: i64,
    pub done_rows: i64,
    /// Created / updated / skipped / failed per kind, as JSON.
    pub counts: String,
    /// The row-by-row report of the last run (dry or real), as JSON.
    pub report: Option<String>,
    /// The integrity report of the finished import, as JSON.
    pub integrity: Option<String>,
    pub error: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub finished_at: Option<ChronoDateTimeUtc>,
    /// The `updated_at` every record this import wrote got: a record whose `updated_at`
    /// differs was changed since, and undo leaves the import alone.
    pub written_at: Option<ChronoDateTimeUtc>,
    /// The `workspace.json` of a Cairn export uploaded with the files
    /// (`domain::export::Workspace` as JSON), if any.
    pub workspace: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::CreatedBy",
        to = "super::user::Column::Id",
        on_delete = "SetNull"
    )]
    User,
}

impl ActiveModelBehavior for ActiveModel {}
