//! Exact row counts kept by triggers, so an unfiltered list's total is a point read
//! instead of a scan that grows with the table.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: &[&str] = &[
    "CREATE TABLE record_counts (name VARCHAR(32) NOT NULL PRIMARY KEY, n BIGINT NOT NULL)",
    "INSERT INTO record_counts (name, n) SELECT 'contacts', COUNT(*) FROM contacts",
    "CREATE TRIGGER contacts_count_insert AFTER INSERT ON contacts BEGIN \
       UPDATE record_counts SET n = n + 1 WHERE name = 'contacts'; END",
    "CREATE TRIGGER contacts_count_delete AFTER DELETE ON contacts BEGIN \
       UPDATE record_counts SET n = n - 1 WHERE name = 'contacts'; END",
];

// Statement-level triggers with transition tables: one update per statement, however
// many rows it inserts or deletes.
const POSTGRES_UP: &[&str] = &[
    "CREATE TABLE record_counts (name VARCHAR(32) NOT NULL PRIMARY KEY, n BIGINT NOT NULL)",
    "INSERT INTO record_counts (name, n) SELECT 'contacts', COUNT(*) FROM contacts",
    "CREATE FUNCTION contacts_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
       UPDATE record_counts SET n = n + (SELECT COUNT(*) FROM new_rows) WHERE name = 'contacts'; \
       RETURN NULL; END $$",
    "CREATE FUNCTION contacts_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
       UPDATE record_counts SET n = n - (SELECT COUNT(*) FROM old_rows) WHERE name = 'contacts'; \
       RETURN NULL; END $$",
    "CREATE TRIGGER contacts_count_insert AFTER INSERT ON contacts REFERENCING NEW TABLE AS new_rows \
       FOR EACH STATEMENT EXECUTE FUNCTION contacts_count_insert()",
    "CREATE TRIGGER contacts_count_delete AFTER DELETE ON contacts REFERENCING OLD TABLE AS old_rows \
       FOR EACH STATEMENT EXECUTE FUNCTION contacts_count_delete()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let statements = match m.get_database_backend() {
            DatabaseBackend::Postgres => POSTGRES_UP,
            _ => SQLITE_UP,
        };
        for sql in statements {
            m.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let statements: &[&str] = match m.get_database_backend() {
            DatabaseBackend::Postgres => &[
                "DROP TRIGGER contacts_count_insert ON contacts",
                "DROP TRIGGER contacts_count_delete ON contacts",
                "DROP FUNCTION contacts_count_insert()",
                "DROP FUNCTION contacts_count_delete()",
                "DROP TABLE record_counts",
            ],
            _ => &[
                "DROP TRIGGER contacts_count_insert",
                "DROP TRIGGER contacts_count_delete",
                "DROP TABLE record_counts",
            ],
        };
        for sql in statements {
            m.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
