//! A task about a contact, company or deal in the trash is hidden with it (My tasks, the
//! overdue count, the API) and comes back when the record is restored; purging the
//! record deletes it (the foreign keys cascade).
//!
//! Whether the task's record is in the trash is kept on the task (`record_trashed`, set
//! and cleared by the trash's own transactions) rather than joined at each read: the
//! overdue count and My tasks' group counts are index-only ranges over thousands of
//! tasks, and a join per task would make each of them a lookup per row. The column joins
//! the My tasks indexes right after `done`, so every range stays one range.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tasks {
    Table,
    RecordTrashed,
}

/// The My tasks indexes: (name, columns before the flag, columns after it).
const INDEXES: [(&str, &[&str], &[&str]); 6] = [
    (
        "idx_tasks_assignee_due_at",
        &["assignee_id", "done"],
        &["due_at", "id"],
    ),
    (
        "idx_tasks_assignee_due_date",
        &["assignee_id", "done"],
        &["due_date", "due_at", "id"],
    ),
    (
        "idx_tasks_assignee_done_at",
        &["assignee_id", "done"],
        &["done_at", "id"],
    ),
    ("idx_tasks_all_due_at", &["done"], &["due_at", "id"]),
    (
        "idx_tasks_all_due_date",
        &["done"],
        &["due_date", "due_at", "id"],
    ),
    ("idx_tasks_all_done_at", &["done"], &["done_at", "id"]),
];

async fn create_indexes(m: &SchemaManager<'_>, with_flag: bool) -> Result<(), DbErr> {
    for (name, before, after) in INDEXES {
        m.drop_index(Index::drop().name(name).table(Tasks::Table).to_owned())
            .await?;
        let mut index = Index::create();
        index.name(name).table(Tasks::Table);
        for col in before {
            index.col(Alias::new(*col));
        }
        if with_flag {
            index.col(Tasks::RecordTrashed);
        }
        for col in after {
            index.col(Alias::new(*col));
        }
        m.create_index(index.to_owned()).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Tasks::Table)
                .add_column(boolean(Tasks::RecordTrashed).default(false))
                .to_owned(),
        )
        .await?;
        // Tasks about records already in the trash.
        m.get_connection()
            .execute_unprepared(
                "UPDATE tasks SET record_trashed = TRUE WHERE \
                 contact_id IN (SELECT id FROM contacts WHERE deleted_at IS NOT NULL) \
                 OR company_id IN (SELECT id FROM companies WHERE deleted_at IS NOT NULL) \
                 OR deal_id IN (SELECT id FROM deals WHERE deleted_at IS NOT NULL)",
            )
            .await?;
        create_indexes(m, true).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        create_indexes(m, false).await?;
        m.alter_table(
            Table::alter()
                .table(Tasks::Table)
                .drop_column(Tasks::RecordTrashed)
                .to_owned(),
        )
        .await
    }
}
