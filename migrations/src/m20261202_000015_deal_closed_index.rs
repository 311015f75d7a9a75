//! The board shows a won or lost column's recent deals only (those that entered the stage
//! in the last 30 days) and counts the older ones. This index answers both from the
//! stage's recent end: the cards as a short range newest first, and the recent and older
//! counts and sums with every board filter, without reading a deal's row. Without it a
//! closed column would read every deal it ever held to find the recent ones.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: &str = "amount_minor, currency, owner_id, company_id, expected_close";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let create = match m.get_database_backend() {
            DatabaseBackend::Postgres => format!(
                "CREATE INDEX idx_deals_closed ON deals (stage_id, stage_entered_at, id) INCLUDE ({COLUMNS})"
            ),
            // SQLite has no INCLUDE: the columns go at the key's end.
            _ => format!(
                "CREATE INDEX idx_deals_closed ON deals (stage_id, stage_entered_at, id, {COLUMNS})"
            ),
        };
        m.get_connection().execute_unprepared(&create).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("DROP INDEX idx_deals_closed")
            .await?;
        Ok(())
    }
}
