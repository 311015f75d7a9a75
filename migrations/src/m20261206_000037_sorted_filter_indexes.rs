//! A million contacts and 200 000 deals (issue 11, point 3): the sorts that had no index
//! in their order.
//!
//! - The contact list sorted by name and filtered by owner: SQLite took the filter's
//!   index and sorted every match (as it did for `source=event`: 140 000 contacts, 0.6 s,
//!   until 000035's source index); an index on (owner, last name, first name, id) is one
//!   range read in the page's order, on both databases. Company and tag filters are not covered (see the note).
//! - The deal table sorted by last update (its default) or by amount: both databases
//!   sorted every live deal of the pipeline for each page built (0.1–0.3 s at 200 000).
//!   PostgreSQL needs the index in the list's exact order (`DESC NULLS LAST`): a backward
//!   scan of an ascending index gives NULLS FIRST, which the planner does not treat as
//!   the same order even on a NOT NULL column. SQLite puts NULLs last when descending
//!   already, and its CREATE INDEX takes no NULLS clause.
//!
//! All are partial on live rows and carry `deleted_at` and the columns the lists filter
//! on, as the other list indexes do (see the trash migration).
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (name, table, key, carried columns).
// The contacts' (source, name) index is 000035's.
const INDEXES: [(&str, &str, &str, &str); 3] = [
    (
        "idx_contacts_owner_name",
        "contacts",
        "owner_id, last_name, first_name, id",
        "source, company_id, deleted_at",
    ),
    (
        "idx_deals_updated",
        "deals",
        "updated_at DESC NULLS LAST, id DESC",
        "stage_id, owner_id, company_id, deleted_at",
    ),
    (
        "idx_deals_amount",
        "deals",
        "amount_minor DESC NULLS LAST, id DESC",
        "stage_id, owner_id, company_id, deleted_at",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let pg = m.get_database_backend() == DatabaseBackend::Postgres;
        let db = m.get_connection();
        for (name, table, key, carried) in INDEXES {
            let sql = if pg {
                format!(
                    "CREATE INDEX {name} ON {table} ({key}) INCLUDE ({carried}) \
                     WHERE deleted_at IS NULL"
                )
            } else {
                // SQLite has no INCLUDE (the columns go at the key's end) and no NULLS
                // clause in an index (descending already puts NULLs last).
                let key = key.replace(" NULLS LAST", "");
                format!(
                    "CREATE INDEX {name} ON {table} ({key}, {carried}) WHERE deleted_at IS NULL"
                )
            };
            db.execute_unprepared(&sql).await?;
        }
        if !pg {
            // Statistics for the new indexes only (a few hundred ms at a million rows), so
            // the planner weighs them before the nightly `PRAGMA optimize`.
            for (name, ..) in INDEXES {
                db.execute_unprepared(&format!("ANALYZE {name}")).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for (name, ..) in INDEXES {
            db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        Ok(())
    }
}
