//! Reports (issue 15): the deals closed in a range of days, in the won (or lost) stages.
//! No index had `closed_at`: the weekly funnel's "deals won" and the pipeline report's
//! closed stages would have read every deal those stages ever held. Keyed by stage then
//! closing time, a report reads one short range per closed stage, carrying every column
//! the reports filter or sum on (pipeline, owner, source, currency, amount, probability,
//! and the creation time the sales cycle is measured from), so it is answered from the
//! index alone on both databases. Partial on live rows, as the
//! other deal indexes are (see the trash migration).
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_deals_closed_at";
const KEY: &str = "stage_id, closed_at, id";
const CARRIED: &str =
    "pipeline_id, owner_id, source, currency, amount_minor, probability, created_at, deleted_at";

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
