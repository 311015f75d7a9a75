use sea_orm::entity::prelude::*;

/// The record a source system's id became: (system, kind, source_id) is unique and kept
/// across imports. `record_id` names a row of the kind's table (no foreign key: the kinds
/// live in different tables); `import_id` is the import that made the mapping.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "import_sources")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub system: String,
    pub kind: String,
    pub source_id: String,
    pub record_id: i64,
    pub import_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::import::Entity",
        from = "Column::ImportId",
        to = "super::import::Column::Id",
        on_delete = "SetNull"
    )]
    Import,
}

impl ActiveModelBehavior for ActiveModel {}
