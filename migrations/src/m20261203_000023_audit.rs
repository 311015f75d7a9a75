//! The audit log as admins browse it: the client's address on every row, and one index
//! per filter (who, what, which type of record, which record, and none) that ends in
//! (created_at, id), the page's order. Each filter, with or without a date range, is then
//! one short range walked newest first, whatever the table's size; the retention job
//! walks the time index from its old end.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Ip,
}

/// (name, key columns). The record index replaces `idx_audit_log_entity`
/// (entity, entity_id), which could not give a record's history in order.
const INDEXES: &[(&str, &[&str])] = &[
    ("idx_audit_log_time", &["created_at", "id"]),
    ("idx_audit_log_actor", &["actor_id", "created_at", "id"]),
    ("idx_audit_log_action", &["action", "created_at", "id"]),
    ("idx_audit_log_type", &["entity", "created_at", "id"]),
    (
        "idx_audit_log_record",
        &["entity", "entity_id", "created_at", "id"],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(AuditLog::Table)
                .add_column(string_len_null(AuditLog::Ip, 64))
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("idx_audit_log_entity")
                .table(AuditLog::Table)
                .to_owned(),
        )
        .await?;
        for (name, cols) in INDEXES {
            let mut idx = Index::create();
            idx.name(*name).table(AuditLog::Table);
            for c in *cols {
                idx.col(Alias::new(*c));
            }
            m.create_index(idx.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in INDEXES {
            m.drop_index(Index::drop().name(*name).table(AuditLog::Table).to_owned())
                .await?;
        }
        m.create_index(
            Index::create()
                .name("idx_audit_log_entity")
                .table(AuditLog::Table)
                .col(Alias::new("entity"))
                .col(Alias::new("entity_id"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(AuditLog::Table)
                .drop_column(AuditLog::Ip)
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
