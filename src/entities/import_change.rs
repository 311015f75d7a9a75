use sea_orm::entity::prelude::*;

/// A record one import wrote: `change` is created or updated; `before` holds an updated
/// record's previous values (JSON), which undo puts back. A link the import added
/// (`deal_contacts`) is `record_id` (the deal) and `other_id` (the contact).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "import_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub import_id: i64,
    pub kind: String,
    pub record_id: i64,
    pub change: String,
    pub before: Option<String>,
    pub other_id: Option<i64>,
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
