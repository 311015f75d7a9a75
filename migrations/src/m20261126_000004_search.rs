//! Global search. SQLite: one FTS5 index over contacts and companies, kept by triggers;
//! a record's row id there is `id * 4 + kind` (0 contact, 1 company; 2 and 3 are free for
//! deals and more), so updates and deletes find their entry without a scan.
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
    let mut s = vec![
        "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2')".to_string(),
        "INSERT INTO search_fts (rowid, title, body) SELECT id * 4, first_name || ' ' || last_name, \
         coalesce(email, '') || ' ' || coalesce(phone, '') || ' ' || coalesce(title, '') FROM contacts".to_string(),
        "INSERT INTO search_fts (rowid, title, body) SELECT id * 4 + 1, name, \
         coalesce(domain, '') || ' ' || coalesce(phone, '') || ' ' || coalesce(website, '') FROM companies".to_string(),
    ];
    for (table, kind, title, body) in [
        ("contacts", 0, CONTACT_TEXT, CONTACT_BODY),
        ("companies", 1, COMPANY_TEXT, COMPANY_BODY),
    ] {
        s.push(format!(
            "CREATE TRIGGER {table}_search_insert AFTER INSERT ON {table} BEGIN \
             INSERT INTO search_fts (rowid, title, body) VALUES (NEW.id * 4 + {kind}, {title}, {body}); END"
        ));
        s.push(format!(
            "CREATE TRIGGER {table}_search_update AFTER UPDATE ON {table} BEGIN \
             DELETE FROM search_fts WHERE rowid = OLD.id * 4 + {kind}; \
             INSERT INTO search_fts (rowid, title, body) VALUES (NEW.id * 4 + {kind}, {title}, {body}); END"
        ));
        s.push(format!(
            "CREATE TRIGGER {table}_search_delete AFTER DELETE ON {table} BEGIN \
             DELETE FROM search_fts WHERE rowid = OLD.id * 4 + {kind}; END"
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
                "DROP TABLE search_fts",
            ],
        };
        for sql in statements {
            m.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
