//! A million contacts (issue 11, point 3): two filters whose index was not in the list's
//! order, and one pair of filters with no index of its own.
//!
//! - The company list filtered by industry or size: their indexes held the filter alone,
//!   so a page read every matching company and sorted it by name (988 companies for
//!   `industry=software` at 12 664 companies: p99 88 ms under load against 12 at 800).
//!   Keyed (filter, name, id), a page is one range read in its order.
//! - The contact list filtered by source and a company's name (or id): the company index
//!   carried the source, so the count and the page read every contact of the matching
//!   companies (40 000 for `acme` at a million contacts) to find the source's 4 000. Keyed
//!   (company, source), each company's range holds only the source's contacts.
//!
//! Partial on live rows with `deleted_at` carried, as every list index is (see the trash
//! migration).
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (name, table, key, carried columns): the indexes this migration makes.
const NEW: [(&str, &str, &str, &str); 3] = [
    (
        "idx_companies_industry",
        "companies",
        "industry, name_norm, id",
        "size_band, owner_id, deleted_at",
    ),
    (
        "idx_companies_size",
        "companies",
        "size_band, name_norm, id",
        "industry, owner_id, deleted_at",
    ),
    (
        "idx_contacts_company_source",
        "contacts",
        "company_id, source, created_at, id",
        "owner_id, deleted_at",
    ),
];

/// The two company indexes as the trash migration left them, for `down`.
const OLD: [(&str, &str); 2] = [
    ("idx_companies_industry", "industry"),
    ("idx_companies_size", "size_band"),
];

fn create(pg: bool, (name, table, key, carried): (&str, &str, &str, &str)) -> String {
    match pg {
        true => format!(
            "CREATE INDEX {name} ON {table} ({key}) INCLUDE ({carried}) WHERE deleted_at IS NULL"
        ),
        // SQLite has no INCLUDE: the carried columns end the key.
        false => {
            format!("CREATE INDEX {name} ON {table} ({key}, {carried}) WHERE deleted_at IS NULL")
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let pg = m.get_database_backend() == DatabaseBackend::Postgres;
        let db = m.get_connection();
        for (name, _) in OLD {
            db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        for index in NEW {
            db.execute_unprepared(&create(pg, index)).await?;
        }
        if !pg {
            // Statistics for the new indexes only, so the planner weighs them before the
            // nightly `PRAGMA optimize` (as in 000037).
            for (name, ..) in NEW {
                db.execute_unprepared(&format!("ANALYZE {name}")).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let pg = m.get_database_backend() == DatabaseBackend::Postgres;
        let db = m.get_connection();
        for (name, ..) in NEW {
            db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        for (name, column) in OLD {
            let include = match pg {
                true => format!("({column}) INCLUDE (deleted_at)"),
                false => format!("({column}, deleted_at)"),
            };
            db.execute_unprepared(&format!(
                "CREATE INDEX {name} ON companies {include} WHERE deleted_at IS NULL"
            ))
            .await?;
        }
        Ok(())
    }
}
