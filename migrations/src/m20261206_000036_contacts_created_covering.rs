//! On PostgreSQL the contact list's default order index also carries the filter columns
//! (company, source, owner), as the other list indexes do. A list filtered by a company
//! name walks this index newest first and checks each contact's company: without the
//! columns each step read the contact's row too (the page took 6 ms for `company=acme`
//! at 20 000 contacts, 0.9 ms with them). SQLite's index keeps its key; its planner takes the
//! company index for that filter.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const BEFORE: &str = "deleted_at";
const AFTER: &str = "company_id, source, owner_id, deleted_at";

async fn recreate(m: &SchemaManager<'_>, include: &str) -> Result<(), DbErr> {
    if m.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let c = m.get_connection();
    c.execute_unprepared("DROP INDEX idx_contacts_created")
        .await?;
    c.execute_unprepared(&format!(
        "CREATE INDEX idx_contacts_created ON contacts (created_at, id) INCLUDE ({include}) \
         WHERE deleted_at IS NULL"
    ))
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        recreate(m, AFTER).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        recreate(m, BEFORE).await
    }
}
