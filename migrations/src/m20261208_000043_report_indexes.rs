//! Reports (issue 15): the deals won in a range of days. No index led with `closed_at`:
//! the weekly funnel's "deals won" measure would have read every live deal. This one is
//! a range read over the closing time carrying every column the report filters or sums
//! on (stage for won, pipeline, owner, source, currency, amount), so the measure is
//! answered from the index alone on both databases. Partial on live rows, as the other
//! deal indexes are (see the trash migration).
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_deals_closed_at";
const KEY: &str = "closed_at, id";
const CARRIED: &str = "stage_id, pipeline_id, owner_id, source, currency, amount_minor, deleted_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let pg = m.get_database_backend() == DatabaseBackend::Postgres;
        let sql = if pg {
            format!(
                "CREATE INDEX {NAME} ON deals ({KEY}) INCLUDE ({CARRIED}) WHERE deleted_at IS NULL"
            )
        } else {
            // SQLite has no INCLUDE: the columns go at the key's end.
            format!("CREATE INDEX {NAME} ON deals ({KEY}, {CARRIED}) WHERE deleted_at IS NULL")
        };
        let db = m.get_connection();
        db.execute_unprepared(&sql).await?;
        if !pg {
            db.execute_unprepared(&format!("ANALYZE {NAME}")).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(&format!("DROP INDEX {NAME}"))
            .await?;
        Ok(())
    }
}
