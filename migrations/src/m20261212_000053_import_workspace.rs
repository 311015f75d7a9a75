//! Imports keep the `workspace.json` of a Cairn export uploaded with them (its custom
//! field definitions, pipelines with their stages, tags), as JSON text: the import's
//! run creates what Cairn lacks of it before planning the rows, on whichever process
//! runs the job, so it is kept with the import like the files' bytes.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Imports {
    Table,
    Workspace,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Imports::Table)
                    .add_column(text_null(Imports::Workspace))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Imports::Table)
                    .drop_column(Imports::Workspace)
                    .to_owned(),
            )
            .await
    }
}
