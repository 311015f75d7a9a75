use sea_orm::entity::prelude::*;

/// An uploaded file of an import, its bytes as uploaded: any `cairn serve` process on a
/// shared database may run the import's job, so the bytes live in the database.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "import_files")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub import_id: i64,
    /// The file's index among the import's files (`MappedRow::file`).
    pub position: i32,
    pub name: String,
    pub bytes: Vec<u8>,
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
}

impl ActiveModelBehavior for ActiveModel {}
