//! An import's change may be a link between two records rather than a record: a contact
//! put on a deal (`deal_contacts`, from a deal contacts file or a deal row's contact
//! ids). `import_changes.other_id` holds the link's second end (the contact; `record_id`
//! is the deal), so undo removes exactly the links the import added.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ImportChanges {
    Table,
    OtherId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ImportChanges::Table)
                .add_column(big_integer_null(ImportChanges::OtherId))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ImportChanges::Table)
                .drop_column(ImportChanges::OtherId)
                .to_owned(),
        )
        .await
    }
}
