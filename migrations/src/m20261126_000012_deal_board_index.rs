//! One index answers the board and the deal table: a column's cards in order, and every
//! filter and sum (owner, company, close date, amount, currency, probability) without
//! reading a deal's row. It replaces the narrower (stage, position, amount, currency).
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: &str = "amount_minor, currency, probability, owner_id, company_id, expected_close";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let create = match m.get_database_backend() {
            DatabaseBackend::Postgres => format!(
                "CREATE INDEX idx_deals_board ON deals (stage_id, position, id) INCLUDE ({COLUMNS})"
            ),
            // SQLite has no INCLUDE: the rowid (id) is in every index entry already.
            _ => format!("CREATE INDEX idx_deals_board ON deals (stage_id, position, {COLUMNS})"),
        };
        let db = m.get_connection();
        db.execute_unprepared(&create).await?;
        db.execute_unprepared("DROP INDEX idx_deals_stage").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE INDEX idx_deals_stage ON deals (stage_id, position, amount_minor, currency)",
        )
        .await?;
        db.execute_unprepared("DROP INDEX idx_deals_board").await?;
        Ok(())
    }
}
