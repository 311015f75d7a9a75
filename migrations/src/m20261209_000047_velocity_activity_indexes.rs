//! Reports (issue 15): stage velocity and activity per user.
//! - `deal_stage_changes.stay_ms`: how long the deal had been in the stage it left, kept
//!   with each move (the deal's `stage_entered_at` at the time). Stage velocity then reads
//!   one row a stay, not each deal's whole history paired row by row (a window over a
//!   million rows and a date difference each, ten seconds on SQLite at 200 000 deals).
//!   Filled here for the history already kept, from each deal's previous move.
//! - `idx_stage_changes_stays` (stage left, stay): a stage's stays in length order, so the
//!   median's ranking walks the index instead of sorting a year of stays;
//!   `idx_stage_changes_ended` (time left): a short range's stays. Both carry what the
//!   report reads, partial on the moves that end a stay.
//! - `idx_activities_occurred` (occurred_at, author_id, kind): activity per user counts a
//!   range of activities by author and kind; the activity indexes were all by record, so
//!   the report read every activity. Answered from the index alone on both databases.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (name, table, key, carried, partial condition).
const INDEXES: [(&str, &str, &str, &str, &str); 3] = [
    (
        "idx_stage_changes_stays",
        "deal_stage_changes",
        "from_stage_id, stay_ms",
        "created_at, deal_id",
        "WHERE stay_ms IS NOT NULL",
    ),
    (
        "idx_stage_changes_ended",
        "deal_stage_changes",
        "created_at",
        "from_stage_id, stay_ms, deal_id",
        "WHERE stay_ms IS NOT NULL",
    ),
    (
        "idx_activities_occurred",
        "activities",
        "occurred_at, author_id, kind",
        "",
        "",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let pg = m.get_database_backend() == DatabaseBackend::Postgres;
        let db = m.get_connection();
        m.alter_table(
            Table::alter()
                .table(Alias::new("deal_stage_changes"))
                .add_column(ColumnDef::new(Alias::new("stay_ms")).big_integer().null())
                .to_owned(),
        )
        .await?;
        // Each engine has its own date arithmetic: the fill differs, the column does not.
        let fill = if pg {
            "UPDATE deal_stage_changes AS c \
             SET stay_ms = CAST(ROUND(EXTRACT(EPOCH FROM (c.created_at - p.prev)) * 1000) AS BIGINT) \
             FROM (SELECT id, LAG(created_at) OVER (PARTITION BY deal_id ORDER BY id) AS prev \
                   FROM deal_stage_changes) AS p \
             WHERE p.id = c.id AND c.from_stage_id IS NOT NULL AND p.prev IS NOT NULL"
        } else {
            "UPDATE deal_stage_changes \
             SET stay_ms = CAST(ROUND((julianday(created_at) - julianday(( \
                 SELECT p.created_at FROM deal_stage_changes p \
                 WHERE p.deal_id = deal_stage_changes.deal_id AND p.id < deal_stage_changes.id \
                 ORDER BY p.id DESC LIMIT 1))) * 86400000) AS INTEGER) \
             WHERE from_stage_id IS NOT NULL"
        };
        db.execute_unprepared(fill).await?;
        for (name, table, key, carried, partial) in INDEXES {
            let sql = match (pg, carried.is_empty()) {
                (_, true) => format!("CREATE INDEX {name} ON {table} ({key}) {partial}"),
                (true, false) => {
                    format!("CREATE INDEX {name} ON {table} ({key}) INCLUDE ({carried}) {partial}")
                }
                // SQLite has no INCLUDE: the columns go at the key's end.
                (false, false) => {
                    format!("CREATE INDEX {name} ON {table} ({key}, {carried}) {partial}")
                }
            };
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for (name, ..) in INDEXES {
            db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        m.alter_table(
            Table::alter()
                .table(Alias::new("deal_stage_changes"))
                .drop_column(Alias::new("stay_ms"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
