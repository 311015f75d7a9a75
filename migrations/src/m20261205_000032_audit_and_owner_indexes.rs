//! The audit log at a million rows: an index for every combination of who, what and which
//! type of record, each ending in (created_at, id), the page's order. With one index per
//! filter alone, a combination walked the rows of one filter newest first, reading each
//! to check the others, until a page matched: "sign-ins about contacts" (none) read every
//! sign-in, 0.8 s at a million rows, and one user's contact edits read every contact
//! entry. With its own index each combination is one range that stops after the page.
//! The record index also carries who and what, so a record's history with either filter
//! is read from the index alone (the planner then prefers it to the pair indexes even
//! with statistics from when the log was small). Four more entries per audit row: the
//! cost of "any filter is fast"; a row is one small insert into each.
//!
//! A rep's contact and company lists with "reps see only their own records" on are
//! `owner_id = me ORDER BY created_at DESC, id DESC`. The owner indexes had no id after
//! the time (the companies' had no time at all), so PostgreSQL sorted each time group
//! and SQLite the whole list: the id joins their keys, right after the time, and the
//! page is the index's own order (same columns otherwise, so no other read changes).
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
}

/// (name, key columns).
const INDEXES: &[(&str, &[&str])] = &[
    (
        "idx_audit_log_actor_action",
        &["actor_id", "action", "created_at", "id"],
    ),
    (
        "idx_audit_log_actor_type",
        &["actor_id", "entity", "created_at", "id"],
    ),
    (
        "idx_audit_log_action_type",
        &["action", "entity", "created_at", "id"],
    ),
    (
        "idx_audit_log_actor_action_type",
        &["actor_id", "action", "entity", "created_at", "id"],
    ),
];

/// The record index, before and after.
const RECORD: &str = "idx_audit_log_record";
const RECORD_BEFORE: &[&str] = &["entity", "entity_id", "created_at", "id"];
const RECORD_AFTER: &[&str] = &[
    "entity",
    "entity_id",
    "created_at",
    "id",
    "actor_id",
    "action",
];

/// (name, table, key before, key after) of the owner list indexes, partial on live rows
/// as `trash` made them.
const OWNER_INDEXES: &[(&str, &str, &str, &str)] = &[
    (
        "idx_contacts_owner_created",
        "contacts",
        "owner_id, created_at, source, company_id",
        "owner_id, created_at, id, source, company_id",
    ),
    (
        "idx_companies_owner",
        "companies",
        "owner_id",
        "owner_id, created_at, id",
    ),
];

/// A live-rows index as the `trash` migration writes them: `deleted_at` carried (INCLUDE
/// on PostgreSQL, the key's end on SQLite) so it still counts as covering.
async fn recreate_owner_index(
    m: &SchemaManager<'_>,
    name: &str,
    table: &str,
    key: &str,
) -> Result<(), DbErr> {
    let c = m.get_connection();
    c.execute_unprepared(&format!("DROP INDEX {name}")).await?;
    let sql = if m.get_database_backend() == DatabaseBackend::Postgres {
        format!(
            "CREATE INDEX {name} ON {table} ({key}) INCLUDE (deleted_at) WHERE deleted_at IS NULL"
        )
    } else {
        format!("CREATE INDEX {name} ON {table} ({key}, deleted_at) WHERE deleted_at IS NULL")
    };
    c.execute_unprepared(&sql).await?;
    Ok(())
}

async fn create(m: &SchemaManager<'_>, name: &str, cols: &[&str]) -> Result<(), DbErr> {
    let mut idx = Index::create();
    idx.name(name).table(AuditLog::Table);
    for c in cols {
        idx.col(Alias::new(*c));
    }
    m.create_index(idx.to_owned()).await
}

async fn drop(m: &SchemaManager<'_>, name: &str) -> Result<(), DbErr> {
    m.drop_index(Index::drop().name(name).table(AuditLog::Table).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, cols) in INDEXES {
            create(m, name, cols).await?;
        }
        drop(m, RECORD).await?;
        create(m, RECORD, RECORD_AFTER).await?;
        for (name, table, _, after) in OWNER_INDEXES {
            recreate_owner_index(m, name, table, after).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, before, _) in OWNER_INDEXES {
            recreate_owner_index(m, name, table, before).await?;
        }
        drop(m, RECORD).await?;
        create(m, RECORD, RECORD_BEFORE).await?;
        for (name, _) in INDEXES {
            drop(m, name).await?;
        }
        Ok(())
    }
}
