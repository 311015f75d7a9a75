//! Links an import could not make yet: a row named a record by its source id (a
//! contact's company, a deal's contacts, the record an activity or task is about) that
//! is in neither that import nor Cairn. The row is imported with the link empty and the
//! link kept here, until a later import of the same system writes a record of that
//! source id and fills it. The record holding the link is one of four tables, each with
//! its own foreign key (exactly one is set), so deleting the record drops what it
//! waits for; undoing the import that made the row drops it with the import.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ImportPendingLinks {
    Table,
    Id,
    ImportId,
    System,
    TargetKind,
    SourceKey,
    Link,
    ContactId,
    DealId,
    ActivityId,
    TaskId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Imports {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Contacts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Deals {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Activities {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
}

fn cascade<T: IntoIden + 'static, C: IntoIden + 'static>(
    col: ImportPendingLinks,
    table: T,
    id: C,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(ImportPendingLinks::Table, col)
        .to(table, id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ImportPendingLinks as P;
        m.create_table(
            Table::create()
                .table(P::Table)
                .col(big_pk_auto(P::Id))
                .col(big_integer(P::ImportId))
                .col(string_len(P::System, 16))
                .col(string_len(P::TargetKind, 16))
                .col(string_len(P::SourceKey, 255))
                .col(string_len(P::Link, 16))
                .col(big_integer_null(P::ContactId))
                .col(big_integer_null(P::DealId))
                .col(big_integer_null(P::ActivityId))
                .col(big_integer_null(P::TaskId))
                .col(timestamp_with_time_zone(P::CreatedAt))
                .foreign_key(&mut cascade(P::ImportId, Imports::Table, Imports::Id))
                .foreign_key(&mut cascade(P::ContactId, Contacts::Table, Contacts::Id))
                .foreign_key(&mut cascade(P::DealId, Deals::Table, Deals::Id))
                .foreign_key(&mut cascade(
                    P::ActivityId,
                    Activities::Table,
                    Activities::Id,
                ))
                .foreign_key(&mut cascade(P::TaskId, Tasks::Table, Tasks::Id))
                .to_owned(),
        )
        .await?;
        // A later import asks which links wait for the source ids it writes.
        m.create_index(
            Index::create()
                .name("idx_import_pending_links_key")
                .table(P::Table)
                .col(P::System)
                .col(P::TargetKind)
                .col(P::SourceKey)
                .to_owned(),
        )
        .await?;
        // The cascades (an import, a record deleted) find their rows by index.
        for (name, col) in [
            ("idx_import_pending_links_import", P::ImportId),
            ("idx_import_pending_links_contact", P::ContactId),
            ("idx_import_pending_links_deal", P::DealId),
            ("idx_import_pending_links_activity", P::ActivityId),
            ("idx_import_pending_links_task", P::TaskId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(P::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ImportPendingLinks::Table).to_owned())
            .await
    }
}
