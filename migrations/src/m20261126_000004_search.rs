//! Global search. SQLite: an FTS5 index per kind of record, kept by triggers, whose row id
//! is the record's id, so updates and deletes find their entry without a scan.
//! PostgreSQL: trigram (pg_trgm) indexes on the same text, searched with ILIKE.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const CONTACT_TEXT: &str = "NEW.first_name || ' ' || NEW.last_name";
const CONTACT_BODY: &str =
    "coalesce(NEW.email, '') || ' ' || coalesce(NEW.phone, '') || ' ' || coalesce(NEW.title, '')";
const COMPANY_TEXT: &str = "NEW.name";
const COMPANY_BODY: &str = "coalesce(NEW.domain, '') || ' ' || coalesce(NEW.phone, '') || ' ' || coalesce(NEW.website, '')";

fn sqlite_up() -> Vec<String> {
    let mut s = Vec::new();
    for (table, title, body) in [
        ("contacts", CONTACT_TEXT, CONTACT_BODY),
        ("companies", COMPANY_TEXT, COMPANY_BODY),
    ] {
        let fts = format!("{table}_fts");
        s.push(format!(
            "CREATE VIRTUAL TABLE {fts} USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2')"
        ));
        let (all_title, all_body) = (title.replace("NEW.", ""), body.replace("NEW.", ""));
        s.push(format!(
            "INSERT INTO {fts} (rowid, title, body) SELECT id, {all_title}, {all_body} FROM {table}"
        ));
        s.push(format!(
            "CREATE TRIGGER {table}_search_insert AFTER INSERT ON {table} BEGIN \
             INSERT INTO {fts} (rowid, title, body) VALUES (NEW.id, {title}, {body}); END"
        ));
        s.push(format!(
            "CREATE TRIGGER {table}_search_update AFTER UPDATE ON {table} BEGIN \
             DELETE FROM {fts} WHERE rowid = OLD.id; \
             INSERT INTO {fts} (rowid, title, body) VALUES (NEW.id, {title}, {body}); END"
        ));
        s.push(format!(
            "CREATE TRIGGER {table}_search_delete AFTER DELETE ON {table} BEGIN \
             DELETE FROM {fts} WHERE rowid = OLD.id; END"
        ));
    }
    s
}

const POSTGRES_UP: &[&str] = &[
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX idx_contacts_search ON contacts USING gin ((lower(first_name || ' ' || last_name || ' ' || \
     coalesce(email, '') || ' ' || coalesce(phone, ''))) gin_trgm_ops)",
    "CREATE INDEX idx_companies_search ON companies USING gin ((lower(name || ' ' || coalesce(domain, '') || ' ' || \
     coalesce(phone, ''))) gin_trgm_ops)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let statements: Vec<String> = match m.get_database_backend() {
            DatabaseBackend::Postgres => POSTGRES_UP.iter().map(|s| String::from(*s)).collect(),
            _ => sqlite_up(),
        };
        for sql in statements {
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let statements: Vec<&str> = match m.get_database_backend() {
            DatabaseBackend::Postgres => vec![
                "DROP INDEX idx_contacts_search",
                "DROP INDEX idx_companies_search",
            ],
            _ => vec![
                "DROP TRIGGER contacts_search_insert",
                "DROP TRIGGER contacts_search_update",
                "DROP TRIGGER contacts_search_delete",
                "DROP TRIGGER companies_search_insert",
                "DROP TRIGGER companies_search_update",
                "DROP TRIGGER companies_search_delete",
                "DROP TABLE contacts_fts",
                "DROP TABLE companies_fts",
            ],
        };
        for sql in statements {
            m.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
