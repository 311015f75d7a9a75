//! The board's counts and sums group a stage's deals by currency. The board's other
//! indexes hold a stage's deals in card order (position, or time entered), so SQLite
//! sorted every live deal into a temporary B-tree to group them: most of a board build.
//! This index holds them in (stage, currency) order with every column the sums and the
//! board's filters read, so the totals are one ordered walk of it on both databases.
//! Partial on live deals and carrying `deleted_at`, like the board's other indexes (see
//! the trash migration): SQLite counts a partial index as covering only then.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: &str =
    "amount_minor, probability, stage_entered_at, owner_id, company_id, expected_close, deleted_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let create = match m.get_database_backend() {
            DatabaseBackend::Postgres => format!(
                "CREATE INDEX idx_deals_totals ON deals (stage_id, currency) INCLUDE ({COLUMNS}) \
                 WHERE deleted_at IS NULL"
            ),
            // SQLite has no INCLUDE: the columns go at the key's end.
            _ => format!(
                "CREATE INDEX idx_deals_totals ON deals (stage_id, currency, {COLUMNS}) \
                 WHERE deleted_at IS NULL"
            ),
        };
        m.get_connection().execute_unprepared(&create).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("DROP INDEX idx_deals_totals")
            .await?;
        Ok(())
    }
}
