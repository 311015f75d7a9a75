//! Imports (issue 16). `imports` is one import: its files as described (FileSpec JSON),
//! its options, where its job is (status, rows done of the total) and what came of it
//! (the row-by-row report and the integrity report, JSON). `import_files` holds the
//! uploaded bytes in the database, not a local path, because any `cairn serve` process
//! on a shared PostgreSQL may run the job. `import_sources` maps a source system's id
//! to the record it became, across imports, so related files imported in any order (or
//! again later) link up instead of duplicating. `import_changes` lists what one import
//! created or updated (with the previous values of an update), which is what undo reverts;
//! `imports.written_at` is the `updated_at` its writes set, so undo sees what changed since.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Imports {
    Table,
    Id,
    Status,
    Files,
    Options,
    TotalRows,
    DoneRows,
    Counts,
    Report,
    Integrity,
    Error,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    FinishedAt,
    WrittenAt,
}

#[derive(DeriveIden)]
enum ImportFiles {
    Table,
    Id,
    ImportId,
    Position,
    Name,
    Bytes,
}

#[derive(DeriveIden)]
enum ImportSources {
    Table,
    Id,
    System,
    Kind,
    SourceId,
    RecordId,
    ImportId,
}

#[derive(DeriveIden)]
enum ImportChanges {
    Table,
    Id,
    ImportId,
    Kind,
    RecordId,
    Change,
    Before,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Imports::Table)
                .col(big_pk_auto(Imports::Id))
                .col(string_len(Imports::Status, 16))
                .col(text(Imports::Files).default("[]"))
                .col(text(Imports::Options).default("{}"))
                .col(big_integer(Imports::TotalRows).default(0))
                .col(big_integer(Imports::DoneRows).default(0))
                .col(text(Imports::Counts).default("{}"))
                .col(text_null(Imports::Report))
                .col(text_null(Imports::Integrity))
                .col(text_null(Imports::Error))
                .col(big_integer_null(Imports::CreatedBy))
                .col(timestamp_with_time_zone(Imports::CreatedAt))
                .col(timestamp_with_time_zone(Imports::UpdatedAt))
                .col(timestamp_with_time_zone_null(Imports::FinishedAt))
                .col(timestamp_with_time_zone_null(Imports::WrittenAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Imports::Table, Imports::CreatedBy)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ImportFiles::Table)
                .col(big_pk_auto(ImportFiles::Id))
                .col(big_integer(ImportFiles::ImportId))
                .col(integer(ImportFiles::Position))
                .col(string_len(ImportFiles::Name, 255))
                .col(blob(ImportFiles::Bytes))
                .foreign_key(
                    ForeignKey::create()
                        .from(ImportFiles::Table, ImportFiles::ImportId)
                        .to(Imports::Table, Imports::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_import_files_import")
                .table(ImportFiles::Table)
                .col(ImportFiles::ImportId)
                .col(ImportFiles::Position)
                .unique()
                .to_owned(),
        )
        .await?;
        // No foreign key to the record: it lives in one of several tables. A mapping to a
        // record since deleted is found missing and replaced on the next import.
        m.create_table(
            Table::create()
                .table(ImportSources::Table)
                .col(big_pk_auto(ImportSources::Id))
                .col(string_len(ImportSources::System, 16))
                .col(string_len(ImportSources::Kind, 16))
                .col(string_len(ImportSources::SourceId, 255))
                .col(big_integer(ImportSources::RecordId))
                .col(big_integer_null(ImportSources::ImportId))
                .foreign_key(
                    ForeignKey::create()
                        .from(ImportSources::Table, ImportSources::ImportId)
                        .to(Imports::Table, Imports::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_import_sources_key")
                .table(ImportSources::Table)
                .col(ImportSources::System)
                .col(ImportSources::Kind)
                .col(ImportSources::SourceId)
                .unique()
                .to_owned(),
        )
        .await?;
        // Undo removes an import's mappings with its records.
        m.create_index(
            Index::create()
                .name("idx_import_sources_import")
                .table(ImportSources::Table)
                .col(ImportSources::ImportId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ImportChanges::Table)
                .col(big_pk_auto(ImportChanges::Id))
                .col(big_integer(ImportChanges::ImportId))
                .col(string_len(ImportChanges::Kind, 16))
                .col(big_integer(ImportChanges::RecordId))
                .col(string_len(ImportChanges::Change, 8))
                .col(text_null(ImportChanges::Before))
                .foreign_key(
                    ForeignKey::create()
                        .from(ImportChanges::Table, ImportChanges::ImportId)
                        .to(Imports::Table, Imports::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_import_changes_import")
                .table(ImportChanges::Table)
                .col(ImportChanges::ImportId)
                .col(ImportChanges::Kind)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            ImportChanges::Table.into_iden(),
            ImportSources::Table.into_iden(),
            ImportFiles::Table.into_iden(),
            Imports::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
