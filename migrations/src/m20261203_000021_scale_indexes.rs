//! What a million contacts need (issue 11).
//!
//! The name index carries the filter columns, as the other list indexes do: a list sorted
//! by name and filtered by source, owner or company walks it in order and stops after a
//! page, instead of sorting every match (seconds at a million rows).
//!
//! SQLite's search tables get prefix indexes for prefixes of one to five characters: a
//! typed prefix ("a", "ana", "cedar") is then one list of rows read in order, where FTS5
//! otherwise merges the lists of every word that starts with it (hundreds of thousands of
//! rows for "a" or "555") before the first match comes out. The tables are rebuilt from
//! the live rows, as the trash migration left them.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, title, body): what each search table holds, as the triggers write it.
const SEARCH: [(&str, &str, &str); 3] = [
    (
        "contacts",
        "first_name || ' ' || last_name",
        "coalesce(email, '') || ' ' || coalesce(phone, '') || ' ' || coalesce(title, '')",
    ),
    (
        "companies",
        "name",
        "coalesce(domain, '') || ' ' || coalesce(phone, '') || ' ' || coalesce(website, '')",
    ),
    ("deals", "title", "''"),
];

fn search(prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (table, title, body) in SEARCH {
        out.push(format!("DROP TABLE {table}_fts"));
        out.push(format!(
            "CREATE VIRTUAL TABLE {table}_fts USING fts5(title, body, \
             tokenize = 'unicode61 remove_diacritics 2'{prefix})"
        ));
        out.push(format!(
            "INSERT INTO {table}_fts (rowid, title, body) SELECT id, {title}, {body} \
             FROM {table} WHERE deleted_at IS NULL"
        ));
    }
    out
}

fn name_index(pg: bool, carry: bool) -> String {
    let include = if carry {
        "source, owner_id, company_id, deleted_at"
    } else {
        "deleted_at"
    };
    if pg {
        format!(
            "CREATE INDEX idx_contacts_name ON contacts (last_name, first_name, id) \
             INCLUDE ({include}) WHERE deleted_at IS NULL"
        )
    } else {
        format!(
            "CREATE INDEX idx_contacts_name ON contacts (last_name, first_name, id, {include}) \
             WHERE deleted_at IS NULL"
        )
    }
}

async fn apply(m: &SchemaManager<'_>, up: bool) -> Result<(), DbErr> {
    let pg = m.get_database_backend() == DatabaseBackend::Postgres;
    let mut statements = vec![
        "DROP INDEX idx_contacts_name".to_string(),
        name_index(pg, up),
    ];
    if !pg {
        statements.extend(search(if up { ", prefix = '1 2 3 4 5'" } else { "" }));
    }
    let db = m.get_connection();
    for sql in statements {
        db.execute_unprepared(&sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        apply(m, true).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        apply(m, false).await
    }
}
