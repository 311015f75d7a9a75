//! Change counters kept by triggers. A process caches what it built from a set of tables
//! (the deal board) under the counter it read first; any write to those tables, from
//! any process sharing the database, bumps the counter and so retires the cached copy.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What a board card shows comes from these tables; the columns listed are the only
/// ones of `companies`, `users` and `contacts` a card reads (counters kept on companies
/// change far more often than names and must not retire the board).
const WATCHED: &[(&str, &str, &str)] = &[
    ("deals", "insert", "INSERT"),
    ("deals", "update", "UPDATE"),
    ("deals", "delete", "DELETE"),
    ("pipelines", "insert", "INSERT"),
    ("pipelines", "update", "UPDATE"),
    ("pipelines", "delete", "DELETE"),
    ("pipeline_stages", "insert", "INSERT"),
    ("pipeline_stages", "update", "UPDATE"),
    ("pipeline_stages", "delete", "DELETE"),
    ("companies", "rename", "UPDATE OF name"),
    ("companies", "delete", "DELETE"),
    ("users", "rename", "UPDATE OF name"),
    ("deal_contacts", "insert", "INSERT"),
    ("deal_contacts", "delete", "DELETE"),
    ("contacts", "rename", "UPDATE OF first_name, last_name"),
    ("contacts", "delete", "DELETE"),
];

fn up_statements(backend: DatabaseBackend) -> Vec<String> {
    let mut out = vec![
        "CREATE TABLE change_counters (name VARCHAR(32) NOT NULL PRIMARY KEY, n BIGINT NOT NULL)"
            .to_string(),
        "INSERT INTO change_counters (name, n) VALUES ('board', 0)".to_string(),
    ];
    match backend {
        DatabaseBackend::Postgres => {
            // Statement-level: one bump per statement, however many rows it touches.
            out.push(
                "CREATE FUNCTION board_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 UPDATE change_counters SET n = n + 1 WHERE name = 'board'; RETURN NULL; END $$"
                    .to_string(),
            );
            for (table, what, event) in WATCHED {
                out.push(format!(
                    "CREATE TRIGGER board_changed_{table}_{what} AFTER {event} ON {table} \
                     FOR EACH STATEMENT EXECUTE FUNCTION board_changed()"
                ));
            }
        }
        _ => {
            for (table, what, event) in WATCHED {
                out.push(format!(
                    "CREATE TRIGGER board_changed_{table}_{what} AFTER {event} ON {table} BEGIN \
                     UPDATE change_counters SET n = n + 1 WHERE name = 'board'; END"
                ));
            }
        }
    }
    out
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for sql in up_statements(m.get_database_backend()) {
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let pg = m.get_database_backend() == DatabaseBackend::Postgres;
        let mut statements = Vec::new();
        for (table, what, _) in WATCHED {
            statements.push(if pg {
                format!("DROP TRIGGER board_changed_{table}_{what} ON {table}")
            } else {
                format!("DROP TRIGGER board_changed_{table}_{what}")
            });
        }
        if pg {
            statements.push("DROP FUNCTION board_changed()".to_string());
        }
        statements.push("DROP TABLE change_counters".to_string());
        for sql in statements {
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
