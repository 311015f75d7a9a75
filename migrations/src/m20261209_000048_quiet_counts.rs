//! PostgreSQL's record counts no longer touch their row when a statement changes no count.
//! The statement triggers of 000002, 000003 and 000019 updated `record_counts` after every
//! statement on contacts and companies, adding nothing for an edit: each such update still
//! locked the table's one counter row until its transaction ended, so any two
//! transactions that wrote contacts (two users' edits, Stripe's groups filling contacts)
//! waited for each other's commit. SQLite's row triggers already fire only on a change.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `(function, the change it computes)`, for each table.
fn functions(table: &str) -> [(String, String); 3] {
    let live = |rows: &str| format!("(SELECT COUNT(*) FROM {rows} WHERE deleted_at IS NULL)");
    [
        (
            format!("{table}_count_insert"),
            "(SELECT COUNT(*) FROM new_rows)".to_string(),
        ),
        (
            format!("{table}_count_delete"),
            format!("-{}", live("old_rows")),
        ),
        (
            format!("{table}_count_trash"),
            format!("{} - {}", live("new_rows"), live("old_rows")),
        ),
    ]
}

fn function(table: &str, name: &str, change: &str, skip_zero: bool) -> String {
    let update = format!("UPDATE record_counts SET n = n + d WHERE name = '{table}';");
    let body = match skip_zero {
        true => format!("IF d <> 0 THEN {update} END IF;"),
        false => update,
    };
    format!(
        "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ \
         DECLARE d BIGINT := {change}; BEGIN {body} RETURN NULL; END $$"
    )
}

async fn replace(m: &SchemaManager<'_>, skip_zero: bool) -> Result<(), DbErr> {
    if m.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    for table in ["contacts", "companies"] {
        for (name, change) in functions(table) {
            let sql = function(table, &name, &change, skip_zero);
            m.get_connection().execute_unprepared(&sql).await?;
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        replace(m, true).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        replace(m, false).await
    }
}
